"""Closing a submission: the author's rating, closing unrated ones, and the lead's reopening.

After the reply the author rates it (满意 / 基本满意 / 不满意) through the
access code, which closes it. A 不满意 goes before the lead, who reopens it or
keeps it closed. A reply left unrated for RATING_WINDOW_DAYS is closed by the
sweep.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import Rating
from feedback.models import RetireCause
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import audit
from feedback.services import deadlines
from feedback.services import DomainError
from feedback.services import InvalidTransition
from feedback.services import notifications
from feedback.services import replies
from feedback.services.notifications import AuthorUpdate


class ClosingError(DomainError):
    """A rating or a reopening breaks a rule."""


def rate(
    session: DbSession, submission: Submission, rating: Rating, reason: str = ""
) -> None:
    """Record the author's rating of the reply and close the submission."""
    if submission.state is not SubmissionState.REPLIED:
        raise ClosingError(_l("此意见现在不能评价，可能已经评价过了。请刷新页面查看。"))
    reason = reason.strip()
    if rating is Rating.DISSATISFIED and not reason:
        raise ClosingError(
            _l("选“不满意”时，请写明哪里不满意，以便核查。"), field="reason"
        )
    now = utcnow()
    submission.rating = rating
    submission.rating_reason = reason or None
    submission.rated_at = now
    submission.rating_reviewed_at = None
    submission.state = SubmissionState.CLOSED
    submission.closed_at = now
    session.flush()
    audit.record(
        session,
        AuditAction.RATED,
        submission,
        actor_label="citizen",
        reason=rating.value,
    )
    replies.retire_drafts(
        session, submission, RetireCause.CLOSED, actor_label="citizen"
    )
    if rating is Rating.DISSATISFIED:
        notifications.rated_dissatisfied(session, submission)


def close_unrated(session: DbSession, now: datetime) -> int:
    """Close replied submissions left unrated for RATING_WINDOW_DAYS; return how many."""
    cutoff = now - timedelta(days=current_app.config["RATING_WINDOW_DAYS"])
    stale = session.scalars(
        select(Submission).where(
            Submission.state == SubmissionState.REPLIED,
            Submission.replied_at < cutoff,
        )
    )
    closed = 0
    for submission in stale:
        submission.state = SubmissionState.CLOSED
        submission.closed_at = now
        audit.record(session, AuditAction.AUTO_CLOSED, submission)
        replies.retire_drafts(session, submission, RetireCause.CLOSED)
        closed += 1
    session.flush()
    return closed


def needs_review(submission: Submission) -> bool:
    """Return whether a 不满意 rating waits for the lead's decision."""
    return (
        submission.state is SubmissionState.CLOSED
        and submission.rating is Rating.DISSATISFIED
        and submission.rating_reviewed_at is None
    )


def reopen(
    session: DbSession, submission: Submission, reason: str, *, actor: StaffUser
) -> None:
    """Reopen a closed or replied submission with a new reply deadline.

    It goes back to its section, or to the lead for a 举报, and the author is
    told. The section's mail says it is reopened and why: the author's rating
    and ``reason``, the lead's instruction kept as the audit event's reason.
    """
    if not reason.strip():
        raise ClosingError(_l("请写明重新办理的理由，承办股室会看到。"), field="reason")
    if not submission.state.can_move_to(SubmissionState.ROUTED) or (
        submission.state is not SubmissionState.CLOSED
        and submission.state is not SubmissionState.REPLIED
    ):
        raise InvalidTransition(submission.state, SubmissionState.ROUTED)
    if not submission.is_misconduct and submission.section is None:
        raise ClosingError(_l("此意见没有承办股室，无法重新办理。"))
    now = utcnow()
    submission.state = SubmissionState.ROUTED
    submission.reopened_at = now
    submission.closed_at = None
    submission.rating_reviewed_at = now if submission.rating else None
    submission.due_on = deadlines.due_for(
        session, now, current_app.config["REPLY_DAYS"]
    )
    session.flush()
    audit.record(session, AuditAction.REOPENED, submission, actor=actor, reason=reason)
    replies.retire_drafts(session, submission, RetireCause.REOPENED, actor=actor)
    if submission.section is not None and not submission.is_misconduct:
        notifications.submission_routed(
            session, submission, submission.section, instruction=reason.strip()
        )
    notifications.author_update(session, submission, AuthorUpdate.REOPENED)


def reopen_instruction(session: DbSession, submission: Submission) -> str | None:
    """Return the lead's reason for reopening a submission that waits for its new
    answer; None for one that is not reopened or was answered since."""
    if submission.reopened_at is None or submission.state is not SubmissionState.ROUTED:
        return None
    return session.scalar(
        select(Event.reason)
        .where(
            Event.submission_id == submission.id,
            Event.action == AuditAction.REOPENED,
        )
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(1)
    )


def keep_closed(
    session: DbSession, submission: Submission, reason: str, *, actor: StaffUser
) -> None:
    """Record that the lead looked at a 不满意 rating and keeps the submission closed."""
    if not needs_review(submission):
        raise ClosingError(_l("此意见没有待处理的“不满意”评价。请刷新页面查看。"))
    if not reason.strip():
        raise ClosingError(_l("请写明维持办结的理由，理由会留档。"), field="reason")
    submission.rating_reviewed_at = utcnow()
    session.flush()
    audit.record(
        session, AuditAction.RATING_REVIEWED, submission, actor=actor, reason=reason
    )
