"""Field validators and readers shared by forms: free text, one line, raw fields, ids, dates."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
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


# A line break in a subject or a name would be copied into mail headers; a
# browser never sends one from a field of one line. NUL is PlainText's.
_LINE_BREAK = re.compile(r"[\r\n]")


class SingleLine:
    """Refuse a line break in a field of one line: a subject, a name, a phone."""

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and _LINE_BREAK.search(field.data):
            raise ValidationError(_l("此栏只能填写一行，请删除其中的换行。"))


# NUL, which PostgreSQL refuses in text, and halves of a surrogate pair, which
# no encoding can write: neither can be stored or even looked up.
_UNREADABLE = re.compile("[\x00\ud800-\udfff]")


def unreadable(fields: MultiDict[str, str]) -> bool:
    """Tell whether a query string's or form's names or values hold unstorable text."""
    return any(
        _UNREADABLE.search(name) or _UNREADABLE.search(value)
        for name, value in fields.items(multi=True)
    )


# The largest id a database's integer column holds (PostgreSQL's bigint,
# SQLite's INTEGER); a larger one is looked up by nobody, so it is refused.
MAX_ID = 2**63 - 1


def ascii_number(text: str | None, *, most: int = MAX_ID) -> int | None:
    """Return ``text`` as a whole number if it is one, in ASCII digits, up to ``most``.

    ``str.isdigit`` also accepts digits int() refuses (₀₁₂, ²), and int()
    accepts other scripts' digits and surrounding spaces: neither is a number
    a form or a link of ours sends.
    """
    if not text or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= most else None


def chosen_id(field: SelectField) -> int | None:
    """Return the id a filter's select field holds, or None if it holds none or a bad one."""
    return None if field.errors else ascii_number(field.data)


# Dates people mean: older or later ones are typing slips or probes, and
# some would not survive a change of time zone (date.min, date.max).
EARLIEST_YEAR = 1900
LATEST_YEAR = 2100


def plausible_year(day: date) -> bool:
    """Tell whether ``day`` falls in the years a date of this service may have."""
    return EARLIEST_YEAR <= day.year <= LATEST_YEAR


class PlausibleDate:
    """Refuse a date before 1900 or after 2100, with a message."""

    def __call__(self, form: Form, field: Field) -> None:
        if isinstance(field.data, date) and not plausible_year(field.data):
            raise ValidationError(
                _l(
                    "日期须在%(first)s年至%(last)s年之间。",
                    first=EARLIEST_YEAR,
                    last=LATEST_YEAR,
                )
            )
