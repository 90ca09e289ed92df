"""Access codes: making them, reading them forgivingly, and finding their submission."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback.models import Submission
from feedback.signing import keyed_hash

# Crockford's base32: no I, L, O or U, so what is read aloud is typed back right.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 100 bits
GROUP = 4
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def new_access_code() -> str:
    """Return a fresh access code, grouped for reading: ``ABCD-EFGH-…``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(raw)


def format_code(code: str) -> str:
    """Group a normalised code in blocks of four, joined by dashes."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalise_code(text: str) -> str | None:
    """Read a typed code: ignore spaces, dashes and case, and fix O/0 and I/L/1.

    Return None when what is left cannot be a code.
    """
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum()).translate(_CONFUSABLE)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def hash_code(code: str) -> str:
    """Return the stored form of a code (given in any accepted spelling)."""
    normalised = normalise_code(code)
    if normalised is None:
        raise ValueError("not an access code")
    return keyed_hash("access-code", normalised)


def find(session: Session, typed: str) -> Submission | None:
    """Return the submission whose access code was typed, or None."""
    normalised = normalise_code(typed)
    if normalised is None:
        return None
    digest = keyed_hash("access-code", normalised)
    return session.execute(
        select(Submission).where(Submission.access_code_hash == digest)
    ).scalar_one_or_none()
