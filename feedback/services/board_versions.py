"""The version stamps of what the public pages show, moved on by every change to it.

Rather than each service remembering to move a stamp, the session watches
what it flushes: a change to a round, an aspect, a problem, its history or a
section's name moves ``board``; a change to a reply, a question put to an
author, or to what a problem page counts or quotes of a submission moves
``replies``. The stamps are written once per transaction, just before it
commits, in a fixed order (two transactions never wait on each other's
stamp), so a stamp moves exactly when the change it stands for is durable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import Aspect
from feedback.models import BoardVersion
from feedback.models import InfoRequest
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import ProgressUpdate
from feedback.models import Reply
from feedback.models import Section
from feedback.models import StatusChange
from feedback.models import Submission

BOARD = "board"
REPLIES = "replies"
_BOARD_ROWS = (Inspection, Aspect, Problem, StatusChange, ProgressUpdate, Section)
_REPLY_ROWS = (Reply, InfoRequest)
# What a problem page counts (problem, kind) or quotes beside a published
# reply (the question, masked by the author's name, if they consented).
_SHOWN_OF_A_SUBMISSION = (
    "problem",  # set as a relation, its id is only filled in by the flush
    "problem_id",
    "kind",
    "subject",
    "body",
    "author_name",
    "publish_consent",
)
# session.info keys: the stamps this transaction has to move, and those
# its commit moved (read by whoever keeps pages, after the commit).
_PENDING = "board_versions_pending"
_MOVED = "board_versions_moved"


@dataclass(frozen=True)
class Stamp:
    """One stamp as read: its version and when it last moved."""

    version: int
    changed_at: datetime


def read(session: DbSession) -> dict[str, Stamp]:
    """Return every stamp by name (a stamp that never moved is absent)."""
    rows = session.execute(
        select(BoardVersion.name, BoardVersion.version, BoardVersion.changed_at)
    )
    return {name: Stamp(version, changed_at) for name, version, changed_at in rows}


def bump(session: DbSession, names: Iterable[str]) -> None:
    """Move the named stamps on by one, making the rows on first use."""
    table = BoardVersion.__table__
    assert isinstance(table, Table)  # for mypy: a mapped class has a Table
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for name in sorted(set(names)):  # one order everywhere: no deadlock
        now = utcnow()
        statement = insert(table).values(name=name, version=1, changed_at=now)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.name],
                set_={"version": table.c.version + 1, "changed_at": now},
            )
        )


def moved_by_commit(session: Session) -> set[str]:
    """Return (once) the stamps the session's last commit moved."""
    moved: set[str] = session.info.pop(_MOVED, set())
    return moved


def _submission_shown_change(submission: Submission, is_new_or_deleted: bool) -> bool:
    if is_new_or_deleted:
        return submission.problem_id is not None or submission.problem is not None
    state = inspect(submission)
    return any(
        state.attrs[name].history.has_changes() for name in _SHOWN_OF_A_SUBMISSION
    )


def touched(session: Session) -> set[str]:
    """Return the stamps that the session's unflushed changes concern."""
    names: set[str] = set()
    added_or_gone = [(obj, True) for obj in (*session.new, *session.deleted)]
    changed = [(obj, False) for obj in session.dirty if session.is_modified(obj)]
    for obj, whole in added_or_gone + changed:
        if isinstance(obj, _BOARD_ROWS):
            names.add(BOARD)
        elif isinstance(obj, _REPLY_ROWS) or (
            isinstance(obj, Submission) and _submission_shown_change(obj, whole)
        ):
            names.add(REPLIES)
    return names


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    names = touched(session)
    if names:
        session.info.setdefault(_PENDING, set()).update(names)


def _before_commit(session: Session) -> None:
    session.flush()  # what the commit would flush, seen by _before_flush first
    names = session.info.pop(_PENDING, set())
    if names:
        bump(session, names)
        session.info.setdefault(_MOVED, set()).update(names)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_MOVED, None)


def watch() -> None:
    """Have every session move the stamps as it commits (once per process)."""
    for name, listener in (
        ("before_flush", _before_flush),
        ("before_commit", _before_commit),
        ("after_rollback", _after_rollback),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
