"""The lead's and admin's board pages: editing problems, statuses and progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import Field
from wtforms import SelectChoice

from feedback import i18n
from feedback.auth.decorators import role_required
from feedback.extensions import db
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import Role
from feedback.models import Section
from feedback.models import STATUS_WORDS
from feedback.models import StatusKind
from feedback.services import board
from feedback.services import DomainError
from feedback.services import exports
from feedback.services import triage
from feedback.staff import bp
from feedback.staff.forms import EditProblemForm
from feedback.staff.forms import LedgerFilterForm
from feedback.staff.forms import ProgressForm
from feedback.staff.forms import StatusForm
from feedback.validators import chosen_id

EDITORS = (Role.LEAD, Role.ADMIN)


def _forms(problem: Problem) -> tuple[EditProblemForm, StatusForm, ProgressForm]:
    edit = EditProblemForm(prefix="edit", obj=None)
    edit.section_id.choices = [SelectChoice("", _("未指定"))] + [
        SelectChoice(str(s.id), i18n.script(s.name))
        for s in triage.active_sections(db.session)
    ]
    status = StatusForm(prefix="status")
    status.word.choices = [
        SelectChoice(word, i18n.script(word)) for word in STATUS_WORDS
    ]
    return edit, status, ProgressForm(prefix="progress")


def _page(
    problem: Problem, edit, status, progress, code: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "staff/problem_edit.html",
            problem=problem,
            edit_form=edit,
            status_form=status,
            progress_form=progress,
            timeline=board.timeline(problem),
        ),
        code,
    )


def _load(problem_id: int) -> Problem:
    return db.get_or_404(
        Problem,
        problem_id,
        options=[
            selectinload(Problem.status_changes),
            selectinload(Problem.progress_updates),
        ],
    )


@dataclass(frozen=True)
class LedgerSelection:
    """A round and the problems of it that the board's filters let through."""

    form: LedgerFilterForm
    inspection: Inspection | None
    problems: list[Problem]
    filtering: bool


def ledger_selection() -> LedgerSelection:
    """Read the round (the newest by default) and the board's filters from the
    query string; a value that is not among the choices is ignored."""
    rounds = board.rounds(db.session)
    form = LedgerFilterForm(request.args)
    form.round.choices = [
        SelectChoice(str(r.id), i18n.script(r.notice_title or r.name)) for r in rounds
    ]
    inspection = next(
        (r for r in rounds if str(r.id) == form.round.data),
        rounds[0] if rounds else None,
    )
    form.aspect.choices = [SelectChoice("", _("全部方面"))] + [
        SelectChoice(str(a.id), f"{a.number} {i18n.script(a.title)}")
        for a in (inspection.aspects if inspection else [])
    ]
    form.offer(triage.active_sections(db.session))
    form.validate()
    kind = (
        StatusKind(form.kind.data) if form.kind.data and not form.kind.errors else None
    )
    section_id = chosen_id(form.section)
    aspect_id = chosen_id(form.aspect)
    query = (form.q.data or "").strip()[:100]
    if inspection is None:
        return LedgerSelection(form, None, [], False)
    filtering = bool(kind or section_id or aspect_id or query)
    only = (
        board.matching_problem_ids(
            db.session,
            inspection,
            kind=kind,
            section_id=section_id,
            aspect_id=aspect_id,
            query=query,
        )
        if filtering
        else None
    )
    problems = exports.ledger_problems(db.session, inspection, only)
    return LedgerSelection(form, inspection, problems, filtering)


@bp.get("/board")
@role_required(*EDITORS)
def board_list() -> ResponseReturnValue:
    """List a round's problems, filtered as asked, with links to edit and export them."""
    selection = ledger_selection()
    # The export links carry the same filters, and the round shown.
    args = {f.name: f.data for f in selection.form if f.data and not f.errors}
    if selection.inspection is not None:
        args["round"] = str(selection.inspection.id)
    return render_template("staff/board.html", selection=selection, args=args)


@bp.get("/problems/<int:problem_id>")
@role_required(*EDITORS)
def edit_problem(problem_id: int) -> ResponseReturnValue:
    """Show a problem's edit, status and progress forms."""
    problem = _load(problem_id)
    edit, status, progress = _forms(problem)
    edit.title.data = problem.title
    edit.details.data = problem.details
    edit.measures.data = problem.measures
    edit.deadline.data = problem.deadline
    edit.section_id.data = str(problem.section_id or "")
    status.word.data = problem.status_word
    return _page(problem, edit, status, progress)


def _apply(
    problem: Problem,
    forms: tuple[EditProblemForm, StatusForm, ProgressForm],
    form: FlaskForm,
    field: Field,
    change: Callable[[], str],
) -> ResponseReturnValue:
    """Run ``change`` if ``form`` is valid; on success commit, flash what it
    returns and go back to the problem; else show the page with the error
    next to ``field``."""
    if form.validate_on_submit():
        try:
            message = change()
        except DomainError as exc:
            db.session.rollback()
            field.errors = [*field.errors, str(exc)]
        else:
            db.session.commit()
            flash(message)
            return redirect(url_for("staff.edit_problem", problem_id=problem.id))
    return _page(problem, *forms, 400)


@bp.post("/problems/<int:problem_id>")
@role_required(*EDITORS)
def save_problem(problem_id: int) -> ResponseReturnValue:
    """Save a problem's title, text, deadline and responsible section."""
    problem = _load(problem_id)
    forms = _forms(problem)
    edit = forms[0]

    def change() -> str:
        section_id = edit.section_id.data
        changed = board.edit_problem(
            db.session,
            problem,
            actor=g.user,
            title=edit.title.data,
            details=edit.details.data or "",
            measures=edit.measures.data or "",
            deadline=edit.deadline.data,
            section=db.session.get(Section, int(section_id)) if section_id else None,
        )
        return _("已保存。") if changed else _("没有改动。")

    return _apply(problem, forms, edit, edit.title, change)


@bp.post("/problems/<int:problem_id>/status")
@role_required(*EDITORS)
def change_status(problem_id: int) -> ResponseReturnValue:
    """Change a problem's published status, with a reason and an effective date."""
    problem = _load(problem_id)
    forms = _forms(problem)
    status = forms[1]

    def change() -> str:
        board.change_status(
            db.session,
            problem,
            status.word.data,
            reason=status.reason.data,
            effective_on=status.effective_on.data,
            actor=g.user,
        )
        return _("整改状态已更新，并记入整改进程。")

    return _apply(problem, forms, status, status.word, change)


@bp.post("/problems/<int:problem_id>/progress")
@role_required(*EDITORS)
def add_progress(problem_id: int) -> ResponseReturnValue:
    """Add a dated progress update; a future date publishes it on that day."""
    problem = _load(problem_id)
    forms = _forms(problem)
    progress = forms[2]

    def change() -> str:
        board.add_progress(
            db.session,
            problem,
            progress.body.data,
            published_on=progress.published_on.data,
            actor=g.user,
        )
        return _("进展已添加。")

    return _apply(problem, forms, progress, progress.body, change)
