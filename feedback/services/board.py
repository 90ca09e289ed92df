"""The rectification board: reading rounds and problems, and the lead's edits to them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from feedback.chinese import to_simplified
from feedback.db import DbSession
from feedback.models import Aspect
from feedback.models import AuditAction
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import ProgressUpdate
from feedback.models import Reply
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import status_kind
from feedback.models import STATUS_WORDS
from feedback.models import StatusChange
from feedback.models import StatusKind
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import audit
from feedback.services import DomainError
from feedback.services import public_replies

_BOARD_LOAD = (
    selectinload(Inspection.aspects)
    .selectinload(Aspect.problems)
    .selectinload(Problem.section),
)


class BoardError(DomainError):
    """An edit to the board breaks a rule."""


def rounds(session: DbSession) -> list[Inspection]:
    """Return every round, the newest publication first, its board loaded."""
    return list(
        session.scalars(
            select(Inspection)
            .options(*_BOARD_LOAD)
            .order_by(Inspection.published_on.desc().nulls_last(), Inspection.id.desc())
        )
    )


def newest_round(session: DbSession) -> Inspection | None:
    """Return the round published last, with its aspects and problems loaded."""
    return session.execute(
        select(Inspection)
        .options(*_BOARD_LOAD)
        .order_by(Inspection.published_on.desc().nulls_last(), Inspection.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def get_round(session: DbSession, round_id: int) -> Inspection | None:
    """Return one round with its aspects and problems loaded."""
    return session.get(Inspection, round_id, options=_BOARD_LOAD)


@dataclass
class AspectCounts:
    """How one aspect's problems stand."""

    aspect: Aspect
    total: int = 0
    by_kind: Counter[StatusKind | None] = field(default_factory=Counter)


@dataclass
class BoardCounts:
    """How a round's problems stand, by published word, by kind and by aspect."""

    total: int = 0
    by_word: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[StatusKind | None] = field(default_factory=Counter)
    aspects: list[AspectCounts] = field(default_factory=list)

    def share(self, kind: StatusKind | None) -> int:
        """Return the whole-number percentage of problems of ``kind``."""
        return round(100 * self.by_kind[kind] / self.total) if self.total else 0


def count(inspection: Inspection) -> BoardCounts:
    """Count a round's problems by status word, by kind and per aspect."""
    counts = BoardCounts()
    for aspect in inspection.aspects:
        row = AspectCounts(aspect=aspect)
        for problem in aspect.problems:
            row.total += 1
            row.by_kind[problem.status_kind] += 1
            counts.total += 1
            counts.by_word[problem.status_word or "未注明"] += 1
            counts.by_kind[problem.status_kind] += 1
        counts.aspects.append(row)
    return counts


def matching_problem_ids(
    session: DbSession,
    inspection: Inspection,
    *,
    kind: StatusKind | None = None,
    section_id: int | None = None,
    aspect_id: int | None = None,
    query: str = "",
) -> set[int]:
    """Return the ids of the round's problems that pass the filters.

    The query is a substring search, so it works for Chinese without word
    splitting; typed in either script, it is compared in simplified.
    """
    statement = (
        select(Problem.id).join(Aspect).where(Aspect.inspection_id == inspection.id)
    )
    if kind is not None:
        statement = statement.where(Problem.status_kind == kind)
    if section_id is not None:
        statement = statement.where(Problem.section_id == section_id)
    if aspect_id is not None:
        statement = statement.where(Problem.aspect_id == aspect_id)
    for word in to_simplified(query).split():
        statement = statement.where(
            or_(
                Problem.title.icontains(word, autoescape=True),
                Problem.details.icontains(word, autoescape=True),
                Problem.measures.icontains(word, autoescape=True),
                Aspect.title.icontains(word, autoescape=True),
            )
        )
    return set(session.scalars(statement))


def all_problems(session: DbSession) -> list[Problem]:
    """Return every problem of the newest round, for choosing one in a form."""
    inspection = newest_round(session)
    if inspection is None:
        return []
    return [p for aspect in inspection.aspects for p in aspect.problems]


@dataclass(frozen=True)
class TimelineEntry:
    """One dated line in a problem's history."""

    on: date
    change: StatusChange | None = None
    update: ProgressUpdate | None = None

    @property
    def text(self) -> str:
        """Return what the line says: the change's reason or the update's text."""
        if self.change is not None:
            return self.change.reason
        assert self.update is not None, "an entry is a change or an update"
        return self.update.body


def timeline(problem: Problem, *, today: date | None = None) -> list[TimelineEntry]:
    """Merge a problem's status changes and progress updates, oldest first.

    With ``today``, progress updates dated later are left out: they are
    published on their date.
    """
    entries = [TimelineEntry(c.effective_on, change=c) for c in problem.status_changes]
    entries += [
        TimelineEntry(u.published_on, update=u)
        for u in problem.progress_updates
        if today is None or u.published_on <= today
    ]
    return sorted(entries, key=lambda e: (e.on, e.update is not None))


@dataclass(frozen=True)
class PublicOpinions:
    """What the public may see of the opinions about a problem."""

    count: int
    replies: list[Reply]
    more: bool = False  # older published replies are in the list of replies


