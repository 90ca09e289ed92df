"""Back-office forms; those of a page with several forms carry their prefix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import Self

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField as UploadField
from flask_wtf.file import FileRequired
from flask_wtf.file import FileSize
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import widgets
from wtforms.validators import DataRequired
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from feedback.extensions import db
from feedback.models import Section
from feedback.models import Submission
from feedback.services import triage
from feedback.validators import MAX_ID
from feedback.web.forms import add_error
from feedback.web.forms import AuthorForm
from feedback.web.forms import BoardFilterForm
from feedback.web.forms import DayField
from feedback.web.forms import email_field
from feedback.web.forms import FilledDate
from feedback.web.forms import FilledInteger
from feedback.web.forms import FilterForm
from feedback.web.forms import Label
from feedback.web.forms import PrefixedForm
from feedback.web.forms import search_field
from feedback.web.forms import SelectChoice
from feedback.web.forms import text_area
from feedback.web.forms import text_field

MAX_NOTICE_BYTES = 20 * 1024 * 1024
MAX_PASTE_CHARS = 300_000


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes, which work by keyboard and without JavaScript."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def confirm_box(label: Label) -> BooleanField:
    """A box to tick before a decision that ends a case, which nothing undoes.

    Required in the browser, which asks before posting without JavaScript,
    and again here, for a form posted some other way.
    """
    return BooleanField(label, validators=[DataRequired(_l("请先勾选确认。"))])


class RouteForm(FlaskForm):
    """Choose the section that must answer."""

    section_id = SelectField(_l("转办股室"), validators=[DataRequired()])

    @classmethod
    def for_submission(
        cls, submission: Submission, suggestion: Section | None = None
    ) -> Self:
        """Build the form offering the active sections.

        Before it is posted, the suggested section is chosen: ``suggestion``
        when the page has worked it out already, else worked out here.
        """
        form = cls()
        form.section_id.choices = [
            SelectChoice(str(s.id), s.name) for s in triage.active_sections(db.session)
        ]
        if not form.is_submitted():
            chosen = suggestion or triage.suggest_section(submission, db.session)
            if chosen is not None:
                form.section_id.data = str(chosen.id)
        return form


class ApproveForm(PrefixedForm):
    """The lead's approval, with the reply text they may still edit."""

    PREFIX = "r"

    body = text_area(
        _l("答复内容（可修改）"), max=20000, required=_l("答复内容不能为空。")
    )


class EditProblemForm(PrefixedForm):
    """A problem's own text, deadline and responsible section."""

    PREFIX = "edit"

    title = text_field(_l("问题标题"), max=500, required=_l("请填写标题。"))
    details = text_area(_l("问题表现"), max=20000)
    measures = text_area(_l("整改措施"), max=20000)
    deadline = DayField(_l("整改时限"), validators=[Optional()])
    section_id = SelectField(_l("责任股室"), validators=[Optional()])


class StatusForm(PrefixedForm):
    """A new published status, why, and from when."""

    PREFIX = "status"

    word = SelectField(_l("新的整改状态"), validators=[DataRequired()])
    reason = text_area(_l("变更原因"), max=2000, required=_l("请说明变更原因。"))
    effective_on = FilledDate(
        _l("生效日期"), validators=[DataRequired(_l("请填写生效日期。"))]
    )


class ProgressForm(PrefixedForm):
    """A dated public note about what was done."""

    PREFIX = "progress"

    body = text_area(_l("进展内容"), max=5000, required=_l("请填写进展内容。"))
    published_on = FilledDate(
        _l("公开日期"),
        validators=[DataRequired(_l("请填写公开日期。"))],
        description=_l("可以是将来的日期，到期后才公开。"),
    )


class FileHeldForm(FlaskForm):
    """The reference number a held message belongs to.

    The pen's one-click button also sends the section it named, so that the
    message is filed only while the submission still waits for that section.
    """

    reference = text_field(_l("归入编号"), max=32, required=_l("请填写编号。"))
    section_id = IntegerField(
        validators=[Optional(), NumberRange(min=1, max=2**31 - 1)],
        widget=widgets.HiddenInput(),
    )


