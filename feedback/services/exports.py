"""The ledgers staff export: the rectification ledger and the submissions ledger.

Each function returns ``spreadsheets.Table``s whose rows are read from the
database as they are written, so a ledger of any size passes through in
constant memory. Headings and labels are in the bureau's own script, as in
its mail to staff, whatever language the exporting person reads.

Who sees what is decided here, in the query: the lead exports every
submission with the author's name and contacts (unless it was sent
anonymously); a section exports only the submissions routed to it, never a
举报 and never an author's personal data; nobody else exports submissions.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any
from typing import Generic
from typing import NamedTuple
from typing import TypeVar

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel import LazyString
from sqlalchemy import ColumnElement
from sqlalchemy import Row
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import selectinload

from feedback.db import DbSession
from feedback.labels import CHANNEL_NAMES
from feedback.labels import KIND_NAMES
from feedback.labels import RATING_NAMES
from feedback.labels import STATE_LABELS
from feedback.labels import STATUS_KIND_LABELS
from feedback.models import Aspect
from feedback.models import AuditAction
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import Reply
from feedback.models import ReplyState
from feedback.models import Role
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import StatusChange
from feedback.models import StatusKind
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import audit
from feedback.services import board
from feedback.services import deadlines
from feedback.services import DomainError
from feedback.services import queues
from feedback.services.notifications import STAFF_LOCALE
from feedback.spreadsheets import Column
from feedback.spreadsheets import Table
from feedback.spreadsheets import Value

# Rows are fetched from the database this many at a time.
BATCH = 1000

RowT = TypeVar("RowT")
# A row of the submissions ledger's query, its columns read by name.
SubmissionRow = Row[*tuple[Any, ...]]


class ExportError(DomainError):
    """An export was asked for that its user may not have."""


def in_bureau_script(text: LazyString) -> str:
    """Return an interface string as the bureau writes it (simplified Chinese)."""
    with force_locale(STAFF_LOCALE):
        return str(text)


def _labels(names: Mapping[Any, LazyString]) -> dict[Any, str]:
    with force_locale(STAFF_LOCALE):
        return {key: str(label) for key, label in names.items()}


@dataclass(frozen=True, eq=False)
class ExportColumn(Generic[RowT]):
    """A column of an export: its heading, its width in the XLSX and its cell.

    Compared by identity: a column shared by two ledger lists is one column.
    """

    heading: LazyString
    width: int
    value: Callable[[RowT], Value]


def _table(
    title: LazyString, columns: Sequence[ExportColumn[RowT]], rows: Iterable[RowT]
) -> Table:
    """Return a sheet of ``columns`` over ``rows``, read as the sheet is written."""
    values = [column.value for column in columns]
    return Table(
        in_bureau_script(title),
        [Column(in_bureau_script(c.heading), c.width) for c in columns],
        ([value(row) for value in values] for row in rows),
    )


def file_name(title: LazyString, day: date, suffix: str) -> str:
    """Return a download's name: its title and the day, e.g. 巡察整改台账-2026-11-28.xlsx."""
    return f"{in_bureau_script(title)}-{day.isoformat()}.{suffix}"


def record(session: DbSession, user: StaffUser, what: str) -> None:
    """Note in the audit trail that ``user`` exported submissions, and which."""
    audit.record(session, AuditAction.EXPORTED, user, actor=user, reason=what)


# --- The rectification ledger (整改台账) --------------------------------------

LEDGER_TITLE = _l("巡察整改台账")


def _last_change(problem: Problem) -> StatusChange | None:
    changes = problem.status_changes
    return max(changes, key=lambda c: (c.effective_on, c.id)) if changes else None


def changed_on(problem: Problem) -> date | None:
    """Return the day of a problem's latest status change, if it has any."""
    last = _last_change(problem)
    return last.effective_on if last else None


def done_on(problem: Problem) -> date | None:
    """Return the day a problem was declared done, if it is and the history says when."""
    last = _last_change(problem)
    if problem.status_kind is not StatusKind.DONE or last is None:
        return None
    return last.effective_on if last.to_kind is StatusKind.DONE else None


def progress_text(problem: Problem, today: date) -> str:
    """Return a problem's dated history, one line per status change or update."""
    lines = []
    for entry in board.timeline(problem, today=today):
        if entry.change is not None:
            change = entry.change
            moved = f"{change.from_word or ''}→{change.to_word}"
            lines.append(f"{entry.on.isoformat()} {moved}：{change.reason}")
        elif entry.update is not None:
            lines.append(f"{entry.on.isoformat()} {entry.update.body}")
    return "\n".join(lines)


class LedgerLine(NamedTuple):
    """What a row of a ledger list is read from."""

    number: int  # 序号: the problem's place in the list, from 1
    problem: Problem


