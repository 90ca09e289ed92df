"""The lead's decisions on new submissions: suggesting a section and routing."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import object_session

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import Note
from feedback.models import RetireCause
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
from feedback.services import replies
from feedback.services.notifications import AuthorUpdate


def active_sections(session: DbSession) -> list[Section]:
    """Return the sections that can receive submissions, by name."""
    return list(
        session.execute(
            select(Section).where(Section.active.is_(True)).order_by(Section.name)
        ).scalars()
    )


def suggest_section(
    submission: Submission, session: DbSession | None = None
) -> Section | None:
    """Return the section the lead will most likely choose.

    That is the linked problem's section, or else an active section mapped to
    the submission's kind in the routing table. A misconduct report never gets
    a suggestion: it stays with the lead.
    """
    if submission.is_misconduct:
        return None
    if submission.problem is not None:
        section = submission.problem.section
        if section is not None and section.active:
            return section
    session = session or object_session(submission)
    if session is None:
        return None
    for section in active_sections(session):
        if submission.kind.value in section.kinds.split():
            return section
    return None


def route(
    session: DbSession,
    submission: Submission,
    section: Section,
    *,
    actor: StaffUser | None,
    reason: str | None = None,
) -> None:
    """Send ``submission`` to ``section`` and queue the e-mail that tells them."""
    if submission.is_misconduct:
        raise NotAllowed(_l("举报由纪检组长直接办理，不转给股室。"))
    if not section.active:
        raise NotAllowed(
            _l("%(name)s已不再承办意见，请选择其他股室。", name=section.name),
            field="section",
        )
    if not submission.state.can_move_to(SubmissionState.ROUTED):
        raise InvalidTransition(submission.state, SubmissionState.ROUTED)
    config = current_app.config
    first_time = submission.state is SubmissionState.RECEIVED
    elsewhere = submission.section is not None and submission.section.id != section.id
    if submission.accepted_at is None:
        submission.accepted_at = utcnow()
        submission.due_on = deadlines.due_for(
            session, submission.accepted_at, config["REPLY_DAYS"]
        )
    submission.state = SubmissionState.ROUTED
    submission.section = section
    session.flush()
    notifications.submission_routed(session, submission, section)
    if first_time:
        notifications.author_update(session, submission, AuthorUpdate.ACCEPTED)
    audit.record(
        session,
        AuditAction.ROUTED,
        submission,
        actor=actor,
        actor_label="auto-routing",
        reason=reason or section.name,
    )
    if elsewhere:
        replies.retire_drafts(
            session,
            submission,
            RetireCause.REROUTED,
            actor=actor,
            actor_label="auto-routing",
        )


def accept_misconduct(
    session: DbSession, submission: Submission, *, actor: StaffUser
) -> None:
    """Take up a 举报 (受理): it stays with the lead and the reporter is told.

    The reply deadline starts now, as for a routed submission.
    """
    if not submission.is_misconduct:
        raise NotAllowed(_l("只有举报可以不转办、直接受理。"))
    if submission.state is not SubmissionState.RECEIVED:
        raise InvalidTransition(submission.state, SubmissionState.ROUTED)
    submission.accepted_at = utcnow()
    submission.due_on = deadlines.due_for(
        session, submission.accepted_at, current_app.config["REPLY_DAYS"]
    )
    submission.state = SubmissionState.ROUTED
    session.flush()
    audit.record(session, AuditAction.ACCEPTED, submission, actor=actor)
    notifications.author_update(session, submission, AuthorUpdate.ACCEPTED)


def auto_route(session: DbSession, submission: Submission) -> bool:
    """Route a submission to its suggested section (problem's, or by kind), if any."""
    section = suggest_section(submission, session)
    if section is None:
        return False
    route(session, submission, section, actor=None, reason="auto: problem's section")
    return True


class TriageError(DomainError):
    """A decision on a submission breaks a rule."""


def _decide(
    session: DbSession,
    submission: Submission,
    state: SubmissionState,
    action: AuditAction,
    *,
    actor: StaffUser,
    reason: str | None,
) -> None:
    if not submission.state.can_move_to(state):
        raise InvalidTransition(submission.state, state)
    submission.state = state
    submission.decision_reason = reason
    submission.decided_at = utcnow()
    session.flush()
    audit.record(session, action, submission, actor=actor, reason=reason)


def refuse(
    session: DbSession, submission: Submission, reason: str, *, actor: StaffUser
) -> None:
    """Decline to take a submission up (不予受理); the author is told why."""
    if not reason.strip():
        raise TriageError(_l("请写明不予受理的理由，群众会看到。"), field="reason")
    _decide(
        session,
        submission,
        SubmissionState.NOT_ACCEPTED,
        AuditAction.REFUSED,
        actor=actor,
        reason=reason,
    )
    notifications.author_update(session, submission, AuthorUpdate.REFUSED)


def mark_duplicate(
    session: DbSession,
    submission: Submission,
    original: Submission,
    *,
    actor: StaffUser,
) -> None:
    """Close a submission as a repeat of ``original``; the author is pointed to it."""
    if original.id == submission.id:
        raise TriageError(_l("一条意见不能是它自己的重复件。"), field="original")
    submission.duplicate_of = original
    _decide(
        session,
        submission,
        SubmissionState.DUPLICATE,
        AuditAction.MARKED_DUPLICATE,
        actor=actor,
        reason=original.reference,
    )
    notifications.author_update(session, submission, AuthorUpdate.DUPLICATE)


def mark_spam(session: DbSession, submission: Submission, *, actor: StaffUser) -> None:
    """Set aside what is not an opinion at all (advertising, nonsense); no mail goes out."""
    _decide(
        session,
        submission,
        SubmissionState.SPAM,
        AuditAction.MARKED_SPAM,
        actor=actor,
        reason=None,
    )


def extend(
    session: DbSession,
    submission: Submission,
    days: int,
    reason: str,
    *,
    actor: StaffUser,
) -> None:
    """Extend the reply deadline once, by at most EXTENSION_MAX_DAYS, telling the author why."""
    limit = current_app.config["EXTENSION_MAX_DAYS"]
    if submission.state is not SubmissionState.ROUTED or submission.due_on is None:
        raise TriageError(_l("只有已转办、等待答复的意见才能延期。"))
    if submission.extended_days:
        raise TriageError(_l("答复期限已经延长过一次，不能再延长。"))
    if not 1 <= days <= limit:
        raise TriageError(
            _l("延长天数须在1至%(limit)s天之间。", limit=limit), field="days"
        )
    if not reason.strip():
        raise TriageError(_l("请写明延期的理由，群众会看到。"), field="reason")
    submission.extended_days = days
    submission.extension_reason = reason
    submission.extended_at = utcnow()
    submission.due_on = deadlines.add_days(submission.due_on, days)
    session.flush()
    audit.record(
        session,
        AuditAction.EXTENDED,
        submission,
        actor=actor,
        reason=f"+{days}: {reason}",
    )
    notifications.author_update(session, submission, AuthorUpdate.EXTENDED)


def add_note(
    session: DbSession, submission: Submission, body: str, *, actor: StaffUser
) -> Note:
    """Add an internal note, which the author never sees."""
    if not body.strip():
        raise TriageError(_l("请填写备注内容。"), field="body")
    note = Note(submission=submission, author=actor, body=body)
    session.add(note)
    session.flush()
    audit.record(session, AuditAction.NOTE_ADDED, submission, actor=actor)
    return note