class SectionForm(PrefixedForm):
    """One row of the routing table."""

    PREFIX = "s"
    NEW_PREFIX = "new"

    name = text_field(_l("股室名称"), max=100, required=_l("请填写名称。"))
    email = email_field(
        _l("股室公共邮箱"),
        invalid=_l("邮箱格式不正确。"),
        required=_l("请填写邮箱。"),
        plain_text=False,
    )
    reply_domains = text_field(
        _l("允许回复的邮箱域名"),
        max=500,
        description=_l(
            "用空格分隔，例如 meijiang-edu.example 163.com；公共邮箱的域名总是允许的。"
        ),
    )
    kinds = MultiCheckboxField(_l("未关联问题时，建议转给本股室的类型"))
    active = BooleanField(_l("接收转办"), default=True)

    @classmethod
    def for_section(cls, section: Section | None) -> Self:
        """Build the form posted for an existing section, or for a new one."""
        if section is None:
            return cls(prefix=cls.NEW_PREFIX)
        return cls.of(section.id)

    @classmethod
    def as_saved(cls, section: Section | None) -> Self:
        """Build a section's form as the routing table holds it (a new one blank),
        whatever another form of the page posted."""
        if section is None:
            return cls(prefix=cls.NEW_PREFIX, formdata=None)
        return cls.of(
            section.id,
            formdata=None,
            name=section.name,
            email=section.email,
            reply_domains=section.reply_domains,
            kinds=section.kinds.split(),
            active=section.active,
        )


