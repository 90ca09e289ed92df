"""Reading the rectification board: the newest round and its counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm import Session

from feedback.models import Aspect
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import ProgressUpdate
from feedback.models import StatusChange
from feedback.models import StatusKind


def newest_round(session: Session) -> Inspection | None:
    """Return the round published last, with its aspects and problems loaded."""
    return session.execute(
        select(Inspection)
        .options(
            selectinload(Inspection.aspects)
            .selectinload(Aspect.problems)
            .selectinload(Problem.section)
        )
        .order_by(Inspection.published_on.desc().nulls_last(), Inspection.id.desc())
        .limit(1)
    ).scalar_one_or_none()


@dataclass
class BoardCounts:
    """How many problems a round has, by published word and by kind."""

    total: int = 0
    by_word: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[StatusKind | None] = field(default_factory=Counter)


def count(inspection: Inspection) -> BoardCounts:
    """Count a round's problems by status word and kind."""
    counts = BoardCounts()
    for aspect in inspection.aspects:
        for problem in aspect.problems:
            counts.total += 1
            counts.by_word[problem.status_word or "未注明"] += 1
            counts.by_kind[problem.status_kind] += 1
    return counts


def all_problems(session: Session) -> list[Problem]:
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


def timeline(problem: Problem) -> list[TimelineEntry]:
    """Merge a problem's status changes and progress updates, oldest first."""
    entries = [TimelineEntry(c.effective_on, change=c) for c in problem.status_changes]
    entries += [
        TimelineEntry(u.published_on, update=u) for u in problem.progress_updates
    ]
    return sorted(entries, key=lambda e: (e.on, e.update is not None))
