"""The public record of replies: what the lead published, filtered and paged.

A reply is public once the lead has published it (``replies.publish``), and
never when it answers a misconduct report (举报), whatever its row says: the
query checks the kind again. Pages use keyset pagination on
``(published_at, id)``, newest first, so a page costs the same at any depth.
Each reply is shown with the question it answers, masked as the reply was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_
from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm import selectinload

from feedback import masking
from feedback.db import DbSession
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import Reply
from feedback.models import ReplyState
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import queues

PAGE_SIZE = 20
# The kinds whose replies may be public; a 举报's never is.
PUBLIC_KINDS = tuple(k for k in SubmissionKind if k is not SubmissionKind.MISCONDUCT)


def is_public() -> ColumnElement[bool]:
    """Return the condition a reply (joined to its submission) meets to be public.

    The state is wrapped in coalesce() so that no planner reads the list
    along the state index (nearly every reply is approved) and sorts them
    all, instead of walking the publication times newest first.
    """
    return and_(
        Reply.published_at.is_not(None),
        Reply.published_body.is_not(None),
        func.coalesce(Reply.state, Reply.state) == ReplyState.APPROVED,
        Submission.kind.in_(PUBLIC_KINDS),
    )


def month_span(first_day: date, time_zone: str) -> tuple[datetime, datetime]:
    """Return the start of ``first_day``'s month and of the next, in the bureau's zone."""
    zone = ZoneInfo(time_zone)
    start = datetime(first_day.year, first_day.month, 1, tzinfo=zone)
    following = date(
        first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1
    )
    return start, datetime(following.year, following.month, 1, tzinfo=zone)


@dataclass(frozen=True)
class Filters:
    """What a reader narrowed the list to."""

    section_id: int | None = None
    problem_id: int | None = None
    kind: SubmissionKind | None = None
    published_after: datetime | None = None  # the start of a month, bureau time
    published_before: datetime | None = None  # the start of the month after

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.section_id is not None:
            found.append(Reply.section_id == self.section_id)
        if self.problem_id is not None:
            found.append(Submission.problem_id == self.problem_id)
        if self.kind is not None:
            found.append(Submission.kind == self.kind)
        if self.published_after is not None:
            found.append(Reply.published_at >= self.published_after)
        if self.published_before is not None:
            found.append(Reply.published_at < self.published_before)
        return found


def listing(filters: Filters) -> Select[Reply]:
    """Return the query of public replies that pass ``filters``, newest first.

    Each reply comes with what its entry shows: the submission's reference
    and dates, its problem and the replying section.
    """
    return (
        select(Reply)
        .join(Reply.submission)
        .where(is_public(), *filters.conditions())
        .options(
            contains_eager(Reply.submission)
            .selectinload(Submission.problem)
            .selectinload(Problem.aspect),
            selectinload(Reply.section),
        )
        .order_by(Reply.published_at.desc(), Reply.id.desc())
    )


def bureau_contacts(session: DbSession) -> list[str]:
    """Return the bureau's own published phone numbers and e-mail addresses.

    They are the notices' supervision channels and the public mailbox; the
    public may use them, so masking leaves them.
    """
    found = [current_app.config["PUBLIC_MAIL_ADDRESS"]]
    for stored in session.scalars(select(Inspection.contacts)):
        channels = json.loads(stored or "{}")
        found += channels.get("phone", []) + channels.get("email", [])
    return found


def mask(session: DbSession, text: str, submission: Submission) -> str:
    """Return ``text`` about ``submission`` with its author's personal data
    masked and the bureau's published contacts left."""
    return masking.mask(text, [submission.author_name or ""], bureau_contacts(session))


@dataclass(frozen=True)
class Question:
    """What a published reply answers: the submission's subject and text, masked."""

    subject: str
    body: str


def questions(session: DbSession, items: list[Reply]) -> dict[int, Question]:
    """Return, by reply id, the question each public reply answers.

    Only for authors who agreed to publication (a reply of theirs is public
    only then, but the question is checked on its own), and never a 举报's.
    """
    contacts = bureau_contacts(session)
    found = {}
    for reply in items:
        submission = reply.submission
        if not submission.publish_consent or submission.is_misconduct:
            continue
        names = [submission.author_name or ""]
        found[reply.id] = Question(
            masking.mask(submission.subject, names, contacts),
            masking.mask(submission.body, names, contacts),
        )
    return found


@dataclass(frozen=True)
class Page:
    """One page of the list and where the next (older) one starts."""

    items: list[Reply]
    next_after: str | None


def page(
    session: DbSession,
    filters: Filters,
    *,
    after: tuple[datetime, int] | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """Return up to ``size`` public replies published before the cursor."""
    query = listing(filters).limit(size + 1)
    if after is not None:
        moment, ident = after
        query = query.where(
            or_(
                Reply.published_at < moment,
                and_(Reply.published_at == moment, Reply.id < ident),
            )
        )
    items = list(session.scalars(query))
    more = len(items) > size
    items = items[:size]
    cursor = None
    if more and items:
        last = items[-1]
        assert last.published_at is not None  # listing() holds published replies only
        cursor = f"{last.published_at.isoformat()}_{last.id}"
    return Page(items, cursor)


def count(session: DbSession, filters: Filters) -> int:
    """Count the public replies that pass ``filters``, stopping at the queues' cap."""
    inner = (
        select(Reply.id)
        .join(Reply.submission)
        .where(is_public(), *filters.conditions())
        .limit(queues.COUNT_CAP)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(inner)) or 0


def sections(session: DbSession) -> list[Section]:
    """Return every section by name, those closed since included: their replies stay."""
    return list(session.scalars(select(Section).order_by(Section.name)))
