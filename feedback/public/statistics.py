"""The public statistics page."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from feedback.page_cache import cached_page
from feedback.public import bp
from feedback.services import board_versions
from feedback.services import stats
from feedback.web.statistics import figures_version
from feedback.web.statistics import render_statistics


@bp.get("/statistics")
@cached_page(board_versions.BOARD, figures=lambda: figures_version(stats.PUBLIC))
def statistics() -> ResponseReturnValue:
    """Show how the public's opinions were handled; 举报 and spam are not counted."""
    return render_statistics("public/statistics.html", stats.PUBLIC)
