"""The staff statistics page: the lead sees everything, a section its own, an admin the sums."""

from __future__ import annotations

from flask import g
from flask.typing import ResponseReturnValue

from feedback.services import stats
from feedback.staff import bp
from feedback.web.statistics import render_statistics


@bp.get("/statistics")
def statistics() -> ResponseReturnValue:
    """Show the figures this staff member may see (举报 and reasons: the lead only)."""
    return render_statistics("staff/statistics.html", stats.scope_for(g.user))
