"""Mail that comes in: matching replies to submissions, the holding pen, public mail.

``decide`` only reads, so ``flask mail inspect`` can show what would happen;
``ingest`` decides and then acts. Matching tries, in order, the reply address,
then ``In-Reply-To``/``References``, then the reference number in the subject.
A reply address whose signature does not verify holds the message whatever
else would match it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import select

from feedback.db import DbSession
from feedback.mail import extract
from feedback.models import Channel
from feedback.models import HoldReason
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import OutboxMessage
from feedback.models import ReplyChannel
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import DomainError
from feedback.services import replies
from feedback.services import submissions
from feedback.signing import verify_reply_address

# Matches that make the message a section's reply to the submission found.
REPLY_MATCHES = (HoldReason.REPLY_ADDRESS, HoldReason.HEADER, HoldReason.SUBJECT)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class Decision:
    """What the service would do with one message, and why."""

    reason: HoldReason
    reply_text: str
    sender: str
    subject: str
    message_id: str | None
    submission: Submission | None = None

    @property
    def state(self) -> InboundState:
        return self.reason.state


def _recipients(message: EmailMessage) -> list[str]:
    headers = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To"):
        headers += [str(value) for value in message.get_all(name, [])]
    return [address.lower() for _name, address in getaddresses(headers) if address]


def _message_ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _reference_in(subject: str) -> str | None:
    prefix = re.escape(current_app.config["REFERENCE_PREFIX"])
    found = re.search(rf"{prefix}\d{{8}}-\d{{5}}", subject)
    return found.group(0) if found else None


def _match(
    session: DbSession, message: EmailMessage, subject: str
) -> tuple[HoldReason, Submission | None]:
    reply_domain = current_app.config["MAIL_REPLY_DOMAIN"].lower()
    reply_parts = [
        address.rpartition("@")[0]
        for address in _recipients(message)
        if address.endswith("@" + reply_domain) and address.startswith("reply+")
    ]
    if reply_parts:
        ids = [verify_reply_address(part) for part in reply_parts]
        if any(submission_id is None for submission_id in ids):
            return HoldReason.BAD_SIGNATURE, None
        found = session.get(Submission, ids[0])
        if found is None:
            return HoldReason.NO_MATCH, None
        return HoldReason.REPLY_ADDRESS, found
    threads = _message_ids(message.get("In-Reply-To")) + _message_ids(
        message.get("References")
    )
    if threads:
        found = session.scalar(
            select(Submission)
            .join(OutboxMessage, OutboxMessage.submission_id == Submission.id)
            .where(OutboxMessage.message_id.in_(threads))
            .limit(1)
        )
        if found is not None:
            return HoldReason.HEADER, found
    reference = _reference_in(subject)
    if reference:
        found = submissions.find_by_reference(session, reference)
        if found is not None:
            return HoldReason.SUBJECT, found
    public = current_app.config["PUBLIC_MAIL_ADDRESS"].lower()
    if public and public in _recipients(message):
        return HoldReason.NEW_SUBMISSION, None
    return HoldReason.NO_MATCH, None


def _from_section(submission: Submission, sender: str) -> bool:
    """Return whether ``sender`` writes from a domain of the submission's section."""
    section = submission.section
    if section is None or submission.is_misconduct:
        return False
    domain = sender.rpartition("@")[2].lower()
    allowed = {d.lower().lstrip("@") for d in section.reply_domains.split()}
    allowed.add(section.email.rpartition("@")[2].lower())
    return domain in allowed


