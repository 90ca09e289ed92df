"""The durable outbox: queue mail in the caller's transaction, deliver it later.

Only :func:`deliver_pending` talks to the mail server, and it is only called by
the ``flask outbox`` commands, never from a web request.

How a message goes out: a worker claims one due message at a time, setting it
``sending`` with a lease (``locked_until``) and a random ``lease_token`` of its
own, and commits. Just before the SMTP transaction it confirms, by an update
conditional on its token, that the lease is still its own (another worker
takes over a lease that ran out); it records the result with the same
condition, so a worker that lost its lease sends nothing, or, if it lost it
mid-send, records nothing. Whatever goes wrong with one message (a header the
server refuses, a 550, a bug) is written on that message, and the worker goes
on to the next.

Guarantee: a queued message is sent at least once. One window remains: a
worker that dies (or loses the database) after the server has answered 250
and before its commit leaves the message ``sending``; when the lease runs out
another worker sends it again, with the same stored ``Message-ID``, which
mail clients and most servers treat as one message. SMTP itself has the same
window (RFC 1047): an answer to the end of the data that never comes (a
time-out, a dropped connection) defers a message the server may have taken.
A send that outlasts its lease could also go out twice, which is why the
commands warn of a lease under ``LEASE_IN_MAIL_TIMEOUTS`` × ``MAIL_TIMEOUT``.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import secrets
import smtplib
import time
import traceback
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from email.charset import BASE64
from email.charset import Charset
from email.mime.text import MIMEText
from email.policy import SMTP
from email.utils import make_msgid
from email.utils import parseaddr
from typing import Any

from flask import current_app
from flask_mail import email_dispatched
from flask_mail import Message
from flask_mail import sanitize_address
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import BindParameter
from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import Row
from sqlalchemy import select
from sqlalchemy import Update
from sqlalchemy import update

from feedback.db import DbSession
from feedback.db import driver_error
from feedback.db import rollback_quietly
from feedback.db import unreachable
from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import FailureKind
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.services import audit
from feedback.services import locks
from feedback.services import monitoring

REDACTED = "[已删除：此邮件含查询码，发送后不再保存。]"

log = logging.getLogger("feedback.outbox")

# Characters that end a header line, for a mail library or a mail server:
# CR, LF and NUL, and the other breaks str.splitlines() knows.
_LINE_BREAKS = re.compile("[\r\n\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
# Anything shaped like an e-mail address, as servers quote them in errors.
_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+")
# A pass of the worker waits this long at most when the database is down.
DATABASE_BACK_OFF_MAX = 30.0
# The waits of the worker are cut into slices this long, to notice a stop.
_STOP_CHECK_SECONDS = 0.2


@dataclass
class DeliveryCounts:
    """What one pass over the outbox did."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    lease_lost: int = 0  # sent or not, the result belonged to another worker

    def __bool__(self) -> bool:
        return bool(self.sent or self.deferred or self.failed or self.lease_lost)

    def __str__(self) -> str:
        text = f"sent={self.sent} deferred={self.deferred} failed={self.failed}"
        return text + (f" lease_lost={self.lease_lost}" if self.lease_lost else "")


def header_safe(value: str) -> str:
    """Return ``value`` with every line break and NUL folded to one space."""
    return _LINE_BREAKS.sub(" ", value)


