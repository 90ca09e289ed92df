"""Citizens' pages for speaking up: the submission form, its receipt, tracking, choices."""

from __future__ import annotations

import secrets

from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from feedback import i18n
from feedback.downloads import send_attachment
from feedback.errors import keeps_typed_input
from feedback.extensions import csrf
from feedback.extensions import db
from feedback.extensions import limiter
from feedback.models import Attachment
from feedback.models import Problem
from feedback.models import Rating
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.public import bp
from feedback.public.forms import AnswerForm
from feedback.public.forms import PreferenceForm
from feedback.public.forms import RateForm
from feedback.public.forms import SubmitForm
from feedback.public.forms import TrackForm
from feedback.services import attachments
from feedback.services import board
from feedback.services import closing
from feedback.services import DomainError
from feedback.services import questions
from feedback.services import submissions
from feedback.services import tracking
from feedback.urls import safe_next
from feedback.validators import ascii_number
from feedback.web.actions import attempt
from feedback.web.actions import Refused
from feedback.web.forms import add_error
from feedback.web.forms import content_choice
from feedback.web.forms import SelectChoice

NO_STORE = {"Cache-Control": "no-store"}
# The session key of the nonce that lets one browser see its receipt again.
RECEIPT_NONCE = "receipt_nonce"
# What the button that files the same text again as a new case posts.
SEND_AGAIN = "1"


def _submit_form(*, database_down: bool = False) -> SubmitForm:
    """Build the form; without the database the problems cannot be offered,
    and the page carries the posted choice in a hidden field instead."""
    form = SubmitForm()
    problems = [] if database_down else board.all_problems(db.session)
    form.problem_id.choices = [SelectChoice("", _("不涉及具体问题"))] + [
        content_choice(str(p.id), f"{p.code} {p.title}") for p in problems
    ]
    return form


def _render_submit(
    form: SubmitForm,
    note: str | None = None,
    *,
    error: str | None = None,
    database_down: bool = False,
) -> str:
    return render_template(
        "public/submit.html",
        form=form,
        note=note,
        error=error,
        problem_hidden=database_down,
    )


@keeps_typed_input("public.submit")
def _submit_again(note: str, *, database_down: bool) -> str:
    """Show the form again with what was typed, ready to be sent with one press."""
    form = _submit_form(database_down=database_down)
    form.idempotency_key.data = form.idempotency_key.data or secrets.token_urlsafe(24)
    _receipt_nonce()
    return _render_submit(form, note, database_down=database_down)


def _uploads(form: SubmitForm | AnswerForm) -> list[attachments.Upload]:
    return [
        attachments.Upload(filename=f.filename or "", data=f.read())
        for f in form.attachments.data or []
        if f and f.filename
    ]


def _receipt_nonce() -> str:
    """Return this browser session's receipt nonce, made when it has none.

    Made when the form is served, so that a double click (two posts with the
    same cookie) carries one nonce. Only the nonce lives in the session
    cookie, which its holder can read; the access code never does.
    """
    nonce = session.get(RECEIPT_NONCE)
    if not isinstance(nonce, str) or not nonce:
        nonce = session[RECEIPT_NONCE] = secrets.token_urlsafe(16)
    return nonce


def _receipt_page(
    submission: Submission,
    access_code: str | None,
    *,
    again: bool = False,
    mailed: bool = False,
    not_kept: list[str] | None = None,
    send_again: SubmitForm | None = None,
) -> tuple[str, int, dict[str, str]]:
    page = render_template(
        "public/receipt.html",
        submission=submission,
        access_code=access_code,
        again=again,
        mailed=mailed,
        not_kept=not_kept or [],
        send_again=send_again,
    )
    return page, 200, NO_STORE


def _repeat_page(repeat: submissions.Repeat) -> tuple[str, int, dict[str, str]]:
    return _receipt_page(repeat.submission, repeat.access_code, again=True)


def _submit_limit() -> str:
    return current_app.config["SUBMIT_RATE_LIMIT"]


def _track_limit() -> str:
    return current_app.config["TRACK_RATE_LIMIT"]


