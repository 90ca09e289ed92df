"""Mail that comes in: matching replies to submissions, the holding pen, public mail.

``decide`` only reads, so ``flask mail inspect`` can show what would happen;
``ingest`` decides and then acts. Matching tries, in order, the reply address,
then ``In-Reply-To``/``References``, then the reference number in the subject.

Only the signed reply address proves which submission a reply is for: a
``From`` is easily forged and reference numbers are public. So a message
becomes a section's draft by itself only when it went to that address, its
sender writes from the routed section (see :func:`_from_section`), and the
submission still waits for that section's answer. Every other match waits in
the holding pen with the submission it points to, which the lead files with
one click (:func:`file_held`). A reply address whose signature does not verify
holds the message whatever else matches it.

A reply held for its sender (a foreign domain, another section's address)
is answered only when the sender is a staff address the service knows, once
a day at most (:func:`notifications.reply_held`); any other sender may be
forged, and is never written to.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from email.utils import parseaddr

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy import select

from feedback.db import DbSession
from feedback.mail import extract
from feedback.models import AuditAction
from feedback.models import Channel
from feedback.models import HoldReason
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import OutboxMessage
from feedback.models import ReplyChannel
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import audit
from feedback.services import DomainError
from feedback.services import notifications
from feedback.services import replies
from feedback.services import submissions
from feedback.services import tracking
from feedback.signing import verify_reply_address

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

    @property
    def action(self) -> str:
        return self.reason.action


def _recipients(message: EmailMessage) -> list[str]:
    headers = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To"):
        headers += [str(value) for value in message.get_all(name, [])]
    return [address.lower() for _name, address in getaddresses(headers) if address]


def _message_ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _reference_in(subject: str) -> str | None:
    prefix = re.escape(current_app.config["REFERENCE_PREFIX"])
    # A clerk may retype the number: any case, full-width, spaced out.
    folded = unicodedata.normalize("NFKC", subject)
    found = re.search(rf"{prefix}\s*\d{{8}}\s*-?\s*\d{{5}}", folded, re.IGNORECASE)
    return tracking.normalise_reference(found.group(0)) if found else None


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
            # The headers or the subject may still say which submission the
            # sender meant: suggest it to the lead, never file by it.
            _reason, likely = _unsigned_match(session, message, subject)
            return HoldReason.BAD_SIGNATURE, likely
        found = session.get(Submission, ids[0])
        if found is None:
            return HoldReason.NO_MATCH, None
        return HoldReason.REPLY_ADDRESS, found
    reason, found = _unsigned_match(session, message, subject)
    if found is not None:
        return reason, found
    public = current_app.config["PUBLIC_MAIL_ADDRESS"].lower()
    if public and public in _recipients(message):
        return HoldReason.NEW_SUBMISSION, None
    return HoldReason.NO_MATCH, None


def _unsigned_match(
    session: DbSession, message: EmailMessage, subject: str
) -> tuple[HoldReason, Submission | None]:
    """Find a submission by the thread headers, then by the reference in the subject."""
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
    return HoldReason.NO_MATCH, None


def _section_addresses(session: DbSession) -> dict[str, set[int]]:
    """Map each section's own address and its staff's addresses to those sections."""
    owners: dict[str, set[int]] = {}
    rows = [
        *session.execute(select(Section.email, Section.id)),
        *session.execute(
            select(StaffUser.email, StaffUser.section_id).where(
                StaffUser.section_id.is_not(None)
            )
        ),
    ]
    for address, section_id in rows:
        owners.setdefault(address.lower(), set()).add(section_id)
    return owners


def _from_section(section: Section, sender: str, owners: dict[str, set[int]]) -> bool:
    """Return whether ``sender`` may write for ``section``.

    A section writes from the domains of its functional address and of its
    routing-table reply domains, and from its own staff accounts' exact
    addresses. A staff account's whole domain is not taken: one on a public
    mail service would let in every user of that service.
    """
    if section.id in owners.get(sender, set()):
        return True
    return sender.rpartition("@")[2] in section.domains


def awaits_reply(submission: Submission, section: Section | None = None) -> bool:
    """Return whether ``submission`` waits for its section's (or ``section``'s) answer."""
    return (
        submission.section is not None
        and not submission.is_misconduct
        and submission.state is SubmissionState.ROUTED
        and (section is None or submission.section_id == section.id)
    )


def _reply_reason(
    session: DbSession, reason: HoldReason, submission: Submission, sender: str
) -> HoldReason:
    """Say whether a message found for ``submission`` is filed, and else why not."""
    section = submission.section
    owners = _section_addresses(session)
    if (
        section is None
        or submission.is_misconduct
        or not _from_section(section, sender, owners)
    ):
        return HoldReason.FOREIGN_DOMAIN
    if owners.get(sender) and section.id not in owners[sender]:
        # Sections usually share the bureau's domain: an address that is
        # another section's own is not this section answering.
        return HoldReason.OTHER_SECTION
    if reason is not HoldReason.REPLY_ADDRESS:
        return reason
    if not awaits_reply(submission):
        return HoldReason.NOT_WAITING
    return reason


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
    if submission is None or reason is HoldReason.BAD_SIGNATURE:
        return decision(reason, submission)
    return decision(_reply_reason(session, reason, submission, sender), submission)


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
    if decision.reason is HoldReason.REPLY_ADDRESS:
        # decide() files only with a submission whose section it checked
        assert decision.submission is not None
        note = _file_reply(session, inbound, decision.submission, decision.reply_text)
    elif decision.reason is HoldReason.NEW_SUBMISSION:
        receipt = _new_submission(session, message, decision)
        inbound.submission_id = receipt.submission.id
    session.flush()
    _tell_staff_sender(session, inbound, decision)
    return Outcome(decision, inbound, note)


def known_staff_address(session: DbSession, address: str) -> bool:
    """Return whether ``address`` is an active section's mailbox or staff account's."""
    address = address.strip().lower()
    if not address:
        return False
    section = select(Section.id).where(
        func.lower(Section.email) == address, Section.active.is_(True)
    )
    staff = select(StaffUser.id).where(
        func.lower(StaffUser.email) == address, StaffUser.active.is_(True)
    )
    return session.scalar(section.union_all(staff).limit(1)) is not None


def _tell_staff_sender(
    session: DbSession, inbound: InboundMessage, decision: Decision
) -> None:
    """Tell a staff sender that its reply was held for the address it came from."""
    submission = decision.submission
    if (
        not decision.reason.about_sender
        or submission is None
        or submission.section is None
        or submission.is_misconduct
        or not known_staff_address(session, decision.sender)
    ):
        return
    notifications.reply_held(session, inbound, submission)


def _file_reply(
    session: DbSession,
    inbound: InboundMessage,
    submission: Submission,
    text: str,
    *,
    actor: StaffUser | None = None,
    reason: str | None = None,
) -> str | None:
    """Make the reply a draft for the lead; hold it if the submission takes none.

    A mail while the section's draft waits for the lead replaces that
    draft's text, as the section's reply page lets it: the section proved
    itself as for its first mail, its latest word is what it wants sent,
    the lead still approves it, and the earlier text stays in the case as
    a retired draft (and this mail is kept whole), so nothing is lost.
    """
    section = submission.section
    assert section is not None  # both callers make sure a section answers it
    try:
        replies.answer(
            session,
            submission,
            section,
            text,
            revising=replies.waiting_draft(submission),
            channel=ReplyChannel.EMAIL,
            author_label=inbound.sender,
            actor=actor,
            reason=reason,
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
    section: Section | None = None,
) -> None:
    """File a held message as a draft reply to ``submission``, on the lead's word.

    With ``section`` (the one-click button of the pen, which names the section
    the lead saw), the submission must still wait for that section's answer:
    a submission routed elsewhere since is not filed under the wrong name.
    """
    if inbound.state is not InboundState.HELD:
        raise PenError(_("这封邮件已不在待处理邮件中。"))
    if submission.section is None or submission.is_misconduct:
        raise PenError(_("只有转办给股室的意见才能收股室的答复。"))
    if section is not None and not awaits_reply(submission, section):
        raise PenError(
            _(
                "%(ref)s已不在等待%(section)s的答复，请核对后再归入。",
                ref=submission.reference,
                section=section.name,
            )
        )
    held_for = f"held mail {inbound.id} from {inbound.sender}: {inbound.hold_reason}"
    note = _file_reply(
        session,
        inbound,
        submission,
        inbound.reply_text or "",
        actor=actor,
        reason=held_for,
    )
    if note:
        raise PenError(note)
    inbound.submission_id = submission.id


def discard_held(
    session: DbSession, inbound: InboundMessage, *, actor: StaffUser
) -> None:
    """Drop a held message that is not a reply (spam, a misdirected mail); the log says who."""
    if inbound.state is not InboundState.HELD:
        raise PenError(_("这封邮件已不在待处理邮件中。"))
    inbound.state = InboundState.DISCARDED
    audit.record(session, AuditAction.MAIL_DISCARDED, inbound, actor=actor)
