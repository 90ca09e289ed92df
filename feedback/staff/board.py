"""The lead's and admin's board pages: editing problems, statuses and progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from typing import NamedTuple

from flask import g
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

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
from feedback.services import exports
from feedback.services import triage
from feedback.staff import bp
from feedback.staff.forms import EditProblemForm
from feedback.staff.forms import LedgerFilterForm
from feedback.staff.forms import ProgressForm
from feedback.staff.forms import StatusForm
from feedback.validators import chosen_id
from feedback.web.actions import decide
from feedback.web.forms import SelectChoice

EDITORS = (Role.LEAD, Role.ADMIN)
# What a problem's form does once valid: the service call, and what to say.
Changing = Callable[[Problem, Any], str]


class ProblemForms(NamedTuple):
    """The three forms of a problem's edit page."""

    edit: EditProblemForm
    status: StatusForm
    progress: ProgressForm


def _forms() -> ProblemForms:
    edit = EditProblemForm()
    edit.section_id.choices = [SelectChoice("", _("未指定"))] + [
        SelectChoice(str(s.id), i18n.script(s.name))
        for s in triage.active_sections(db.session)
    ]
    status = StatusForm()
    status.word.choices = [
        SelectChoice(word, i18n.script(word)) for word in STATUS_WORDS
    ]
    return ProblemForms(edit, status, ProgressForm())


def _page(
    problem: Problem, forms: ProblemForms, code: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "staff/problem_edit.html",
            problem=problem,
            edit_form=forms.edit,
            status_form=forms.status,
            progress_form=forms.progress,
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
    form.read()
    kind_value = form.understood(form.kind)
    kind = StatusKind(kind_value) if kind_value else None
    section_id = chosen_id(form.section)
    aspect_id = chosen_id(form.aspect)
    query = form.understood(form.q) or ""
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
    forms = _forms()
    edit = forms.edit
    edit.title.data = problem.title
    edit.details.data = problem.details
    edit.measures.data = problem.measures
    edit.deadline.data = problem.deadline
    edit.section_id.data = str(problem.section_id or "")
    forms.status.word.data = problem.status_word
    return _page(problem, forms)


def problem_change(
    form: str, *, error_on: str
) -> Callable[[Changing], Callable[..., ResponseReturnValue]]:
    """Make ``change(problem, posted)`` the view that one of a problem's forms posts to.

    ``change`` returns what to say once it is committed; if the form is not
    valid or a rule refuses, the page comes again with what was typed, the
    refusal beside the field named ``error_on``.
    """

    def wrap(change: Changing) -> Callable[..., ResponseReturnValue]:
        @wraps(change)
        def view(problem_id: int) -> ResponseReturnValue:
            problem = _load(problem_id)
            forms = _forms()
            posted = getattr(forms, form)
            return decide(
                lambda: change(problem, posted),
                lambda said: said,
                url_for("staff.edit_problem", problem_id=problem.id),
                form=posted,
                again=lambda: _page(problem, forms, 400),
                error_on=posted[error_on],
            )

        return view

    return wrap


@bp.post("/problems/<int:problem_id>")
@role_required(*EDITORS)
@problem_change("edit", error_on="title")
def save_problem(problem: Problem, edit: EditProblemForm) -> str:
    """Save a problem's title, text, deadline and responsible section."""
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


@bp.post("/problems/<int:problem_id>/status")
@role_required(*EDITORS)
@problem_change("status", error_on="word")
def change_status(problem: Problem, status: StatusForm) -> str:
    """Change a problem's published status, with a reason and an effective date."""
    word, reason, day = status.word.data, status.reason.data, status.effective_on.data
    board.change_status(
        db.session, problem, word, reason=reason, effective_on=day, actor=g.user
    )
    return _("整改状态已更新，并记入整改进程。")


@bp.post("/problems/<int:problem_id>/progress")
@role_required(*EDITORS)
@problem_change("progress", error_on="body")
def add_progress(problem: Problem, progress: ProgressForm) -> str:
    """Add a dated progress update; a future date publishes it on that day."""
    body, day = progress.body.data, progress.published_on.data
    board.add_progress(db.session, problem, body, published_on=day, actor=g.user)
    return _("进展已添加。")
