"""The lead's work queues: which submissions wait for what, filtered and paged by keyset.

Pages use keyset pagination on (received_at, id), and counts stop at
COUNT_CAP, so a queue answers in about the same time with a thousand or a
million submissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import UTC

from sqlalchemy import and_
from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy import true

from feedback.db import DbSession
from feedback.models import Rating
from feedback.models import Reply
from feedback.models import ReplyState
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import tracking

PAGE_SIZE = 50
COUNT_CAP = 1000
QUEUE_NAMES = (
    "new",
    "awaiting",
    "drafts",
    "overdue",
    "due_soon",
    "asked",
    "dissatisfied",
    "all",
)


def condition(name: str, today: date, soon_days: int) -> ColumnElement[bool]:
    """Return the SQL condition of a queue."""
    received = Submission.state == SubmissionState.RECEIVED
    routed = Submission.state == SubmissionState.ROUTED
    if name == "new":
        return received
    if name == "awaiting":
        return routed
    if name == "drafts":
        # From the replies side: drafts are few, submissions may be millions.
        # Only a case that still waits for an answer offers its draft (rows
        # from before drafts were retired may hold one on a closed case).
        return and_(
            routed,
            Submission.id.in_(
                select(Reply.submission_id).where(Reply.state == ReplyState.DRAFT)
            ),
        )
    if name == "overdue":
        return or_(
            and_(routed, Submission.due_on < today),
            and_(received, Submission.triage_due_on < today),
        )
    if name == "due_soon":
        return and_(
            routed,
            Submission.due_on >= today,
            Submission.due_on <= today + timedelta(days=soon_days),
        )
    if name == "all":
        return true()
    if name == "asked":
        return Submission.info_pending.is_(True)
    if name == "dissatisfied":
        # Rating closes a submission, and reopening or keeping it closed marks
        # the rating reviewed: no state test is needed, and without one the
        # (rating, received_at, id) index answers.
        return and_(
            Submission.rating == Rating.DISSATISFIED,
            Submission.rating_reviewed_at.is_(None),
        )
    raise ValueError(name)


@dataclass(frozen=True)
class Filters:
    """What the lead narrowed a queue to."""

    kind: SubmissionKind | None = None
    state: SubmissionState | None = None
    section_id: int | None = None
    problem_id: int | None = None
    received_after: datetime | None = None  # the start of the first day, bureau time
    received_before: datetime | None = None  # the start of the day after the last
    text: str = ""

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.kind is not None:
            found.append(Submission.kind == self.kind)
        if self.state is not None:
            found.append(Submission.state == self.state)
        if self.section_id is not None:
            found.append(Submission.section_id == self.section_id)
        if self.problem_id is not None:
            found.append(Submission.problem_id == self.problem_id)
        if self.received_after is not None:
            found.append(Submission.received_at >= self.received_after)
        if self.received_before is not None:
            found.append(Submission.received_at < self.received_before)
        if self.text.strip():
            word = self.text.strip()
            found.append(
                or_(
                    Submission.reference == tracking.normalise_reference(word),
                    Submission.subject.icontains(word, autoescape=True),
                    Submission.body.icontains(word, autoescape=True),
                )
            )
        return found


@dataclass(frozen=True)
class Page:
    """One page of a queue and where the next one starts."""

    items: list[Submission]
    next_after: str | None


def parse_after(value: str | None) -> tuple[datetime, int] | None:
    """Read a page cursor ``<iso datetime>_<id>``; None when absent or malformed.

    Only what this module writes is accepted: an aware time and an id that a
    database column can hold, so an edited link never reaches the query.
    """
    if not value or "_" not in value:
        return None
    moment, _sep, ident = value.rpartition("_")
    try:
        parsed, number = datetime.fromisoformat(moment), int(ident)
        if parsed.tzinfo is None or not 0 <= number < 2**63:
            return None
        return parsed.astimezone(UTC), number
    except (ValueError, OverflowError):
        return None


# The overdue queue lists the oldest (the most overdue) first.
OLDEST_FIRST = frozenset({"overdue"})


def _after(
    query: Select[Submission],
    after: tuple[datetime, int] | None,
    oldest_first: bool,
) -> Select[Submission]:
    if after is None:
        return query
    moment, ident = after
    if oldest_first:
        return query.where(
            or_(
                Submission.received_at > moment,
                and_(Submission.received_at == moment, Submission.id > ident),
            )
        )
    return query.where(
        or_(
            Submission.received_at < moment,
            and_(Submission.received_at == moment, Submission.id < ident),
        )
    )


def page(
    session: DbSession,
    name: str,
    filters: Filters,
    *,
    today: date,
    soon_days: int,
    after: tuple[datetime, int] | None = None,
) -> Page:
    """Return a page of a queue (newest first; overdue oldest first) after the cursor."""
    oldest_first = name in OLDEST_FIRST
    order = (
        (Submission.received_at.asc(), Submission.id.asc())
        if oldest_first
        else (Submission.received_at.desc(), Submission.id.desc())
    )
    # The overdue queue is two kinds of lateness, each read along its own
    # (state, received_at, id) index and merged. The due dates are wrapped in
    # coalesce() so that no planner takes the due-date index instead and sorts
    # every late submission; the page then stops after PAGE_SIZE rows.
    parts = (
        [
            and_(
                Submission.state == SubmissionState.ROUTED,
                func.coalesce(Submission.due_on, Submission.due_on) < today,
            ),
            and_(
                Submission.state == SubmissionState.RECEIVED,
                func.coalesce(Submission.triage_due_on, Submission.triage_due_on)
                < today,
            ),
        ]
        if name == "overdue"
        else [condition(name, today, soon_days)]
    )
    items: list[Submission] = []
    for part in parts:
        query = (
            select(Submission)
            .where(part, *filters.conditions())
            .order_by(*order)
            .limit(PAGE_SIZE + 1)
        )
        items += session.scalars(_after(query, after, oldest_first))
    items.sort(key=lambda s: (s.received_at, s.id), reverse=not oldest_first)
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    cursor = (
        f"{items[-1].received_at.isoformat()}_{items[-1].id}"
        if more and items
        else None
    )
    return Page(items, cursor)


def count(session: DbSession, name: str, today: date, soon_days: int) -> int:
    """Count a queue, stopping at COUNT_CAP (shown as "1000+")."""
    inner = (
        select(Submission.id)
        .where(condition(name, today, soon_days))
        .limit(COUNT_CAP)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(inner)) or 0
