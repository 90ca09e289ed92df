"""Prometheus metrics: requests counted as they are answered, mail and alerts read at scrape time.

Request counts and latencies live in this process; under several worker
processes (gunicorn) set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder
before the workers start, so that prometheus_client keeps them in files there
that any worker adds up, and call :func:`child_exit` from gunicorn's
``child_exit`` hook. The outbox, the held mail and the deadline alerts are
counted in the database at each scrape, so that every process, on every
machine, reports the same figures.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

from flask import current_app
from flask import Flask
from flask import request
from flask import Response
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import generate_latest
from prometheus_client import Histogram
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from sqlalchemy.exc import DBAPIError

from feedback.db import rollback_quietly
from feedback.db import UNREACHABLE
from feedback.extensions import db
from feedback.logs import elapsed_seconds
from feedback.logs import route_rule
from feedback.models import OutboxState
from feedback.services import monitoring

CONTENT_TYPE = CONTENT_TYPE_LATEST
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
_MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# This process's own metrics; not prometheus_client's global registry, which
# would add the process's memory and CPU (meaningless summed over workers).
_OWN = CollectorRegistry()
_BY = ("rule", "method", "status")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REQUESTS = Counter(
    "feedback_http_requests",
    "Requests answered, by route rule (never the raw path), method and status.",
    _BY,
    registry=_OWN,
)
LATENCY = Histogram(
    "feedback_http_request_duration_seconds",
    "Time to answer a request, by route rule, method and status.",
    _BY,
    registry=_OWN,
)


def _count_request(response: Response) -> Response:
    # A client may send any method name; where no route matched it would
    # otherwise become a label of its own choosing, one series per name.
    method = request.method if request.method in KNOWN_METHODS else "other"
    labels = (route_rule() or "none", method, str(response.status_code))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(elapsed_seconds())
    return response


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class DatabaseReadings:
    """Reads the outbox, the holding pen and the sweep's alerts from the database."""

    def collect(self) -> Iterator[Metric]:
        session = db.session
        try:
            outbox = monitoring.outbox_counts(session, tuple(OutboxState))
            held = monitoring.held_mail(session)
            alerts = monitoring.alerts_sent(session)
        except (DBAPIError, *UNREACHABLE):
            rollback_quietly(session)
            yield _gauge("feedback_database_up", "1 if the database answered.", 0)
            return
        yield _gauge("feedback_database_up", "1 if the database answered.", 1)
        by_state = GaugeMetricFamily(
            "feedback_outbox_messages",
            "Outgoing messages by state; sent and failed are deliveries by outcome.",
            labels=["state"],
        )
        for state, count in outbox.by_state.items():
            by_state.add_metric([state.value], count)
        yield by_state
        yield _gauge(
            "feedback_outbox_pending",
            "Outgoing messages neither sent nor failed (pending or sending).",
            outbox.pending,
        )
        yield _gauge(
            "feedback_outbox_failed", "Outgoing messages given up.", outbox.failed
        )
        yield _gauge(
            "feedback_outbox_oldest_pending_seconds",
            "Age of the oldest message neither sent nor failed (0 when none).",
            outbox.oldest_age_seconds() or 0,
        )
        yield _gauge(
            "feedback_held_mail",
            "Mail that came in and waits for the lead in the holding pen.",
            held,
        )
        sent = GaugeMetricFamily(
            "feedback_deadline_alerts",
            "Deadline reminders and escalations the sweep has sent, by kind.",
            labels=["kind"],
        )
        for kind, count in alerts.items():
            sent.add_metric([kind.value], count)
        yield sent


class _Scrape:
    """What one scrape reports: request metrics (all workers' when shared) and readings."""

    def collect(self) -> Iterator[Metric]:
        if os.environ.get(_MULTIPROCESS_DIR):
            yield from multiprocess.MultiProcessCollector(None).collect()
        else:
            yield from _OWN.collect()
        yield from DatabaseReadings().collect()


def exposition() -> bytes:
    """Return every metric in Prometheus's text format."""
    return generate_latest(_Scrape())


def may_scrape() -> bool:
    """Tell whether this request may read the metrics.

    With METRICS_TOKEN set, only with ``Authorization: Bearer <token>``;
    otherwise only from this machine, and never behind a proxy, where every
    client seems to come from this machine.
    """
    config = current_app.config
    token = config["METRICS_TOKEN"]
    if token:
        scheme, _space, presented = request.headers.get("Authorization", "").partition(
            " "
        )
        return scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.encode()
        )
    if config["PROXY_FIX_X_FOR"]:
        return False
    return request.remote_addr in LOOPBACK


def child_exit(server: Any, worker: Any) -> None:
    """Gunicorn's ``child_exit`` hook: let a dead worker's files be merged, not counted live."""
    if os.environ.get(_MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(worker.pid)


def init_app(app: Flask) -> None:
    """Count every request the app answers."""
    app.after_request(_count_request)
