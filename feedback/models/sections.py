"""Sections (股室) that answer submissions, and the replies they write."""

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
    from feedback.models.submissions import Submission


class Section(Base):
    """A section of the bureau with one functional mailbox."""

    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    # Space-separated mail domains that replies from this section may come from.
    reply_domains: Mapped[str] = mapped_column(String(500), default="")
    # Space-separated submission kinds this section is suggested for when no
    # problem decides (never "misconduct": those stay with the lead).
    kinds: Mapped[str] = mapped_column(String(200), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def domains(self) -> set[str]:
        """Return the mail domains replies from this section may come from."""
        allowed = {d.lower().lstrip("@") for d in self.reply_domains.split()}
        allowed.add(self.email.rpartition("@")[2].lower())
        return allowed

    def __repr__(self) -> str:
        return f"<Section {self.id} {self.name!r}>"


class ReplyState(enum.StrEnum):
    """Where a reply stands: a section's draft until the lead approves it.

    Stored by value in a VARCHAR without a CHECK (``db.enum_type``), so a
    new member needs no migration.
    """

    DRAFT = "draft"
    RETURNED = "returned"
    APPROVED = "approved"
    RETIRED = "retired"  # no longer fits its case: never approved, kept for history


class RetireCause(enum.StrEnum):
    """Why a draft was retired; the audit row of its retirement holds the value."""

    ANOTHER_APPROVED = "another_approved"  # the lead approved another answer
    REVISED = "revised"  # the section sent a new text in its place
    CLOSED = "closed"  # the case closed with the draft still waiting
    REOPENED = "reopened"  # the case was reopened: a new answer is due
    REROUTED = "rerouted"  # the case went to another section


class ReplyChannel(enum.StrEnum):
    """How the section's reply arrived."""

    WEB = "web"
    EMAIL = "email"
    STAFF = "staff"


class Reply(Base):
    """A section's answer to a submission."""

    __tablename__ = "replies"
    # The public list of replies pages by (published_at, id).
    __table_args__ = (Index("ix_replies_published_at", "published_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[ReplyState] = mapped_column(default=ReplyState.DRAFT, index=True)
    channel: Mapped[ReplyChannel] = mapped_column(default=ReplyChannel.WEB)
    author_label: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Text the public sees once the lead publishes it, personal data removed.
    published_body: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]

    submission: Mapped[Submission] = relationship(back_populates="replies")
    section: Mapped[Section | None] = relationship()
    approved_by: Mapped[StaffUser | None] = relationship()

    def __repr__(self) -> str:
        return f"<Reply {self.id} {self.state}>"
