"""What operators watch, read from the database: mail queues, held mail, alerts, schema.

Each reading is a COUNT (or MIN) over a few rows' states and carries no
personal data, so that a load balancer or Prometheus may ask often.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import text

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import AlertKind
from feedback.models import DeadlineAlert
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import OutboxMessage
from feedback.models import OutboxState

# Messages neither sent nor given up: waiting for their turn, or being sent.
UNFINISHED = (OutboxState.PENDING, OutboxState.SENDING)


@dataclass(frozen=True)
class OutboxCounts:
    """How many outgoing messages are in each state asked about, and the oldest unfinished."""

    by_state: dict[OutboxState, int]
    oldest_unfinished: datetime | None

    @property
    def pending(self) -> int:
        """Messages neither sent nor failed (pending or sending)."""
        return sum(self.by_state.get(state, 0) for state in UNFINISHED)

    @property
    def failed(self) -> int:
        return self.by_state.get(OutboxState.FAILED, 0)

    def oldest_age_seconds(self, now: datetime | None = None) -> float | None:
        """Return how long ago the oldest unfinished message was queued, if any is."""
        if self.oldest_unfinished is None:
            return None
        return ((now or utcnow()) - self.oldest_unfinished).total_seconds()


def outbox_counts(
    session: DbSession,
    states: Iterable[OutboxState] = (*UNFINISHED, OutboxState.FAILED),
) -> OutboxCounts:
    """Count the outgoing messages in ``states``; by default the ones that need watching."""
    wanted = tuple(states)
    rows = session.execute(
        select(
            OutboxMessage.state,
            func.count(),
            func.min(OutboxMessage.created_at),
        )
        .where(OutboxMessage.state.in_(wanted))
        .group_by(OutboxMessage.state)
    ).all()
    by_state = dict.fromkeys(wanted, 0)
    oldest: datetime | None = None
    for state, count, first in rows:
        by_state[state] = count
        if state in UNFINISHED and first is not None:
            oldest = first if oldest is None else min(oldest, first)
    return OutboxCounts(by_state=by_state, oldest_unfinished=oldest)


def held_mail(session: DbSession) -> int:
    """Count the messages that came in and wait in the holding pen for the lead."""
    return (
        session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.state == InboundState.HELD)
        )
        or 0
    )


def alerts_sent(session: DbSession) -> dict[AlertKind, int]:
    """Count the deadline alerts the sweep has sent, by kind (each is sent once)."""
    counts = dict.fromkeys(AlertKind, 0)
    rows = session.execute(
        select(DeadlineAlert.kind, func.count()).group_by(DeadlineAlert.kind)
    )
    counts.update((kind, count) for kind, count in rows)
    return counts


def schema_revisions(session: DbSession) -> frozenset[str]:
    """Return the migrations the database says it is at (none before its first)."""
    connection = session.connection()
    if not inspect(connection).has_table("alembic_version"):
        return frozenset()
    return frozenset(
        connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    )
