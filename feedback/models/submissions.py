"""Citizens' submissions (意见建议), their workflow states and attachments."""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from feedback.db import Base
from feedback.db import utcnow
from feedback.models.sections import ReplyState

if TYPE_CHECKING:
    from feedback.models.board import Problem
    from feedback.models.sections import Reply
    from feedback.models.sections import Section
    from feedback.models.staff import StaffUser


class SubmissionKind(enum.StrEnum):
    """What the citizen says they are sending."""

    OPINION = "opinion"  # 意见
    SUGGESTION = "suggestion"  # 建议
    COMPLAINT = "complaint"  # 投诉
    MISCONDUCT = "misconduct"  # 举报: reaches only the lead


class Channel(enum.StrEnum):
    """How a submission came in."""

    WEB = "web"
    EMAIL = "email"
    API = "api"
    PHONE = "phone"
    LETTER = "letter"
    VISIT = "visit"


class Language(enum.StrEnum):
    """The language and script of the page an author wrote on, as ``lang`` names it."""

    SIMPLIFIED = "zh-Hans"  # mail, Open311 and staff-typed submissions too
    TRADITIONAL = "zh-Hant"
    ENGLISH = "en"

    @property
    def locale(self) -> str:
        """Return the Babel locale that words the interface in this language."""
        return _LOCALES[self]


_LOCALES = {
    Language.SIMPLIFIED: "zh_Hans_CN",
    Language.TRADITIONAL: "zh_Hant_TW",
    Language.ENGLISH: "en",
}


class SubmissionState(enum.StrEnum):
    """Where a submission stands in its life (see DOMAIN.md)."""

    RECEIVED = "received"  # 待分办
    ROUTED = "routed"  # 已转办
    NOT_ACCEPTED = "not_accepted"  # 不予受理
    DUPLICATE = "duplicate"
    SPAM = "spam"
    REPLIED = "replied"  # 已答复
    CLOSED = "closed"  # 已办结

    def can_move_to(self, target: SubmissionState) -> bool:
        """Return whether the workflow allows a move from this state to ``target``."""
        return target in _MOVES[self]


_MOVES: dict[SubmissionState, frozenset[SubmissionState]] = {
    SubmissionState.RECEIVED: frozenset(
        {
            SubmissionState.ROUTED,
            SubmissionState.NOT_ACCEPTED,
            SubmissionState.DUPLICATE,
            SubmissionState.SPAM,
            SubmissionState.REPLIED,  # the lead may answer a 举报 directly
        }
    ),
    SubmissionState.ROUTED: frozenset(
        {SubmissionState.ROUTED, SubmissionState.REPLIED}
    ),
    SubmissionState.REPLIED: frozenset(
        {SubmissionState.CLOSED, SubmissionState.ROUTED}
    ),
    SubmissionState.CLOSED: frozenset({SubmissionState.ROUTED}),
    SubmissionState.NOT_ACCEPTED: frozenset(),
    SubmissionState.DUPLICATE: frozenset(),
    SubmissionState.SPAM: frozenset({SubmissionState.RECEIVED}),
}


class Rating(enum.StrEnum):
    """How the author rated the reply they got."""

    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意: goes back before the lead


