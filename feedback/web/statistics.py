"""The statistics page the public and the staff both see: its filters, its cache, its rendering."""

from __future__ import annotations

import time

from flask import current_app
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from feedback.extensions import db
from feedback.services import board
from feedback.services import stats
from feedback.services.deadlines import today
from feedback.web.forms import content_choice
from feedback.web.forms import SelectChoice
from feedback.web.forms import StatisticsFilterForm

# How many different reports (scope, filters, day) a process keeps at most.
CACHE_ENTRIES = 64


def _kept_report(
    scope: stats.Scope, filters: stats.Filters
) -> tuple[float, stats.Report]:
    """Return ``scope``'s figures and when this process computed them."""
    config = current_app.config
    max_age = config["STATISTICS_CACHE_SECONDS"]
    key = (scope, filters, today())
    store: dict[object, tuple[float, stats.Report]] = current_app.extensions.setdefault(
        "statistics_cache", {}
    )
    found = store.get(key)
    now = time.monotonic()
    if found is not None and now - found[0] < max_age:
        return found
    report = stats.compute(
        db.session, scope, filters, today=today(), tz_name=config["TIME_ZONE"]
    )
    if max_age > 0:
        store[key] = (now, report)
        while len(store) > CACHE_ENTRIES:
            store.pop(next(iter(store)))
    return now, report


def cached_report(scope: stats.Scope, filters: stats.Filters) -> stats.Report:
    """Return ``scope``'s figures, computed at most every STATISTICS_CACHE_SECONDS.

    With a million submissions the figures take seconds (bench/stats.py);
    a busy public page must not compute them for every visitor.
    """
    return _kept_report(scope, filters)[1]


def figures_version(scope: stats.Scope) -> str | None:
    """Name the figures the unfiltered page shows now, so that its rendered copy
    is kept exactly as long as they are; None when figures are not kept."""
    if current_app.config["STATISTICS_CACHE_SECONDS"] <= 0:
        return None
    computed_at, _report = _kept_report(scope, stats.Filters())
    return f"{computed_at:.6f}"


def render_statistics(template: str, scope: stats.Scope) -> ResponseReturnValue:
    """Read the period and round asked for, compute ``scope``'s figures and render them."""
    form = StatisticsFilterForm(request.args)
    form.round.choices = [SelectChoice("", _("全部轮次"))] + [
        content_choice(str(r.id), r.name) for r in board.rounds(db.session)
    ]
    form.read()
    report = cached_report(scope, form.filters())
    return render_template(template, report=report, form=form, action=request.path)