def decide(session: DbSession, message: EmailMessage) -> Decision:
    """Work out what to do with ``message`` without changing anything."""
    subject = extract.decoded_subject(message)
    sender = parseaddr(str(message.get("From", "")))[1].lower()
    ids = _message_ids(message.get("Message-ID"))
    message_id = ids[0] if ids else None
    text = extract.extract_reply(message)

    def decision(reason: HoldReason, submission: Submission | None = None) -> Decision:
        return Decision(reason, text, sender, subject, message_id, submission)

    if message_id and session.scalar(
        select(InboundMessage.id)
        .where(InboundMessage.message_id == message_id)
        .limit(1)
    ):
        return decision(HoldReason.DUPLICATE)
    if extract.is_auto_reply(message):
        return decision(HoldReason.AUTO_REPLY)
    reason, submission = _match(session, message, subject)
    if submission is not None and not _from_section(submission, sender):
        return decision(HoldReason.FOREIGN_DOMAIN, submission)
    return decision(reason, submission)


@dataclass(frozen=True)
class Outcome:
    """What ingesting a message did."""

    decision: Decision
    inbound: InboundMessage
    note: str | None = None


def ingest(session: DbSession, raw: bytes) -> Outcome:
    """Decide about one raw message and act on it; the caller commits."""
    message = extract.parse(raw)
    decision = decide(session, message)
    inbound = InboundMessage(
        message_id=decision.message_id,
        sender=decision.sender[:254],
        subject=decision.subject[:500],
        raw=raw,  # kept whole, attachments included
        reply_text=decision.reply_text,
        state=decision.state,
        hold_reason=decision.reason,
        submission_id=decision.submission.id if decision.submission else None,
    )
    session.add(inbound)
    note = None
    if decision.reason in REPLY_MATCHES:
        # decide() gives a reply match only with a submission whose section it checked
        assert decision.submission is not None
        note = _file_reply(session, inbound, decision.submission, decision.reply_text)
    elif decision.reason is HoldReason.NEW_SUBMISSION:
        receipt = _new_submission(session, message, decision)
        inbound.submission_id = receipt.submission.id
    session.flush()
    return Outcome(decision, inbound, note)


def _file_reply(
    session: DbSession,
    inbound: InboundMessage,
    submission: Submission,
    text: str,
    *,
    actor: StaffUser | None = None,
) -> str | None:
    """Make the reply a draft for the lead; hold it if the submission takes none."""
    section = submission.section
    assert section is not None  # both callers make sure a section answers it
    try:
        replies.draft(
            session,
            submission,
            section,
            text,
            channel=ReplyChannel.EMAIL,
            author_label=inbound.sender,
            actor=actor,
        )
    except DomainError as exc:
        inbound.state = InboundState.HELD
        return str(exc)
    inbound.state = InboundState.FILED
    return None


def _new_submission(
    session: DbSession, message: EmailMessage, decision: Decision
) -> submissions.Receipt:
    name = parseaddr(str(message.get("From", "")))[0].strip() or decision.sender
    body = extract.body_text(message).strip() or decision.reply_text or "（空白邮件）"
    return submissions.submit(
        session,
        kind=SubmissionKind.OPINION,
        subject=(decision.subject or "（无标题）")[:200],
        body=body,
        author=submissions.Author(name=name[:100], email=decision.sender or None),
        channel=Channel.EMAIL,
    )


class PenError(DomainError):
    """A held message could not be filed."""


def file_held(
    session: DbSession,
    inbound: InboundMessage,
    submission: Submission,
    *,
    actor: StaffUser,
) -> None:
    """File a held message as a draft reply to ``submission``, on the lead's word."""
    if inbound.state is not InboundState.HELD:
        raise PenError("This message is not in the holding pen.")
    if submission.section is None or submission.is_misconduct:
        raise PenError("Only a submission routed to a section takes a section's reply.")
    note = _file_reply(
        session, inbound, submission, inbound.reply_text or "", actor=actor
    )
    if note:
        raise PenError(note)
    inbound.submission_id = submission.id


def discard_held(inbound: InboundMessage) -> None:
    """Drop a held message that is not a reply (spam, a misdirected mail)."""
    if inbound.state is not InboundState.HELD:
        raise PenError("This message is not in the holding pen.")
    inbound.state = InboundState.DISCARDED
