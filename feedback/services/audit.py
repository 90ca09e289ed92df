"""Writing the audit trail; the only place Event rows are created.

Besides who did what and why, an event keeps what the action changed: a
listener notes the old and new values of the tracked fields at each flush,
and the next event about that row takes them as its before and after.
"""

from __future__ import annotations

import enum
import json
from datetime import date
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from feedback.db import Base
from feedback.db import DbSession
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import Problem
from feedback.models import Reply
from feedback.models import StaffUser
from feedback.models import Submission

# The fields whose changes an event shows, by model (relations by their id).
TRACKED: dict[type, tuple[str, ...]] = {
    Submission: (
        "state",
        "section",
        "problem",
        "triage_due_on",
        "due_on",
        "extended_days",
        "duplicate_of",
        "info_pending",
        "rating",
        "concluded_on",
        "purged_at",
    ),
    Reply: ("state", "published_at"),
    Problem: ("status_word", "status_kind", "section", "deadline", "title"),
    StaffUser: ("role", "active", "section"),
}
_PENDING = "audit_changes"
# The label of what is done at the command line, where there is no account.
OPERATOR = "operator"


def _id_of(row: object) -> int | None:
    """Return the ``id`` of a row keyed by one; None if it is new or keyed otherwise.

    Every model but the holiday (keyed by its day) has an integer ``id``.
    """
    return getattr(row, "id", None)


def _plain(value: Any) -> Any:
    """Return a field's value as JSON can hold it; a related row as its id."""
    if isinstance(value, Base):
        return _id_of(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


@sa_event.listens_for(Session, "before_flush")
def _remember_changes(session: Session, _context: Any, _instances: Any) -> None:
    """Note the tracked fields' old and new values before they are flushed."""
    pending = session.info.setdefault(_PENDING, {})
    for obj in session.dirty:
        fields = TRACKED.get(type(obj))
        if not fields:
            continue
        attrs = inspect(obj).attrs
        changes = pending.setdefault((type(obj), obj.id), {})
        for name in fields:
            if name not in attrs:
                continue
            history = attrs[name].history
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            first = changes.get(name, (_plain(old), None))[0]
            changes[name] = (first, _plain(new))


@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _taken(session: DbSession, obj: object) -> tuple[str | None, str | None]:
    """Return the JSON before and after of what was flushed for ``obj``."""
    if type(obj) not in TRACKED:
        return None, None
    session.flush()  # the changes made since the last flush are noted too
    changes = session.info.get(_PENDING, {}).pop((type(obj), _id_of(obj)), None)
    changes = {k: v for k, v in (changes or {}).items() if v[0] != v[1]}
    if not changes:
        return None, None
    before = {k: v[0] for k, v in changes.items()}
    after = {k: v[1] for k, v in changes.items()}
    return (
        json.dumps(before, ensure_ascii=False, sort_keys=True),
        json.dumps(after, ensure_ascii=False, sort_keys=True),
    )


def record(
    session: DbSession,
    action: AuditAction,
    obj: object,
    *,
    actor: StaffUser | None = None,
    actor_label: str | None = None,
    reason: str | None = None,
    object_id: int | None = None,
) -> Event:
    """Append an event saying that ``actor`` did ``action`` to ``obj``.

    Without an account, ``actor_label`` says who acted: "citizen",
    ``OPERATOR``, a section's e-mail link…; with one, its e-mail does.

    ``object_id`` names rows whose key is not an ``id`` (a holiday's day).
    """
    if object_id is None:
        object_id = _id_of(obj)
    if object_id is None:
        session.flush()  # a new row gets its id
        object_id = _id_of(obj)
    submission_id = obj.id if isinstance(obj, Submission) else None
    if submission_id is None:
        submission_id = getattr(obj, "submission_id", None)
    before, after = _taken(session, obj)
    event = Event(
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=object_id,
        submission_id=submission_id,
        actor=actor,
        actor_label=actor.email if actor else (actor_label or "system"),
        reason=reason,
        before=before,
        after=after,
    )
    session.add(event)
    return event
