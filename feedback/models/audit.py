"""The append-only audit trail of every state change and staff action."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from feedback.db import Base
from feedback.db import utcnow

if TYPE_CHECKING:
    from feedback.models.staff import StaffUser


class AuditAction(enum.StrEnum):
    """Everything that leaves a trace; new actions are appended, never renamed."""

    SUBMITTED = "submitted"  # a citizen sent a submission
    ROUTED = "routed"  # the lead (or the auto-routing setting) chose a section
    REPLY_DRAFTED = "reply_drafted"  # a section wrote an answer
    REPLY_APPROVED = "reply_approved"  # the lead let the answer go out
    STATUS_CHANGED = "status_changed"  # a problem's published status changed
    PROGRESS_ADDED = "progress_added"  # a dated progress update on a problem
    STAFF_CREATED = "staff_created"
    LOGGED_IN = "logged_in"
    LOGGED_OUT = "logged_out"
    DEMO_LOADED = "demo_loaded"
    PROBLEM_EDITED = "problem_edited"  # title, text, deadline or section changed
    NOTICE_IMPORTED = "notice_imported"  # a published notice updated the board
    SECTION_SAVED = "section_saved"  # the routing table changed
    ACCOUNT_LOCKED = "account_locked"  # too many failed sign-ins: a client, or everyone
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an action name
    STAFF_DISABLED = "staff_disabled"
    REFUSED = "refused"  # 不予受理, with the reason the author sees
    MARKED_DUPLICATE = "marked_duplicate"
    MARKED_SPAM = "marked_spam"
    EXTENDED = "extended"  # the one extension of the reply deadline
    NOTE_ADDED = "note_added"  # internal, never shown to the author
    REPLY_RETURNED = "reply_returned"  # a draft sent back to its section
    REPLY_PUBLISHED = "reply_published"  # shown publicly, personal data masked
    INFO_REQUESTED = "info_requested"  # a question to the author
    INFO_ANSWERED = "info_answered"  # the author's answer, through the access code
    RATED = "rated"  # the author rated the reply; the submission is closed
    REOPENED = "reopened"  # the lead reopened a closed submission
    RATING_REVIEWED = "rating_reviewed"  # the lead saw a 不满意 and kept it closed
    ACCEPTED = "accepted"  # the lead took up a 举报 (受理); the author is told
    CONCLUDED = "concluded"  # the lead recorded a 举报's result
    PURGED = "purged"  # personal data removed after the retention period
    TOTP_CHANGED = "totp_changed"  # two-factor sign-in turned on or off
    HOLIDAY_SAVED = "holiday_saved"  # the holiday table changed
    AUTO_CLOSED = "auto_closed"  # closed unrated after the rating window
    API_KEY_CREATED = "api_key_created"  # an Open311 partner got a key
    API_KEY_REVOKED = "api_key_revoked"  # that key no longer opens the API
    EXPORTED = "exported"  # staff downloaded the submissions ledger
    OUTBOX_RETRIED = "outbox_retried"  # failed mail queued again
    OUTBOX_ACKNOWLEDGED = "outbox_acknowledged"  # the lead saw the failed mail
    MAIL_DISCARDED = "mail_discarded"  # the lead threw a held message away
    REPLY_REVISED = (
        "reply_revised"  # a section's new text in place of its waiting draft
    )
    REPLY_RETIRED = "reply_retired"  # a draft its case outgrew; the reason says why


class Event(Base):
    """One audited action: who did what to which object, when and why."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_object", "object_type", "object_id"),
        # The last time of an action (the lead's acknowledgement of failed
        # mail, on every staff page) is one index probe, however old the log.
        Index("ix_events_action_created_at", "action", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Who acted when there is no account: "citizen", "section:<name>", "system".
    actor_label: Mapped[str] = mapped_column(String(100), default="system")
    action: Mapped[AuditAction]
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int]
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id"), index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    # What the action changed, as JSON objects of field: value (state, section,
    # due dates…), written by services.audit from the flushed changes.
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[StaffUser | None] = relationship()

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.action} {self.object_type}:{self.object_id}>"
