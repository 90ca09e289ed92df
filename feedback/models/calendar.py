"""Holidays for working-day deadlines, and the log of deadline alerts sent."""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from feedback.db import Base
from feedback.db import utcnow


class AlertKind(enum.StrEnum):
    """Which deadline alert was sent; each goes once per submission and due date."""

    REPLY_SOON = "reply_soon"  # to the section, before the reply is due
    REPLY_OVERDUE = "reply_overdue"  # to the lead, once the reply is late
    TRIAGE_OVERDUE = "triage_overdue"  # to the lead, once triage is late
    # To the lead, before a 举报's acceptance notice is due (15 working days).
    MISCONDUCT_SOON = "misconduct_soon"


class Holiday(Base):
    """A day that differs from the usual Monday-to-Friday week."""

    __tablename__ = "holidays"

    day: Mapped[date] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    is_workday: Mapped[bool] = mapped_column(default=False)  # 调休 make-up day

    def __repr__(self) -> str:
        return f"<Holiday {self.day} {self.name!r}>"


class DeadlineAlert(Base):
    """One reminder or escalation sent for one due date: each is sent once."""

    __tablename__ = "deadline_alerts"
    __table_args__ = (UniqueConstraint("submission_id", "kind", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    kind: Mapped[AlertKind]  # sent by feedback.services.sweep
    due_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<DeadlineAlert {self.submission_id} {self.kind} {self.due_on}>"