class Submission(Base):
    """An opinion, suggestion, complaint or misconduct report from the public."""

    __tablename__ = "submissions"
    # The lead's queues filter by state and dates and page by (received_at, id).
    __table_args__ = (
        Index("ix_submissions_state_received", "state", "received_at", "id"),
        Index("ix_submissions_state_due", "state", "due_on"),
        Index("ix_submissions_state_triage_due", "state", "triage_due_on"),
        Index("ix_submissions_pending_received", "info_pending", "received_at", "id"),
        Index("ix_submissions_rating_received", "rating", "received_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public reference number (编号); set right after the row gets its id.
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    # HMAC of the secret access code (查询码): one indexed lookup, no plain text.
    access_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # No longer written: the form's key was kept here in plain text, which
    # made it a second access code. Emptied by migration 270bcfc3568c; dropped in a later
    # release, once no node runs code that reads it.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Keyed hash of the form's one-time key, so that the same form sent twice
    # files one submission; cleared by the retention purge.
    form_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Keyed hash of a random nonce kept in the sending browser's session: only
    # that session is shown the access code again on a repeated form.
    # Indexed: every web submission looks for the same text sent before from
    # the same browser session.
    receipt_nonce_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    state: Mapped[SubmissionState] = mapped_column(
        default=SubmissionState.RECEIVED, index=True
    )
    kind: Mapped[SubmissionKind]
    channel: Mapped[Channel] = mapped_column(default=Channel.WEB)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("problems.id"), index=True
    )
    section_id: Mapped[int | None] = mapped_column(
        ForeignKey("sections.id"), index=True
    )
    anonymous: Mapped[bool] = mapped_column(default=True)
    author_name: Mapped[str | None] = mapped_column(String(100))
    author_phone: Mapped[str | None] = mapped_column(String(40))
    author_email: Mapped[str | None] = mapped_column(String(254))
    publish_consent: Mapped[bool] = mapped_column(default=False)
    # The language and script the author wrote in (zh-Hans, zh-Hant, en): the
    # e-mails to the author use it. Mail and Open311 default to simplified.
    language: Mapped[str] = mapped_column(
        String(8), default=Language.SIMPLIFIED, server_default=Language.SIMPLIFIED
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    triage_due_on: Mapped[date | None]
    accepted_at: Mapped[datetime | None]
    due_on: Mapped[date | None]
    replied_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)  # shown to the author
    decided_at: Mapped[datetime | None]
    # One extension of the reply deadline, with the reason the author sees.
    extended_days: Mapped[int | None]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extended_at: Mapped[datetime | None]
    # A question to the author is open; with INFO_REQUEST_PAUSES_CLOCK the
    # days it stays open are added to the due date when it is answered.
    info_pending: Mapped[bool] = mapped_column(default=False, server_default="0")
    # The author's rating of the reply, which closes the submission.
    rating: Mapped[Rating | None]
    rating_reason: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    # When the lead looked at a 不满意 rating (reopening it or not).
    rating_reviewed_at: Mapped[datetime | None]
    reopened_at: Mapped[datetime | None]
    # A real-name 举报: the day the case was concluded, and when its result
    # notice is due (15 working days later by default).
    concluded_on: Mapped[date | None]
    result_due_on: Mapped[date | None]
    # When `retention purge` removed the author's personal data.
    purged_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    problem: Mapped[Problem | None] = relationship()
    section: Mapped[Section | None] = relationship()
    replies: Mapped[list[Reply]] = relationship(
        back_populates="submission", order_by="Reply.created_at"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="submission", order_by="Attachment.id"
    )
    notes: Mapped[list[Note]] = relationship(
        back_populates="submission", order_by="Note.created_at"
    )
    duplicate_of: Mapped[Submission | None] = relationship(remote_side=[id])
    info_requests: Mapped[list[InfoRequest]] = relationship(
        back_populates="submission", order_by="InfoRequest.asked_at"
    )

    @property
    def is_misconduct(self) -> bool:
        """Return whether this is a 举报, which only the lead may see."""
        return self.kind is SubmissionKind.MISCONDUCT

    @property
    def approved_reply(self) -> Reply | None:
        """Return the newest reply the lead approved, if any."""
        approved = [r for r in self.replies if r.state is ReplyState.APPROVED]
        return approved[-1] if approved else None

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.reference} {self.state}>"


class Storage(enum.StrEnum):
    """Where an attachment's bytes are kept."""

    DIRECTORY = "directory"  # a file in ATTACHMENT_DIR, on one machine's disk
    DATABASE = "database"  # attachment_chunks rows, seen by every node


class Attachment(Base):
    """A file a citizen sent with a submission, stored outside static/."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    # Set when the file came with the author's answer to a question.
    info_request_id: Mapped[int | None] = mapped_column(ForeignKey("info_requests.id"))
    filename: Mapped[str] = mapped_column(String(255))  # as the citizen named it
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Rows from before there was a choice are files in the directory.
    stored_in: Mapped[Storage] = mapped_column(
        default=Storage.DIRECTORY, server_default=Storage.DIRECTORY.value
    )
    # A PDF holding JavaScript or actions that launch or open things: taken,
    # but staff are warned before they open it.
    active_content: Mapped[bool] = mapped_column(default=False, server_default="0")

    submission: Mapped[Submission] = relationship(back_populates="attachments")
    info_request: Mapped[InfoRequest | None] = relationship(
        back_populates="attachments"
    )

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.content_type}>"


class AttachmentChunk(Base):
    """A slice of an attachment's bytes kept in the database, in order by ``seq``.

    Slices keep each row small, so a file is written and read back a slice at
    a time and never held whole in memory on the way out.
    """

    __tablename__ = "attachment_chunks"

    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachments.id"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Note(Base):
    """An internal note on a submission: staff see it, the author never does."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="notes")
    author: Mapped[StaffUser] = relationship()

    def __repr__(self) -> str:
        return f"<Note {self.id} on {self.submission_id}>"


class InfoRequest(Base):
    """A question to the author for more information, and their answer."""

    __tablename__ = "info_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    # Days added to the reply deadline when it was answered (clock paused).
    paused_days: Mapped[int | None]

    submission: Mapped[Submission] = relationship(back_populates="info_requests")
    asked_by: Mapped[StaffUser | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="info_request", order_by="Attachment.id"
    )

    @property
    def is_open(self) -> bool:
        """Return whether the author has yet to answer."""
        return self.answered_at is None

    def __repr__(self) -> str:
        return f"<InfoRequest {self.id} on {self.submission_id}>"
