"""Decisions on a submission: refuse, duplicate, spam, extend, notes, questions, 举报, reopening."""

from __future__ import annotations

from flask import current_app
from flask import g
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice

from feedback.auth.decorators import role_required
from feedback.extensions import db
from feedback.models import Reply
from feedback.models import Role
from feedback.models import Submission
from feedback.services import closing
from feedback.services import questions
from feedback.services import replies
from feedback.services import triage
from feedback.staff import bp
from feedback.staff.common import decide
from feedback.staff.common import visible
from feedback.staff.forms import AskForm
from feedback.staff.forms import ConcludeForm
from feedback.staff.forms import DuplicateForm
from feedback.staff.forms import ExtendForm
from feedback.staff.forms import NoteForm
from feedback.staff.forms import PublishForm
from feedback.staff.forms import ReasonForm
from feedback.staff.forms import RefuseForm
from feedback.staff.forms import ReturnForm


def refuse_form() -> RefuseForm:
    """Build the refusal form with the configured reasons to choose from."""
    form = RefuseForm(prefix="refuse")
    form.template.choices = [SelectChoice("", _("（自己填写）"))] + [
        SelectChoice(str(i), reason)
        for i, reason in enumerate(current_app.config["REFUSAL_REASONS"])
    ]
    return form


@bp.post("/submissions/<int:submission_id>/refuse")
@role_required(Role.LEAD)
def refuse(submission_id: int) -> ResponseReturnValue:
    """Decline a submission with a reason the author reads."""
    submission = db.get_or_404(Submission, submission_id)
    form = refuse_form()
    reasons = current_app.config["REFUSAL_REASONS"]

    def act() -> None:
        text = (form.reason.data or "").strip()
        if not text and form.template.data:
            text = reasons[int(form.template.data)]
        triage.refuse(db.session, submission, text, actor=g.user)

    return decide(form, submission, act, _("已决定不予受理，并告知群众。"))


@bp.post("/submissions/<int:submission_id>/duplicate")
@role_required(Role.LEAD)
def mark_duplicate(submission_id: int) -> ResponseReturnValue:
    """Close a submission as a repeat of another."""
    submission = db.get_or_404(Submission, submission_id)
    form = DuplicateForm(prefix="duplicate")

    def act() -> None:
        original = db.session.scalar(
            select(Submission).where(
                Submission.reference == form.reference.data.strip()
            )
        )
        if original is None:
            raise triage.TriageError(_("没有这个编号。"))
        triage.mark_duplicate(db.session, submission, original, actor=g.user)

    return decide(form, submission, act, _("已标记为重复件。"))


@bp.post("/submissions/<int:submission_id>/spam")
@role_required(Role.LEAD)
def mark_spam(submission_id: int) -> ResponseReturnValue:
    """Set aside a submission that is not an opinion at all."""
    submission = db.get_or_404(Submission, submission_id)
    return decide(
        FlaskForm(),
        submission,
        lambda: triage.mark_spam(db.session, submission, actor=g.user),
        _("已标记为无效信息。"),
    )


@bp.post("/submissions/<int:submission_id>/extend")
@role_required(Role.LEAD)
def extend(submission_id: int) -> ResponseReturnValue:
    """Extend the reply deadline once, telling the author why."""
    submission = db.get_or_404(Submission, submission_id)
    form = ExtendForm(prefix="extend")
    return decide(
        form,
        submission,
        lambda: triage.extend(
            db.session, submission, form.days.data, form.reason.data, actor=g.user
        ),
        _("答复期限已延长，并告知群众。"),
    )


@bp.post("/submissions/<int:submission_id>/notes")
@role_required(Role.LEAD, Role.SECTION)
def add_note(submission_id: int) -> ResponseReturnValue:
    """Add an internal note (lead, or the section the submission is routed to)."""
    submission = visible(submission_id)
    form = NoteForm(prefix="note")
    return decide(
        form,
        submission,
        lambda: triage.add_note(db.session, submission, form.body.data, actor=g.user),
        _("备注已保存。"),
    )


@bp.post("/replies/<int:reply_id>/return")
@role_required(Role.LEAD)
def return_reply(reply_id: int) -> ResponseReturnValue:
    """Send a draft reply back to its section with the lead's reason."""
    reply = db.get_or_404(Reply, reply_id)
    form = ReturnForm(prefix=f"return{reply.id}")
    return decide(
        form,
        reply.submission,
        lambda: replies.return_draft(db.session, reply, form.reason.data, actor=g.user),
        _("答复已退回股室。"),
    )


@bp.post("/replies/<int:reply_id>/publish")
@role_required(Role.LEAD)
def publish_reply(reply_id: int) -> ResponseReturnValue:
    """Publish an approved reply, personal data masked, on the problem's page."""
    reply = db.get_or_404(Reply, reply_id)
    form = PublishForm(prefix=f"publish{reply.id}")
    return decide(
        form,
        reply.submission,
        lambda: replies.publish(db.session, reply, form.text.data, actor=g.user),
        _("答复已公开。"),
    )


@bp.post("/submissions/<int:submission_id>/ask")
@role_required(Role.LEAD, Role.SECTION)
def ask_author(submission_id: int) -> ResponseReturnValue:
    """Ask the author for more information (the lead, or the section handling it)."""
    submission = visible(submission_id)
    form = AskForm(prefix="ask")
    return decide(
        form,
        submission,
        lambda: questions.ask(db.session, submission, form.question.data, actor=g.user),
        _("问题已发给群众，等待补充。"),
    )


@bp.post("/submissions/<int:submission_id>/accept")
@role_required(Role.LEAD)
def accept_report(submission_id: int) -> ResponseReturnValue:
    """Take up a 举报, telling the reporter it was accepted."""
    submission = db.get_or_404(Submission, submission_id)
    return decide(
        FlaskForm(prefix="accept"),
        submission,
        lambda: triage.accept_misconduct(db.session, submission, actor=g.user),
        _("举报已受理，并告知举报人。"),
    )


@bp.post("/submissions/<int:submission_id>/conclude")
@role_required(Role.LEAD)
def conclude_report(submission_id: int) -> ResponseReturnValue:
    """Record a 举报's result and send it to the reporter."""
    submission = db.get_or_404(Submission, submission_id)
    form = ConcludeForm(prefix="conclude")
    return decide(
        form,
        submission,
        lambda: replies.conclude(
            db.session,
            submission,
            form.result.data,
            form.concluded_on.data,
            actor=g.user,
        ),
        _("办理结果已告知举报人。"),
    )


@bp.post("/submissions/<int:submission_id>/reopen")
@role_required(Role.LEAD)
def reopen(submission_id: int) -> ResponseReturnValue:
    """Reopen a replied or closed submission with a new deadline."""
    submission = db.get_or_404(Submission, submission_id)
    form = ReasonForm(prefix="reopen")
    return decide(
        form,
        submission,
        lambda: closing.reopen(db.session, submission, form.reason.data, actor=g.user),
        _("已重新办理，并告知承办方和群众。"),
    )


@bp.post("/submissions/<int:submission_id>/keep-closed")
@role_required(Role.LEAD)
def keep_closed(submission_id: int) -> ResponseReturnValue:
    """Keep a submission closed after a 不满意 rating, with the lead's reason."""
    submission = db.get_or_404(Submission, submission_id)
    form = ReasonForm(prefix="keep")
    return decide(
        form,
        submission,
        lambda: closing.keep_closed(
            db.session, submission, form.reason.data, actor=g.user
        ),
        _("已记录：维持办结。"),
    )
