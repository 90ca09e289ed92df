"""The public statistics page, and the filtering both statistics pages share."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import SelectChoice

from feedback import i18n
from feedback.extensions import db
from feedback.public import bp
from feedback.public.board import today
from feedback.public.forms import StatisticsFilterForm
from feedback.services import board
from feedback.services import stats


def render_statistics(
    template: str, scope: stats.Scope, **context: Any
) -> ResponseReturnValue:
    """Read the period and round asked for, compute ``scope``'s figures and render them."""
    form = StatisticsFilterForm(request.args)
    form.round.choices = [SelectChoice("", _("全部轮次"))] + [
        SelectChoice(str(r.id), i18n.script(r.name)) for r in board.rounds(db.session)
    ]
    form.validate()  # a bad month or round is reported and ignored, never a 500
    report = stats.compute(
        db.session,
        scope,
        form.filters(),
        today=today(),
        tz_name=current_app.config["TIME_ZONE"],
    )
    return render_template(
        template, report=report, form=form, action=request.path, **context
    )


@bp.get("/statistics")
def statistics() -> ResponseReturnValue:
    """Show how the public's opinions were handled; 举报 and spam are not counted."""
    return render_statistics("public/statistics.html", stats.PUBLIC)
