"""Holidays and make-up working days for working-day deadlines."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from feedback.db import Base


class Holiday(Base):
    """A day that differs from the usual Monday-to-Friday week."""

    __tablename__ = "holidays"

    day: Mapped[date] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    is_workday: Mapped[bool] = mapped_column(default=False)  # 调休 make-up day

    def __repr__(self) -> str:
        return f"<Holiday {self.day} {self.name!r}>"
