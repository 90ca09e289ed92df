"""Filters and globals that templates share."""

from __future__ import annotations

import functools
import hashlib
from datetime import date
from datetime import datetime
from datetime import time
from datetime import UTC
from zoneinfo import ZoneInfo

from flask import current_app
from flask import Flask
from werkzeug.security import safe_join

from feedback import labels
from feedback.charts import bar_chart
from feedback.charts import EMPTY
from feedback.downloads import attachment_name
from feedback.i18n import content_lang
from feedback.i18n import html_lang
from feedback.i18n import official
from feedback.i18n import preferences
from feedback.i18n import script
from feedback.models import StatusKind
from feedback.signing import external_url
from feedback.text import linkify


def local_datetime(value: datetime | None) -> str:
    """Format an aware datetime in the bureau's time zone."""
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def local_date(value: date | datetime | None) -> str:
    """Format a date (or the local date of a datetime) as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        zone = ZoneInfo(current_app.config["TIME_ZONE"])
        value = value.astimezone(zone).date()
    return value.isoformat()


def atom_time(value: datetime) -> str:
    """Format an aware datetime as an RFC 3339 timestamp in UTC, for Atom."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_date(value: date) -> str:
    """Format a calendar date as the start of that day in the bureau's zone."""
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    return datetime.combine(value, time.min, tzinfo=zone).isoformat()


def percent(share: float | None) -> str:
    """Format a share (0 to 1) as a percentage with one decimal; "—" when there is none."""
    if share is None:
        return EMPTY
    return f"{share * 100:.1f}%"


def number(value: int | None) -> str:
    """Format a whole number; "—" when there is none (no data to compute it from)."""
    return EMPTY if value is None else str(value)


def status_class(kind: StatusKind | None) -> str:
    """Return the CSS class that colours a status badge (text says it too)."""
    return f"status status--{kind.value if kind else 'unknown'}"


# Each filter is known to templates by its function's name.
FILTERS = (
    attachment_name,
    linkify,
    local_datetime,
    local_date,
    status_class,
    atom_time,
    atom_date,
    official,
    script,
    percent,
    number,
)


@functools.cache
def _fingerprint(folder: str, filename: str) -> str:
    """Return a short hash of a static file's content ("" if there is no such file)."""
    path = safe_join(folder, filename)
    try:
        with open(path or "", "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()[:12]
    except OSError:
        return ""


def version_static_urls(endpoint: str, values: dict[str, object]) -> None:
    """Add ``v=<content hash>`` to every static file's URL.

    A proxy may then keep static files for a year (deploy/nginx): a changed
    file gets a new URL, so nobody is served last release's stylesheet. The
    hash is taken once per process; a release restarts the processes.
    """
    if endpoint != "static" or "v" in values:
        return
    folder = current_app.static_folder
    filename = values.get("filename")
    if folder and isinstance(filename, str):
        version = _fingerprint(folder, filename)
        if version:
            values["v"] = version


def init_app(app: Flask) -> None:
    """Register the filters and globals."""
    app.url_defaults(version_static_urls)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters.update((f.__name__, f) for f in FILTERS)
    app.jinja_env.globals.update(
        html_lang=html_lang,
        content_lang=content_lang,
        prefs=preferences,
        external=external_url,
        bar_chart=bar_chart,
    )
    # The labels of closed sets, under their names in feedback.labels.
    app.jinja_env.globals.update(
        STATE_LABELS=labels.STATE_LABELS,
        state_label=labels.state_label,
        KIND_NAMES=labels.KIND_NAMES,
        RATING_NAMES=labels.RATING_NAMES,
        CHANNEL_NAMES=labels.CHANNEL_NAMES,
        STATUS_KIND_LABELS=labels.STATUS_KIND_LABELS,
        HOLD_REASONS=labels.HOLD_REASONS,
        OUTBOX_STATES=labels.OUTBOX_STATES,
        OUTBOX_FAILURES=labels.OUTBOX_FAILURES,
        NOTIFICATION_NAMES=labels.NOTIFICATION_NAMES,
        REPLY_STATES=labels.REPLY_STATES,
        AUDIT_ACTIONS=labels.AUDIT_ACTIONS,
        STATUS_KINDS=StatusKind,
    )