class RefuseForm(PrefixedForm):
    """不予受理, with a reason the author reads (a template or free text)."""

    PREFIX = "refuse"

    template = SelectField(_l("常用理由"), validators=[Optional()])
    reason = text_area(
        _l("告知群众的理由"),
        max=2000,
        description=_l("选了常用理由可以不填；填写的内容会替代常用理由。"),
    )
    confirm = confirm_box(_l("我确认不予受理，理由将告知群众"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.template.choices = [SelectChoice("", _("（自己填写）"))] + [
            SelectChoice(str(i), reason) for i, reason in enumerate(self.reasons())
        ]

    @staticmethod
    def reasons() -> list[str]:
        """Return the configured reasons to choose from."""
        return list(current_app.config["REFUSAL_REASONS"])

    def text(self) -> str:
        """Return the reason typed, or else the one chosen."""
        text = (self.reason.data or "").strip()
        if not text and self.template.data:
            text = self.reasons()[int(self.template.data)]
        return text


class DuplicateForm(PrefixedForm):
    """The reference number of the submission this one repeats."""

    PREFIX = "duplicate"

    reference = text_field(
        _l("与哪一件重复（编号）"), max=32, required=_l("请填写编号。")
    )
    confirm = confirm_box(_l("我确认这是重复件，本件就此办结"))


class ExtendForm(PrefixedForm):
    """The one extension of the reply deadline."""

    PREFIX = "extend"

    days = FilledInteger(
        _l("延长天数"),
        validators=[DataRequired(_l("请填写天数。")), NumberRange(min=1, max=30)],
    )
    reason = text_area(
        _l("告知群众的延期理由"), max=2000, required=_l("请说明延期理由。")
    )


class NoteForm(PrefixedForm):
    """An internal note."""

    PREFIX = "note"

    body = text_area(
        _l("内部备注（群众看不到）"), max=5000, required=_l("备注是空的。")
    )


class ReturnForm(PrefixedForm):
    """Why a draft goes back to its section."""

    PREFIX = "return"

    reason = text_area(
        _l("退回原因（发给股室）"), max=2000, required=_l("请说明退回原因。")
    )


class AuditFilterForm(FilterForm):
    """Filters of the audit page, read from the query string."""

    action = SelectField(_l("操作"), validators=[Optional()])
    reference = text_field(_l("编号"), max=32)
    # The page's "older" link; an id no column holds is ignored like a typo.
    before = IntegerField(
        _l("翻页位置"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)]
    )


class OfflineSubmissionForm(AuthorForm):
    """An opinion that came by phone, letter or visit, as the lead types it in."""

    channel = SelectField(_l("来源"), validators=[DataRequired()])
    received_on = FilledDate(
        _l("收到日期"), validators=[DataRequired(_l("请填写收到日期。"))]
    )
    kind = SelectField(_l("类型"), validators=[DataRequired()])
    subject = text_field(_l("标题"), max=100, required=_l("请填写标题。"))
    body = text_area(_l("内容"), max=5000, required=_l("请填写内容。"))
    name = text_field(_l("姓名（可不填）"), max=100)
    phone = text_field(_l("电话（可不填）"), max=40)
    email = email_field(
        _l("电子邮箱（可不填）"), invalid=_l("邮箱格式不正确。"), plain_text=False
    )


class QueueFilterForm(FilterForm):
    """The lead's filters on a queue, read from the query string."""

    kind = SelectField(_l("类型"), validators=[Optional()])
    state = SelectField(_l("办理状态"), validators=[Optional()])
    section = SelectField(_l("承办股室"), validators=[Optional()])
    problem = SelectField(_l("涉及问题"), validators=[Optional()])
    received_from = DayField(_l("收到日期从"), validators=[Optional()])
    received_to = DayField(_l("收到日期到"), validators=[Optional()])
    q = search_field(_l("编号或关键词"))


class LedgerFilterForm(BoardFilterForm):
    """The public board's filters, plus the round and the aspect."""

    round = SelectField(_l("巡察轮次"), validators=[Optional()])
    aspect = SelectField(_l("方面"), validators=[Optional()])


class PublishForm(PrefixedForm):
    """The reply as the public will read it, personal data masked."""

    PREFIX = "publish"

    text = text_area(
        _l("公开的答复（已自动隐去个人信息，可修改）"),
        max=20000,
        required=_l("公开内容不能为空。"),
    )


class AskForm(PrefixedForm):
    """A question to the author, who answers through the access code."""

    PREFIX = "ask"

    question = text_area(
        _l("需要群众补充的情况"),
        max=2000,
        required=_l("请写出需要补充的内容。"),
        description=_l("群众会在查询页面和邮件中看到这个问题。"),
    )


class SpamForm(PrefixedForm):
    """Setting aside what is not an opinion, confirmed, for nobody is told."""

    PREFIX = "spam"

    confirm = confirm_box(_l("我确认这不是意见建议，标记后不通知任何人"))


class AcceptForm(PrefixedForm):
    """Taking up a 举报: a button, nothing to fill in."""

    PREFIX = "accept"


class ConcludeForm(PrefixedForm):
    """A 举报's result, written by the lead."""

    PREFIX = "conclude"

    concluded_on = FilledDate(
        _l("办结日期"), validators=[DataRequired(_l("请填写办结日期。"))]
    )
    result = text_area(
        _l("告知举报人的办理结果"), max=20000, required=_l("请填写办理结果。")
    )


class ReasonForm(PrefixedForm):
    """A decision that needs only a reason."""

    reason = text_area(_l("理由"), max=2000, required=_l("请说明理由。"))


class ReopenForm(ReasonForm):
    """Why a replied or closed submission is handled again."""

    PREFIX = "reopen"


class KeepClosedForm(ReasonForm):
    """Why a submission stays closed after a 不满意 rating."""

    PREFIX = "keep"


class HolidayForm(PrefixedForm):
    """One day of the holiday table: a day off, or a make-up working day."""

    PREFIX = "day"

    day = FilledDate(_l("日期"), validators=[DataRequired(_l("请填写日期。"))])
    name = text_field(_l("名称"), max=100, required=_l("请填写名称。"))
    is_workday = BooleanField(_l("调休上班日（补班）"))


class CalendarFileForm(PrefixedForm):
    """An .ics calendar of public holidays to import."""

    PREFIX = "ics"

    calendar = UploadField(_l("日历文件（.ics）"), validators=[FileRequired()])


class RemoveHolidayForm(PrefixedForm):
    """Taking a day out of the holiday table: a button per day."""

    PREFIX = "remove"


class NoticeUploadForm(FlaskForm):
    """A notice as a file, or its text pasted, and the round it belongs to."""

    notice_file = UploadField(
        _l("通报文件"),
        validators=[FileSize(MAX_NOTICE_BYTES, message=_l("文件不能超过 20 MB。"))],
    )
    text = text_area(
        _l("或者粘贴通报全文"), max=MAX_PASTE_CHARS, too_long=_l("粘贴的内容太长。")
    )
    round_id = SelectField(_l("导入到哪个巡察轮次"), validators=[Optional()])

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        """Check the fields, then that a file or a text was given."""
        valid = super().validate(extra_validators)
        if not self.notice_file.data and not (self.text.data or "").strip():
            add_error(self.notice_file, _l("请选择通报文件，或者粘贴通报全文。"))
            return False
        return valid


class NoticeConfirmForm(FlaskForm):
    """The previewed notice, carried back so the file need not be sent again."""

    source = HiddenField(validators=[DataRequired()])
    kind = HiddenField(validators=[DataRequired()])
    filename = HiddenField()
    round_id = HiddenField()
