"""Access codes and reference numbers: making codes, reading both forgivingly, finding their submission."""

from __future__ import annotations

import enum
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from feedback.db import DbSession
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.signing import keyed_hash

# Crockford's base32: no I, L, O or U, so what is read aloud is typed back right.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 100 bits
GROUP = 4
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
# Dashes an input method or a word processor puts where a hyphen was meant;
# NFKC has already folded the full-width and the small hyphen-minus.
_DASHES = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-")
)
# A reference as stored: the site's prefix, the day received, a number.
_REFERENCE = re.compile(r"([A-Z]*)(\d{8})-*(\d+)")


def new_access_code(
    form_key_hash: str | None = None, receipt_nonce: str | None = None
) -> str:
    """Return an access code, grouped for reading: ``ABCD-EFGH-…``.

    Given the keyed hash of the submission form's one-time key, kept with the
    submission, and the random nonce kept in the sending browser's session,
    the code is derived from both with the server's secret, so that browser
    can be shown the same receipt and code again (a double click, a refresh,
    the same text sent twice) instead of losing them. The form key alone,
    which anyone who saw the page source or a proxy log may hold, never
    yields it. Without both the code is random.
    """
    if not form_key_hash or not receipt_nonce:
        raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        return format_code(raw)
    seed = f"{form_key_hash}\n{receipt_nonce}"
    number = int(keyed_hash("form-access-code", seed), 16)
    raw = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(CODE_LENGTH))
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


def normalise_reference(text: str) -> str:
    """Read a typed reference number as stored: ``mj 20261206－00007`` is ``MJ20261206-00007``.

    Case, spaces, full-width characters and the kind of dash (or none) do
    not matter. Text that is no reference comes back cleaned the same way,
    so that it simply matches nothing.
    """
    folded = unicodedata.normalize("NFKC", text)
    cleaned = "".join(folded.split()).upper().translate(_DASHES)
    found = _REFERENCE.fullmatch(cleaned)
    if found is None:
        return cleaned
    prefix, day, number = found.groups()
    return f"{prefix}{day}-{number}"


def hash_code(code: str) -> str:
    """Return the stored form of a code (given in any accepted spelling)."""
    normalised = normalise_code(code)
    if normalised is None:
        raise ValueError("not an access code")
    return keyed_hash("access-code", normalised)


def find(session: DbSession, typed: str) -> Submission | None:
    """Return the submission whose access code was typed, or None."""
    normalised = normalise_code(typed)
    if normalised is None:
        return None
    digest = keyed_hash("access-code", normalised)
    return session.execute(
        select(Submission).where(Submission.access_code_hash == digest)
    ).scalar_one_or_none()


class StepKind(enum.StrEnum):
    """What happened at a step of the handling; ``public/track.html`` words each."""

    RECEIVED = "received"
    ACCEPTED = "accepted"  # detail: the section, unless it is a 举报
    NOT_ACCEPTED = "not_accepted"  # detail: the lead's reason
    DUPLICATE = "duplicate"  # detail: the earlier submission's reference
    EXTENDED = "extended"  # days, and the reason as detail
    INFO_REQUESTED = "info_requested"
    INFO_ANSWERED = "info_answered"
    REPLIED = "replied"
    RATED = "rated"
    REOPENED = "reopened"
    CLOSED = "closed"


@dataclass(frozen=True)
class Step:
    """One dated step of a submission's handling, as its author may see it."""

    at: datetime
    what: StepKind
    detail: str | None = None
    days: int | None = None  # by how many days a deadline was extended


def history(submission: Submission) -> list[Step]:
    """Return what the author may see of a submission's handling, oldest first.

    Misconduct reports say when they were accepted but never by whom.
    """
    steps = [Step(submission.received_at, StepKind.RECEIVED)]
    if submission.accepted_at is not None:
        section = (
            None
            if submission.is_misconduct or submission.section is None
            else submission.section.name
        )
        steps.append(Step(submission.accepted_at, StepKind.ACCEPTED, section))
    if submission.decided_at is not None:
        if submission.state is SubmissionState.NOT_ACCEPTED:
            steps.append(
                Step(
                    submission.decided_at,
                    StepKind.NOT_ACCEPTED,
                    submission.decision_reason,
                )
            )
        elif submission.state is SubmissionState.DUPLICATE:
            original = submission.duplicate_of
            steps.append(
                Step(
                    submission.decided_at,
                    StepKind.DUPLICATE,
                    original.reference
                    if original is not None
                    else submission.decision_reason,
                )
            )
    if submission.extended_at is not None:
        steps.append(
            Step(
                submission.extended_at,
                StepKind.EXTENDED,
                submission.extension_reason or "",
                days=submission.extended_days,
            )
        )
    for request in submission.info_requests:
        steps.append(Step(request.asked_at, StepKind.INFO_REQUESTED))
        if request.answered_at is not None:
            steps.append(Step(request.answered_at, StepKind.INFO_ANSWERED))
    if submission.replied_at is not None:
        steps.append(Step(submission.replied_at, StepKind.REPLIED))
    if submission.rated_at is not None:
        steps.append(Step(submission.rated_at, StepKind.RATED))
    if submission.reopened_at is not None:
        steps.append(Step(submission.reopened_at, StepKind.REOPENED))
    if submission.closed_at is not None:
        steps.append(Step(submission.closed_at, StepKind.CLOSED))
    return sorted(steps, key=lambda step: step.at)
