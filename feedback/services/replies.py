"""Sections' answers: drafting them, and the lead's approval that sends them out."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import audit
from feedback.services import deadlines
from feedback.services import DomainError
from feedback.services import InvalidTransition
from feedback.services import NotAllowed
from feedback.services import notifications
from feedback.services import public_replies


class ReplyError(DomainError):
    """A reply could not be drafted or approved."""


def draft(
    session: DbSession,
    submission: Submission,
    section: Section,
    body: str,
    *,
    channel: ReplyChannel,
    author_label: str,
    actor: StaffUser | None = None,
    reason: str | None = None,
) -> Reply:
    """Record a section's answer as a draft that waits for the lead.

    ``reason`` goes to the audit row: where a draft the lead filed came from.
    """
    if submission.section_id != section.id or submission.is_misconduct:
        raise NotAllowed(_l("这条意见没有转给您的股室。"))
    if submission.state is not SubmissionState.ROUTED:
        raise ReplyError(
            _l("这条意见现在不需要答复，可能已经答复过了。请刷新页面查看。")
        )
    if not body.strip():
        raise ReplyError(_l("请填写答复内容。"), field="body")
    reply = Reply(
        submission=submission,
        section=section,
        body=body,
        channel=channel,
        author_label=author_label,
    )
    session.add(reply)
    session.flush()
    audit.record(
        session,
        AuditAction.REPLY_DRAFTED,
        reply,
        actor=actor,
        actor_label=author_label,
        reason=reason,
    )
    return reply


def approve(
    session: DbSession, reply: Reply, *, actor: StaffUser, body: str | None = None
) -> None:
    """Approve a draft (optionally edited): the author sees it and is told."""
    submission = reply.submission
    if reply.state is not ReplyState.DRAFT:
        raise ReplyError(_l("这份答复已经审核过，不能再通过。请刷新页面查看。"))
    if not submission.state.can_move_to(SubmissionState.REPLIED):
        raise InvalidTransition(submission.state, SubmissionState.REPLIED)
    if body is not None and body.strip():
        reply.body = body
    reply.state = ReplyState.APPROVED
    reply.approved_at = utcnow()
    reply.approved_by = actor
    submission.state = SubmissionState.REPLIED
    submission.replied_at = reply.approved_at
    session.flush()
    notifications.reply_approved(session, submission, reply)
    audit.record(session, AuditAction.REPLY_APPROVED, reply, actor=actor)


def return_draft(
    session: DbSession, reply: Reply, reason: str, *, actor: StaffUser
) -> None:
    """Send a draft back to its section with the lead's reason; they may answer again."""
    if reply.state is not ReplyState.DRAFT:
        raise ReplyError(_l("这份答复已经审核过，不能再退回。请刷新页面查看。"))
    if not reason.strip():
        raise ReplyError(_l("请写明股室需要修改什么。"), field="reason")
    reply.state = ReplyState.RETURNED
    session.flush()
    audit.record(session, AuditAction.REPLY_RETURNED, reply, actor=actor, reason=reason)
    notifications.reply_returned(session, reply, reason)


def conclude(
    session: DbSession,
    submission: Submission,
    result: str,
    concluded_on: date,
    *,
    actor: StaffUser,
) -> Reply:
    """Record a 举报's result, written by the lead, and tell the reporter at once.

    The result notice is due MISCONDUCT_NOTICE_WORKING_DAYS working days after
    ``concluded_on``, the day the case was concluded; it goes out now.
    """
    if not submission.is_misconduct:
        raise NotAllowed(_l("只有举报的办理结果由纪检组长填写。"))
    if submission.state is not SubmissionState.ROUTED:
        raise ReplyError(_l("请先受理这件举报，再填写办理结果。"))
    if not result.strip():
        raise ReplyError(_l("请填写办理结果。"), field="result")
    if concluded_on > deadlines.local_date(utcnow(), current_app.config["TIME_ZONE"]):
        raise ReplyError(_l("办结日期不能晚于今天。"), field="concluded_on")
    submission.concluded_on = concluded_on
    submission.result_due_on = deadlines.due_for(
        session,
        concluded_on,
        current_app.config["MISCONDUCT_NOTICE_WORKING_DAYS"],
        deadlines.DeadlineMode.WORKING,
    )
    reply = Reply(
        submission=submission,
        section=None,
        body=result,
        channel=ReplyChannel.WEB,
        author_label=actor.email,
    )
    session.add(reply)
    session.flush()
    audit.record(
        session,
        AuditAction.CONCLUDED,
        submission,
        actor=actor,
        reason=concluded_on.isoformat(),
    )
    approve(session, reply, actor=actor)
    return reply


def masked_text(session: DbSession, reply: Reply) -> str:
    """Return the reply's text with the author's personal data masked, for the lead to edit."""
    return public_replies.mask(session, reply.body, reply.submission)


def publish(session: DbSession, reply: Reply, text: str, *, actor: StaffUser) -> None:
    """Publish an approved reply, as edited by the lead, on the problem's page.

    Only with the author's consent, and never a misconduct report's.
    """
    submission = reply.submission
    if reply.state is not ReplyState.APPROVED:
        raise ReplyError(_l("只有审核通过的答复才能公开。"))
    if submission.is_misconduct:
        raise NotAllowed(_l("举报的办理结果不公开。"))
    if not submission.publish_consent:
        raise ReplyError(_l("群众没有同意公开答复，不能公开。"))
    if not text.strip():
        raise ReplyError(_l("请填写要公开的答复内容。"), field="text")
    reply.published_body = text
    reply.published_at = utcnow()
    session.flush()
    audit.record(session, AuditAction.REPLY_PUBLISHED, reply, actor=actor)
