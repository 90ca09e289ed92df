"""Removing personal data once a finished submission is older than the retention period.

What stays is the anonymised record that the statistics and the ledgers
count: kind, channel, problem, section, states and dates, and the texts with
names, phone and ID numbers and e-mail addresses masked. What goes: the
author's name, phone and e-mail, their files, the raw mail they sent, and the
copies of mail sent to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from feedback import masking
from feedback.db import DbSession
from feedback.models import AuditAction
from feedback.models import InboundMessage
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import attachments
from feedback.services import audit

# States a submission ends in without being closed, dated by the decision.
DECIDED = (
    SubmissionState.NOT_ACCEPTED,
    SubmissionState.DUPLICATE,
    SubmissionState.SPAM,
)
REMOVED = "［已按保存期限删除］"


@dataclass
class PurgeCounts:
    """What one purge removed."""

    submissions: int = 0
    files: int = 0

    def __str__(self) -> str:
        return f"submissions={self.submissions} files={self.files}"


def cutoff(now: datetime, years: int) -> datetime:
    """Return the moment ``years`` years before ``now`` (29 February → 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return (now - timedelta(days=1)).replace(year=now.year - years)


def due(session: DbSession, now: datetime) -> list[Submission]:
    """Return finished submissions past the retention period, not yet purged."""
    before = cutoff(now, current_app.config["RETENTION_YEARS"])
    return list(
        session.scalars(
            select(Submission)
            .where(
                Submission.purged_at.is_(None),
                or_(
                    and_(
                        Submission.state == SubmissionState.CLOSED,
                        Submission.closed_at < before,
                    ),
                    and_(
                        Submission.state.in_(DECIDED),
                        Submission.decided_at < before,
                    ),
                ),
            )
            .order_by(Submission.id)
        )
    )


def purge(session: DbSession, submission: Submission, now: datetime) -> int:
    """Remove one submission's personal data; return how many files went."""
    names = [submission.author_name or ""]

    def clean(text: str | None) -> str | None:
        return None if text is None else masking.mask(text, names)

    submission.subject = clean(submission.subject) or ""
    submission.body = clean(submission.body) or ""
    submission.rating_reason = clean(submission.rating_reason)
    submission.author_name = None
    submission.author_phone = None
    submission.author_email = None
    # Even hashed, the form key and the receipt nonce tie the case to a
    # browser; nobody sends that form again after all this time.
    submission.form_key_hash = None
    submission.receipt_nonce_hash = None
    for request in submission.info_requests:
        request.answer = clean(request.answer)
    for reply in submission.replies:
        reply.body = clean(reply.body) or ""
    for note in submission.notes:
        note.body = clean(note.body) or ""
    files = list(submission.attachments)
    # Bytes kept in the database go with this transaction; files on disk
    # once it has committed (remove_files).
    paths = [
        path
        for attachment in files
        if (path := attachments.forget(session, attachment, attachment.stored_in))
    ]
    for attachment in files:
        session.delete(attachment)
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.submission_id == submission.id)
        .values(raw=b"", sender=REMOVED, subject="", reply_text=None)
    )
    # Mail still unsent after all this time is not sent any more.
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.submission_id == submission.id,
            OutboxMessage.state == OutboxState.PENDING,
        )
        .values(state=OutboxState.FAILED, last_error=REMOVED)
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.submission_id == submission.id)
        .values(recipient=REMOVED, body_text=REMOVED, body_html=REMOVED)
    )
    submission.purged_at = now
    session.flush()
    audit.record(session, AuditAction.PURGED, submission, actor_label="retention")
    # The rows are gone from this transaction; the caller's commit makes it
    # final, and only then are the files removed.
    session.info.setdefault("purged_paths", []).extend(paths)
    return len(files)


def purge_due(
    session: DbSession, now: datetime, *, dry_run: bool = False
) -> PurgeCounts:
    """Purge every submission past the retention period; the caller commits.

    After the commit, call ``remove_files(session)`` to delete the files.
    """
    counts = PurgeCounts()
    for submission in due(session, now):
        counts.submissions += 1
        if dry_run:
            counts.files += len(submission.attachments)
        else:
            counts.files += purge(session, submission, now)
    return counts


def remove_files(session: DbSession) -> None:
    """Delete the files of purged attachments, once their rows are committed away."""
    attachments.discard(session.info.pop("purged_paths", []))
