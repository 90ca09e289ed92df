"""The lead's decisions on new submissions: suggesting a section and routing."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import object_session
from sqlalchemy.orm import Session

from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import audit
from feedback.services import deadlines
from feedback.services import InvalidTransition
from feedback.services import NotAllowed
from feedback.services import notifications


def active_sections(session: Session) -> list[Section]:
    """Return the sections that can receive submissions, by name."""
    return list(
        session.execute(
            select(Section).where(Section.active.is_(True)).order_by(Section.name)
        ).scalars()
    )


def suggest_section(
    submission: Submission, session: Session | None = None
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
    session: Session,
    submission: Submission,
    section: Section,
    *,
    actor: StaffUser | None,
    reason: str | None = None,
) -> None:
    """Send ``submission`` to ``section`` and queue the e-mail that tells them."""
    if submission.is_misconduct:
        raise NotAllowed("A misconduct report (举报) stays with the lead.")
    if not section.active:
        raise NotAllowed(f"Section {section.name} no longer takes submissions.")
    if not submission.state.can_move_to(SubmissionState.ROUTED):
        raise InvalidTransition(submission.state, SubmissionState.ROUTED)
    config = current_app.config
    if submission.accepted_at is None:
        submission.accepted_at = utcnow()
        submission.due_on = deadlines.due_for(
            session, submission.accepted_at, config["REPLY_DAYS"]
        )
    submission.state = SubmissionState.ROUTED
    submission.section = section
    session.flush()
    notifications.submission_routed(session, submission, section)
    audit.record(
        session,
        AuditAction.ROUTED,
        submission,
        actor=actor,
        actor_label=None if actor else "auto-routing",
        reason=reason or section.name,
    )


def auto_route(session: Session, submission: Submission) -> bool:
    """Route a submission to its suggested section (problem's, or by kind), if any."""
    section = suggest_section(submission, session)
    if section is None:
        return False
    route(session, submission, section, actor=None, reason="auto: problem's section")
    return True
