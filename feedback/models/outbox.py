"""Mail waiting to go out, and mail that came in and waits to be filed."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from feedback.db import Base
from feedback.db import enum_type
from feedback.db import utcnow


class OutboxState(enum.StrEnum):
    """Where an outgoing message stands."""

    PENDING = "pending"  # due at next_attempt_at
    SENDING = "sending"  # claimed by a worker until locked_until
    SENT = "sent"
    FAILED = "failed"  # refused, or failing for OUTBOX_GIVE_UP_HOURS; staff may retry
    # A new-submission receipt beyond RECEIPT_RATE_LIMIT for its address: kept
    # for the lead to see, never sent (the receipt page showed the code).
    SUPPRESSED = "suppressed"


class FailureKind(enum.StrEnum):
    """Why a message was not sent, as the first word of its ``last_error``."""

    UNREACHABLE = "unreachable"  # no connection, greeting or login
    TIMEOUT = "timeout"  # the server stopped answering for MAIL_TIMEOUT
    CONNECTION_LOST = "connection_lost"  # dropped mid-way
    BUSY = "busy"  # a 4xx answer: try later
    REFUSED = "refused"  # a 5xx answer to the message
    RECIPIENT_REFUSED = "recipient_refused"  # the address was refused
    UNBUILDABLE = "unbuildable"  # the message itself could not be made


class Notification(enum.StrEnum):
    """Which e-mail a message is: its templates are ``emails/<value>.txt`` and ``.html``."""

    RECEIPT = "receipt"  # to the author: reference and access code
    SUBMISSION_ROUTED = "submission_routed"  # to a section: yours to answer
    DEADLINE_REMINDER = "deadline_reminder"  # to a section: a reply is due soon
    DEADLINE_ESCALATION = "deadline_escalation"  # to the leads: past a deadline
    AUTHOR_UPDATE = "author_update"  # to the author: what was decided
    REPLY_RETURNED = "reply_returned"  # to a section: change your draft
    REPLY_APPROVED = "reply_approved"  # to the author: the reply
    INFO_ANSWERED = "info_answered"  # to whoever handles it: the author answered
    RATED_DISSATISFIED = "rated_dissatisfied"  # to the leads: a 不满意 rating
    SIGN_IN_LOCKED = (
        "sign_in_locked"  # to a staff member: sign-in to their account stopped
    )
    SECTION_ADDRESS_CHANGED = "section_address_changed"  # old and new mailbox, leads
    # To a staff address whose reply was held for its sender: how to answer.
    REPLY_HELD = "reply_held"


class OutboxMessage(Base):
    """One e-mail, rendered when it was queued, and its sending state."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[OutboxState] = mapped_column(default=OutboxState.PENDING)
    template: Mapped[Notification] = mapped_column(enum_type(Notification, length=64))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    reply_to: Mapped[str | None] = mapped_column(String(254))
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id"), index=True
    )
    # Blank out the bodies once sent (they carry an access code).
    redact_after_send: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    # The worker holding the lease: it sends and records the result only while
    # this is still its token (a conditional update), so two never both send.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    # When the current run of failed tries began; the message is given up once
    # it has failed for OUTBOX_GIVE_UP_HOURS. Cleared by a success or a retry.
    failing_since: Mapped[datetime | None]
    # When it was marked failed for good: the lead's banner shows failures
    # newer than the last acknowledgement.
    failed_at: Mapped[datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.template} {self.state}>"


class InboundState(enum.StrEnum):
    """What became of a message that came in."""

    HELD = "held"  # in the holding pen, for the lead to file
    FILED = "filed"
    DISCARDED = "discarded"


class HoldReason(enum.StrEnum):
    """Why a message that came in was filed, held or dropped.

    ``flask mail inspect`` prints these values; scripts read them. Only a
    reply to the signed reply address, from the routed section, to a
    submission waiting for that section's answer, is filed as a draft: a
    ``From`` can be forged and reference numbers are public, so every other
    match waits for the lead (see ``feedback.services.inbound``).
    """

    # Filed as the section's draft: the signed reply address checked out.
    REPLY_ADDRESS = "reply_address"
    NEW_SUBMISSION = "new_submission"  # filed as a citizen's new submission
    # Held for the lead.
    HEADER = "header"  # found by In-Reply-To/References only
    SUBJECT = "subject"  # found by the reference in the subject only
    NO_MATCH = "no_match"
    BAD_SIGNATURE = "bad_signature"  # a reply address someone changed
    FOREIGN_DOMAIN = "foreign_domain"  # not from the section's mail domains
    OTHER_SECTION = "other_section"  # from another section's or its staff's address
    NOT_WAITING = "not_waiting"  # closed, answered or routed elsewhere since
    # Dropped.
    AUTO_REPLY = "auto_reply"
    DUPLICATE = "duplicate"  # a Message-ID already received

    @property
    def state(self) -> InboundState:
        """Where a message goes for this reason.

        A reply the draft service still refuses (an empty one) is held all
        the same: see ``feedback.services.inbound``.
        """
        if self in (HoldReason.REPLY_ADDRESS, HoldReason.NEW_SUBMISSION):
            return InboundState.FILED
        if self in (HoldReason.AUTO_REPLY, HoldReason.DUPLICATE):
            return InboundState.DISCARDED
        return InboundState.HELD

    @property
    def about_sender(self) -> bool:
        """Whether the message was held for who sent it, not for what it answers.

        It names its submission all the same; the lead's desk counts these.
        """
        return self in (HoldReason.FOREIGN_DOMAIN, HoldReason.OTHER_SECTION)

    @property
    def action(self) -> str:
        """Name what is done for this reason, as ``mail inspect --json`` prints it."""
        if self is HoldReason.NEW_SUBMISSION:
            return "new_submission"
        return _ACTIONS[self.state]


_ACTIONS = {
    InboundState.FILED: "file_draft",
    InboundState.HELD: "hold",
    InboundState.DISCARDED: "drop",
}


class InboundMessage(Base):
    """An e-mail received by the service, kept as it came."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    sender: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500), default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # as received, attachments too
    reply_text: Mapped[str | None] = mapped_column(Text)  # what the sender newly wrote
    state: Mapped[InboundState] = mapped_column(default=InboundState.HELD)
    # Why it was filed, held or dropped: see feedback.services.inbound.
    hold_reason: Mapped[HoldReason | None] = mapped_column(
        enum_type(HoldReason, length=200)
    )
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<InboundMessage {self.id} {self.state}>"
