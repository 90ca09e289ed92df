"""Staff accounts: creating them, hashing passwords, second factors, ending sessions."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy import select

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import Role
from feedback.models import Section
from feedback.models import StaffUser
from feedback.services import audit
from feedback.services import DomainError
from feedback.services import failures


def password_hasher() -> PasswordHasher:
    """Return the argon2id hasher with this site's costs."""
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_KIB"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


MIN_PASSWORD_LENGTH = 10


class AccountError(DomainError):
    """An account could not be created or changed."""


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return password_hasher().hash(password)


def find_by_email(session: DbSession, email: str) -> StaffUser | None:
    """Return the account with this e-mail address, ignoring case."""
    return session.execute(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    ).scalar_one_or_none()


def create_user(
    session: DbSession,
    *,
    email: str,
    role: Role,
    password: str,
    section: Section | None = None,
    name: str = "",
    actor: StaffUser | None = None,
) -> StaffUser:
    """Create a staff account; section staff must belong to a section."""
    if role is Role.SECTION and section is None:
        raise AccountError("Section staff need a section (--section NAME).")
    if role is not Role.SECTION and section is not None:
        raise AccountError("Only section staff belong to a section.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _l("密码至少要%(n)s个字符。", n=MIN_PASSWORD_LENGTH), field="password"
        )
    if find_by_email(session, email) is not None:
        raise AccountError(f"An account for {email} exists already.")
    user = StaffUser(
        email=email.strip(),
        role=role,
        section=section,
        name=name,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(session, AuditAction.STAFF_CREATED, user, actor=actor)
    return user


# Two-factor sign-in (TOTP, RFC 6238) for the lead and admins. The secret is a
# shared key the server must read to check codes, so it cannot be hashed: the
# database and its backups must be protected as the password hashes are.
TOTP_ROLES = frozenset({Role.LEAD, Role.ADMIN})
TOTP_ISSUER = "supervision"


def new_totp_secret() -> str:
    """Return a fresh random base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def totp_uri(user: StaffUser, secret: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    issuer = current_app.config["SITE_NAME"] or TOTP_ISSUER
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """Return the time step ``code`` belongs to (one step of drift allowed)."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def use_totp_code(user: StaffUser, code: str, *, now: datetime | None = None) -> bool:
    """Return whether ``code`` is a fresh code of ``user``'s second factor, and use it up.

    Counting the wrong ones is ``sign_in``'s business.
    """
    if user.totp_secret is None:
        return False
    step = _matching_step(user.totp_secret, code, now or utcnow())
    if step is None or (
        user.totp_last_step is not None and step <= user.totp_last_step
    ):
        return False
    user.totp_last_step = step
    return True


def enable_totp(
    session: DbSession,
    user: StaffUser,
    secret: str,
    code: str,
    *,
    now: datetime | None = None,
) -> None:
    """Turn on the second factor once the user proves their app shows ``code``."""
    if user.role not in TOTP_ROLES:
        raise AccountError(_l("两步验证只用于纪检组长和管理员账号。"))
    step = _matching_step(secret, code, now or utcnow())
    if step is None:
        raise AccountError(_l("验证码不对，请核对手机上的时间是否准确。"), field="code")
    user.totp_secret = secret
    user.totp_last_step = step
    audit.record(session, AuditAction.TOTP_CHANGED, user, actor=user, reason="on")


def disable_totp(
    session: DbSession, user: StaffUser, *, actor: StaffUser | None
) -> None:
    """Turn the second factor off (by its owner, or by an operator for a lost phone)."""
    user.totp_secret = None
    user.totp_last_step = None
    user.session_version += 1
    audit.record(
        session,
        AuditAction.TOTP_CHANGED,
        user,
        actor=actor,
        actor_label=audit.OPERATOR,
        reason="off",
    )


def set_password(
    session: DbSession, user: StaffUser, password: str, *, actor: StaffUser | None
) -> None:
    """Give ``user`` a new password and end every session they have open."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _l("密码至少要%(n)s个字符。", n=MIN_PASSWORD_LENGTH), field="password"
        )
    user.password_hash = hash_password(password)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    failures.forget_account(user.email)
    audit.record(
        session,
        AuditAction.PASSWORD_CHANGED,
        user,
        actor=actor,
        actor_label=audit.OPERATOR,
    )


def disable(session: DbSession, user: StaffUser, *, actor: StaffUser | None) -> None:
    """Close an account: it can no longer sign in, and its sessions end now."""
    user.active = False
    user.session_version += 1
    audit.record(
        session,
        AuditAction.STAFF_DISABLED,
        user,
        actor=actor,
        actor_label=audit.OPERATOR,
    )


def end_sessions(session: DbSession, user: StaffUser) -> None:
    """End every open session of ``user`` (on logout and password change)."""
    user.session_version += 1
    audit.record(session, AuditAction.LOGGED_OUT, user, actor=user)


def active_leads(session: DbSession) -> list[StaffUser]:
    """Return the active lead accounts, who receive escalations and answers."""
    return list(
        session.scalars(
            select(StaffUser).where(
                StaffUser.role == Role.LEAD, StaffUser.active.is_(True)
            )
        )
    )
