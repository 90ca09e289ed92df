"""Field validators shared by every form that takes free text."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms import Form
from wtforms import ValidationError

# C0 controls other than tab, line feed and carriage return; databases refuse
# NUL, and none of them can be typed on purpose.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class PlainText:
    """Refuse text with control characters; everything else is kept as typed."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and _CONTROL.search(field.data):
            raise ValidationError(
                self.message or _l("内容含有无法保存的控制字符，请删除后再提交。")
            )
