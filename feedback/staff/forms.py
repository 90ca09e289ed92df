"""Back-office forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length

from feedback.validators import PlainText


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
