"""Sign-in, password and two-factor forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length


class LoginForm(FlaskForm):
    """E-mail and password of a staff account."""

    email = EmailField(_l("电子邮箱"), validators=[DataRequired()])
    password = PasswordField(_l("密码"), validators=[DataRequired()])


class PasswordForm(FlaskForm):
    """The current password, and a new one typed twice."""

    current = PasswordField(_l("当前密码"), validators=[DataRequired()])
    new = PasswordField(
        _l("新密码"),
        validators=[DataRequired(), Length(min=10, message=_l("新密码至少10个字符。"))],
    )
    again = PasswordField(
        _l("再输入一次新密码"),
        validators=[
            DataRequired(),
            EqualTo("new", message=_l("两次输入的新密码不一样。")),
        ],
    )


class TotpForm(FlaskForm):
    """The six-digit code an authenticator app shows."""

    code = StringField(
        _l("验证码（6位数字）"),
        validators=[DataRequired(_l("请输入验证码。")), Length(max=12)],
    )
