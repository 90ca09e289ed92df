"""The public board: rounds, a round's problems with filters and search, a problem, feeds."""

from __future__ import annotations

import json

from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from sqlalchemy.orm import selectinload

from feedback.db import utcnow
from feedback.extensions import db
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import StatusKind
from feedback.page_cache import cached_page
from feedback.public import bp
from feedback.services import board
from feedback.services import board_versions
from feedback.services import deadlines
from feedback.services import public_replies
from feedback.services import triage
from feedback.validators import chosen_id
from feedback.web.forms import BoardFilterForm

FEED_LOCALE = "zh_Hans_CN"


def _filter_form() -> BoardFilterForm:
    form = BoardFilterForm(request.args)
    form.offer(triage.active_sections(db.session))
    return form


def _render_round(inspection: Inspection | None) -> ResponseReturnValue:
    if inspection is None:
        return render_template("public/round.html", inspection=None)
    form = _filter_form().read()
    kind_value = form.understood(form.kind)
    kind = StatusKind(kind_value) if kind_value else None
    section_id = chosen_id(form.section)
    query = form.understood(form.q) or ""
    filtering = bool(kind or section_id or query)
    shown = (
        board.matching_problem_ids(
            db.session, inspection, kind=kind, section_id=section_id, query=query
        )
        if filtering
        else None
    )
    return render_template(
        "public/round.html",
        inspection=inspection,
        counts=board.count(inspection),
        declared=json.loads(inspection.declared_counts or "{}"),
        form=form,
        shown=shown,
        filtering=filtering,
    )


@bp.get("/", endpoint="board")
@cached_page(board_versions.BOARD)
def board_page() -> ResponseReturnValue:
    """Show the newest round's board."""
    return _render_round(board.newest_round(db.session))


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Serve the site's icon where browsers and feed readers look for it unasked."""
    return current_app.send_static_file("favicon.ico")


@bp.get("/rounds/<int:round_id>")
@cached_page(board_versions.BOARD)
def round_page(round_id: int) -> ResponseReturnValue:
    """Show one round's board, filtered and searched as asked."""
    inspection = board.get_round(db.session, round_id)
    if inspection is None:
        abort(404)
    return _render_round(inspection)


@bp.get("/rounds")
def rounds() -> ResponseReturnValue:
    """List every inspection round, newest first."""
    items = [(r, board.count(r)) for r in board.rounds(db.session)]
    return render_template("public/rounds.html", items=items)


@bp.get("/problems/<int:problem_id>")
@cached_page(board_versions.BOARD, board_versions.REPLIES)
def problem(problem_id: int) -> ResponseReturnValue:
    """Show one problem with its measures, dated history and public opinions."""
    item = db.get_or_404(
        Problem,
        problem_id,
        options=[
            selectinload(Problem.status_changes),
            selectinload(Problem.progress_updates),
        ],
    )
    opinions = board.public_opinions(db.session, item)
    return render_template(
        "public/problem.html",
        problem=item,
        timeline=board.timeline(item, today=deadlines.today()),
        opinions=opinions,
        questions=public_replies.questions(db.session, opinions.replies),
    )


@bp.get("/rounds/<int:round_id>/feed.atom")
def round_feed(round_id: int) -> ResponseReturnValue:
    """Publish a round's status changes and progress updates as an Atom feed."""
    inspection = board.get_round(db.session, round_id)
    if inspection is None:
        abort(404)
    entries = board.feed_entries(db.session, inspection, today=deadlines.today())
    with force_locale(FEED_LOCALE):  # a feed is one document for every reader
        xml = render_template(
            "public/feed.atom.xml",
            inspection=inspection,
            entries=entries,
            generated=utcnow(),
        )
    return xml, 200, {"Content-Type": "application/atom+xml; charset=utf-8"}
