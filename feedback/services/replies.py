"""Sections' answers: drafting them, and the lead's approval that sends them out."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import LazyString
from sqlalchemy import select

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.labels import RETIRE_CAUSES
from feedback.labels import STATE_LABELS
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import RetireCause
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import audit
from feedback.services import deadlines
from feedback.services import DomainError
from feedback.services import NotAllowed
from feedback.services import notifications
from feedback.services import public_replies


class ReplyError(DomainError):
    """A reply could not be drafted or approved."""


def waiting(reply: Reply) -> bool:
    """Return whether ``reply`` still waits for the lead: the one draft its case can take.

    A draft outlives its case only in rows written before drafts were
    retired; such a draft is as good as retired.
    """
    submission = reply.submission
    return (
        reply.state is ReplyState.DRAFT
        and submission.state is SubmissionState.ROUTED
        # A 举报's result is the lead's own, written for no section.
        and reply.section_id in (None, submission.section_id)
    )


def waiting_draft(submission: Submission) -> Reply | None:
    """Return the draft that waits for the lead's approval, if there is one."""
    return next((r for r in submission.replies if waiting(r)), None)


def _lock(session: DbSession, submission: Submission) -> None:
    """Hold the submission's row until the commit and read its replies afresh.

    Two drafts posted at once (a double click, a web answer and a mail)
    then queue up, and the second finds the first waiting. SQLite has no
    row locks, but lets only one of two such transactions write.
    """
    session.flush()
    session.execute(
        select(Submission.id).where(Submission.id == submission.id).with_for_update()
    )
    session.refresh(submission, attribute_names=["state", "section_id", "replies"])


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

    A case takes one draft at a time: while one waits, a second is refused
    (:func:`revise` changes the waiting one), unless it is the very same
    text sent again, which is the waiting draft. ``reason`` goes to the
    audit row: where a draft the lead filed came from.
    """
    _lock(session, submission)
    _may_answer(submission, section)
    if not body.strip():
        raise ReplyError(_l("请填写答复内容。"), field="body")
    existing = waiting_draft(submission)
    if existing is not None and existing.body == body:
        return existing
    if existing is not None:
        raise ReplyError(
            _l(
                "已有一份答复在等待纪检组长审核，不能再提交第二份。"
                "如需改动，请修改那份待审核的答复。"
            )
        )
    return _write(
        session,
        Reply(
            submission=submission,
            section=section,
            body=body,
            channel=channel,
            author_label=author_label,
        ),
        AuditAction.REPLY_DRAFTED,
        actor=actor,
        reason=reason,
    )


def _write(
    session: DbSession,
    reply: Reply,
    action: AuditAction,
    *,
    actor: StaffUser | None,
    reason: str | None,
) -> Reply:
    """Add a section's new draft and the audit row that says how it came."""
    session.add(reply)
    session.flush()
    audit.record(
        session,
        action,
        reply,
        actor=actor,
        actor_label=reply.author_label,
        reason=reason,
    )
    return reply


def _may_answer(submission: Submission, section: Section) -> None:
    if submission.section_id != section.id or submission.is_misconduct:
        raise NotAllowed(_l("这条意见没有转给您的股室。"))
    if submission.state is not SubmissionState.ROUTED:
        raise ReplyError(
            _l("这条意见现在不需要答复，可能已经答复过了。请刷新页面查看。")
        )


def revise(
    session: DbSession,
    reply: Reply,
    body: str,
    *,
    channel: ReplyChannel,
    author_label: str,
    actor: StaffUser | None = None,
    reason: str | None = None,
) -> Reply:
    """Put a section's new text in place of its draft while the lead has not acted.

    The new text is a new draft and the old one is retired, not overwritten:
    the case keeps both, and a lead's page drawn before the change cannot
    approve the old text over the new.
    """
    submission = reply.submission
    if reply.section is None:
        raise NotAllowed(_l("这条意见没有转给您的股室。"))
    _lock(session, submission)
    _may_answer(submission, reply.section)
    refused = why_not_waiting(session, reply)
    if refused is not None:
        raise ReplyError(refused)
    if not body.strip():
        raise ReplyError(_l("请填写答复内容。"), field="body")
    if body == reply.body:
        return reply
    _retire(
        session, [reply], RetireCause.REVISED, actor=actor, actor_label=author_label
    )
    return _write(
        session,
        Reply(
            submission=submission,
            section=reply.section,
            body=body,
            channel=channel,
            author_label=author_label,
        ),
        AuditAction.REPLY_REVISED,
        actor=actor,
        reason=" · ".join(filter(None, [f"replaces reply {reply.id}", reason])),
    )


