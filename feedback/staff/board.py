"""The lead's and admin's board pages: editing problems, statuses and progress."""

from __future__ import annotations

from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from feedback import i18n
from feedback.auth.decorators import role_required
from feedback.extensions import db
from feedback.models import Problem
from feedback.models import Role
from feedback.models import Section
from feedback.models import STATUS_WORDS
from feedback.services import board
from feedback.services import DomainError
from feedback.services import triage
from feedback.staff import bp
from feedback.staff.forms import EditProblemForm
from feedback.staff.forms import ProgressForm
from feedback.staff.forms import StatusForm

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


@bp.get("/board")
@role_required(*EDITORS)
def board_list() -> ResponseReturnValue:
    """List the newest round's problems with links to edit them."""
    inspection = board.newest_round(db.session)
    return render_template("staff/board.html", inspection=inspection)


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


def _done(problem: Problem, message: str) -> ResponseReturnValue:
    db.session.commit()
    flash(message)
    return redirect(url_for("staff.edit_problem", problem_id=problem.id))


@bp.post("/problems/<int:problem_id>")
@role_required(*EDITORS)
def save_problem(problem_id: int) -> ResponseReturnValue:
    """Save a problem's title, text, deadline and responsible section."""
    problem = _load(problem_id)
    edit, status, progress = _forms(problem)
    if edit.validate_on_submit():
        section = (
            db.session.get(Section, int(edit.section_id.data))
            if edit.section_id.data
            else None
        )
        try:
            changed = board.edit_problem(
                db.session,
                problem,
                actor=g.user,
                title=edit.title.data,
                details=edit.details.data or "",
                measures=edit.measures.data or "",
                deadline=edit.deadline.data,
                section=section,
            )
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            return _done(problem, _("已保存。") if changed else _("没有改动。"))
    return _page(problem, edit, status, progress, 400)


@bp.post("/problems/<int:problem_id>/status")
@role_required(*EDITORS)
def change_status(problem_id: int) -> ResponseReturnValue:
    """Change a problem's published status, with a reason and an effective date."""
    problem = _load(problem_id)
    edit, status, progress = _forms(problem)
    if status.validate_on_submit():
        try:
            board.change_status(
                db.session,
                problem,
                status.word.data,
                reason=status.reason.data,
                effective_on=status.effective_on.data,
                actor=g.user,
            )
        except DomainError as exc:
            db.session.rollback()
            status.word.errors = [*status.word.errors, str(exc)]
        else:
            return _done(problem, _("整改状态已更新，并记入整改进程。"))
    return _page(problem, edit, status, progress, 400)


@bp.post("/problems/<int:problem_id>/progress")
@role_required(*EDITORS)
def add_progress(problem_id: int) -> ResponseReturnValue:
    """Add a dated progress update; a future date publishes it on that day."""
    problem = _load(problem_id)
    edit, status, progress = _forms(problem)
    if progress.validate_on_submit():
        try:
            board.add_progress(
                db.session,
                problem,
                progress.body.data,
                published_on=progress.published_on.data,
                actor=g.user,
            )
        except DomainError as exc:
            db.session.rollback()
            progress.body.errors = [*progress.body.errors, str(exc)]
        else:
            return _done(problem, _("进展已添加。"))
    return _page(problem, edit, status, progress, 400)
