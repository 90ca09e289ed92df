"""What load balancers and monitoring ask: /healthz, /readyz and /metrics.

``/healthz`` is answered before Flask sees the request: it says that the
process is up and touches nothing else (no database, no session cookie, no
limiter). ``/readyz`` says whether this process can serve, with the mail
queues' figures; ``/metrics`` is for Prometheus (see :mod:`feedback.metrics`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from alembic.script import ScriptDirectory
from flask import abort
from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import Response
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError

from feedback.db import driver_error
from feedback.db import rollback_quietly
from feedback.db import UNREACHABLE
from feedback.extensions import csrf
from feedback.extensions import db
from feedback.extensions import limiter
from feedback.metrics import CONTENT_TYPE
from feedback.metrics import exposition
from feedback.metrics import may_scrape
from feedback.services import monitoring

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

logger = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
# Probes and scrapers ask every few seconds, and change nothing.
csrf.exempt(bp)
limiter.exempt(bp)
NO_STORE = {"Cache-Control": "no-store"}


class Liveness:
    """WSGI middleware answering ``GET /healthz`` with ``ok`` before the app runs."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in (
            "GET",
            "HEAD",
        ):
            start_response(
                "200 OK",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", "2"),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [b"ok"]
        return self.app(environ, start_response)


@functools.cache
def _migrations(directory: str) -> tuple[frozenset[str], frozenset[str]]:
    """Return the newest migrations in ``directory``, and all of them: read once per process."""
    script = ScriptDirectory(directory)
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return frozenset(script.get_heads()), known


def schema_state(revisions: frozenset[str], directory: str) -> str:
    """Compare the database's revisions with this code's migrations.

    ``current``: at the head. ``ahead``: migrated by a newer release, during
    a rolling upgrade (a migration never breaks the release before it, so
    this code still serves). ``behind``: this code expects migrations the
    database has not had.
    """
    heads, known = _migrations(directory)
    if revisions == heads:
        return "current"
    if revisions - known:
        return "ahead"
    return "behind"


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


@bp.get("/readyz")
def readiness() -> ResponseReturnValue:
    """Say whether the database answers at a schema this code can use, with the mail queues.

    200 when it does (at the head, or ahead of it during a rolling upgrade),
    else 503 with the same keys; what could not be read is null (the counts
    too, though they are numbers whenever the database answers).
    """
    reading: dict[str, object] = {
        "database": "error",
        "schema": None,
        "outbox_pending": None,
        "outbox_oldest_pending_seconds": None,
        "outbox_failed": None,
        "held_mail": None,
    }
    session = db.session
    try:
        revisions = monitoring.schema_revisions(session)
    except (DBAPIError, *UNREACHABLE) as exc:
        rollback_quietly(db.session)
        cause = driver_error(exc)
        logger.warning("readiness: database unavailable (%s)", type(cause).__name__)
        return jsonify(reading), 503, NO_STORE
    schema = schema_state(revisions, current_app.extensions["migrate"].directory)
    reading["database"] = "ok"
    reading["schema"] = schema
    try:
        outbox = monitoring.outbox_counts(session)
        held = monitoring.held_mail(session)
    except DBAPIError:  # a schema too old (or empty) to hold the tables
        rollback_quietly(db.session)
        return jsonify(reading), 503, NO_STORE
    reading.update(
        outbox_pending=outbox.pending,
        outbox_oldest_pending_seconds=_rounded(outbox.oldest_age_seconds()),
        outbox_failed=outbox.failed,
        held_mail=held,
    )
    return jsonify(reading), 503 if schema == "behind" else 200, NO_STORE


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    """Serve the metrics to Prometheus, if this request may read them."""
    if not may_scrape():
        abort(403)
    return Response(exposition(), content_type=CONTENT_TYPE, headers=NO_STORE)
