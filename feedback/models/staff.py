"""Staff accounts and their roles."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from feedback.db import Base
from feedback.db import utcnow

if TYPE_CHECKING:
    from feedback.models.sections import Section


class Role(enum.StrEnum):
    """What a staff member may do."""

    ADMIN = "admin"  # accounts, sections and the board; not submissions
    LEAD = "lead"  # the discipline-inspection lead: everything
    SECTION = "section"  # one section's submissions only


class StaffUser(Base):
    """A person who works in the back office."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[Role]
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped on logout and password change so that older sessions end.
    session_version: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    # Wrong passwords in a row, and until when the account is locked after too many.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    # Optional TOTP second factor (lead and admin): the base32 secret, and the
    # last time step used, so that a code is accepted once only.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    section: Mapped[Section | None] = relationship()

    def __repr__(self) -> str:
        return f"<StaffUser {self.id} {self.email!r} {self.role}>"
