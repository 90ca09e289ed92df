"""Taking in a citizen's submission: validation of rules, reference, code, deadlines."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import Channel
from feedback.models import Language
from feedback.models import Problem
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import attachments
from feedback.services import audit
from feedback.services import deadlines
from feedback.services import DomainError
from feedback.services import notifications
from feedback.services import tracking
from feedback.services import triage
from feedback.signing import keyed_hash


class SubmissionError(DomainError):
    """A submission breaks a rule of intake, or no submission has the number given."""


@dataclass(frozen=True)
class Author:
    """Who wrote a submission; all None for an anonymous one."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None

    @property
    def anonymous(self) -> bool:
        return not self.name


@dataclass(frozen=True)
class Receipt:
    """What the citizen is shown: the stored row and its plain access code."""

    submission: Submission
    access_code: str
    mailed: bool = False  # a receipt by e-mail is on its way
    # Files written for this receipt: remove them if the commit fails.
    written: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Repeat:
    """A form, or its text, sent again: the submission, and its access code
    only when the browser session that sent it first asks again within
    REPEAT_WINDOW."""

    submission: Submission
    access_code: str | None


FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
# The purposes of the keyed hashes kept with a submission sent by a form.
FORM_KEY_PURPOSE = "form-key"
RECEIPT_NONCE_PURPOSE = "receipt-nonce"
# How long the sending browser is shown the access code again on a repeated
# form: long enough for a refresh or a lost page, short enough that a
# borrowed computer does not keep handing it out.
REPEAT_WINDOW = timedelta(hours=24)
# Tries at a random, unused reference number before giving up.
REFERENCE_TRIES = 20
REFERENCE_DIGITS = 5


def _form_key(key: str | None) -> str | None:
    return key if key and FORM_KEY.fullmatch(key) else None


def find_by_form_key(
    session: DbSession,
    key: str | None,
    receipt_nonce: str | None,
    now: datetime | None = None,
) -> Repeat | None:
    """Return what is shown for a form that was already sent, if it was.

    The key alone finds the submission, and so its public reference; the
    access code comes back only with the nonce of the session that sent it.
    """
    key = _form_key(key)
    if key is None:
        return None
    submission = session.scalar(
        select(Submission).where(
            Submission.form_key_hash == keyed_hash(FORM_KEY_PURPOSE, key)
        )
    )
    if submission is None:
        return None
    stored = submission.receipt_nonce_hash
    if not (receipt_nonce and stored):
        return Repeat(submission, None)
    same_browser = hmac.compare_digest(
        stored, keyed_hash(RECEIPT_NONCE_PURPOSE, receipt_nonce)
    )
    if same_browser and (now or utcnow()) - submission.created_at < REPEAT_WINDOW:
        # Codes drawn before they were seeded with the key's hash were seeded
        # with the key itself, which only this path has.
        return Repeat(submission, _code_again(submission, receipt_nonce, key))
    return Repeat(submission, None)


def find_same_text(
    session: DbSession,
    receipt_nonce: str | None,
    subject: str,
    body: str,
    now: datetime | None = None,
) -> Repeat | None:
    """Return what this browser session sent last with the same subject and
    text within REPEAT_WINDOW, with its access code, if it sent any.

    Going back and sending again brings a new form key but the same session
    nonce: the author is shown the first receipt rather than a second case.
    """
    if not receipt_nonce:
        return None
    submission = session.scalar(
        select(Submission)
        .where(
            Submission.receipt_nonce_hash
            == keyed_hash(RECEIPT_NONCE_PURPOSE, receipt_nonce),
            Submission.created_at > (now or utcnow()) - REPEAT_WINDOW,
            Submission.subject == subject,
            Submission.body == body,
        )
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(1)
    )
    if submission is None:
        return None
    return Repeat(submission, _code_again(submission, receipt_nonce))


def _code_again(submission: Submission, receipt_nonce: str, *seeds: str) -> str | None:
    """Derive the submission's access code again from its form key's hash
    (or another seed), checked against its stored hash; None if none gives it."""
    for seed in (submission.form_key_hash, *seeds):
        if not seed:
            continue
        code = tracking.new_access_code(seed, receipt_nonce)
        if hmac.compare_digest(tracking.hash_code(code), submission.access_code_hash):
            return code
    return None


def _new_reference(session: DbSession, received_at: datetime) -> str:
    """Return an unused reference of the day: its digits random, so that the
    numbers say neither how many came nor where a 举报 sits among them."""
    config = current_app.config
    local_day = deadlines.local_date(received_at, config["TIME_ZONE"])
    for _try in range(REFERENCE_TRIES):
        # Stored as every lookup reads it, whatever the prefix's case.
        candidate = tracking.normalise_reference(
            f"{config['REFERENCE_PREFIX']}{local_day:%Y%m%d}-"
            f"{secrets.randbelow(10**REFERENCE_DIGITS):0{REFERENCE_DIGITS}d}"
        )
        if find_by_reference(session, candidate) is None:
            return candidate
    raise RuntimeError(f"no unused reference number left for {local_day}")


