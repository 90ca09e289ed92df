"""The lead's queues and a submission's page, a section's own list, and attachments."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import select

from feedback.downloads import send_attachment
from feedback.extensions import db
from feedback.labels import KIND_NAMES
from feedback.labels import STATE_LABELS
from feedback.models import Attachment
from feedback.models import HoldReason
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import ReplyState
from feedback.models import Role
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import board
from feedback.services import closing
from feedback.services import deadlines
from feedback.services import questions
from feedback.services import queues
from feedback.services import replies
from feedback.services import triage
from feedback.staff import bp
from feedback.staff.common import visible
from feedback.staff.forms import AcceptForm
from feedback.staff.forms import ApproveForm
from feedback.staff.forms import AskForm
from feedback.staff.forms import ConcludeForm
from feedback.staff.forms import DuplicateForm
from feedback.staff.forms import ExtendForm
from feedback.staff.forms import KeepClosedForm
from feedback.staff.forms import NoteForm
from feedback.staff.forms import PublishForm
from feedback.staff.forms import QueueFilterForm
from feedback.staff.forms import RefuseForm
from feedback.staff.forms import ReopenForm
from feedback.staff.forms import ReturnForm
from feedback.staff.forms import RouteForm
from feedback.staff.forms import SpamForm
from feedback.validators import chosen_id
from feedback.web.forms import labelled_choices
from feedback.web.forms import ReplyForm
from feedback.web.forms import SelectChoice

QUEUE_LIMIT = 200


def _submissions(*conditions: ColumnElement[bool]) -> list[Submission]:
    query = (
        select(Submission)
        .where(*conditions)
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .limit(QUEUE_LIMIT)
    )
    return list(db.session.execute(query).scalars())


@bp.get("/")
def index() -> ResponseReturnValue:
    """Show each role its own start page."""
    user = g.user
    if user.role is Role.LEAD:
        return _lead_desk()
    if user.role is Role.SECTION:
        return render_template(
            "staff/section_queue.html",
            routed=_submissions(
                Submission.section_id == user.section_id,
                Submission.kind != SubmissionKind.MISCONDUCT,
                Submission.state == SubmissionState.ROUTED,
            ),
            answered=_submissions(
                Submission.section_id == user.section_id,
                Submission.kind != SubmissionKind.MISCONDUCT,
                Submission.state.in_([SubmissionState.REPLIED, SubmissionState.CLOSED]),
            ),
        )
    return render_template("staff/admin_home.html")


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int) -> ResponseReturnValue:
    """Show one submission with what the viewer may do to it."""
    item = visible(submission_id)
    suggestion = triage.suggest_section(item)
    waiting = [r for r in item.replies if replies.waiting(r)]
    unpublished = [
        r
        for r in item.replies
        if r.state is ReplyState.APPROVED and r.published_at is None
    ]
    return render_template(
        "staff/submission.html",
        submission=item,
        reply_templates=current_app.config["REPLY_TEMPLATES"],
        may_ask=questions.may_ask(item, g.user),
        ask_form=AskForm(),
        accept_form=AcceptForm(),
        conclude_form=ConcludeForm(),
        reopen_form=ReopenForm(),
        keep_form=KeepClosedForm(),
        needs_review=closing.needs_review(item),
        suggestion=suggestion,
        route_form=RouteForm.for_submission(item, suggestion),
        reply_form=ReplyForm.from_template(
            request.args.get("template"), waiting[0] if waiting else None
        ),
        # Only a draft that still waits is offered for approval.
        approve_forms={r.id: ApproveForm.of(r.id, body=r.body) for r in waiting},
        return_forms={r.id: ReturnForm.of(r.id) for r in waiting},
        void=replies.why_void(db.session, list(item.replies)),
        revising=waiting[0] if waiting else None,
        publish_forms={
            r.id: PublishForm.of(r.id, text=replies.masked_text(db.session, r))
            for r in unpublished
        },
        refuse_form=RefuseForm(),
        duplicate_form=DuplicateForm(),
        extend_form=ExtendForm(),
        note_form=NoteForm(),
        spam_form=SpamForm(),
    )


@bp.get("/attachments/<int:attachment_id>")
def attachment(attachment_id: int) -> ResponseReturnValue:
    """Hand staff a citizen's file, if they may read its submission."""
    item = db.get_or_404(Attachment, attachment_id)
    visible(item.submission_id)
    return send_attachment(db.session, item)


