"""Statistics of submissions, computed by aggregate SQL: counts, rates, days to reply, trend.

Definitions (docs/statistics.md explains them for readers):

- *accepted* (受理): routed to a section at some time (``accepted_at`` set) or
  answered directly by the lead (``replied_at`` set);
- *replied* (已答复): a reply was approved (``replied_at`` set), whatever
  happened after (closed, reopened);
- *reply rate* = replied / accepted;
- *days to reply*: calendar days from the day of receipt to the day of the
  approved reply, both in the bureau's time zone, the day of receipt not
  counted (a reply the next day took 1 day, the same day 0);
- *on time*: replied on or before ``due_on`` (which includes an extension);
  *on-time rate* = on time / (replied with a due date + accepted, unreplied
  ones whose due date has passed), so a reply still within its time does not
  count either way yet, and a missed one counts against before it is answered;
- *median* and *90th percentile* use the nearest rank: the value at rank
  ceil(p/100 × n) of the days sorted ascending (the median of an even count
  is the lower middle value); always a number of days that really occurred.

Each query groups in the database and returns a few hundred rows at most,
whatever the number of submissions; Python only adds those rows up.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import time
from typing import Generic
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import Integer
from sqlalchemy import Label
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import RowMapping
from sqlalchemy import select
from sqlalchemy import SQLColumnExpression
from sqlalchemy.orm import selectinload

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import Aspect
from feedback.models import Channel
from feedback.models import Problem
from feedback.models import Rating
from feedback.models import Role
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState

# The trend shows this many months when no period is chosen.
DEFAULT_TREND_MONTHS = 12
# A chosen period may span at most this many months.
MAX_PERIOD_MONTHS = 60
# The lead's page lists this many of the newest reasons given with a rating.
RECENT_REASONS = 20

E = TypeVar("E", bound=enum.StrEnum)


class Audience(enum.StrEnum):
    """Who the figures are for, which decides what they may include."""

    PUBLIC = "public"
    ADMIN = "admin"  # aggregates of the whole bureau, without 举报
    SECTION = "section"  # one section's own submissions
    LEAD = "lead"  # everything, 举报 and spam included, and the reasons


@dataclass(frozen=True)
class Scope:
    """Which submissions the figures count."""

    audience: Audience
    section_id: int | None = None

    @property
    def misconduct(self) -> bool:
        """Return whether 举报 are counted (for the lead only)."""
        return self.audience is Audience.LEAD

    @property
    def spam(self) -> bool:
        """Return whether spam is counted (never publicly)."""
        return self.audience is not Audience.PUBLIC

    @property
    def reasons(self) -> bool:
        """Return whether the citizens' reasons for a rating are listed."""
        return self.audience is Audience.LEAD


PUBLIC = Scope(Audience.PUBLIC)


def scope_for(user: StaffUser) -> Scope:
    """Return what a staff member's statistics page may count."""
    if user.role is Role.LEAD:
        return Scope(Audience.LEAD)
    if user.role is Role.SECTION:
        # A section without a section_id sees nothing rather than everything.
        return Scope(Audience.SECTION, section_id=user.section_id or -1)
    return Scope(Audience.ADMIN)


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """Read ``YYYY-MM``; raise ValueError otherwise."""
        year, _sep, month = text.partition("-")
        value = cls(int(year), int(month))
        if not 1 <= value.month <= 12 or not 1 <= value.year <= 9999:
            raise ValueError(text)
        return value

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def months_between(first: Month, last: Month) -> list[Month]:
    """Return every month from ``first`` to ``last``, both included."""
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [first.shift(n) for n in range(max(count, 0))]


@dataclass(frozen=True)
class Filters:
    """The period (months of receipt, both included) and round to count."""

    first: Month | None = None
    last: Month | None = None
    round_id: int | None = None


