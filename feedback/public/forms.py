"""Forms citizens fill in; they check shape only, rules live in services."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import EmailField
from wtforms import Form
from wtforms import HiddenField
from wtforms import MonthField
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
from feedback.i18n import script
from feedback.labels import RATING_NAMES
from feedback.labels import STATUS_KIND_LABELS
from feedback.models import Section
from feedback.models import SubmissionKind
from feedback.services import stats
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


class AnswerForm(TrackForm):
    """The author's answer to a question, with files, proven by the access code."""

    answer = TextAreaField(
        _l("补充内容"),
        validators=[PlainText(), Optional(), Length(max=5000)],
    )
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
    reason = TextAreaField(
        _l("评价理由（选“不满意”时必填）"),
        validators=[PlainText(), Optional(), Length(max=2000)],
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

    def offer(self, sections: Iterable[Section]) -> None:
        """Fill the status and section choices, names in the reader's script."""
        self.kind.choices = [SelectChoice("", _l("全部状态"))] + [
            SelectChoice(kind.value, label)
            for kind, label in STATUS_KIND_LABELS.items()
        ]
        self.section.choices = [SelectChoice("", _l("全部股室"))] + [
            SelectChoice(str(s.id), script(s.name)) for s in sections
        ]


# How people type a month: 2025-8, 2025/08, 2025.8, 2025年8月, in full-width too.
_MONTH_AS_TYPED = re.compile(
    r"\s*((?:19|20)\d\d)\s*[-/.年]\s*(0?[1-9]|1[0-2])\s*月?\s*"
)


class TypedMonthField(MonthField):
    """A month (``YYYY-MM``) that also takes it as people type it."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            typed = unicodedata.normalize("NFKC", str(valuelist[0]))
            found = _MONTH_AS_TYPED.fullmatch(typed)
            if found:
                valuelist = [f"{found.group(1)}-{int(found.group(2)):02d}"]
        super().process_formdata(valuelist)


class StatisticsFilterForm(Form):
    """The period and round of a statistics page, read from the query string."""

    first = TypedMonthField(
        _l("从（月份）"),
        validators=[Optional()],
        invalid_value_message=_l("请按“2025-03”的格式填写月份。"),
    )
    last = TypedMonthField(
        _l("到（月份）"),
        validators=[Optional()],
        invalid_value_message=_l("请按“2025-03”的格式填写月份。"),
    )
    round = SelectField(_l("巡察轮次"), validators=[Optional()], validate_choice=False)

    def validate_round(self, field: SelectField) -> None:
        if field.data and field.data not in {c.value for c in field.choices}:
            raise ValidationError(_l("没有这个巡察轮次。"))

    def validate_last(self, field: MonthField) -> None:
        if self.first.data is None or field.data is None:
            return
        first, last = stats.Month.of(self.first.data), stats.Month.of(field.data)
        if last < first:
            raise ValidationError(_l("结束月份不能早于开始月份。"))
        if len(stats.months_between(first, last)) > stats.MAX_PERIOD_MONTHS:
            raise ValidationError(
                _l("统计期间最长%(n)s个月。", n=stats.MAX_PERIOD_MONTHS)
            )

    def filters(self) -> stats.Filters:
        """Return what was validly chosen; a field with an error counts as unset."""
        period_ok = not (self.first.errors or self.last.errors)
        round_id = self.round.data
        return stats.Filters(
            first=stats.Month.of(self.first.data)
            if period_ok and self.first.data
            else None,
            last=stats.Month.of(self.last.data)
            if period_ok and self.last.data
            else None,
            round_id=int(round_id)
            if round_id and round_id.isdigit() and not self.round.errors
            else None,
        )


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