@bp.route("/submit", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
def submit() -> ResponseReturnValue:
    """Take an opinion from the public and show its receipt."""
    form = _submit_form()
    if request.method == "GET":
        form.idempotency_key.data = secrets.token_urlsafe(24)
        _receipt_nonce()
        chosen = ascii_number(request.args.get("problem"))
        if chosen is not None:
            form.problem_id.data = str(chosen)
        return _render_submit(form), 200, NO_STORE
    if not form.validate_on_submit():
        return _render_submit(form), 400, NO_STORE
    if form.website.data:
        # The honeypot: people never see this field, form-filling robots do.
        note = _("请清空“请勿填写”一栏后再提交。您填写的其他内容都还在。")
        return _render_submit(form, note), 400, NO_STORE
    nonce = _receipt_nonce()
    earlier = submissions.find_by_form_key(db.session, form.idempotency_key.data, nonce)
    if earlier is not None:  # a double click or a refresh: the same receipt again
        return _repeat_page(earlier)
    if form.send_again.data != SEND_AGAIN:
        # Back, then send again: the browser brought back the text under a
        # new form key. Show the first receipt, and ask.
        twin = submissions.find_same_text(
            db.session, nonce, form.subject.data, form.body.data
        )
        if twin is not None:
            form.send_again.data = SEND_AGAIN
            return _receipt_page(
                twin.submission, twin.access_code, again=True, send_again=form
            )
    problem_obj = None
    if form.problem_id.data:
        problem_obj = db.session.get(Problem, int(form.problem_id.data))
    # Unlike a staff decision (feedback.web.actions), a lost race on the form
    # key is answered with the twin's receipt, and the files written for the
    # loser are removed: this transaction is run here, not by ``attempt``.
    uploads = _uploads(form)
    # A reference drawn at the same moment by another node loses the same
    # way as a twin form, but has no twin: it is drawn again.
    for _attempt in range(3):
        receipt = None
        try:
            receipt = submissions.submit(
                db.session,
                kind=SubmissionKind(form.kind.data),
                subject=form.subject.data,
                body=form.body.data,
                author=form.author(),
                problem=problem_obj,
                publish_consent=form.publish_consent.data,
                language=i18n.html_lang(),  # the author's mail is written in it
                form_key=form.idempotency_key.data or None,
                receipt_nonce=nonce,
                uploads=uploads,
            )
            # Drawn before the commit, which expires every attribute: were the
            # database to go away just after it, a stored submission would still
            # get its receipt rather than an error.
            page = _receipt_page(
                receipt.submission,
                receipt.access_code,
                mailed=receipt.mailed,
                not_kept=form.contact_not_kept(),
            )
            db.session.commit()  # durable before the citizen reads "received"
        except DomainError as exc:
            db.session.rollback()
            refused = Refused(str(exc), exc.field)
            return _render_submit(form, error=refused.beside(form)), 400, NO_STORE
        except IntegrityError:
            # The same form, sent twice at once, lost the race to its twin.
            db.session.rollback()
            if receipt is not None:
                attachments.discard(list(receipt.written))
            earlier = submissions.find_by_form_key(
                db.session, form.idempotency_key.data, nonce
            )
            if earlier is not None:
                return _repeat_page(earlier)
            continue
        return page
    raise RuntimeError("no unused reference number after three draws")


def _track_page(
    form: TrackForm,
    found: Submission | None,
    *,
    note: str | None = None,
    error: str | None = None,
) -> ResponseReturnValue:
    """Render the tracking page: the code form, or the submission the code opens."""
    status = 400 if form.errors or error else 200
    page = render_template(
        "public/track.html",
        form=form,
        submission=found,
        history=tracking.history(found) if found else [],
        question=questions.open_request(found) if found else None,
        answer_form=form
        if isinstance(form, AnswerForm)
        else AnswerForm(formdata=None, code=form.code.data),
        rate_form=form
        if isinstance(form, RateForm)
        else RateForm(formdata=None, code=form.code.data),
        note=note,
        error=error,
    )
    return page, status, NO_STORE


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_track_limit, methods=["POST"])
def track() -> ResponseReturnValue:
    """Show a submission's progress to whoever holds its access code."""
    form = TrackForm()
    found: Submission | None = None
    if form.validate_on_submit():
        found = tracking.find(db.session, form.code.data)
        if found is None:
            add_error(form.code, _("没有找到与此查询码对应的记录，请核对后重新输入。"))
    return _track_page(form, found)


def _code_holder(form: TrackForm) -> Submission:
    """Return the submission of a posted access code, or answer 404."""
    found = tracking.find(db.session, form.code.data or "")
    if found is None:
        abort(404)
    return found


@bp.post("/track/answer")
@limiter.limit(_track_limit)
def track_answer() -> ResponseReturnValue:
    """Take the author's answer to a question, with files."""
    form = AnswerForm()
    if not form.validate_on_submit():
        found = tracking.find(db.session, form.code.data or "")
        return _track_page(form, found, error=_("请检查补充内容。"))
    found = _code_holder(form)
    outcome = attempt(  # committed before the author reads "received"
        lambda: questions.answer(
            db.session, found, form.answer.data or "", _uploads(form)
        )
    )
    if isinstance(outcome, Refused):
        return _track_page(form, found, error=outcome.beside(form))
    return _track_page(form, found, note=_("已收到您的补充材料，承办人员会尽快查看。"))


@bp.post("/track/rate")
@limiter.limit(_track_limit)
def track_rate() -> ResponseReturnValue:
    """Take the author's rating of the reply, which closes the submission."""
    form = RateForm()
    found = tracking.find(db.session, form.code.data or "")
    if found is None:
        abort(404)
    if not form.validate_on_submit():
        return _track_page(form, found, error=_("请选择评价后再提交。"))
    outcome = attempt(
        lambda: closing.rate(
            db.session, found, Rating(form.rating.data), form.reason.data or ""
        )
    )
    if isinstance(outcome, Refused):
        return _track_page(form, found, error=outcome.beside(form))
    return _track_page(form, found, note=_("感谢您的评价，此件已办结。"))


@bp.post("/track/attachments/<int:attachment_id>")
@limiter.limit(_track_limit)
def track_attachment(attachment_id: int) -> ResponseReturnValue:
    """Hand the author one of their own files, proven by the access code."""
    form = TrackForm()
    found = tracking.find(db.session, form.code.data or "") if form.validate() else None
    attachment = db.session.get(Attachment, attachment_id)
    if found is None or attachment is None or attachment.submission_id != found.id:
        abort(404)
    return send_attachment(db.session, attachment)


@bp.post("/preferences")
@csrf.exempt
def set_preference() -> ResponseReturnValue:
    """Remember a reading choice (language, care mode, pinyin) in a cookie.

    Exempt from CSRF protection (see ``PreferenceForm``): it sets nothing but
    the visitor's own SameSite=Lax cookie and goes back to a path on this site.
    """
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