QUEUE_LABELS = {
    "new": _l("待分办"),
    "awaiting": _l("已转办，待答复"),
    "drafts": _l("待审核答复"),
    "overdue": _l("已超期"),
    "due_soon": _l("即将到期"),
    "asked": _l("待群众补充"),
    "dissatisfied": _l("群众不满意"),
    "all": _l("全部"),
}


def queue_filters() -> tuple[QueueFilterForm, queues.Filters]:
    """Read the lead desk's filters from the query string; bad values are ignored."""
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    form = QueueFilterForm(request.args)
    form.kind.choices = [SelectChoice("", _("全部"))] + labelled_choices(
        KIND_NAMES, SubmissionKind
    )
    form.state.choices = [SelectChoice("", _("全部"))] + labelled_choices(
        STATE_LABELS, SubmissionState
    )
    form.section.choices = [SelectChoice("", _("全部"))] + [
        SelectChoice(str(s.id), s.name) for s in triage.active_sections(db.session)
    ]
    form.problem.choices = [SelectChoice("", _("全部"))] + [
        SelectChoice(str(p.id), f"{p.code} {p.title}")
        for p in board.all_problems(db.session)
    ]
    form.read()

    def start_of(day: date | None, offset: int = 0) -> datetime | None:
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=offset), time.min, tzinfo=zone)

    kind = form.understood(form.kind)
    state = form.understood(form.state)
    filters = queues.Filters(
        kind=SubmissionKind(kind) if kind else None,
        state=SubmissionState(state) if state else None,
        section_id=chosen_id(form.section),
        problem_id=chosen_id(form.problem),
        received_after=start_of(form.understood(form.received_from)),
        received_before=start_of(form.understood(form.received_to), 1),
        text=form.understood(form.q) or "",
    )
    return form, filters


def first_queue(counts: dict[str, int]) -> str:
    """Return the queue the desk opens on: the first, in the order shown, with work in it."""
    return next((name for name in queues.QUEUE_NAMES if counts[name]), "new")


def _lead_desk() -> ResponseReturnValue:
    """The lead's desk: queues with counts, filters, and one page of the chosen queue."""
    config = current_app.config
    soon = config["REMINDER_DAYS_BEFORE"]
    today = deadlines.today()
    counts = {q: queues.count(db.session, q, today, soon) for q in queues.QUEUE_NAMES}
    name = request.args.get("queue", "")
    if name not in queues.QUEUE_NAMES:
        name = first_queue(counts)
    form, filters = queue_filters()
    current = queues.page(
        db.session,
        name,
        filters,
        today=today,
        soon_days=soon,
        after=queues.parse_after(request.args.get("after")),
    )
    held = db.session.scalar(
        select(func.count())
        .select_from(InboundMessage)
        .where(InboundMessage.state == InboundState.HELD)
    )
    failed = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.FAILED)
    )
    # Replies a section's clerk believes sent, held for the address they
    # came from: flagged apart from the rest of the pen.
    held_replies = db.session.scalar(
        select(func.count())
        .select_from(InboundMessage)
        .where(
            InboundMessage.state == InboundState.HELD,
            InboundMessage.hold_reason.in_([r for r in HoldReason if r.about_sender]),
            InboundMessage.submission_id.is_not(None),
        )
    )
    # The queue chosen, said in every link, so that paging stays in it.
    args = {k: v for k, v in request.args.items() if k != "after"} | {"queue": name}
    # The export links carry the filters that were understood, nothing else.
    export_args = {
        f.name: request.args[f.name]
        for f in form
        if request.args.get(f.name) and not f.errors
    }
    return render_template(
        "staff/lead_queue.html",
        export_args=export_args,
        queue=name,
        labels=QUEUE_LABELS,
        counts=counts,
        cap=queues.COUNT_CAP,
        page=current,
        form=form,
        held=held,
        held_replies=held_replies,
        failed=failed,
        args=args,
    )
