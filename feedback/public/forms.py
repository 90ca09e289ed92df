"""Forms citizens fill in; they check shape only, rules live in services."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import EmailField
from wtforms import Form
from wtforms import HiddenField
from wtforms import MultipleFileField
from wtforms import RadioField
from wtforms import SearchField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms import TelField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import Length
from wtforms.validators import Optional

from feedback.i18n import LOCALES
from feedback.models import SubmissionKind
from feedback.validators import PlainText

KIND_LABELS = {
    SubmissionKind.OPINION: _l("意见"),
    SubmissionKind.SUGGESTION: _l("建议"),
    SubmissionKind.COMPLAINT: _l("投诉"),
    SubmissionKind.MISCONDUCT: _l("举报（反映干部违纪违法问题，仅纪检组长可见）"),
}

LANGS = tuple(LOCALES)
IDENTITY_ANONYMOUS = "anonymous"
IDENTITY_REAL_NAME = "real_name"


class SubmitForm(FlaskForm):
    """An opinion, suggestion, complaint or misconduct report."""

    kind = RadioField(
        _l("类型"),
        choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
        default=SubmissionKind.OPINION.value,
        validators=[DataRequired(_l("请选择类型。"))],
    )
    problem_id = SelectField(
        _l("涉及的整改问题（可不选）"), validators=[PlainText(), Optional()]
    )
    subject = StringField(
        _l("标题"),
        validators=[PlainText(), DataRequired(_l("请填写标题。")), Length(max=100)],
    )
    body = TextAreaField(
        _l("内容"),
        validators=[PlainText(), DataRequired(_l("请填写内容。")), Length(max=5000)],
    )
    identity = RadioField(
        _l("是否署名"),
        choices=[
            SelectChoice(IDENTITY_ANONYMOUS, _l("匿名提交")),
            SelectChoice(IDENTITY_REAL_NAME, _l("实名提交")),
        ],
        default=IDENTITY_ANONYMOUS,
        validators=[DataRequired()],
    )
    name = StringField(
        _l("姓名"), validators=[PlainText(), Optional(), Length(max=100)]
    )
    phone = TelField(_l("电话"), validators=[PlainText(), Optional(), Length(max=40)])
    email = EmailField(
        _l("电子邮箱"),
        validators=[
            PlainText(),
            Optional(),
            Email(_l("电子邮箱格式不正确。")),
            Length(max=254),
        ],
    )
    publish_consent = BooleanField(_l("同意在隐去个人信息后公开答复"))
    attachments = MultipleFileField(
        _l("附件（可不传）"),
        description=_l("最多5个文件，每个不超过10MB，只收JPEG、PNG图片和PDF文件。"),
    )
    # A honeypot: hidden from people (and screen readers), filled by robots.
    website = StringField(_l("请勿填写此栏"), validators=[Optional(), Length(max=200)])
    idempotency_key = HiddenField()

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        """Check the fields, then what real-name submissions need besides."""
        valid = super().validate(extra_validators)
        if self.identity.data != IDENTITY_REAL_NAME:
            return valid
        if not (self.name.data or "").strip():
            self.name.errors = [*self.name.errors, _l("实名提交请填写姓名。")]
            valid = False
        if not (self.phone.data or "").strip() and not (self.email.data or "").strip():
            self.phone.errors = [
                *self.phone.errors,
                _l("实名提交请留下电话或电子邮箱，至少一项。"),
            ]
            valid = False
        return valid


class TrackForm(FlaskForm):
    """The access code, posted so that it never appears in a URL."""

    code = StringField(
        _l("查询码"),
        validators=[PlainText(), DataRequired(_l("请输入查询码。")), Length(max=64)],
    )


class PreferenceForm(FlaskForm):
    """One reading choice, posted from the toolbar on every page."""

    setting = SelectField(
        choices=[SelectChoice(name) for name in ("lang", "care", "pinyin")],
        validators=[DataRequired()],
    )
    value = StringField(validators=[DataRequired(), Length(max=16)])
    next = HiddenField()

    def validate_value(self, field: StringField) -> None:
        allowed = LANGS if self.setting.data == "lang" else ("0", "1")
        if field.data not in allowed:
            raise ValidationError("unknown choice")


class BoardFilterForm(Form):
    """Filters and search on a round's board, read from the query string."""

    q = SearchField(_l("搜索问题"), validators=[Optional(), Length(max=100)])
    kind = SelectField(_l("整改状态"), validators=[Optional()])
    section = SelectField(_l("责任股室"), validators=[Optional()])


MONTH = re.compile(r"((?:19|20)\d\d)-(0[1-9]|1[0-2])")
# How people type a month: 2025-8, 2025/08, 2025.8, 2025年8月, in full-width too.
_MONTH_AS_TYPED = re.compile(
    r"\s*((?:19|20)\d\d)\s*[-/.年]\s*(0?[1-9]|1[0-2])\s*月?\s*"
)


def _normal_month(value: str | None) -> str | None:
    """Write a month as typed the way the filter reads it, ``YYYY-MM``."""
    found = _MONTH_AS_TYPED.fullmatch(unicodedata.normalize("NFKC", value or ""))
    return f"{found.group(1)}-{int(found.group(2)):02d}" if found else value


class ReplyFilterForm(FlaskForm):
    """Filters on the list of published replies, read from the query string.

    A FlaskForm (without CSRF: it changes nothing) so that WTForms' own
    messages come in the reader's language.
    """

    class Meta:
        csrf = False

    section = SelectField(_l("答复单位"), validators=[Optional()])
    problem = SelectField(_l("涉及问题"), validators=[Optional()])
    kind = SelectField(_l("类型"), validators=[Optional()])
    month = StringField(
        _l("公开月份"),
        validators=[Optional()],
        filters=[_normal_month],
        render_kw={"type": "month", "placeholder": "2025-08"},
    )

    def validate_month(self, field: StringField) -> None:
        if not MONTH.fullmatch(field.data):
            raise ValidationError(_l("请按“2025-08”的格式填写年月。"))

    @property
    def first_day(self) -> date | None:
        """Return the first day of the chosen month, if one was chosen well."""
        found = MONTH.fullmatch(self.month.data or "")
        if found is None or self.month.errors:
            return None
        return date(int(found.group(1)), int(found.group(2)), 1)
