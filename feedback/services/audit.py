"""Writing the audit trail; the only place Event rows are created."""

from __future__ import annotations

from sqlalchemy.orm import Session

from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import StaffUser
from feedback.models import Submission


def record(
    session: Session,
    action: AuditAction,
    obj: object,
    *,
    actor: StaffUser | None = None,
    actor_label: str | None = None,
    reason: str | None = None,
    object_id: int | None = None,
) -> Event:
    """Append an event saying that ``actor`` did ``action`` to ``obj``.

    ``object_id`` names rows whose key is not an ``id`` (a holiday's day).
    """
    object_id = object_id if object_id is not None else getattr(obj, "id", None)
    if object_id is None:
        session.flush()
        object_id = obj.id  # type: ignore[attr-defined]
    submission_id = obj.id if isinstance(obj, Submission) else None
    if submission_id is None:
        submission_id = getattr(obj, "submission_id", None)
    event = Event(
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=object_id,
        submission_id=submission_id,
        actor=actor,
        actor_label=actor_label or (actor.email if actor else "system"),
        reason=reason,
    )
    session.add(event)
    return event
