"""The durable outbox: queue mail in the caller's transaction, deliver it later.

Only :func:`deliver_pending` talks to the mail server, and it is only called by
the ``flask outbox`` commands, never from a web request.

Guarantee: a queued message is sent at least once. A worker claims a message
with a lease before sending; if it dies mid-send the lease runs out and another
worker sends it again with the same ``Message-ID``, which mail clients treat as
one message.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from email.utils import make_msgid

from flask import current_app
from flask_mail import Message
from sqlalchemy import and_
from sqlalchemy import ColumnElement
from sqlalchemy import or_
from sqlalchemy import select

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.extensions import mail
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Submission

REDACTED = "[已删除：此邮件含查询码，发送后不再保存。]"


@dataclass
class DeliveryCounts:
    """What one pass over the outbox did."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent={self.sent} deferred={self.deferred} failed={self.failed}"


def enqueue(
    session: DbSession,
    *,
    template: Notification,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str,
    submission: Submission | None = None,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    redact_after_send: bool = False,
) -> OutboxMessage:
    """Queue one message in the caller's transaction; it goes out after commit."""
    domain = current_app.config["MAIL_REPLY_DOMAIN"]
    message = OutboxMessage(
        template=template,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        message_id=make_msgid(domain=domain),
        reply_to=reply_to,
        in_reply_to=in_reply_to,
        submission_id=submission.id if submission is not None else None,
        redact_after_send=redact_after_send,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    return message


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.next_attempt_at <= now,
        ),
        and_(
            OutboxMessage.state == OutboxState.SENDING,
            OutboxMessage.locked_until < now,
        ),
    )


def _claim(session: DbSession, now: datetime, limit: int) -> list[int]:
    """Lease up to ``limit`` due messages to this worker and commit the lease."""
    query = (
        select(OutboxMessage)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    claimed = list(session.execute(query).scalars())
    for message in claimed:
        message.state = OutboxState.SENDING
        message.locked_until = now + lease
    ids = [m.id for m in claimed]
    session.commit()
    return ids


def _to_mail(message: OutboxMessage) -> Message:
    headers = {}
    if message.in_reply_to:
        headers = {
            "In-Reply-To": message.in_reply_to,
            "References": message.in_reply_to,
        }
    mail_message = Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.body_text,
        html=message.body_html,
        reply_to=message.reply_to,
        extra_headers=headers or None,
    )
    mail_message.msgId = message.message_id
    return mail_message


def retry_delay(attempts: int) -> timedelta:
    """Return how long to wait after the ``attempts``-th failed try."""
    base = current_app.config["OUTBOX_RETRY_BASE_SECONDS"]
    return timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def deliver_pending(session: DbSession, *, limit: int | None = None) -> DeliveryCounts:
    """Send every message that is due now, committing after each one."""
    counts = DeliveryCounts()
    limit = limit or current_app.config["OUTBOX_BATCH_SIZE"]
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    ids = _claim(session, utcnow(), limit)
    for message_id in ids:
        message = session.get(OutboxMessage, message_id)
        if message is None:  # pragma: no cover - deleted under our feet
            continue
        try:
            mail.send(_to_mail(message))
        except (OSError, smtplib.SMTPException) as exc:
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            message.locked_until = None
            if message.attempts >= max_attempts:
                message.state = OutboxState.FAILED
                counts.failed += 1
            else:
                message.state = OutboxState.PENDING
                message.next_attempt_at = utcnow() + retry_delay(message.attempts)
                counts.deferred += 1
        else:
            message.attempts += 1
            message.state = OutboxState.SENT
            message.sent_at = utcnow()
            message.locked_until = None
            message.last_error = None
            if message.redact_after_send:
                message.body_text = REDACTED
                message.body_html = REDACTED
            counts.sent += 1
        session.commit()
    return counts


def retry(session: DbSession, message: OutboxMessage) -> None:
    """Put a failed message back in the queue, due now."""
    message.state = OutboxState.PENDING
    message.next_attempt_at = utcnow()
    message.locked_until = None


def work(
    session: DbSession,
    *,
    poll_seconds: float,
    should_stop: Callable[[], bool] = lambda: False,
    report: Callable[[DeliveryCounts], None] = lambda _counts: None,
) -> None:
    """Deliver due mail until ``should_stop`` says so, sleeping between passes."""
    while not should_stop():
        counts = deliver_pending(session)
        if counts.sent or counts.deferred or counts.failed:
            report(counts)
        session.close()  # start each pass from fresh rows
        deadline = time.monotonic() + poll_seconds
        while time.monotonic() < deadline and not should_stop():
            time.sleep(min(0.2, poll_seconds))
