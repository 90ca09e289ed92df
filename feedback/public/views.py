"""Citizens' pages for speaking up: the submission form, its receipt, tracking, choices."""

from __future__ import annotations

import secrets

from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import SelectChoice

from feedback import i18n
from feedback.errors import keeps_typed_input
from feedback.extensions import db
from feedback.models import Problem
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.public import bp
from feedback.public.forms import IDENTITY_REAL_NAME
from feedback.public.forms import PreferenceForm
from feedback.public.forms import SubmitForm
from feedback.public.forms import TrackForm
from feedback.services import board
from feedback.services import DomainError
from feedback.services import submissions
from feedback.services import tracking
from feedback.urls import safe_next


def _submit_form() -> SubmitForm:
    form = SubmitForm()
    form.problem_id.choices = [SelectChoice("", _("不涉及具体问题"))] + [
        SelectChoice(str(p.id), f"{p.code} {i18n.script(p.title)}")
        for p in board.all_problems(db.session)
    ]
    return form


def _render_submit(form: SubmitForm, note: str | None = None) -> str:
    return render_template("public/submit.html", form=form, note=note)


@keeps_typed_input("public.submit")
def _submit_after_csrf_error(reason: str) -> tuple[str, int]:
    form = _submit_form()
    form.idempotency_key.data = secrets.token_urlsafe(24)
    note = _("为保护您的信息，页面已过期。您填写的内容都还在，请核对后再点一次“提交”。")
    return _render_submit(form, note), 400


@bp.route("/submit", methods=["GET", "POST"])
def submit() -> ResponseReturnValue:
    """Take an opinion from the public and show its receipt once."""
    form = _submit_form()
    if request.method == "GET":
        form.idempotency_key.data = secrets.token_urlsafe(24)
        chosen = request.args.get("problem", "")
        if chosen.isdigit():
            form.problem_id.data = chosen
        return _render_submit(form)
    if not form.validate_on_submit():
        return _render_submit(form), 400
    problem_obj = None
    if form.problem_id.data:
        problem_obj = db.session.get(Problem, int(form.problem_id.data))
    real_name = form.identity.data == IDENTITY_REAL_NAME
    author = submissions.Author(
        name=form.name.data.strip() if real_name else None,
        phone=(form.phone.data or "").strip() or None if real_name else None,
        email=(form.email.data or "").strip() or None if real_name else None,
    )
    try:
        receipt = submissions.submit(
            db.session,
            kind=SubmissionKind(form.kind.data),
            subject=form.subject.data,
            body=form.body.data,
            author=author,
            problem=problem_obj,
            publish_consent=form.publish_consent.data,
            idempotency_key=form.idempotency_key.data or None,
        )
    except DomainError as exc:
        db.session.rollback()
        return _render_submit(form, str(exc)), 400
    db.session.commit()  # durable before the citizen reads "received"
    response = render_template(
        "public/receipt.html",
        submission=receipt.submission,
        access_code=receipt.access_code,
    )
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/track", methods=["GET", "POST"])
def track() -> ResponseReturnValue:
    """Show a submission's progress to whoever holds its access code."""
    form = TrackForm()
    found: Submission | None = None
    if form.validate_on_submit():
        found = tracking.find(db.session, form.code.data)
        if found is None:
            form.code.errors.append(
                _("没有找到与此查询码对应的记录，请核对后重新输入。")
            )
    status = 400 if form.errors else 200
    return (
        render_template("public/track.html", form=form, submission=found),
        status,
        {"Cache-Control": "no-store"},
    )


@bp.post("/preferences")
def set_preference() -> ResponseReturnValue:
    """Remember a reading choice (language, care mode, pinyin) in a cookie."""
    form = PreferenceForm()
    target = safe_next(form.next.data, url_for("public.board"))
    response = redirect(target)
    if form.validate_on_submit():
        name, value = form.setting.data, form.value.data
        response.set_cookie(
            name,
            value,
            max_age=i18n.ONE_YEAR,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response
