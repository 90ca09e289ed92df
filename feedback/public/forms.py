"""Forms citizens fill in; they check shape only, rules live in services."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import MultipleFileField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import StringField
from wtforms import ValidationError
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.widgets import TelInput

from feedback.i18n import LOCALES
from feedback.labels import RATING_NAMES
from feedback.models import SubmissionKind
from feedback.services import submissions
from feedback.validators import PlainText
from feedback.web.forms import add_error
from feedback.web.forms import AuthorForm
from feedback.web.forms import email_field
from feedback.web.forms import FilledText
from feedback.web.forms import FilterForm
from feedback.web.forms import SelectChoice
from feedback.web.forms import text_area
from feedback.web.forms import text_field
from feedback.web.forms import TypedMonthField

KIND_LABELS = {
    SubmissionKind.OPINION: _l("意见"),
    SubmissionKind.SUGGESTION: _l("建议"),
    SubmissionKind.COMPLAINT: _l("投诉"),
    SubmissionKind.MISCONDUCT: _l("举报（反映干部违纪违法问题，仅纪检组长可见）"),
}

LANGS = tuple(LOCALES)
IDENTITY_ANONYMOUS = "anonymous"
IDENTITY_REAL_NAME = "real_name"


class SubmitForm(AuthorForm):
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
    subject = text_field(_l("标题"), max=100, required=_l("请填写标题。"))
    body = text_area(_l("内容"), max=5000, required=_l("请填写内容。"))
    identity = RadioField(
        _l("是否署名"),
        choices=[
            SelectChoice(IDENTITY_ANONYMOUS, _l("匿名提交")),
            SelectChoice(IDENTITY_REAL_NAME, _l("实名提交")),
        ],
        default=IDENTITY_ANONYMOUS,
        validators=[DataRequired()],
    )
    name = text_field(_l("姓名"), max=100)
    phone = text_field(_l("电话"), max=40, widget=TelInput())
    email = email_field(_l("电子邮箱"), invalid=_l("电子邮箱格式不正确。"))
    publish_consent = BooleanField(_l("同意在隐去个人信息后公开答复"))
    attachments = MultipleFileField(
        _l("附件（可不传）"),
        description=_l("最多5个文件，每个不超过10MB，只收JPEG、PNG图片和PDF文件。"),
    )
    # A honeypot: hidden from people (and screen readers), filled by robots.
    website = StringField(_l("请勿填写此栏"), validators=[Optional(), Length(max=200)])
    idempotency_key = HiddenField()
    # Set by the button that sends the same subject and text again as a new case.
    send_again = HiddenField()

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        """Check the fields, then what real-name submissions need besides."""
        valid = super().validate(extra_validators)
        if self.identity.data != IDENTITY_REAL_NAME:
            # Not kept, and not even shown with 匿名提交: an error there would
            # point at a field the author cannot see.
            for contact in self._contact_fields():
                contact.errors = []
            return not self.errors
        if not (self.name.data or "").strip():
            add_error(self.name, _l("实名提交请填写姓名。"))
            valid = False
        if not (self.phone.data or "").strip() and not (self.email.data or "").strip():
            add_error(self.phone, _l("实名提交请留下电话或电子邮箱，至少一项。"))
            valid = False
        return valid

    def _contact_fields(self) -> tuple[StringField, ...]:
        return (self.name, self.phone, self.email)

    def contact_not_kept(self) -> list[str]:
        """Return the labels of the contact fields filled in with 匿名提交
        chosen: what they hold is not kept, and the receipt says so."""
        if self.identity.data == IDENTITY_REAL_NAME:
            return []
        return [
            str(contact.label.text)
            for contact in self._contact_fields()
            if (contact.data or "").strip()
        ]

    def typed(self) -> list[tuple[str, str]]:
        """Return the fields as posted, files aside, for sending them again."""
        fields = (self.kind, self.problem_id, self.subject, self.body, self.identity)
        pairs = [(f.name, f.data or "") for f in (*fields, *self._contact_fields())]
        if self.publish_consent.data:
            pairs.append((self.publish_consent.name, "y"))
        return pairs

    def has_files(self) -> bool:
        """Return whether files were chosen."""
        return any(f and f.filename for f in self.attachments.data or [])

    def author(self) -> submissions.Author:
        """Return who wrote it if it is signed; an anonymous author otherwise."""
        if self.identity.data != IDENTITY_REAL_NAME:
            return submissions.Author()
        return super().author()


class TrackForm(FlaskForm):
    """The access code, posted so that it never appears in a URL."""

    code = text_field(_l("查询码"), max=64, required=_l("请输入查询码。"))


class AnswerForm(TrackForm):
    """The author's answer to a question, with files, proven by the access code."""

    answer = text_area(_l("补充内容"), max=5000)
    attachments = MultipleFileField(
        _l("补充文件（可不传）"),
        description=_l("最多5个文件，每个不超过10MB，只收JPEG、PNG图片和PDF文件。"),
    )


class RateForm(TrackForm):
    """The author's rating of the reply, which closes the submission."""

    rating = RadioField(
        _l("您对答复的评价"),
        choices=[SelectChoice(r.value, label) for r, label in RATING_NAMES.items()],
        validators=[DataRequired(_l("请选择一项评价。"))],
    )
    reason = text_area(_l("评价理由（选“不满意”时必填）"), max=2000)


class PreferenceForm(FlaskForm):
    """One reading choice, posted from the toolbar on every page.

    It carries no CSRF token (the view is exempt): a forged post could only
    change how the visitor's own pages read, and a token would give every
    public page a session cookie, and a copy per visitor, for nothing.
    """

    class Meta:
        csrf = False

    setting = SelectField(
        choices=[SelectChoice(name) for name in ("lang", "care", "pinyin")],
        validators=[DataRequired()],
    )
    value = FilledText(validators=[DataRequired(), Length(max=16)])
    next = HiddenField()

    def validate_value(self, field: StringField) -> None:
        allowed = LANGS if self.setting.data == "lang" else ("0", "1")
        if field.data not in allowed:
            raise ValidationError("unknown choice")


class ReplyFilterForm(FilterForm):
    """Filters on the list of published replies, read from the query string."""

    section = SelectField(_l("答复单位"), validators=[Optional()])
    problem = SelectField(_l("涉及问题"), validators=[Optional()])
    kind = SelectField(_l("类型"), validators=[Optional()])
    month = TypedMonthField(
        _l("公开月份"),
        validators=[Optional()],
        invalid_value_message=_l("请按“2025-08”的格式填写年月。"),
        render_kw={"placeholder": "2025-08"},
    )

    @property
    def first_day(self) -> date | None:
        """Return the first day of the chosen month, if one was chosen well."""
        return None if self.month.errors else self.month.data
