"""The public statistics page."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from feedback.public import bp
from feedback.services import stats
from feedback.web.statistics import render_statistics


@bp.get("/statistics")
def statistics() -> ResponseReturnValue:
    """Show how the public's opinions were handled; 举报 and spam are not counted."""
    return render_statistics("public/statistics.html", stats.PUBLIC)
