"""Open311 API keys: issuing them once, revoking them, and checking a presented key."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import ApiKey
from feedback.models import AuditAction
from feedback.models import StaffUser
from feedback.services import audit
from feedback.services import DomainError
from feedback.signing import keyed_hash

KEY_PREFIX = "o311_"
NAME_MAX = 100


class ApiKeyError(DomainError):
    """A key could not be issued or revoked."""


def hash_key(key: str) -> str:
    """Return the stored form of a key: keys are random, so a keyed hash suffices."""
    return keyed_hash("api-key", key.strip())


def _record(
    session: DbSession, action: AuditAction, key: ApiKey, actor: StaffUser | None
) -> None:
    """Audit a change to a key; without an account, the operator at the shell did it."""
    audit.record(session, action, key, actor=actor, actor_label=audit.OPERATOR)


def find_by_name(session: DbSession, name: str) -> ApiKey | None:
    """Return the key called ``name``, revoked or not."""
    return session.scalar(select(ApiKey).where(ApiKey.name == name.strip()))


def create(
    session: DbSession, name: str, *, actor: StaffUser | None = None
) -> tuple[ApiKey, str]:
    """Issue a key for the partner called ``name``; return it with the plain key.

    The plain key exists only in the return value: show it once, it is not kept.
    """
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ApiKeyError(f"A key needs a name of 1 to {NAME_MAX} characters.")
    if find_by_name(session, name) is not None:
        raise ApiKeyError(f"A key called {name} exists already (or did); pick another.")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)  # 256 bits
    key = ApiKey(name=name, key_hash=hash_key(plain))
    session.add(key)
    session.flush()
    _record(session, AuditAction.API_KEY_CREATED, key, actor)
    return key, plain


def revoke(session: DbSession, name: str, *, actor: StaffUser | None = None) -> ApiKey:
    """Stop the key called ``name`` from opening the API, at once."""
    key = find_by_name(session, name)
    if key is None:
        raise ApiKeyError(f"No key is called {name.strip()}.")
    if not key.active:
        raise ApiKeyError(f"The key {key.name} was revoked already.")
    key.revoked_at = utcnow()
    _record(session, AuditAction.API_KEY_REVOKED, key, actor)
    return key


def all_keys(session: DbSession) -> list[ApiKey]:
    """Return every key ever issued, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def authenticate(session: DbSession, presented: str | None) -> ApiKey | None:
    """Return the active key ``presented`` is, noting its use, or None."""
    if not presented or not presented.strip():
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(presented)))
    if key is None or not key.active:
        return None
    key.last_used_at = utcnow()
    return key