def redact(text: str) -> str:
    """Return ``text`` with the e-mail addresses in it replaced."""
    return _ADDRESS.sub("[address]", text)


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
    """Queue one message in the caller's transaction; it goes out after commit.

    Header values are made safe here, so that every stored message can be
    built: a subject carrying a citizen's line break is folded to one line.
    """
    domain = current_app.config["MAIL_REPLY_DOMAIN"]
    message = OutboxMessage(
        template=template,
        recipient=header_safe(recipient),
        subject=header_safe(subject),
        body_text=body_text,
        body_html=body_html,
        message_id=make_msgid(domain=domain),
        reply_to=header_safe(reply_to) if reply_to else None,
        in_reply_to=header_safe(in_reply_to) if in_reply_to else None,
        submission_id=submission.id if submission is not None else None,
        redact_after_send=redact_after_send,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    return message


def suppress(message: OutboxMessage) -> None:
    """Keep a queued message unsent for good, and without its bodies.

    No worker claims a suppressed message, and no retry puts it back.
    """
    message.state = OutboxState.SUPPRESSED
    message.body_text = message.body_html = REDACTED


# --- Errors -------------------------------------------------------------------


class Unreachable(Exception):
    """The mail server could not be reached, greeted or logged in to."""


def describe(exc: BaseException) -> str:
    """Return what went wrong, for ``last_error`` and the log, addresses redacted.

    It starts with the :class:`FailureKind` and a colon, which
    :func:`failure_kind` reads back, for a label in the reader's language;
    the server's own words follow. NUL and unpaired surrogates, which a
    server's answer or an exception may carry, are replaced: PostgreSQL would
    refuse them, the failure could not be recorded, and the message would be
    claimed and sent again after every lease.
    """
    said = redact(f"{kind_of(exc)}: {_detail(exc)}")[:2000]
    return said.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")


def _detail(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        said = "; ".join(
            f"{code} {_text(answer)}" for code, answer in exc.recipients.values()
        )
        return f"{type(exc).__name__}: {said}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, Unreachable) and exc.__cause__ is not None:
        return f"{exc}: {_detail(exc.__cause__)}"
    return f"{type(exc).__name__}: {exc}"


def kind_of(exc: BaseException) -> FailureKind:
    """Say what kind of failure ``exc`` is."""
    if isinstance(exc, Unreachable):
        return FailureKind.UNREACHABLE
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return FailureKind.RECIPIENT_REFUSED
    if isinstance(exc, smtplib.SMTPResponseException):
        return FailureKind.REFUSED if exc.smtp_code >= 500 else FailureKind.BUSY
    if isinstance(exc, TimeoutError):
        return FailureKind.TIMEOUT
    if isinstance(exc, OSError | smtplib.SMTPException):
        return FailureKind.CONNECTION_LOST
    return FailureKind.UNBUILDABLE


def failure_kind(last_error: str | None) -> FailureKind | None:
    """Read the kind back from a stored ``last_error`` (None if it names none)."""
    word = (last_error or "").partition(":")[0]
    try:
        return FailureKind(word)
    except ValueError:
        return None


def _text(answer: bytes | str) -> str:
    if isinstance(answer, bytes):
        return answer.decode("utf-8", "replace")
    return answer


def permanent(exc: BaseException) -> bool:
    """Say whether sending again cannot help: the server or the message said no.

    A 5xx answer to the message, a refused recipient and a message that
    cannot be built are permanent; a 4xx answer, a server that cannot be
    reached or logged in to, a time-out or a dropped connection are not.
    """
    if isinstance(exc, Unreachable | smtplib.SMTPServerDisconnected):
        return False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code >= 500 for code, _answer in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    # Left: time-outs and sockets (OSError) or the message itself (BadHeaderError,
    # UnicodeError, ValueError, anything else raised while building it).
    return not isinstance(exc, OSError | smtplib.SMTPException)


# --- Back-off -----------------------------------------------------------------


def retry_ceiling(attempts: int) -> timedelta:
    """Return the longest wait after the ``attempts``-th failed try.

    It doubles from ``OUTBOX_RETRY_BASE_SECONDS`` up to ``OUTBOX_RETRY_MAX_SECONDS``.
    """
    base = current_app.config["OUTBOX_RETRY_BASE_SECONDS"]
    cap = current_app.config["OUTBOX_RETRY_MAX_SECONDS"]
    exponent = min(max(attempts - 1, 0), 32)  # 2**32 × base is past any cap
    return timedelta(seconds=min(cap, base * 2**exponent))


def retry_delay(attempts: int) -> timedelta:
    """Return how long to wait after the ``attempts``-th failed try: full jitter.

    Any time up to the ceiling is as likely as any other, so that messages
    deferred together by an outage do not all come back together.
    """
    ceiling = retry_ceiling(attempts).total_seconds()
    return timedelta(seconds=random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret


# --- SMTP ---------------------------------------------------------------------


class Relay:
    """One SMTP connection for a pass: opened when first needed, QUIT at the end.

    Settings are Flask-Mail's (``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USE_TLS``,
    ``MAIL_USE_SSL``, ``MAIL_USERNAME``, ``MAIL_PASSWORD``,
    ``MAIL_SUPPRESS_SEND``), and ``MAIL_TIMEOUT`` bounds the connect and each
    command, which Flask-Mail 0.10 does not.
    """

    def __init__(self) -> None:
        self.settings = current_app.extensions["mail"]
        self.timeout = float(current_app.config["MAIL_TIMEOUT"])
        self.smtp: smtplib.SMTP | None = None

    def ready(self) -> None:
        """Connect, greet and log in unless already done; raise :class:`Unreachable`."""
        if self.smtp is not None or self.settings.suppress:
            return
        try:
            self.smtp = self._connect()
        except Exception as exc:
            raise Unreachable("cannot reach the mail server") from exc

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        smtp: smtplib.SMTP
        if settings.use_ssl:
            smtp = smtplib.SMTP_SSL(
                settings.server, settings.port, timeout=self.timeout
            )
        else:
            smtp = smtplib.SMTP(settings.server, settings.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if settings.use_tls:
                smtp.starttls()
                smtp.ehlo()
            if settings.username and settings.password:
                smtp.login(settings.username, settings.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: Message, data: bytes) -> None:
        """Send ``message``, whose bytes are ``data``, to its one recipient."""
        if self.smtp is not None:
            sender = parseaddr(sanitize_address(message.sender))[1]
            recipients = [sanitize_address(r) for r in message.recipients]
            self.smtp.sendmail(sender, recipients, data)
        # Flask-Mail's record_messages() listens to this signal.
        email_dispatched.send(current_app._get_current_object(), message=message)  # type: ignore[attr-defined]

    def recover(self, exc: BaseException) -> None:
        """Leave the connection fit for the next message after ``exc``."""
        if self.smtp is None:
            return
        if not permanent(exc):
            self.drop()  # connect afresh for the next message
            return
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.drop()

    def drop(self) -> None:
        """Close the connection without a word to the server."""
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def quit(self) -> None:
        """Say goodbye and close the connection."""
        if self.smtp is None:
            return
        with contextlib.suppress(OSError, smtplib.SMTPException):
            self.smtp.quit()
        self.drop()


@contextmanager
def relay() -> Iterator[Relay]:
    """Yield a :class:`Relay` for one pass and close it however the pass ends."""
    opened = Relay()
    try:
        yield opened
    finally:
        opened.quit()


# Headers as Flask-Mail encoded and folded them: see OutgoingMessage.as_bytes.
_WIRE = SMTP.clone(refold_source="none")


def _base64_utf8() -> Charset:
    charset = Charset("utf-8")
    charset.body_encoding = BASE64
    return charset


class OutgoingMessage(Message):
    """Flask-Mail's message with its text parts in base64, written out faster.

    Flask-Mail sends UTF-8 text as raw 8-bit lines, and a paragraph of
    Chinese on one line of HTML passes the 998 bytes SMTP allows in a line:
    servers refuse or cut such mail. Base64 keeps every line short.
    """

    def as_bytes(self) -> bytes:
        """Return the message as sent: CRLF lines, headers as Flask-Mail encoded them.

        Flask-Mail has already encoded and folded the headers (RFC 2047), and
        none of ours can pass SMTP's line limit (their columns are short), so
        they are written as they are: three times faster than the SMTP
        policy's parsing and folding each header again.
        """
        return self._message().as_bytes(policy=_WIRE)

    def _mimetext(self, text: str | None, subtype: str = "plain") -> MIMEText:
        part = MIMEText("", subtype, "us-ascii")
        # set_payload encodes only a part that has no transfer encoding yet.
        del part["Content-Transfer-Encoding"]
        part.set_payload(text or "", _base64_utf8())
        return part


LETTER_FIELDS = (
    "recipient",
    "subject",
    "body_text",
    "body_html",
    "message_id",
    "reply_to",
    "in_reply_to",
)


@dataclass(frozen=True)
class Letter:
    """What a stored message says, read once when it is claimed."""

    recipient: str
    subject: str
    body_text: str
    body_html: str
    message_id: str
    reply_to: str | None
    in_reply_to: str | None

    @classmethod
    def of(cls, message: OutboxMessage | Row[Any]) -> Letter:
        """Read a letter from a message, or from a row that selected LETTER_FIELDS."""
        return cls(**{name: getattr(message, name) for name in LETTER_FIELDS})


def to_mail(letter: Letter) -> Message:
    """Build the MIME message of a stored one, with its stored ``Message-ID``.

    Header values are folded again: a message queued before enqueue folded
    them still goes out. Mail with a reply address is mail a section answers:
    it comes from ``MAIL_SECTION_SENDER`` when that is set.
    """
    sender = current_app.config["MAIL_SECTION_SENDER"] if letter.reply_to else None
    if isinstance(sender, list):  # (name, address) as JSON from the environment
        sender = tuple(sender)
    headers = {}
    if letter.in_reply_to:
        reference = header_safe(letter.in_reply_to)
        headers = {"In-Reply-To": reference, "References": reference}
    mail_message = OutgoingMessage(
        subject=header_safe(letter.subject),
        recipients=[header_safe(letter.recipient)],
        body=letter.body_text,
        html=letter.body_html,
        sender=sender or None,
        reply_to=header_safe(letter.reply_to) if letter.reply_to else None,
        extra_headers=headers or None,
        date=time.time(),
    )
    mail_message.msgId = letter.message_id
    return mail_message


# --- Delivery -----------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A message leased to this worker, as it stood when claimed."""

    id: int
    token: str
    template: str
    attempt: int  # the number of this try
    failing_since: datetime | None
    redact_after_send: bool
    letter: Letter


# After the lease is confirmed a send waits for four answers (MAIL FROM, RCPT
# TO, DATA, the end of the data), each up to MAIL_TIMEOUT, and writes the
# message: a lease shorter than this many MAIL_TIMEOUTs may run out mid-send.
LEASE_IN_MAIL_TIMEOUTS = 6


def lease_too_short() -> bool:
    """Say whether a slow send could outlast its lease, and so go out twice."""
    config = current_app.config
    lease = config["OUTBOX_LEASE_SECONDS"]
    return lease < LEASE_IN_MAIL_TIMEOUTS * float(config["MAIL_TIMEOUT"])


def _lease_until() -> datetime:
    return utcnow() + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])


class Ledger:
    """A pass's own database connection, and the statements it runs for each message.

    Each statement is a transaction of its own (autocommit): the claim, the
    check of the lease and the result are single statements, and nothing the
    caller holds in its session is committed with them. The statements are
    built once per pass, with bound parameters, since building one costs more
    than running it. Each is committed durably: a result the database
    forgot would send its message again.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        self.postgresql = connection.dialect.name == "postgresql"
        now: BindParameter[datetime] = bindparam("now")
        due = (
            select(OutboxMessage.id)
            .where(
                or_(
                    and_(
                        OutboxMessage.state == OutboxState.PENDING,
                        OutboxMessage.next_attempt_at <= now,
                    ),
                    and_(
                        OutboxMessage.state == OutboxState.SENDING,
                        OutboxMessage.locked_until < now,
                    ),
                )
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
        )
        if self.postgresql:
            due = due.with_for_update(skip_locked=True)
        self.claim_statement = (
            update(OutboxMessage)
            .where(OutboxMessage.id == due.scalar_subquery())
            .values(
                state=OutboxState.SENDING,
                locked_until=bindparam("until"),
                lease_token=bindparam("token"),
            )
            .returning(
                OutboxMessage.id,
                OutboxMessage.template,
                OutboxMessage.attempts,
                OutboxMessage.failing_since,
                OutboxMessage.redact_after_send,
                *(getattr(OutboxMessage, name) for name in LETTER_FIELDS),
            )
        )
        self.updates: dict[tuple[str, ...], Update] = {}

    def claim(self, now: datetime) -> Claim | None:
        """Lease the next message due at ``now`` to this worker, in one statement."""
        token = secrets.token_hex(16)
        row = self.connection.execute(
            self.claim_statement, {"now": now, "until": _lease_until(), "token": token}
        ).one_or_none()
        if row is None:
            return None
        claim = Claim(
            id=row.id,
            token=token,
            template=row.template.value,
            attempt=row.attempts + 1,
            failing_since=row.failing_since,
            redact_after_send=row.redact_after_send,
            letter=Letter.of(row),
        )
        _log(claim, "claimed", logging.DEBUG)
        return claim

    def update_if_ours(self, claim: Claim, **values: Any) -> bool:
        """Change the claimed message if this worker still holds it; say if it did."""
        names = tuple(sorted(values))
        statement = self.updates.get(names)
        if statement is None:
            statement = self.updates[names] = (
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == bindparam("claimed_id"),
                    OutboxMessage.lease_token == bindparam("claimed_token"),
                    OutboxMessage.state == OutboxState.SENDING,
                )
                .values({name: bindparam(f"new_{name}") for name in names})
            )
        result = self.connection.execute(
            statement,
            {
                "claimed_id": claim.id,
                "claimed_token": claim.token,
                **{f"new_{name}": value for name, value in values.items()},
            },
        )
        return result.rowcount == 1


@contextmanager
def open_ledger(session: DbSession) -> Iterator[Ledger]:
    """Yield a :class:`Ledger` on a connection of its own from ``session``'s engine."""
    with session.get_bind().engine.connect() as connection:
        yield Ledger(connection)


def _log(
    claim: Claim, outcome: str, level: int = logging.INFO, error: str | None = None
) -> None:
    """Write one line about one event of one message; never its address or body."""
    log.log(
        level,
        "outbox message %s (%s) attempt %s: %s%s",
        claim.id,
        claim.template,
        claim.attempt,
        outcome,
        f": {error}" if error else "",
        extra={
            "event": "outbox",
            "message_id": claim.id,
            "template": claim.template,
            "attempt": claim.attempt,
            "outcome": outcome,
            "error": error,
        },
    )


def _deliver(ledger: Ledger, claim: Claim, smtp: Relay, counts: DeliveryCounts) -> bool:
    """Build, send and record one claimed message; any failure stays with it.

    Return False when the mail server could not be reached: the pass ends
    there, rather than spend a connection attempt (up to MAIL_TIMEOUT) on
    every due message.
    """
    try:
        built = to_mail(claim.letter)
        data = built.as_bytes()
        smtp.ready()
        still_ours = ledger.update_if_ours(claim, locked_until=_lease_until())
        if not still_ours:
            counts.lease_lost += 1
            _log(claim, "lease_lost", logging.WARNING)
            return True
        smtp.send(built, data)
    except Exception as exc:
        if unreachable(exc):
            raise
        smtp.recover(exc)
        _record_failure(ledger, claim, exc, counts)
        return not isinstance(exc, Unreachable)
    values: dict[str, Any] = {
        "state": OutboxState.SENT,
        "attempts": claim.attempt,
        "sent_at": utcnow(),
        "locked_until": None,
        "lease_token": None,
        "last_error": None,
        "failing_since": None,
    }
    if claim.redact_after_send:
        values.update(body_text=REDACTED, body_html=REDACTED)
    if ledger.update_if_ours(claim, **values):
        counts.sent += 1
        _log(claim, "sent")
    else:
        counts.lease_lost += 1
        _log(claim, "lease_lost", logging.WARNING, "sent, but the lease was lost")
    return True


def _record_failure(
    ledger: Ledger, claim: Claim, exc: Exception, counts: DeliveryCounts
) -> None:
    """Defer the message, or fail it for good, if this worker still holds it."""
    error = describe(exc)
    now = utcnow()
    failing_since = claim.failing_since or now
    give_up = timedelta(hours=current_app.config["OUTBOX_GIVE_UP_HOURS"])
    values: dict[str, Any] = {
        "attempts": claim.attempt,
        "last_error": error,
        "locked_until": None,
        "lease_token": None,
        "failing_since": failing_since,
    }
    if permanent(exc) or now - failing_since >= give_up:
        values.update(state=OutboxState.FAILED, failed_at=now)
        outcome, level = "failed", logging.ERROR
    else:
        values.update(
            state=OutboxState.PENDING, next_attempt_at=now + retry_delay(claim.attempt)
        )
        outcome, level = "deferred", logging.WARNING
    if not ledger.update_if_ours(claim, **values):
        counts.lease_lost += 1
        _log(claim, "lease_lost", logging.WARNING, error)
        return
    if outcome == "failed":
        counts.failed += 1
    else:
        counts.deferred += 1
    _log(claim, outcome, level, error)


def deliver_pending(
    session: DbSession,
    *,
    limit: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> DeliveryCounts:
    """Send up to ``limit`` due messages, claimed one by one, over one connection.

    ``session`` gives the database; the pass works on a connection of its
    own (see :class:`Ledger`). The pass ends early when nothing is due or
    ``should_stop`` says so (checked between messages). A database that
    cannot be reached raises; anything else is recorded on its message.
    """
    counts = DeliveryCounts()
    limit = limit or current_app.config["OUTBOX_BATCH_SIZE"]
    # Due by the pass's start: a message deferred in this pass waits for the next.
    started = utcnow()
    with open_ledger(session) as book, relay() as smtp:
        for _ in range(limit):
            if should_stop():
                break
            claim = book.claim(started)
            if claim is None or not _deliver(book, claim, smtp, counts):
                break
    return counts


@contextmanager
def sole_worker(engine: Engine) -> Iterator[None]:
    """On SQLite, hold the outbox lock for the block; raise LockBusy if another does.

    SQLite cannot lease rows to several workers safely (no SKIP LOCKED), so
    one worker runs per database file. On PostgreSQL any number may run, and
    this holds nothing.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        yield
        return
    with locks.exclusive(engine, "outbox", wait=False):
        yield


def _sleep(seconds: float, should_stop: Callable[[], bool]) -> None:
    """Wait ``seconds``, or less if ``should_stop`` says so meanwhile."""
    deadline = time.monotonic() + seconds
    while not should_stop():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(_STOP_CHECK_SECONDS, left))


def work(
    session: DbSession,
    *,
    poll_seconds: float,
    should_stop: Callable[[], bool] = lambda: False,
    report: Callable[[DeliveryCounts], None] = lambda _counts: None,
) -> None:
    """Deliver due mail until ``should_stop`` says so, sleeping between passes.

    A database that cannot be reached (at start or later) is waited for,
    from 1 s doubling to ``DATABASE_BACK_OFF_MAX``; any other error ending a
    pass is logged with its stack and waited out the same way. The worker
    exits only when told to stop.
    """
    back_off = 1.0
    while not should_stop():
        try:
            counts = deliver_pending(session, should_stop=should_stop)
        except Exception as exc:
            rollback_quietly(session)
            _log_pass_failure(exc, back_off)
            _sleep(back_off, should_stop)
            back_off = min(back_off * 2, DATABASE_BACK_OFF_MAX)
            continue
        back_off = 1.0
        if counts:
            report(counts)
        session.close()  # start each pass from fresh rows
        _sleep(poll_seconds, should_stop)


def _log_pass_failure(exc: Exception, back_off: float) -> None:
    """Say why a pass of the worker ended early: the database away, or a fault of ours."""
    if unreachable(exc):
        cause = driver_error(exc)
        log.warning(
            "outbox: the database is unavailable; trying again in %g s: %s",
            back_off,
            redact(str(cause)).partition("\n")[0],
            extra={"event": "outbox", "outcome": "db_unavailable"},
        )
        return
    # A bug or an error the database should not give: keep the worker, loudly.
    # The message in hand stays leased and goes again when its lease runs out.
    # The stack says where; the error's own text is left out, as it may quote
    # a statement's values or an address.
    log.error(
        "outbox: a pass failed (%s); trying again in %g s\n%s",
        type(exc).__name__,
        back_off,
        "".join(traceback.format_tb(exc.__traceback__)),
        extra={"event": "outbox", "outcome": "pass_failed"},
    )


# --- Staff: retry and the banner ----------------------------------------------


def _requeue(message: OutboxMessage) -> None:
    message.state = OutboxState.PENDING
    message.next_attempt_at = utcnow()
    message.locked_until = None
    message.lease_token = None
    message.failing_since = None
    message.failed_at = None


def retry(
    session: DbSession, message: OutboxMessage, *, actor: StaffUser | None
) -> None:
    """Put a failed message back in the queue, due now."""
    _requeue(message)
    audit.record(
        session,
        AuditAction.OUTBOX_RETRIED,
        message,
        actor=actor,
        actor_label=audit.OPERATOR,
        reason="1 message",
    )


def retry_failed(session: DbSession, *, actor: StaffUser | None) -> int:
    """Put every failed message back in the queue, due now; return how many."""
    failed = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.state == OutboxState.FAILED)
            .order_by(OutboxMessage.id)
        )
    )
    for message in failed:
        _requeue(message)
    if failed:
        audit.record(
            session,
            AuditAction.OUTBOX_RETRIED,
            failed[0],
            actor=actor,
            actor_label=audit.OPERATOR,
            reason=f"{len(failed)} messages",
        )
    return len(failed)


def acknowledge(session: DbSession, *, actor: StaffUser) -> None:
    """Note that ``actor`` has seen the failures so far: the banner goes."""
    audit.record(session, AuditAction.OUTBOX_ACKNOWLEDGED, actor, actor=actor)


# The oldest message waiting longer than this shows the banner.
WAITING_TOO_LONG = timedelta(minutes=15)


@dataclass(frozen=True)
class Alert:
    """What the lead should know about the mail: failures not yet seen, a queue stuck."""

    failed: int
    waiting_minutes: int | None

    def __bool__(self) -> bool:
        return bool(self.failed or self.waiting_minutes is not None)


def alert(session: DbSession, now: datetime | None = None) -> Alert:
    """Return what the staff banner says, in two indexed queries.

    Failures count from the last acknowledgement.
    """
    now = now or utcnow()
    acknowledged = session.scalar(
        select(func.max(Event.created_at)).where(
            Event.action == AuditAction.OUTBOX_ACKNOWLEDGED
        )
    )
    unseen = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.failed_at.is_not(None))
    )
    if acknowledged is not None:
        unseen = unseen.where(OutboxMessage.failed_at > acknowledged)
    waiting = select(func.min(OutboxMessage.created_at)).where(
        OutboxMessage.state.in_(monitoring.UNFINISHED)
    )
    failed, oldest = session.execute(
        select(unseen.scalar_subquery(), waiting.scalar_subquery())
    ).one()
    minutes = None
    if oldest is not None and now - oldest > WAITING_TOO_LONG:
        minutes = int((now - oldest).total_seconds() // 60)
    return Alert(failed=failed, waiting_minutes=minutes)