def public_opinions(
    session: DbSession, problem: Problem, *, size: int = public_replies.PAGE_SIZE
) -> PublicOpinions:
    """Count opinions about a problem and list the newest replies the lead published.

    Misconduct reports (举报) are left out entirely, counts included.
    """
    about = (Submission.problem_id == problem.id) & (
        Submission.kind != SubmissionKind.MISCONDUCT
    )
    total = session.scalar(select(func.count()).select_from(Submission).where(about))
    newest = public_replies.page(
        session, public_replies.Filters(problem_id=problem.id), size=size
    )
    return PublicOpinions(
        count=total or 0, replies=newest.items, more=newest.next_after is not None
    )


def change_status(
    session: DbSession,
    problem: Problem,
    word: str,
    *,
    reason: str,
    effective_on: date,
    actor: StaffUser,
) -> StatusChange:
    """Give a problem a new published status and record the change in its history."""
    word = word.strip()
    if word not in STATUS_WORDS:
        raise BoardError(_l("没有“%(word)s”这个整改状态。", word=word), field="word")
    if not reason.strip():
        raise BoardError(_l("请写明改变整改状态的理由。"), field="reason")
    if word == problem.status_word:
        raise BoardError(_l("这个问题已经是这个整改状态了。"), field="word")
    return set_status(
        session,
        problem,
        word,
        reason=reason,
        effective_on=effective_on,
        actor=actor,
        audit_reason=f"{problem.status_word} -> {word}: {reason}",
    )


def set_status(
    session: DbSession,
    problem: Problem,
    word: str,
    *,
    reason: str,
    effective_on: date,
    actor: StaffUser | None,
    audit_reason: str,
) -> StatusChange:
    """Give ``problem`` the status ``word``, with its history entry and audit row.

    ``reason`` is what the history shows; ``audit_reason`` what the audit
    trail says.
    """
    change = StatusChange(
        problem=problem,
        from_word=problem.status_word,
        to_word=word,
        to_kind=status_kind(word),
        reason=reason,
        effective_on=effective_on,
        actor=actor,
    )
    session.add(change)
    problem.status_word = word
    problem.status_kind = status_kind(word)
    session.flush()
    audit.record(
        session,
        AuditAction.STATUS_CHANGED,
        problem,
        actor=actor,
        reason=audit_reason,
    )
    return change


def add_progress(
    session: DbSession,
    problem: Problem,
    body: str,
    *,
    published_on: date,
    actor: StaffUser,
) -> ProgressUpdate:
    """Add a dated progress note; it is public from ``published_on`` on."""
    if not body.strip():
        raise BoardError(_l("请填写整改进展。"), field="body")
    update = ProgressUpdate(problem=problem, body=body, published_on=published_on)
    update.actor_id = actor.id
    session.add(update)
    session.flush()
    audit.record(
        session,
        AuditAction.PROGRESS_ADDED,
        problem,
        actor=actor,
        reason=f"{published_on.isoformat()}: {body[:200]}",
    )
    return update


EDITABLE = ("title", "details", "measures", "deadline", "section")


def edit_problem(
    session: DbSession,
    problem: Problem,
    *,
    actor: StaffUser,
    title: str,
    details: str,
    measures: str,
    deadline: date | None,
    section: Section | None,
) -> list[str]:
    """Change a problem's text, deadline and section; return what changed."""
    if not title.strip():
        raise BoardError(_l("请填写问题标题。"), field="title")
    new = {
        "title": title,
        "details": details,
        "measures": measures,
        "deadline": deadline,
        "section": section,
    }
    changed = [name for name in EDITABLE if getattr(problem, name) != new[name]]
    for name in changed:
        setattr(problem, name, new[name])
    if changed:
        session.flush()
        audit.record(
            session,
            AuditAction.PROBLEM_EDITED,
            problem,
            actor=actor,
            reason=", ".join(changed),
        )
    return changed


@dataclass(frozen=True)
class FeedEntry:
    """One line of a round's Atom feed: a status change or a progress update."""

    key: str  # stable, unique within the round: "change-3", "update-7"
    problem: Problem
    on: date
    updated: datetime
    change: StatusChange | None = None
    update: ProgressUpdate | None = None


FEED_SIZE = 100


def feed_entries(
    session: DbSession, inspection: Inspection, *, today: date
) -> list[FeedEntry]:
    """Return a round's newest status changes and published progress updates."""
    in_round = Aspect.inspection_id == inspection.id
    changes = session.scalars(
        select(StatusChange)
        .join(Problem)
        .join(Aspect)
        .where(in_round)
        .order_by(StatusChange.effective_on.desc(), StatusChange.id.desc())
        .limit(FEED_SIZE)
    )
    updates = session.scalars(
        select(ProgressUpdate)
        .join(Problem)
        .join(Aspect)
        .where(in_round, ProgressUpdate.published_on <= today)
        .order_by(ProgressUpdate.published_on.desc(), ProgressUpdate.id.desc())
        .limit(FEED_SIZE)
    )
    entries = [
        FeedEntry(f"change-{c.id}", c.problem, c.effective_on, c.created_at, change=c)
        for c in changes
    ] + [
        FeedEntry(f"update-{u.id}", u.problem, u.published_on, u.created_at, update=u)
        for u in updates
    ]
    entries.sort(key=lambda e: (e.on, e.updated), reverse=True)
    return entries[:FEED_SIZE]
