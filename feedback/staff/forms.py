"""Back-office forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DateField
from wtforms import EmailField
from wtforms import FileField
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import widgets
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from feedback.public.forms import BoardFilterForm
from feedback.validators import PlainText


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes, which work by keyboard and without JavaScript."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RouteForm(FlaskForm):
    """Choose the section that must answer."""

    section_id = SelectField(_l("转办股室"), validators=[DataRequired()])


class ReplyForm(FlaskForm):
    """A section's answer; it stays a draft until the lead approves it."""

    body = TextAreaField(
        _l("答复内容"),
        validators=[
            PlainText(),
            DataRequired(_l("请填写答复内容。")),
            Length(max=20000),
        ],
    )


class ApproveForm(FlaskForm):
    """The lead's approval, with the reply text they may still edit."""

    body = TextAreaField(
        _l("答复内容（可修改）"),
        validators=[
            PlainText(),
            DataRequired(_l("答复内容不能为空。")),
            Length(max=20000),
        ],
    )


class EditProblemForm(FlaskForm):
    """A problem's own text, deadline and responsible section."""

    title = StringField(
        _l("问题标题"),
        validators=[PlainText(), DataRequired(_l("请填写标题。")), Length(max=500)],
    )
    details = TextAreaField(_l("问题表现"), validators=[PlainText(), Length(max=20000)])
    measures = TextAreaField(
        _l("整改措施"), validators=[PlainText(), Length(max=20000)]
    )
    deadline = DateField(_l("整改时限"), validators=[Optional()])
    section_id = SelectField(_l("责任股室"), validators=[Optional()])


class StatusForm(FlaskForm):
    """A new published status, why, and from when."""

    word = SelectField(_l("新的整改状态"), validators=[DataRequired()])
    reason = TextAreaField(
        _l("变更原因"),
        validators=[
            PlainText(),
            DataRequired(_l("请说明变更原因。")),
            Length(max=2000),
        ],
    )
    effective_on = DateField(
        _l("生效日期"), validators=[DataRequired(_l("请填写生效日期。"))]
    )


class ProgressForm(FlaskForm):
    """A dated public note about what was done."""

    body = TextAreaField(
        _l("进展内容"),
        validators=[
            PlainText(),
            DataRequired(_l("请填写进展内容。")),
            Length(max=5000),
        ],
    )
    published_on = DateField(
        _l("公开日期"),
        validators=[DataRequired(_l("请填写公开日期。"))],
        description=_l("可以是将来的日期，到期后才公开。"),
    )


class FileHeldForm(FlaskForm):
    """The reference number a held message belongs to."""

    reference = StringField(
        _l("归入编号"),
        validators=[PlainText(), DataRequired(_l("请填写编号。")), Length(max=32)],
    )


class SectionForm(FlaskForm):
    """One row of the routing table."""

    name = StringField(
        _l("股室名称"),
        validators=[PlainText(), DataRequired(_l("请填写名称。")), Length(max=100)],
    )
    email = EmailField(
        _l("股室公共邮箱"),
        validators=[
            DataRequired(_l("请填写邮箱。")),
            Email(_l("邮箱格式不正确。")),
            Length(max=254),
        ],
    )
    reply_domains = StringField(
        _l("允许回复的邮箱域名"),
        validators=[PlainText(), Optional(), Length(max=500)],
        description=_l(
            "用空格分隔，例如 meijiang-edu.example 163.com；公共邮箱的域名总是允许的。"
        ),
    )
    kinds = MultiCheckboxField(_l("未关联问题时，建议转给本股室的类型"))
    active = BooleanField(_l("接收转办"), default=True)


class RefuseForm(FlaskForm):
    """不予受理, with a reason the author reads (a template or free text)."""

    template = SelectField(_l("常用理由"), validators=[Optional()])
    reason = TextAreaField(
        _l("告知群众的理由"),
        validators=[PlainText(), Optional(), Length(max=2000)],
        description=_l("选了常用理由可以不填；填写的内容会替代常用理由。"),
    )


class DuplicateForm(FlaskForm):
    """The reference number of the submission this one repeats."""

    reference = StringField(
        _l("与哪一件重复（编号）"),
        validators=[PlainText(), DataRequired(_l("请填写编号。")), Length(max=32)],
    )


class ExtendForm(FlaskForm):
    """The one extension of the reply deadline."""

    days = IntegerField(
        _l("延长天数"),
        validators=[DataRequired(_l("请填写天数。")), NumberRange(min=1, max=30)],
    )
    reason = TextAreaField(
        _l("告知群众的延期理由"),
        validators=[
            PlainText(),
            DataRequired(_l("请说明延期理由。")),
            Length(max=2000),
        ],
    )


