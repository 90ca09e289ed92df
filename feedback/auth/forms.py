"""Sign-in, password and two-factor forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length

from feedback.web.forms import FilledEmail
from feedback.web.forms import FilledPassword
from feedback.web.forms import FilledText


class LoginForm(FlaskForm):
    """E-mail and password of a staff account."""

    email = FilledEmail(_l("电子邮箱"), validators=[DataRequired()])
    password = FilledPassword(_l("密码"), validators=[DataRequired()])


class PasswordForm(FlaskForm):
    """The current password, and a new one typed twice."""

    current = FilledPassword(_l("当前密码"), validators=[DataRequired()])
    new = FilledPassword(
        _l("新密码"),
        validators=[DataRequired(), Length(min=10, message=_l("新密码至少10个字符。"))],
    )
    again = FilledPassword(
        _l("再输入一次新密码"),
        validators=[
            DataRequired(),
            EqualTo("new", message=_l("两次输入的新密码不一样。")),
        ],
    )


class TotpForm(FlaskForm):
    """The six-digit code an authenticator app shows."""

    code = FilledText(
        _l("验证码（6位数字）"),
        validators=[DataRequired(_l("请输入验证码。")), Length(max=12)],
    )