def _of_problem(
    heading: LazyString, width: int, value: Callable[[Problem], Value]
) -> ExportColumn[LedgerLine]:
    """Return a ledger column whose cell is read from the problem alone."""
    return ExportColumn(heading, width, lambda line: value(line.problem))


def _ledger_lists(
    today: date,
) -> list[tuple[LazyString, list[ExportColumn[LedgerLine]]]]:
    """Return the three lists inspectors ask for, a title and columns each.

    One row per problem in each. Every list starts with the same keys, so that
    a row of one list and the same row of another are about the same problem;
    a field that belongs to two lists is repeated there, so each reads on its own.
    """
    kinds = _labels(STATUS_KIND_LABELS)
    keys = [
        ExportColumn[LedgerLine](_l("序号"), 6, lambda line: line.number),
        _of_problem(_l("问题编号"), 8, lambda p: p.code),
        _of_problem(_l("问题"), 36, lambda p: p.title),
    ]
    aspect = _of_problem(_l("方面"), 24, lambda p: p.aspect.title)
    details = _of_problem(_l("具体表现"), 50, lambda p: p.details)
    measures = _of_problem(_l("整改措施"), 50, lambda p: p.measures)
    deadline = _of_problem(_l("整改时限"), 12, lambda p: p.deadline)
    status = _of_problem(_l("整改状态"), 12, lambda p: p.status_word)
    kind = _of_problem(
        _l("状态归类"), 10, lambda p: kinds[p.status_kind] if p.status_kind else None
    )
    changed = _of_problem(_l("状态变更日期"), 12, changed_on)
    done = _of_problem(_l("完成时间"), 12, done_on)
    progress = _of_problem(_l("整改进程"), 50, lambda p: progress_text(p, today))
    section = _of_problem(
        _l("责任股室"), 14, lambda p: p.section.name if p.section else None
    )
    return [
        (_l("问题清单"), [*keys, aspect, details]),
        (
            _l("任务清单"),
            [*keys, measures, deadline, status, kind, changed, done, progress],
        ),
        (_l("责任清单"), [*keys, section, deadline, status, done]),
    ]


def ledger_problems(
    session: DbSession, inspection: Inspection, only: set[int] | None = None
) -> list[Problem]:
    """Return the round's problems in board order, with their history loaded.

    ``only`` keeps the problems with these ids, as ``board.matching_problem_ids``
    returns them for the board's filters.
    """
    statement = (
        select(Problem)
        .join(Aspect)
        .where(Aspect.inspection_id == inspection.id)
        .options(
            joinedload(Problem.aspect),
            joinedload(Problem.section),
            selectinload(Problem.status_changes),
            selectinload(Problem.progress_updates),
        )
        .order_by(Aspect.number, Problem.number)
    )
    if only is not None:
        statement = statement.where(Problem.id.in_(only))
    return list(session.scalars(statement))


def _lines(problems: list[Problem]) -> Iterator[LedgerLine]:
    return (LedgerLine(number, problem) for number, problem in enumerate(problems, 1))


def ledger_sheets(problems: list[Problem], *, today: date) -> list[Table]:
    """Return the problem, task and responsibility lists, one table each."""
    return [
        _table(title, columns, _lines(problems))
        for title, columns in _ledger_lists(today)
    ]


def ledger_table(problems: list[Problem], *, today: date) -> Table:
    """Return the three lists side by side in one table, each field once (for CSV).

    The columns are the shared keys (序号, 问题编号, 问题), then the fields of
    the problem list, the task list and the responsibility list in that
    order, leaving out a field an earlier list already gave.
    """
    columns = dict.fromkeys(c for _title, cs in _ledger_lists(today) for c in cs)
    return _table(LEDGER_TITLE, list(columns), _lines(problems))


# --- The submissions ledger (意见建议台账) -------------------------------------

SUBMISSIONS_TITLE = _l("意见建议台账")


def submission_scope(user: StaffUser) -> list[ColumnElement[bool]]:
    """Return the conditions that keep an export to what ``user`` may read."""
    if user.role is Role.LEAD:
        return []
    if user.role is Role.SECTION and user.section_id is not None:
        return [
            Submission.section_id == user.section_id,
            Submission.kind != SubmissionKind.MISCONDUCT,
        ]
    raise ExportError(_l("只有纪检组长和股室人员可以导出意见。"))


