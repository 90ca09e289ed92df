"""Signing staff in and out, and loading the signed-in user for every request."""

from __future__ import annotations

import segno
from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from feedback.auth import bp
from feedback.auth.forms import LoginForm
from feedback.auth.forms import PasswordForm
from feedback.auth.forms import TotpForm
from feedback.extensions import db
from feedback.extensions import limiter
from feedback.models import StaffUser
from feedback.services import accounts
from feedback.services import sign_in
from feedback.urls import safe_next
from feedback.web.actions import decide
from feedback.web.forms import add_error


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


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    """Sign a staff member in."""
    form = LoginForm()
    # Signing in and out commit by hand, not through web.actions.decide: a
    # refused sign-in is committed too (the counts of failures, a lock and the
    # mail telling of it must outlive it), and both then clear the session,
    # flashes included.
    if form.validate_on_submit():
        try:
            user = sign_in.authenticate(
                db.session, form.email.data, form.password.data, client=_client()
            )
        except sign_in.LockedOut:
            user = None
        db.session.commit()  # keeps the counts of failures, and any lock
        if user is None:
            # One answer for an unknown address, a wrong password and a lock,
            # so that none of them tells which accounts exist.
            add_error(
                form.password,
                _(
                    "电子邮箱或密码不正确，或尝试次数太多、暂时不能登录。请稍后再试，或请管理员重设密码。"
                ),
            )
        elif user.totp_secret:
            session.clear()
            session["pending_user_id"] = user.id
            session["pending_v"] = user.session_version
            return redirect(
                url_for("auth.second_factor", next=request.args.get("next"))
            )
        else:
            return _signed_in(user)
    return render_template("auth/login.html", form=form)


def _signed_in(user: StaffUser) -> ResponseReturnValue:
    """Start the session of a user who passed every factor."""
    sign_in.complete_login(db.session, user, client=_client())
    db.session.commit()
    session.clear()
    session["user_id"] = user.id
    session["v"] = user.session_version
    return redirect(safe_next(request.args.get("next"), url_for("staff.index")))


def _client() -> str:
    """The client a sign-in attempt comes from, as the rate limits see it."""
    return get_remote_address()


def _too_many() -> str:
    return _("尝试次数太多，暂时不能核对。请稍后再试，或请管理员重设密码。")


@bp.route("/totp", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def second_factor() -> ResponseReturnValue:
    """Ask for the authenticator code of an account that passed its password."""
    user_id = session.get("pending_user_id")
    user = db.session.get(StaffUser, user_id) if user_id is not None else None
    if (
        user is None
        or not user.active
        or session.get("pending_v") != user.session_version
    ):
        session.clear()
        return redirect(url_for("auth.login"))
    form = TotpForm()
    if form.validate_on_submit():
        try:
            right = sign_in.check_totp(
                db.session, user, form.code.data, client=_client()
            )
        except sign_in.LockedOut:
            add_error(form.code, _too_many())
            return render_template("auth/totp.html", form=form), 429
        if right:
            return _signed_in(user)
        db.session.commit()  # keeps the count of wrong codes, and any lock
        add_error(form.code, _("验证码不正确或已用过，请输入手机上显示的新验证码。"))
    return render_template("auth/totp.html", form=form)


def _setup_page(user: StaffUser, form: TotpForm, secret: str) -> ResponseReturnValue:
    """Show the code to scan and the form that turns two-factor sign-in on."""
    uri = accounts.totp_uri(user, secret)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=4)
    return render_template("auth/two_factor.html", form=form, secret=secret, qr=qr)


@bp.route("/two-factor", methods=["GET", "POST"])
def two_factor() -> ResponseReturnValue:
    """Let the lead and admins turn two-factor sign-in on or off."""
    user = g.user
    if user is None:
        return redirect(url_for("auth.login", next=request.full_path))
    if user.role not in accounts.TOTP_ROLES:
        abort(404)
    form = TotpForm()
    action = request.form.get("action")
    if user.totp_secret is None:
        secret = session.get("totp_setup") or accounts.new_totp_secret()
        session["totp_setup"] = secret
        if form.validate_on_submit() and action == "enable":

            def enable() -> None:
                accounts.enable_totp(db.session, user, secret, form.code.data)
                session.pop("totp_setup", None)

            return decide(
                enable,
                _("两步验证已开启，下次登录时需要输入手机上的验证码。"),
                url_for("auth.two_factor"),
                again=lambda: _setup_page(user, form, secret),
                error_on=form.code,
            )
        return _setup_page(user, form, secret)
    if form.validate_on_submit() and action == "disable":
        try:
            right = sign_in.check_totp(
                db.session, user, form.code.data, client=_client()
            )
        except sign_in.LockedOut:
            add_error(form.code, _too_many())
            page = render_template(
                "auth/two_factor.html", form=form, secret=None, qr=None
            )
            return page, 429
        if right:

            def disable() -> None:
                accounts.disable_totp(db.session, user, actor=user)
                session["v"] = user.session_version

            return decide(disable, _("两步验证已关闭。"), url_for("auth.two_factor"))
        db.session.commit()  # keeps the count of wrong codes
        add_error(form.code, _("验证码不正确或已用过，请输入手机上显示的新验证码。"))
    return render_template("auth/two_factor.html", form=form, secret=None, qr=None)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out, ending this account's sessions everywhere."""
    if g.user is not None:
        accounts.end_sessions(db.session, g.user)
        db.session.commit()
    session.clear()
    flash(_("您已退出登录。"))
    return redirect(url_for("public.board"))


@bp.route("/password", methods=["GET", "POST"])
def change_password() -> ResponseReturnValue:
    """Let signed-in staff change their password, ending their other sessions."""
    if g.user is None:
        return redirect(url_for("auth.login", next=request.full_path))
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            right = sign_in.authenticate(
                db.session, g.user.email, form.current.data, client=_client()
            )
        except sign_in.LockedOut:
            add_error(form.current, _too_many())
            return render_template("auth/password.html", form=form), 429
        if right is None:
            db.session.commit()  # keeps the count of wrong passwords, and any lock
            add_error(form.current, _("当前密码不正确。"))
        else:
            user = g.user

            def change() -> None:
                accounts.set_password(db.session, user, form.new.data, actor=user)
                session["v"] = user.session_version  # this session stays, others end

            return decide(
                change,
                _("密码已修改，其他设备上的登录已退出。"),
                url_for("staff.index"),
                again=lambda: render_template("auth/password.html", form=form),
                error_on=form.new,
            )
    return render_template("auth/password.html", form=form)
