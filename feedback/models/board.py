"""The rectification board: rounds, aspects, problems, their history and updates."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from feedback.db import Base
from feedback.db import utcnow
from feedback.statuses import status_kind
from feedback.statuses import STATUS_WORDS
from feedback.statuses import StatusKind

__all__ = [
    "STATUS_WORDS",
    "Aspect",
    "BoardVersion",
    "Inspection",
    "NoticeImport",
    "Problem",
    "ProgressUpdate",
    "StatusChange",
    "StatusKind",
    "status_kind",
]

if TYPE_CHECKING:
    from feedback.models.sections import Section
    from feedback.models.staff import StaffUser


class Inspection(Base):
    """An inspection round (巡察轮次) and the notice that reports on it."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    publishing_body: Mapped[str | None] = mapped_column(String(200))
    inspecting_group: Mapped[str | None] = mapped_column(String(200))
    notice_title: Mapped[str | None] = mapped_column(String(500))
    onsite_start: Mapped[date | None]
    onsite_end: Mapped[date | None]
    feedback_date: Mapped[date | None]
    published_on: Mapped[date | None]
    declared_aspects: Mapped[int | None]
    declared_problems: Mapped[int | None]
    # Per-status totals as the notice states them, e.g. {"已完成": 16}, as JSON.
    declared_counts: Mapped[str | None] = mapped_column(Text)
    source_text: Mapped[str | None] = mapped_column(Text)  # the notice, raw
    # The on-site period as precisely as the notice states it, as an ISO 8601
    # interval of partial dates: "2024-10/2024-12" (onsite_start/onsite_end hold
    # days only when the notice gives days).
    onsite_period: Mapped[str | None] = mapped_column(String(50))
    # Supervision channels from the notice: {"phone": [...], "address": [...],
    # "email": [...]}, as JSON.
    contacts: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    aspects: Mapped[list[Aspect]] = relationship(
        back_populates="inspection",
        order_by="Aspect.number",
        cascade="all, delete-orphan",
    )
    notices: Mapped[list[NoticeImport]] = relationship(
        back_populates="inspection",
        order_by="NoticeImport.id",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Inspection {self.id} {self.name!r}>"


class Aspect(Base):
    """One of the aspects (方面) the problems of a round are grouped under."""

    __tablename__ = "aspects"
    __table_args__ = (UniqueConstraint("inspection_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(500))

    inspection: Mapped[Inspection] = relationship(back_populates="aspects")
    problems: Mapped[list[Problem]] = relationship(
        back_populates="aspect",
        order_by="Problem.number",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Aspect {self.id} #{self.number}>"


class Problem(Base):
    """A problem (问题) the inspectors found and the bureau must fix."""

    __tablename__ = "problems"
    __table_args__ = (UniqueConstraint("aspect_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    aspect_id: Mapped[int] = mapped_column(ForeignKey("aspects.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(500))
    details: Mapped[str] = mapped_column(Text, default="")
    status_word: Mapped[str | None] = mapped_column(String(32))  # as published
    status_kind: Mapped[StatusKind | None]
    measures: Mapped[str] = mapped_column(Text, default="")
    section_id: Mapped[int | None] = mapped_column(
        ForeignKey("sections.id"), index=True
    )
    deadline: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    aspect: Mapped[Aspect] = relationship(back_populates="problems")
    section: Mapped[Section | None] = relationship()
    status_changes: Mapped[list[StatusChange]] = relationship(
        back_populates="problem",
        order_by="StatusChange.effective_on",
        cascade="all, delete-orphan",
    )
    progress_updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="problem",
        order_by="ProgressUpdate.published_on",
        cascade="all, delete-orphan",
    )

    @property
    def code(self) -> str:
        """Return the number readers use, such as ``3.3``."""
        return f"{self.aspect.number}.{self.number}"

    def __repr__(self) -> str:
        return f"<Problem {self.id} {self.status_word}>"


class StatusChange(Base):
    """A dated change of a problem's published status, with its reason."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    from_word: Mapped[str | None] = mapped_column(String(32))
    to_word: Mapped[str] = mapped_column(String(32))
    to_kind: Mapped[StatusKind | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    effective_on: Mapped[date]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    problem: Mapped[Problem] = relationship(back_populates="status_changes")
    actor: Mapped[StaffUser | None] = relationship()

    def __repr__(self) -> str:
        return f"<StatusChange {self.id} {self.from_word}->{self.to_word}>"


class ProgressUpdate(Base):
    """A dated public note on what was done about a problem."""

    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    published_on: Mapped[date]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    problem: Mapped[Problem] = relationship(back_populates="progress_updates")

    def __repr__(self) -> str:
        return f"<ProgressUpdate {self.id} {self.published_on}>"


class NoticeImport(Base):
    """A published notice as it was imported, kept raw beside its clean text."""

    __tablename__ = "notice_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    title: Mapped[str | None] = mapped_column(String(500))
    published_on: Mapped[date | None]
    source_kind: Mapped[str] = mapped_column(String(16))  # text, html or docx
    filename: Mapped[str | None] = mapped_column(String(255))
    raw_text: Mapped[str] = mapped_column(Text)  # as decoded, before any cleaning
    text: Mapped[str] = mapped_column(Text)  # normalised, simplified
    warnings: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="notices")
    actor: Mapped[StaffUser | None] = relationship()

    def __repr__(self) -> str:
        return f"<NoticeImport {self.id} {self.published_on}>"


class BoardVersion(Base):
    """A stamp that every change to what the public pages show moves on.

    One row per kind of content ("board" for the rounds, problems and their
    history; "replies" for published replies): each web worker on each node
    reads it at most once a second and drops its rendered pages when it moved.
    """

    __tablename__ = "board_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