class NoteForm(FlaskForm):
    """An internal note."""

    body = TextAreaField(
        _l("内部备注（群众看不到）"),
        validators=[PlainText(), DataRequired(_l("备注是空的。")), Length(max=5000)],
    )


class ReturnForm(FlaskForm):
    """Why a draft goes back to its section."""

    reason = TextAreaField(
        _l("退回原因（发给股室）"),
        validators=[
            PlainText(),
            DataRequired(_l("请说明退回原因。")),
            Length(max=2000),
        ],
    )


class AuditFilterForm(FlaskForm):
    """Filters of the audit page, read from the query string."""

    action = SelectField(_l("操作"), validators=[Optional()])
    reference = StringField(_l("编号"), validators=[Optional(), Length(max=32)])
    before = IntegerField(validators=[Optional()])


class OfflineSubmissionForm(FlaskForm):
    """An opinion that came by phone, letter or visit, as the lead types it in."""

    channel = SelectField(_l("来源"), validators=[DataRequired()])
    received_on = DateField(
        _l("收到日期"), validators=[DataRequired(_l("请填写收到日期。"))]
    )
    kind = SelectField(_l("类型"), validators=[DataRequired()])
    subject = StringField(
        _l("标题"),
        validators=[PlainText(), DataRequired(_l("请填写标题。")), Length(max=100)],
    )
    body = TextAreaField(
        _l("内容"),
        validators=[PlainText(), DataRequired(_l("请填写内容。")), Length(max=5000)],
    )
    name = StringField(
        _l("姓名（可不填）"), validators=[PlainText(), Optional(), Length(max=100)]
    )
    phone = StringField(
        _l("电话（可不填）"), validators=[PlainText(), Optional(), Length(max=40)]
    )
    email = EmailField(
        _l("电子邮箱（可不填）"),
        validators=[Optional(), Email(_l("邮箱格式不正确。")), Length(max=254)],
    )


class QueueFilterForm(FlaskForm):
    """The lead's filters on a queue, read from the query string."""

    kind = SelectField(_l("类型"), validators=[Optional()])
    state = SelectField(_l("办理状态"), validators=[Optional()])
    section = SelectField(_l("承办股室"), validators=[Optional()])
    problem = SelectField(_l("涉及问题"), validators=[Optional()])
    received_from = DateField(_l("收到日期从"), validators=[Optional()])
    received_to = DateField(_l("收到日期到"), validators=[Optional()])
    q = StringField(_l("编号或关键词"), validators=[Optional(), Length(max=100)])


class LedgerFilterForm(BoardFilterForm):
    """The public board's filters, plus the round and the aspect."""

    round = SelectField(_l("巡察轮次"), validators=[Optional()])
    aspect = SelectField(_l("方面"), validators=[Optional()])


class PublishForm(FlaskForm):
    """The reply as the public will read it, personal data masked."""

    text = TextAreaField(
        _l("公开的答复（已自动隐去个人信息，可修改）"),
        validators=[
            PlainText(),
            DataRequired(_l("公开内容不能为空。")),
            Length(max=20000),
        ],
    )


class AskForm(FlaskForm):
    """A question to the author, who answers through the access code."""

    question = TextAreaField(
        _l("需要群众补充的情况"),
        description=_l("群众会在查询页面和邮件中看到这个问题。"),
        validators=[
            PlainText(),
            DataRequired(_l("请写出需要补充的内容。")),
            Length(max=2000),
        ],
    )


class ConcludeForm(FlaskForm):
    """A 举报's result, written by the lead."""

    concluded_on = DateField(
        _l("办结日期"), validators=[DataRequired(_l("请填写办结日期。"))]
    )
    result = TextAreaField(
        _l("告知举报人的办理结果"),
        validators=[
            PlainText(),
            DataRequired(_l("请填写办理结果。")),
            Length(max=20000),
        ],
    )


class ReasonForm(FlaskForm):
    """A decision that needs only a reason: reopening, or keeping closed."""

    reason = TextAreaField(
        _l("理由"),
        validators=[
            PlainText(),
            DataRequired(_l("请说明理由。")),
            Length(max=2000),
        ],
    )


class HolidayForm(FlaskForm):
    """One day of the holiday table: a day off, or a make-up working day."""

    day = DateField(_l("日期"), validators=[DataRequired(_l("请填写日期。"))])
    name = StringField(
        _l("名称"),
        validators=[PlainText(), DataRequired(_l("请填写名称。")), Length(max=100)],
    )
    is_workday = BooleanField(_l("调休上班日（补班）"))


class CalendarFileForm(FlaskForm):
    """An .ics calendar of public holidays to import."""

    calendar = FileField(_l("日历文件（.ics）"), validators=[DataRequired()])
