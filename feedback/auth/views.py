"""Signing staff in and out, and loading the signed-in user for every request."""

from __future__ import annotations

from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from feedback.auth import bp
from feedback.auth.forms import LoginForm
from feedback.extensions import db
from feedback.models import StaffUser
from feedback.services import accounts
from feedback.urls import safe_next


@bp.before_app_request
def load_user() -> None:
    """Put the signed-in, still valid staff account on ``g.user``."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    user = db.session.get(StaffUser, user_id)
    if user is None or not user.active or session.get("v") != user.session_version:
        session.clear()
        return
    g.user = user


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign a staff member in."""
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            db.session.rollback()
            form.password.errors.append(_("电子邮箱或密码不正确。"))
        else:
            db.session.commit()
            session.clear()
            session["user_id"] = user.id
            session["v"] = user.session_version
            return redirect(safe_next(request.args.get("next"), url_for("staff.index")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out, ending this account's sessions everywhere."""
    if g.user is not None:
        accounts.end_sessions(db.session, g.user)
        db.session.commit()
    session.clear()
    flash(_("您已退出登录。"))
    return redirect(url_for("public.board"))
