"""Taking in a citizen's submission: validation of rules, reference, code, deadlines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import Channel
from feedback.models import Problem
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import attachments
from feedback.services import audit
from feedback.services import deadlines
from feedback.services import DomainError
from feedback.services import notifications
from feedback.services import tracking
from feedback.services import triage


class SubmissionError(DomainError):
    """A submission breaks a rule of intake, or no submission has the number given."""


@dataclass(frozen=True)
class Author:
    """Who wrote a submission; all None for an anonymous one."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None

    @property
    def anonymous(self) -> bool:
        return not self.name


@dataclass(frozen=True)
class Receipt:
    """What the citizen is shown: the stored row and its plain access code."""

    submission: Submission
    access_code: str
    again: bool = False  # the same form was sent before; this is its receipt
    # Files written for this receipt: remove them if the commit fails.
    written: tuple[Path, ...] = ()


FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def find_by_form_key(session: DbSession, key: str | None) -> Receipt | None:
    """Return the receipt of a form that was already sent, if it was."""
    if not key or not FORM_KEY.fullmatch(key):
        return None
    submission = session.scalar(
        select(Submission).where(Submission.idempotency_key == key)
    )
    if submission is None:
        return None
    return Receipt(submission, tracking.new_access_code(key), again=True)


def find_by_reference(session: DbSession, reference: str) -> Submission | None:
    """Return the submission with a reference number as typed, if there is one."""
    return session.scalar(
        select(Submission).where(Submission.reference == reference.strip())
    )


def by_reference(session: DbSession, reference: str) -> Submission:
    """Return the submission with a reference number as typed; refuse one that has none."""
    found = find_by_reference(session, reference)
    if found is None:
        raise SubmissionError(_("没有这个编号。"))
    return found


def triage_due(session: DbSession, kind: SubmissionKind, received_at: datetime) -> date:
    """Return when the acceptance decision is due.

    TRIAGE_DAYS under the configured mode; a 举报's acceptance notice is due
    within MISCONDUCT_NOTICE_WORKING_DAYS working days, whatever the mode.
    """
    config = current_app.config
    if kind is SubmissionKind.MISCONDUCT:
        return deadlines.due_for(
            session,
            received_at,
            config["MISCONDUCT_NOTICE_WORKING_DAYS"],
            deadlines.DeadlineMode.WORKING,
        )
    return deadlines.due_for(session, received_at, config["TRIAGE_DAYS"])


def submit(
    session: DbSession,
    *,
    kind: SubmissionKind,
    subject: str,
    body: str,
    author: Author,
    problem: Problem | None = None,
    channel: Channel = Channel.WEB,
    publish_consent: bool = False,
    idempotency_key: str | None = None,
    uploads: list[attachments.Upload] | None = None,
    received_at: datetime | None = None,
    actor_label: str = "citizen",
) -> Receipt:
    """Record a submission with its files, reference and access code.

    A form sent twice returns the first receipt. The files are written and
    synced before this returns; the caller commits, and on failure removes
    ``receipt.written`` with ``attachments.discard``. When the auto-routing
    setting allows, the submission is routed at once. ``actor_label`` says
    in the audit log who handed it in, e.g. which Open311 key.
    """
    if not subject.strip() or not body.strip():
        raise SubmissionError("A subject and a text are required.")
    if author.name and not (author.phone or author.email):
        raise SubmissionError("A real-name submission needs a phone or an e-mail.")
    earlier = find_by_form_key(session, idempotency_key)
    if earlier is not None:
        return earlier
    key = (
        idempotency_key
        if idempotency_key and FORM_KEY.fullmatch(idempotency_key)
        else None
    )
    config = current_app.config
    code = tracking.new_access_code(key)
    received_at = received_at or utcnow()  # staff give the date a letter came
    submission = Submission(
        kind=kind,
        channel=channel,
        subject=subject,
        body=body,
        problem=problem,
        anonymous=author.anonymous,
        author_name=author.name,
        author_phone=author.phone,
        author_email=author.email,
        publish_consent=publish_consent,
        access_code_hash=tracking.hash_code(code),
        idempotency_key=key,
        received_at=received_at,
        triage_due_on=triage_due(session, kind, received_at),
    )
    session.add(submission)
    session.flush()
    local_day = deadlines.local_date(received_at, config["TIME_ZONE"])
    submission.reference = (
        f"{config['REFERENCE_PREFIX']}{local_day:%Y%m%d}-{submission.id:05d}"
    )
    written = attachments.store(session, submission, uploads or [])
    audit.record(session, AuditAction.SUBMITTED, submission, actor_label=actor_label)
    notifications.receipt(session, submission, code)
    if config["AUTO_ROUTE"]:
        triage.auto_route(session, submission)
    return Receipt(submission=submission, access_code=code, written=tuple(written))