def find_by_reference(session: DbSession, reference: str) -> Submission | None:
    """Return the submission with a reference number as typed, if there is one.

    Typed in any case, with spaces or full-width characters (see
    :func:`tracking.normalise_reference`).
    """
    return session.scalar(
        select(Submission).where(
            Submission.reference == tracking.normalise_reference(reference)
        )
    )


def by_reference(session: DbSession, reference: str) -> Submission:
    """Return the submission with a reference number as typed; refuse one that has none."""
    found = find_by_reference(session, reference)
    if found is None:
        raise SubmissionError(_("没有这个编号。"))
    return found


def triage_due(session: DbSession, kind: SubmissionKind, received_at: datetime) -> date:
    """Return when the acceptance decision is due.

    TRIAGE_DAYS under the configured mode; a 举报's acceptance notice is due
    within MISCONDUCT_NOTICE_WORKING_DAYS working days, whatever the mode.
    """
    config = current_app.config
    if kind is SubmissionKind.MISCONDUCT:
        return deadlines.due_for(
            session,
            received_at,
            config["MISCONDUCT_NOTICE_WORKING_DAYS"],
            deadlines.DeadlineMode.WORKING,
        )
    return deadlines.due_for(session, received_at, config["TRIAGE_DAYS"])


def submit(
    session: DbSession,
    *,
    kind: SubmissionKind,
    subject: str,
    body: str,
    author: Author,
    problem: Problem | None = None,
    channel: Channel = Channel.WEB,
    publish_consent: bool = False,
    language: str = Language.SIMPLIFIED,
    form_key: str | None = None,
    receipt_nonce: str | None = None,
    uploads: list[attachments.Upload] | None = None,
    received_at: datetime | None = None,
    actor_label: str = "citizen",
    actor: StaffUser | None = None,
) -> Receipt:
    """Record a submission with its files, reference and access code.

    ``form_key`` is the form's one-time key: only its keyed hash is kept, and
    a second submission with the same key fails on its unique constraint, so
    look for the first with :func:`find_by_form_key` before. ``receipt_nonce``
    is the sending browser session's nonce, which with the key's hash gives
    the same code again to that browser (:func:`find_same_text` too). The files are written and synced before this
    returns; the caller commits, and on failure removes ``receipt.written``
    with ``attachments.discard``. When the auto-routing setting allows, the
    submission is routed at once. ``actor_label`` says in the audit log who
    handed it in, e.g. which Open311 key. ``language`` is the page's
    language and script (a :class:`Language` value), in which the author's e-mails
    are written; what came by mail or Open311 keeps the default.
    """
    if not subject.strip():
        raise SubmissionError(_l("请填写标题。"), field="subject")
    if not body.strip():
        raise SubmissionError(_l("请填写内容。"), field="body")
    if author.name and not (author.phone or author.email):
        raise SubmissionError(
            _l("实名提交请留下电话或电子邮箱，至少一项。"), field="phone"
        )
    key = _form_key(form_key)
    nonce = receipt_nonce if key else None
    key_hash = keyed_hash(FORM_KEY_PURPOSE, key) if key else None
    config = current_app.config
    code = tracking.new_access_code(key_hash, nonce)
    received_at = received_at or utcnow()  # staff give the date a letter came
    submission = Submission(
        kind=kind,
        channel=channel,
        reference=_new_reference(session, received_at),
        subject=subject,
        body=body,
        problem=problem,
        anonymous=author.anonymous,
        author_name=author.name,
        author_phone=author.phone,
        author_email=author.email,
        publish_consent=publish_consent,
        language=language if language in set(Language) else Language.SIMPLIFIED,
        access_code_hash=tracking.hash_code(code),
        form_key_hash=key_hash,
        receipt_nonce_hash=keyed_hash(RECEIPT_NONCE_PURPOSE, nonce) if nonce else None,
        received_at=received_at,
        triage_due_on=triage_due(session, kind, received_at),
    )
    session.add(submission)
    session.flush()
    written = attachments.store(session, submission, uploads or [])
    # Typed in by staff (a phone call, a letter): the log names who did it.
    audit.record(
        session,
        AuditAction.SUBMITTED,
        submission,
        actor=actor,
        actor_label=None if actor else actor_label,
    )
    mailed = notifications.receipt(session, submission, code)
    if config["AUTO_ROUTE"]:
        triage.auto_route(session, submission)
    return Receipt(submission, code, mailed=mailed, written=tuple(written))
