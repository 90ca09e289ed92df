"""Answering a routed submission through the signed link in the section's e-mail.

The link is used once: its token is exchanged for a cookie scoped to
that submission's reply page, and the browser is sent on to the page's
address without the token, so the token stays out of history, referrers and
the access logs of whatever stands in front of the service.
"""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from feedback.downloads import send_attachment
from feedback.errors import keeps_typed_input
from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import Section
from feedback.models import Submission
from feedback.section import bp
from feedback.services import closing
from feedback.services import replies
from feedback.signing import load_reply_cookie
from feedback.signing import load_reply_link
from feedback.signing import reply_cookie
from feedback.signing import ReplyGrant
from feedback.web.actions import attempt
from feedback.web.actions import Refused
from feedback.web.forms import ReplyForm

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
COOKIE = "reply_page"


def _granted(grant: ReplyGrant | None) -> tuple[Submission, Section]:
    if grant is None:
        abort(404)
    submission = db.session.get(Submission, grant.submission_id)
    section = db.session.get(Section, grant.section_id)
    if (
        submission is None
        or section is None
        or submission.section_id != section.id
        or submission.is_misconduct  # a 举报 is never a section's to read
    ):
        abort(404)
    return submission, section


def _folder(submission_id: int) -> str:
    """Return the path the cookie is sent back to: the reply page and its files."""
    return url_for(".reply_page", submission_id=submission_id).rpartition("/")[0] + "/"


def _hand_cookie(response: Response, grant: ReplyGrant) -> Response:
    """Give (or renew) the cookie for the submission's reply page."""
    response.set_cookie(
        COOKIE,
        reply_cookie(grant),
        max_age=current_app.config["REPLY_PAGE_MINUTES"] * 60,
        path=_folder(grant.submission_id),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    response.headers.update(HEADERS)
    return response


def _cookie_for(submission_id: int) -> ReplyGrant | None:
    """Return the grant of this request's cookie if it is for ``submission_id``."""
    grant = load_reply_cookie(request.cookies.get(COOKIE, ""))
    if grant is None or grant.submission_id != submission_id:
        return None
    return grant


@bp.get("/reply/<token>")
def reply(token: str) -> ResponseReturnValue:
    """Exchange the e-mailed link for a cookie and go on to the page without the token."""
    grant = load_reply_link(token)
    if grant is None:
        abort(404)
    submission, _section = _granted(grant)
    response = redirect(url_for(".reply_page", submission_id=submission.id), 303)
    return _hand_cookie(response, grant)


@bp.get("/reply/<token>/files/<int:attachment_id>")
def attachment_link(token: str, attachment_id: int) -> ResponseReturnValue:
    """Open a citizen's file from the section's e-mail.

    The link is the reply link with the file named after it: it grants what
    the reply link grants, for as long, and is exchanged for the same cookie.
    """
    grant = load_reply_link(token)
    if grant is None:
        abort(404)
    submission, _section = _granted(grant)
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.submission_id != submission.id:
        abort(404)
    target = url_for(".attachment", submission_id=submission.id, attachment_id=item.id)
    return _hand_cookie(redirect(target, 303), grant)


def _expired() -> ResponseReturnValue:
    """Ask for the e-mailed link again, keeping any answer that was posted."""
    if request.method == "POST":
        form = ReplyForm()
        note = _(
            "答复尚未提交：此页面已过期。您填写的内容都还在。请在新的标签页中"
            "重新点击邮件中的答复链接，再回到这里点一次“提交答复”。"
        )
    else:
        form = None
        note = _(
            "此答复页面已过期（%(hours)s小时内未打开），或不是从邮件中的链接打开的。"
            "请重新点击邮件中的答复链接。",
            hours=current_app.config["REPLY_PAGE_MINUTES"] // 60,
        )
    return (
        render_template("section/expired.html", form=form, note=note),
        403,
        HEADERS,
    )


@bp.route("/submissions/<int:submission_id>/reply", methods=["GET", "POST"])
def reply_page(submission_id: int) -> ResponseReturnValue:
    """Show the submission to its section and take the section's answer.

    While its draft waits for the lead the section may change that draft,
    never add a second one.
    """
    grant = _cookie_for(submission_id)
    if grant is None:
        return _expired()
    submission, section = _granted(grant)
    # A posted form says itself which draft it revises, if any: one that
    # names none is a new answer, refused while a draft waits.
    form = (
        ReplyForm()
        if request.method == "POST"
        else ReplyForm.from_template(
            request.args.get("template"), replies.waiting_draft(submission)
        )
    )
    note = error = None
    status = 200
    if form.validate_on_submit():
        number = form.revised_id
        revising = None if number is None else db.get_or_404(Reply, number)
        # The thanks stand on this page, not in a flash after a redirect:
        # the link is all a section has, and the page shows its drafts.
        outcome = attempt(
            lambda: replies.answer(
                db.session,
                submission,
                section,
                form.body.data,
                revising=revising,
                channel=ReplyChannel.WEB,
                author_label=_("%(name)s（邮件链接）", name=section.name),
            )
        )
        if isinstance(outcome, Refused):
            error = outcome.beside(form)
            # What was typed stays; sent again, it edits the draft now waiting.
            form.revising(replies.waiting_draft(submission))
            status = 400
        else:
            form = ReplyForm.editing(outcome, fresh=True)
            note = (
                _("修改已保存，纪检组长将审核修改后的答复。谢谢！")
                if revising is not None and outcome is not revising
                else _("答复已收到，纪检组长审核后将发给群众。谢谢！")
            )
    elif form.is_submitted():
        status = 400
    page = _reply_page(submission, section, form, note, error=error)
    return _hand_cookie(make_response(page, status), grant)


def _reply_page(
    submission: Submission,
    section: Section,
    form: ReplyForm,
    note: str | None,
    *,
    error: str | None = None,
) -> str:
    return render_template(
        "section/reply.html",
        submission=submission,
        section=section,
        form=form,
        note=note,
        error=error,
        waiting=replies.waiting_draft(submission),
        reply_templates=current_app.config["REPLY_TEMPLATES"],
        instruction=closing.reopen_instruction(db.session, submission),
        earlier=submission.approved_reply,
    )


@keeps_typed_input("section.reply_page")
def _reply_again(note: str, *, database_down: bool) -> str:
    """Show the reply form again with what was typed, as a stale form comes back."""
    grant = _cookie_for(request.view_args["submission_id"] if request.view_args else 0)
    if grant is None or database_down:
        return render_template("section/expired.html", form=ReplyForm(), note=note)
    submission, section = _granted(grant)
    return _reply_page(submission, section, ReplyForm(), note)


@bp.get("/submissions/<int:submission_id>/attachments/<int:attachment_id>")
def attachment(submission_id: int, attachment_id: int) -> ResponseReturnValue:
    """Hand the section a file of the submission its cookie is for."""
    submission, _section = _granted(_cookie_for(submission_id))
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.submission_id != submission.id:
        abort(404)
    return send_attachment(db.session, item)
