"""What the public may see of submissions as Open311 service requests: which, and when.

The list mirrors the public list of replies (DOMAIN.md): reference number,
dates, the section that answers and the reply the lead published. Misconduct
reports (举报) and spam are never listed, and nothing a citizen wrote or
anything about who they are leaves through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from feedback.db import DbSession
from feedback.models import Reply
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import tracking

# The kinds offered and listed; a 举报 reaches only the lead, by the web form.
LISTED_KINDS = (
    SubmissionKind.OPINION,
    SubmissionKind.SUGGESTION,
    SubmissionKind.COMPLAINT,
)
# Open311 knows two statuses. Open: still waiting for the bureau (to be
# triaged, or for the section's reply). Closed: the bureau has answered or
# decided (replied, closed after rating, not accepted, a repeat). A reopened
# submission goes back to routed, and so to open.
OPEN_STATES = frozenset({SubmissionState.RECEIVED, SubmissionState.ROUTED})
CLOSED_STATES = frozenset(
    {
        SubmissionState.REPLIED,
        SubmissionState.CLOSED,
        SubmissionState.NOT_ACCEPTED,
        SubmissionState.DUPLICATE,
    }
)
STATES_BY_STATUS = {"open": OPEN_STATES, "closed": CLOSED_STATES}
# The specification's response volume: 90 days or 1000 requests, the smaller.
MAX_SPAN = timedelta(days=90)
LIMIT = 1000


def _state() -> ColumnElement[SubmissionState]:
    """The state, wrapped so that no planner reads the (state, received_at) index.

    A list is at most 90 days of one index on received_at, read newest first
    until 1000 match; through the state index instead, every match of the
    window would be sorted first (see bench/open311.py).
    """
    return func.coalesce(Submission.state, Submission.state)


def _listed() -> ColumnElement[bool]:
    return Submission.kind.in_(LISTED_KINDS) & _state().in_(OPEN_STATES | CLOSED_STATES)


def status(submission: Submission) -> str:
    """Return the Open311 status of a listed submission: open or closed."""
    return "open" if submission.state in OPEN_STATES else "closed"


def published_replies(
    session: DbSession, submissions: list[Submission]
) -> dict[int, Reply]:
    """Return the newest reply the lead published of each submission that has one."""
    ids = [s.id for s in submissions]
    newest: dict[int, Reply] = {}
    for start in range(0, len(ids), 500):  # well under every database's bind limit
        found = session.scalars(
            select(Reply)
            .where(
                Reply.submission_id.in_(ids[start : start + 500]),
                Reply.published_at.is_not(None),
            )
            .order_by(Reply.published_at)
        )
        newest.update((reply.submission_id, reply) for reply in found)
    return newest


def updated_at(submission: Submission, published: Reply | None) -> datetime:
    """Return when the handling last changed in a way the public may know of.

    ``published`` is the submission's published reply, if any.
    """
    moments = [
        submission.received_at,
        submission.accepted_at,
        submission.decided_at,
        submission.extended_at,
        submission.replied_at,
        submission.closed_at,
        submission.reopened_at,
    ]
    if published is not None:
        moments.append(published.published_at)
    return max(m for m in moments if m is not None)


def expected_on(submission: Submission) -> date | None:
    """Return the day by which the bureau owes the next step, while it is open.

    Waiting for triage, that is the triage deadline; routed, the (possibly
    extended) reply deadline.
    """
    if submission.state not in OPEN_STATES:
        return None
    return submission.due_on or submission.triage_due_on


def find(session: DbSession, reference: str) -> Submission | None:
    """Return the listed submission with this reference number, or None."""
    return session.scalar(
        select(Submission).where(
            Submission.reference == tracking.normalise_reference(reference), _listed()
        )
    )


@dataclass(frozen=True)
class Query:
    """What a client asked the list for; references override everything else."""

    references: tuple[str, ...] = ()
    kinds: tuple[SubmissionKind, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()


def window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """Fill in a missing end of the date range: by default the last 90 days."""
    if end is None:
        end = now if start is None else start + MAX_SPAN
    if start is None:
        start = end - MAX_SPAN
    return start, end


def search(session: DbSession, query: Query, *, now: datetime) -> list[Submission]:
    """Return at most LIMIT listed submissions matching ``query``, newest first."""
    found = (
        select(Submission)
        .where(_listed())
        .options(selectinload(Submission.section))
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .limit(LIMIT)
    )
    if query.references:
        typed = [tracking.normalise_reference(r) for r in query.references]
        found = found.where(Submission.reference.in_(typed))
    else:
        start, end = window(query.start, query.end, now)
        found = found.where(
            Submission.received_at >= start, Submission.received_at <= end
        )
        if query.kinds:
            found = found.where(Submission.kind.in_(query.kinds))
        if query.statuses:
            states = frozenset().union(*(STATES_BY_STATUS[s] for s in query.statuses))
            found = found.where(_state().in_(states))
    return list(session.scalars(found))