def submissions_table(
    session: DbSession,
    user: StaffUser,
    filters: queues.Filters,
    *,
    tz_name: str,
    queue: ColumnElement[bool] | None = None,
) -> Table:
    """Return the submissions ``user`` may read that pass ``filters``, oldest first.

    ``queue`` narrows them to one of the lead's queues (``queues.condition``).
    Only the lead's export has the author columns, and they stay empty for a
    submission sent anonymously.
    """
    scope = submission_scope(user)
    approved = aliased(Reply)
    reply_body = (
        select(approved.body)
        .where(
            approved.submission_id == Submission.id,
            approved.state == ReplyState.APPROVED,
        )
        .order_by(approved.created_at.desc(), approved.id.desc())
        .limit(1)
        .correlate(Submission)
        .scalar_subquery()
    )
    statement = (
        select(
            Submission.reference,
            Submission.received_at,
            Submission.kind,
            Submission.channel,
            Submission.subject,
            Submission.body,
            Submission.anonymous,
            Submission.author_name,
            Submission.author_phone,
            Submission.author_email,
            Aspect.number.label("aspect_number"),
            Problem.number.label("problem_number"),
            Problem.title.label("problem_title"),
            Section.name.label("section_name"),
            Submission.state,
            Submission.accepted_at,
            Submission.due_on,
            Submission.extended_days,
            Submission.extension_reason,
            Submission.replied_at,
            reply_body.label("reply_body"),
            Submission.rating,
            Submission.rating_reason,
            Submission.rated_at,
            Submission.closed_at,
        )
        .outerjoin(Problem, Problem.id == Submission.problem_id)
        .outerjoin(Aspect, Aspect.id == Problem.aspect_id)
        .outerjoin(Section, Section.id == Submission.section_id)
        .where(*scope, *filters.conditions())
        .order_by(Submission.received_at, Submission.id)
        .execution_options(yield_per=BATCH)
    )
    if queue is not None:
        statement = statement.where(queue)

    def rows() -> Iterator[SubmissionRow]:
        # Deferred to the first read, so that the rows stream as the file is written.
        yield from session.execute(statement)

    columns = _submission_columns(personal=user.role is Role.LEAD, tz_name=tz_name)
    return _table(SUBMISSIONS_TITLE, columns, rows())


def _submission_columns(
    *, personal: bool, tz_name: str
) -> list[ExportColumn[SubmissionRow]]:
    """Return the submissions ledger's columns, read from the rows of its query.

    ``personal`` adds the author's columns (the lead's export); they stay
    empty for a submission sent anonymously.
    """
    kinds = _labels(KIND_NAMES)
    channels = _labels(CHANNEL_NAMES)
    states = _labels(STATE_LABELS)
    ratings = _labels(RATING_NAMES)
    signed = {True: in_bureau_script(_l("匿名")), False: in_bureau_script(_l("实名"))}

    def day(moment: datetime | None) -> date | None:
        return None if moment is None else deadlines.local_date(moment, tz_name)

    author: list[ExportColumn[SubmissionRow]] = [
        ExportColumn(_l("署名"), 6, lambda r: signed[r.anonymous]),
        ExportColumn(_l("姓名"), 10, lambda r: None if r.anonymous else r.author_name),
        ExportColumn(_l("电话"), 14, lambda r: None if r.anonymous else r.author_phone),
        ExportColumn(
            _l("电子邮箱"), 22, lambda r: None if r.anonymous else r.author_email
        ),
    ]
    return [
        ExportColumn(_l("编号"), 18, lambda r: r.reference),
        ExportColumn(_l("收到日期"), 12, lambda r: day(r.received_at)),
        ExportColumn(_l("类型"), 8, lambda r: kinds[r.kind]),
        ExportColumn(_l("来源"), 8, lambda r: channels[r.channel]),
        ExportColumn(_l("标题"), 24, lambda r: r.subject),
        ExportColumn(_l("内容"), 50, lambda r: r.body),
        *(author if personal else []),
        ExportColumn(
            _l("涉及问题"),
            24,
            lambda r: (
                None
                if r.problem_title is None
                else f"{r.aspect_number}.{r.problem_number} {r.problem_title}"
            ),
        ),
        ExportColumn(_l("承办股室"), 14, lambda r: r.section_name),
        ExportColumn(_l("办理状态"), 12, lambda r: states[r.state]),
        ExportColumn(_l("受理日期"), 12, lambda r: day(r.accepted_at)),
        ExportColumn(_l("答复期限"), 12, lambda r: r.due_on),
        ExportColumn(_l("延期天数"), 8, lambda r: r.extended_days),
        ExportColumn(_l("延期理由"), 24, lambda r: r.extension_reason),
        ExportColumn(_l("答复日期"), 12, lambda r: day(r.replied_at)),
        ExportColumn(_l("答复内容"), 50, lambda r: r.reply_body),
        ExportColumn(_l("评价"), 10, lambda r: ratings[r.rating] if r.rating else None),
        ExportColumn(_l("评价理由"), 24, lambda r: r.rating_reason),
        ExportColumn(_l("评价日期"), 12, lambda r: day(r.rated_at)),
        ExportColumn(_l("办结日期"), 12, lambda r: day(r.closed_at)),
    ]
