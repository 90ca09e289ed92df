"""Answering a routed submission through the signed link in the section's e-mail."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from feedback.downloads import send_attachment
from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import Section
from feedback.models import Submission
from feedback.section import bp
from feedback.services import replies
from feedback.signing import load_reply_token
from feedback.web.actions import attempt
from feedback.web.actions import Refused
from feedback.web.forms import ReplyForm

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _from_token(token: str) -> tuple[Submission, Section]:
    ids = load_reply_token(token)
    if ids is None:
        abort(404)
    submission = db.session.get(Submission, ids[0])
    section = db.session.get(Section, ids[1])
    if submission is None or section is None or submission.section_id != section.id:
        abort(404)
    return submission, section


@bp.route("/reply/<token>", methods=["GET", "POST"])
def reply(token: str) -> ResponseReturnValue:
    """Show the submission to its section and take the section's answer."""
    submission, section = _from_token(token)
    form = ReplyForm.from_template(request.args.get("template"))
    note = None
    status = 200
    if form.validate_on_submit():
        # The thanks stand on this page, not in a flash after a redirect:
        # the link is all a section has, and the page shows its drafts.
        outcome = attempt(
            lambda: replies.draft(
                db.session,
                submission,
                section,
                form.body.data,
                channel=ReplyChannel.WEB,
                author_label=_("%(name)s（邮件链接）", name=section.name),
            )
        )
        if isinstance(outcome, Refused):
            note = outcome.reason
            status = 400
        else:
            form = ReplyForm(formdata=None)
            note = _("答复已收到，纪检组长审核后将发给群众。谢谢！")
    elif form.is_submitted():
        status = 400
    drafts = [r for r in submission.replies if r.state is ReplyState.DRAFT]
    return (
        render_template(
            "section/reply.html",
            submission=submission,
            section=section,
            form=form,
            note=note,
            drafts=drafts,
            reply_templates=current_app.config["REPLY_TEMPLATES"],
        ),
        status,
        HEADERS,
    )


@bp.get("/reply/<token>/attachments/<int:attachment_id>")
def attachment(token: str, attachment_id: int) -> ResponseReturnValue:
    """Hand the section a file of the submission its link is for."""
    submission, _section = _from_token(token)
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.submission_id != submission.id:
        abort(404)
    return send_attachment(db.session, item)