@dataclass
class Performance:
    """How a set of submissions was handled."""

    received: int = 0
    accepted: int = 0
    replied: int = 0
    # Replied with a due date, plus accepted unreplied ones past their due date.
    due: int = 0
    on_time: int = 0
    days: Counter[int] = field(default_factory=Counter)  # days to reply: count
    ratings: Counter[Rating] = field(default_factory=Counter)
    reasons: Counter[Rating] = field(default_factory=Counter)  # ratings with a reason

    @property
    def reply_rate(self) -> float | None:
        return self.replied / self.accepted if self.accepted else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def median_days(self) -> int | None:
        return nearest_rank(self.days, 50)

    @property
    def p90_days(self) -> int | None:
        return nearest_rank(self.days, 90)

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def content(self) -> int:
        """Return how many rated the reply satisfied or basically satisfied."""
        return self.ratings[Rating.SATISFIED] + self.ratings[Rating.BASICALLY_SATISFIED]

    def add(self, other: Performance) -> None:
        self.received += other.received
        self.accepted += other.accepted
        self.replied += other.replied
        self.due += other.due
        self.on_time += other.on_time
        self.days.update(other.days)
        self.ratings.update(other.ratings)
        self.reasons.update(other.reasons)


def nearest_rank(histogram: Counter[int], percent: int) -> int | None:
    """Return the ``percent``-th percentile of a {value: count} histogram, by nearest rank.

    That is the smallest value whose cumulative count reaches
    ceil(percent/100 × n); None when there are no values.
    """
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, -(-percent * total // 100))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to the total")


@dataclass(frozen=True)
class MonthCount:
    """Submissions received and replies approved in one month."""

    month: Month
    received: int
    replied: int


@dataclass(frozen=True)
class ReasonGiven:
    """A reason a citizen gave with a rating, for the lead."""

    submission_id: int
    reference: str | None
    kind: SubmissionKind
    rating: Rating
    reason: str
    rated_at: datetime | None


@dataclass
class Report:
    """Every figure of a statistics page."""

    scope: Scope
    filters: Filters
    trend_first: Month
    trend_last: Month
    states: list[tuple[SubmissionState, int]]
    kinds: list[tuple[SubmissionKind, int]]
    channels: list[tuple[Channel, int]]
    overall: Performance
    sections: list[tuple[Section, Performance]]
    problems: list[tuple[Problem, Performance]]
    trend: list[MonthCount]
    reasons: list[ReasonGiven]
    computed_at: datetime = field(default_factory=utcnow)

    @property
    def total(self) -> int:
        return sum(n for _state, n in self.states)


# A stored UTC time in SQL: a model's column or an expression over it.
_Moment = SQLColumnExpression[datetime | None]


class _Dialect:
    """Local dates and months of stored UTC times, in SQL, for SQLite or PostgreSQL.

    PostgreSQL converts with the zone's full rules. SQLite knows no zones and
    adds the zone's present offset from UTC: exact for Asia/Shanghai, which
    keeps no summer time.
    """

    def __init__(self, session: DbSession, tz_name: str) -> None:
        self.postgres = session.get_bind().dialect.name == "postgresql"
        offset = utcnow().astimezone(ZoneInfo(tz_name)).utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset else 0
        # Rendered inline, so that PostgreSQL sees the grouped expression in
        # SELECT and GROUP BY as the same one (not as two different parameters).
        self.zone = literal(tz_name, literal_execute=True)
        self.modifier = literal(f"{minutes:+d} minutes", literal_execute=True)

    def local_date(self, column: _Moment) -> ColumnElement[date]:
        if self.postgres:
            return func.date(func.timezone(self.zone, column))
        return func.date(column, self.modifier)

    def month(self, column: _Moment) -> ColumnElement[str]:
        if self.postgres:
            return func.to_char(
                func.timezone(self.zone, column),
                literal("YYYY-MM", literal_execute=True),
            )
        return func.strftime(
            literal("%Y-%m", literal_execute=True), column, self.modifier
        )

    def days_between(self, start: _Moment, end: _Moment) -> ColumnElement[int]:
        if self.postgres:
            return cast(self.local_date(end) - self.local_date(start), Integer)
        return cast(
            func.julianday(self.local_date(end))
            - func.julianday(self.local_date(start)),
            Integer,
        )


def _start_of(month: Month, zone: ZoneInfo) -> datetime:
    return datetime.combine(month.first_day(), time.min, tzinfo=zone)


def _population(scope: Scope, filters: Filters) -> list[ColumnElement[bool]]:
    """Return the conditions of what a scope counts, period aside."""
    found: list[ColumnElement[bool]] = []
    if not scope.misconduct:
        found.append(Submission.kind != SubmissionKind.MISCONDUCT)
    if not scope.spam:
        found.append(Submission.state != SubmissionState.SPAM)
    if scope.section_id is not None:
        found.append(Submission.section_id == scope.section_id)
    if filters.round_id is not None:
        found.append(
            Submission.problem_id.in_(
                select(Problem.id)
                .join(Aspect)
                .where(Aspect.inspection_id == filters.round_id)
            )
        )
    return found


def _received_in(
    first: Month | None, last: Month | None, zone: ZoneInfo
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if first is not None:
        found.append(Submission.received_at >= _start_of(first, zone))
    if last is not None:
        found.append(Submission.received_at < _start_of(last.shift(1), zone))
    return found


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _gave_reason() -> ColumnElement[bool]:
    """Return the condition that a citizen rated the reply and said why."""
    return and_(
        Submission.rating.is_not(None),
        Submission.rating_reason.is_not(None),
        func.length(func.trim(Submission.rating_reason)) > 0,
    )


@dataclass(frozen=True, eq=False)
class _Tally(Generic[E]):
    """Counts of the rows with each value of an enum column, one SQL column each.

    Each count is labelled ``<name>_<value>`` (``state_routed``), so that a
    row is read back by name. ``among`` narrows what is counted.
    """

    name: str
    column: SQLColumnExpression[E | None]
    values: type[E]
    among: ColumnElement[bool] | None = None

    def _label(self, value: E) -> str:
        return f"{self.name}_{value.value}"

    def columns(self) -> list[Label[int]]:
        return [
            _count_if(
                self.column == value
                if self.among is None
                else and_(self.among, self.column == value)
            ).label(self._label(value))
            for value in self.values
        ]

    def read(self, row: RowMapping) -> Counter[E]:
        """Return the counts in ``row``, leaving out the values never seen."""
        found = ((value, row[self._label(value)]) for value in self.values)
        return Counter({value: n for value, n in found if n})


def _breakdown(
    session: DbSession, where: list[ColumnElement[bool]]
) -> tuple[Counter[SubmissionState], Counter[SubmissionKind], Counter[Channel]]:
    """Count by state, kind and channel in one pass, without sorting (no GROUP BY)."""
    states = _Tally("state", Submission.state, SubmissionState)
    kinds = _Tally("kind", Submission.kind, SubmissionKind)
    channels = _Tally("channel", Submission.channel, Channel)
    columns = [*states.columns(), *kinds.columns(), *channels.columns()]
    row = session.execute(select(*columns).where(*where)).one()._mapping
    return states.read(row), kinds.read(row), channels.read(row)


def _performance_rows(
    session: DbSession,
    sql: _Dialect,
    where: list[ColumnElement[bool]],
    today: date,
) -> Iterable[tuple[int | None, int | None, Performance]]:
    """Yield (section id, problem id, figures) for groups of equal days to reply."""
    replied = Submission.replied_at.is_not(None)
    accepted = or_(Submission.accepted_at.is_not(None), replied)
    has_due = Submission.due_on.is_not(None)
    on_time = and_(
        replied, has_due, sql.local_date(Submission.replied_at) <= Submission.due_on
    )
    due = or_(
        and_(replied, has_due),
        and_(accepted, ~replied, has_due, Submission.due_on < today),
    )
    ratings = _Tally("rated", Submission.rating, Rating)
    reasons = _Tally("reason", Submission.rating, Rating, among=_gave_reason())

    days = case(
        (replied, sql.days_between(Submission.received_at, Submission.replied_at)),
        else_=None,
    )
    query = (
        select(
            Submission.section_id,
            Submission.problem_id,
            days.label("days"),
            func.count().label("received"),
            _count_if(accepted).label("accepted"),
            _count_if(replied).label("replied"),
            _count_if(due).label("due"),
            _count_if(on_time).label("on_time"),
            *ratings.columns(),
            *reasons.columns(),
        )
        .where(*where)
        .group_by(Submission.section_id, Submission.problem_id, days)
    )
    for row in session.execute(query):
        figures = Performance(
            received=row.received,
            accepted=row.accepted,
            replied=row.replied,
            due=row.due,
            on_time=row.on_time,
            ratings=ratings.read(row._mapping),
            reasons=reasons.read(row._mapping),
        )
        if row.days is not None and row.replied:
            figures.days[int(row.days)] = row.replied
        yield row.section_id, row.problem_id, figures


def _trend(
    session: DbSession,
    sql: _Dialect,
    population: list[ColumnElement[bool]],
    first: Month,
    last: Month,
    zone: ZoneInfo,
) -> list[MonthCount]:
    """Count receipts and approved replies per month (each by its own month)."""
    received_month = sql.month(Submission.received_at)
    received = dict(
        session.execute(
            select(received_month, func.count())
            .where(*population, *_received_in(first, last, zone))
            .group_by(received_month)
        ).all()
    )
    replied_month = sql.month(Submission.replied_at)
    replied = dict(
        session.execute(
            select(replied_month, func.count())
            .where(
                *population,
                Submission.replied_at >= _start_of(first, zone),
                Submission.replied_at < _start_of(last.shift(1), zone),
            )
            .group_by(replied_month)
        ).all()
    )
    return [
        MonthCount(m, received.get(str(m), 0), replied.get(str(m), 0))
        for m in months_between(first, last)
    ]


def _recent_reasons(
    session: DbSession, where: list[ColumnElement[bool]]
) -> list[ReasonGiven]:
    rows = session.execute(
        select(
            Submission.id,
            Submission.reference,
            Submission.kind,
            Submission.rating,
            Submission.rating_reason,
            Submission.rated_at,
        )
        .where(*where, _gave_reason())
        .order_by(Submission.rated_at.desc(), Submission.id.desc())
        .limit(RECENT_REASONS)
    )
    return [
        ReasonGiven(
            submission_id=row.id,
            reference=row.reference,
            kind=row.kind,
            rating=row.rating,
            reason=row.rating_reason,
            rated_at=row.rated_at,
        )
        for row in rows
    ]


def compute(
    session: DbSession,
    scope: Scope,
    filters: Filters,
    *,
    today: date,
    tz_name: str,
) -> Report:
    """Compute every figure of a statistics page for ``scope``.

    ``today`` is the bureau's date; it decides which unanswered submissions
    are already late and which months the trend shows by default.
    """
    zone = ZoneInfo(tz_name)
    sql = _Dialect(session, tz_name)
    population = _population(scope, filters)
    where = population + _received_in(filters.first, filters.last, zone)

    states, kinds, channels = _breakdown(session, where)
    overall = Performance()
    by_section: dict[int, Performance] = {}
    by_problem: dict[int, Performance] = {}
    for section_id, problem_id, figures in _performance_rows(
        session, sql, where, today
    ):
        overall.add(figures)
        if section_id is not None:
            by_section.setdefault(section_id, Performance()).add(figures)
        if problem_id is not None:
            by_problem.setdefault(problem_id, Performance()).add(figures)

    sections = {
        s.id: s
        for s in session.scalars(select(Section).where(Section.id.in_(by_section)))
    }
    problems = {
        p.id: p
        for p in session.scalars(
            select(Problem)
            .where(Problem.id.in_(by_problem))
            .options(selectinload(Problem.aspect))
        )
    }

    trend_last = filters.last or Month.of(today)
    trend_first = max(
        filters.first or trend_last.shift(1 - DEFAULT_TREND_MONTHS),
        trend_last.shift(1 - MAX_PERIOD_MONTHS),
    )
    return Report(
        scope=scope,
        filters=filters,
        trend_first=trend_first,
        trend_last=trend_last,
        states=[
            (s, states[s])
            for s in SubmissionState
            if scope.spam or s is not SubmissionState.SPAM
        ],
        kinds=[
            (k, kinds[k])
            for k in SubmissionKind
            if scope.misconduct or k is not SubmissionKind.MISCONDUCT
        ],
        channels=[(c, channels[c]) for c in Channel],
        overall=overall,
        sections=sorted(
            ((sections[i], p) for i, p in by_section.items()),
            key=lambda pair: pair[0].name,
        ),
        problems=sorted(
            ((problems[i], p) for i, p in by_problem.items()),
            key=lambda pair: (
                pair[0].aspect.inspection_id,
                pair[0].aspect.number,
                pair[0].number,
            ),
        ),
        trend=_trend(session, sql, population, trend_first, trend_last, zone),
        reasons=_recent_reasons(session, where) if scope.reasons else [],
    )
