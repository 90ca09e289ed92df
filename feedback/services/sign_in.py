"""Signing staff in: passwords and codes checked, failures counted, owners told of locks.

Wrong passwords and wrong second-factor codes count alike, per client and per
account (``services/failures.py``), until a sign-in passes every factor. A
client is stopped for an account after ``LOGIN_MAX_FAILURES``; the account
is locked for everyone after ``LOGIN_ACCOUNT_MAX_FAILURES`` in an hour; its
owner is e-mailed each time. Unknown addresses are checked against a dummy
hash and counted too, so that a refusal never tells whether an account
exists or is locked.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import StaffUser
from feedback.services import accounts
from feedback.services import audit
from feedback.services import failures
from feedback.services import notifications
from feedback.services.failures import Attempt


class LockedOut(accounts.AccountError):
    """Too many failed attempts: this client, or everyone, must wait."""

    def __init__(self) -> None:
        super().__init__(
            _l("尝试次数太多，暂时不能核对。请稍后再试，或请管理员重设密码。")
        )


@cache
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    """A hash to verify against when the e-mail is unknown, so both take as long."""
    return PasswordHasher(time_cost, memory_kib, parallelism).hash("not a password")


def _locked(user: StaffUser | None, attempt: Attempt) -> bool:
    until = user.locked_until if user is not None else None
    return (until is not None and until > utcnow()) or failures.stopped(attempt)


def _fail(session: DbSession, user: StaffUser | None, attempt: Attempt) -> None:
    """Count a failure; lock, record and tell the owner when it was one too many."""
    counted = failures.count(attempt)
    if user is None:
        return
    user.failed_logins += 1
    if counted.account_stopped:
        minutes = failures.ACCOUNT_WINDOW_MINUTES
        user.locked_until = utcnow() + timedelta(minutes=minutes)
        reason = "account"
    elif counted.client_stopped:
        minutes = current_app.config["LOGIN_LOCK_MINUTES"]
        reason = "client"
    else:
        return
    audit.record(
        session, AuditAction.ACCOUNT_LOCKED, user, actor_label="system", reason=reason
    )
    notifications.sign_in_locked(
        session, user, whole_account=reason == "account", minutes=minutes
    )


def authenticate(
    session: DbSession, email: str, password: str, *, client: str
) -> StaffUser | None:
    """Return the active account these credentials open, or None if they are wrong.

    Raises ``LockedOut`` when this client or everyone must wait, whatever
    the password; the password is checked all the same, so that every
    answer takes as long.
    """
    user = accounts.find_by_email(session, email)
    if user is not None and not user.active:
        user = None
    attempt = Attempt(email=email, client=client)
    hasher = accounts.password_hasher()
    right = False
    if user is None:
        dummy = _dummy_hash(hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy, password)
    else:
        with contextlib.suppress(VerificationError, InvalidHashError):
            right = hasher.verify(user.password_hash, password)
    if _locked(user, attempt):
        raise LockedOut
    if user is None or not right:
        _fail(session, user, attempt)
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = accounts.hash_password(password)
    return user


def check_totp(
    session: DbSession,
    user: StaffUser,
    code: str,
    *,
    client: str,
    now: datetime | None = None,
) -> bool:
    """Check and use up a code of ``user``'s second factor; count a wrong one.

    Raises ``LockedOut`` (without looking at the code) when this client or
    everyone must wait.
    """
    attempt = Attempt(email=user.email, client=client)
    if _locked(user, attempt):
        raise LockedOut
    if accounts.use_totp_code(user, code, now=now):
        return True
    _fail(session, user, attempt)
    return False


def complete_login(session: DbSession, user: StaffUser, *, client: str) -> None:
    """Record a sign-in that passed every factor: only this clears the counts."""
    user.failed_logins = 0
    user.locked_until = None
    failures.forget(Attempt(email=user.email, client=client))
    user.last_login_at = utcnow()
    audit.record(session, AuditAction.LOGGED_IN, user, actor=user)
