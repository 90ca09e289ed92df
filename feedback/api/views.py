"""JSON views of the board; every field is public, nothing about submissions' authors."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import abort
from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

from feedback.api import bp
from feedback.extensions import db
from feedback.models import Aspect
from feedback.models import Inspection
from feedback.models import Problem
from feedback.services import board
from feedback.services import deadlines
from feedback.signing import external_url


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _links(page: str, api: str, **ids: int) -> dict[str, str]:
    """Return where people (``url``) and programs (``api_url``) read a record."""
    return {"url": external_url(page, **ids), "api_url": external_url(api, **ids)}


def _round(inspection: Inspection, counts: board.BoardCounts) -> dict[str, Any]:
    return {
        "id": inspection.id,
        "name": inspection.name,
        "title": inspection.notice_title,
        "publisher": inspection.publishing_body,
        "inspecting_group": inspection.inspecting_group,
        "onsite_from": _day(inspection.onsite_start),
        "onsite_to": _day(inspection.onsite_end),
        "feedback_date": _day(inspection.feedback_date),
        "published": _day(inspection.published_on),
        "declared": {
            "aspects": inspection.declared_aspects,
            "problems": inspection.declared_problems,
            "by_status": json.loads(inspection.declared_counts or "{}"),
        },
        "counted": {
            "aspects": len(inspection.aspects),
            "problems": counts.total,
            "by_status": dict(counts.by_word),
            "by_kind": {str(k): n for k, n in counts.by_kind.items() if k is not None},
        },
        **_links("public.round_page", "api.round_detail", round_id=inspection.id),
    }


def _problem(problem: Problem) -> dict[str, Any]:
    return {
        "id": problem.id,
        "number": problem.number,
        "code": problem.code,
        "title": problem.title,
        "details": problem.details,
        "measures": problem.measures,
        "status": problem.status_word,
        "status_kind": str(problem.status_kind) if problem.status_kind else None,
        "section": problem.section.name if problem.section else None,
        "deadline": _day(problem.deadline),
        **_links("public.problem", "api.problem_detail", problem_id=problem.id),
    }


def _aspect(aspect: Aspect) -> dict[str, Any]:
    return {
        "number": aspect.number,
        "title": aspect.title,
        "problems": [_problem(p) for p in aspect.problems],
    }


@bp.get("/rounds")
def rounds() -> ResponseReturnValue:
    """List every round, newest first, with its totals."""
    items = []
    for inspection in board.rounds(db.session):
        items.append(_round(inspection, board.count(inspection)))
    return jsonify({"rounds": items})


@bp.get("/rounds/<int:round_id>")
def round_detail(round_id: int) -> ResponseReturnValue:
    """Return one round with its aspects and problems."""
    inspection = board.get_round(db.session, round_id)
    if inspection is None:
        abort(404)
    body = _round(inspection, board.count(inspection))
    body["aspects"] = [_aspect(a) for a in inspection.aspects]
    return jsonify(body)


@bp.get("/problems/<int:problem_id>")
def problem_detail(problem_id: int) -> ResponseReturnValue:
    """Return one problem with its public timeline."""
    problem = db.get_or_404(
        Problem,
        problem_id,
        options=[
            selectinload(Problem.status_changes),
            selectinload(Problem.progress_updates),
        ],
    )
    today = deadlines.today()
    body = _problem(problem)
    body["aspect"] = {"number": problem.aspect.number, "title": problem.aspect.title}
    body["round_id"] = problem.aspect.inspection_id
    body["timeline"] = [
        {
            "date": entry.on.isoformat(),
            "type": "status_change" if entry.change else "progress",
            "from": entry.change.from_word if entry.change else None,
            "to": entry.change.to_word if entry.change else None,
            "text": entry.text,
        }
        for entry in board.timeline(problem, today=today)
    ]
    return jsonify(body)


@bp.errorhandler(404)
def not_found(_error: Exception) -> ResponseReturnValue:
    """Answer API callers in JSON, not with the HTML error page."""
    return jsonify({"error": "not found"}), 404
