"""Keys that let partners' applications file requests through the Open311 API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from feedback.db import Base
from feedback.db import utcnow


class ApiKey(Base):
    """One partner's key, stored as a keyed hash; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who holds the key, e.g. "微信小程序"; a revoked key's name stays taken,
    # so the audit trail never mixes two keys up.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        """Return whether the key still opens the API."""
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiKey {self.id} {self.name!r}>"
