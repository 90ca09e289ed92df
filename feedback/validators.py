"""Field validators and readers shared by forms: free text, and ids chosen in filters."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms import Form
from wtforms import SelectField
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


def chosen_id(field: SelectField) -> int | None:
    """Return the id a filter's select field holds, or None if it holds none or a bad one."""
    data = field.data
    return int(data) if data and not field.errors and data.isdigit() else None
