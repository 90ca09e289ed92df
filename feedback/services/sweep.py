"""The deadline sweep for cron: reminders to sections, escalations to the lead, each once.

Every alert is written to the alert log in the same transaction as its
e-mail, keyed by submission, kind and due date, so running the sweep again,
or two sweeps at once, sends nothing twice. Extending a deadline gives a new
due date, so its alerts may come again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from feedback.db import DbSession
from feedback.models import AlertKind
from feedback.models import DeadlineAlert
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import accounts
from feedback.services import closing
from feedback.services import deadlines
from feedback.services import notifications


@dataclass
class SweepCounts:
    """What one sweep sent."""

    reminders: int = 0
    escalations: int = 0
    closed: int = 0  # replies left unrated past the rating window

    def __str__(self) -> str:
        return (
            f"reminders={self.reminders} escalations={self.escalations}"
            f" closed={self.closed}"
        )


def _once(
    session: DbSession, submission: Submission, kind: AlertKind, due_on: date
) -> bool:
    """Log an alert unless it was logged before; return whether it is new."""
    known = session.scalar(
        select(DeadlineAlert.id)
        .where(
            DeadlineAlert.submission_id == submission.id,
            DeadlineAlert.kind == kind,
            DeadlineAlert.due_on == due_on,
        )
        .limit(1)
    )
    if known is not None:
        return False
    session.add(DeadlineAlert(submission_id=submission.id, kind=kind, due_on=due_on))
    return True


def sweep(session: DbSession, now: datetime) -> SweepCounts:
    """Send the reminders and escalations due at ``now``; the caller commits."""
    config = current_app.config
    today = deadlines.local_date(now, config["TIME_ZONE"])
    soon = today + timedelta(days=config["REMINDER_DAYS_BEFORE"])
    counts = SweepCounts()
    lead_accounts = accounts.active_leads(session)

    routed = session.scalars(
        select(Submission).where(
            Submission.state == SubmissionState.ROUTED, Submission.due_on.is_not(None)
        )
    )
    paused = config["INFO_REQUEST_PAUSES_CLOCK"]
    for submission in routed:
        if paused and submission.info_pending:
            continue  # the clock stands still until the author answers
        due = submission.due_on
        assert due is not None  # the query keeps only submissions with a due date
        if today > due and _once(session, submission, AlertKind.REPLY_OVERDUE, due):
            notifications.deadline_escalation(session, submission, lead_accounts, today)
            counts.escalations += 1
        remind = today <= due <= soon and submission.section is not None
        if (
            remind
            and not submission.is_misconduct
            and _once(session, submission, AlertKind.REPLY_SOON, due)
        ):
            notifications.deadline_reminder(session, submission, today)
            counts.reminders += 1

    waiting = session.scalars(
        select(Submission).where(
            Submission.state == SubmissionState.RECEIVED,
            Submission.triage_due_on.is_not(None),
            Submission.triage_due_on < today,
        )
    )
    for submission in waiting:
        if paused and submission.info_pending:
            continue
        triage_due = submission.triage_due_on
        assert triage_due is not None  # the query keeps only those with a date
        if _once(session, submission, AlertKind.TRIAGE_OVERDUE, triage_due):
            notifications.deadline_escalation(session, submission, lead_accounts, today)
            counts.escalations += 1

    reports = session.scalars(
        select(Submission).where(
            Submission.state == SubmissionState.RECEIVED,
            Submission.kind == SubmissionKind.MISCONDUCT,
            Submission.triage_due_on.between(today, soon),
        )
    )
    for submission in reports:
        triage_due = submission.triage_due_on
        assert triage_due is not None  # BETWEEN is never true of a missing date
        if _once(session, submission, AlertKind.MISCONDUCT_SOON, triage_due):
            notifications.deadline_escalation(session, submission, lead_accounts, today)
            counts.reminders += 1

    counts.closed = closing.close_unrated(session, now)
    session.flush()
    return counts
