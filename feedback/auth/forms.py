"""Sign-in form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import PasswordField
from wtforms.validators import DataRequired


class LoginForm(FlaskForm):
    """E-mail and password of a staff account."""

    email = EmailField(_l("电子邮箱"), validators=[DataRequired()])
    password = PasswordField(_l("密码"), validators=[DataRequired()])