def answer(
    session: DbSession,
    submission: Submission,
    section: Section,
    body: str,
    *,
    revising: Reply | None,
    channel: ReplyChannel,
    author_label: str,
    actor: StaffUser | None = None,
    reason: str | None = None,
) -> Reply:
    """Take a section's answer: a new draft, or the new text of ``revising``.

    ``revising`` is the waiting draft the section's page showed (or, for
    mail, the one that waits): :func:`draft` refuses a second draft, and
    :func:`revise` one that no longer waits, each in words for the section.
    """
    if revising is None:
        return draft(
            session,
            submission,
            section,
            body,
            channel=channel,
            author_label=author_label,
            actor=actor,
            reason=reason,
        )
    if revising.submission_id != submission.id or revising.section_id != section.id:
        raise NotAllowed(_l("这条意见没有转给您的股室。"))
    return revise(
        session,
        revising,
        body,
        channel=channel,
        author_label=author_label,
        actor=actor,
        reason=reason,
    )


def retire_drafts(
    session: DbSession,
    submission: Submission,
    cause: RetireCause,
    *,
    actor: StaffUser | None = None,
    actor_label: str | None = None,
) -> list[Reply]:
    """Retire every draft of ``submission``: the state they were written for is gone.

    Each retirement is audited with ``cause``; a retired draft stays in the
    case's history and is never offered for approval.
    """
    drafts = [r for r in submission.replies if r.state is ReplyState.DRAFT]
    _retire(session, drafts, cause, actor=actor, actor_label=actor_label)
    return drafts


def _retire(
    session: DbSession,
    drafts: list[Reply],
    cause: RetireCause,
    *,
    actor: StaffUser | None,
    actor_label: str | None,
) -> None:
    for reply in drafts:
        reply.state = ReplyState.RETIRED
        audit.record(
            session,
            AuditAction.REPLY_RETIRED,
            reply,
            actor=actor,
            actor_label=actor_label,
            reason=cause.value,
        )


def why_void(session: DbSession, replies: list[Reply]) -> dict[int, str]:
    """Say, for each of ``replies`` that is retired or outlived its case, why.

    A retired draft's cause is in the audit row of its retirement; a draft
    that outlived its case (rows written before drafts were retired) is
    told by where the case stands now.
    """
    retired = [r.id for r in replies if r.state is ReplyState.RETIRED]
    causes: dict[int, str | None] = {}
    if retired:
        rows = session.execute(
            select(Event.object_id, Event.reason)
            .where(
                Event.object_type == "reply",
                Event.object_id.in_(retired),
                Event.action == AuditAction.REPLY_RETIRED,
            )
            .order_by(Event.id)
        )
        causes = {object_id: reason for object_id, reason in rows}
    known = {cause.value: label for cause, label in RETIRE_CAUSES.items()}
    said: dict[int, str] = {}
    for reply in replies:
        if reply.state is ReplyState.RETIRED:
            said[reply.id] = str(known.get(causes.get(reply.id) or "", _l("情况已变")))
        elif reply.state is ReplyState.DRAFT and not waiting(reply):
            said[reply.id] = str(_outlived(reply))
    return said


def _outlived(reply: Reply) -> LazyString:
    submission = reply.submission
    if submission.state is not SubmissionState.ROUTED:
        return _l(
            "此意见现在是“%(state)s”，不再等待这份答复",
            state=STATE_LABELS[submission.state],
        )
    return RETIRE_CAUSES[RetireCause.REROUTED]


def why_not_waiting(session: DbSession, reply: Reply) -> LazyString | None:
    """Word why the lead or the section can no longer act on ``reply``; None if they can.

    Their page was drawn before it changed (another tab, another person), so
    the words say what became of it and to look again.
    """
    if waiting(reply):
        return None
    match reply.state:
        case ReplyState.APPROVED:
            return _l("这份答复已经审核通过，不能再审核或修改。请刷新页面查看。")
        case ReplyState.RETURNED:
            return _l("这份答复已退回股室，不能再审核或修改。请刷新页面查看。")
    why = why_void(session, [reply])[reply.id]
    return _l("这份答复已失效：%(why)s。请刷新页面查看。", why=why)


def approve(
    session: DbSession, reply: Reply, *, actor: StaffUser, body: str | None = None
) -> None:
    """Approve a draft (optionally edited): the author sees it and is told.

    Any other draft of the case is retired: it was written for a case that
    had no answer yet.
    """
    submission = reply.submission
    refused = why_not_waiting(session, reply)
    if refused is not None:
        raise ReplyError(refused)
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
    retire_drafts(session, submission, RetireCause.ANOTHER_APPROVED, actor=actor)


def return_draft(
    session: DbSession, reply: Reply, reason: str, *, actor: StaffUser
) -> None:
    """Send a draft back to its section with the lead's reason; they may answer again."""
    refused = why_not_waiting(session, reply)
    if refused is not None:
        raise ReplyError(refused)
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
