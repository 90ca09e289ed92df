"""The lead's queues and submission page, and a section's own list."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func
from sqlalchemy import select
from wtforms import SelectChoice

from feedback.auth.decorators import role_required
from feedback.downloads import send_attachment
from feedback.extensions import db
from feedback.labels import KIND_NAMES
from feedback.labels import STATE_LABELS
from feedback.models import Attachment
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import Role
from feedback.models import Section
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
from feedback.staff.common import attempt
from feedback.staff.common import templated_reply
from feedback.staff.common import visible
from feedback.staff.forms import ApproveForm
from feedback.staff.forms import AskForm
from feedback.staff.forms import ConcludeForm
from feedback.staff.forms import DuplicateForm
from feedback.staff.forms import ExtendForm
from feedback.staff.forms import NoteForm
from feedback.staff.forms import PublishForm
from feedback.staff.forms import QueueFilterForm
from feedback.staff.forms import ReasonForm
from feedback.staff.forms import ReplyForm
from feedback.staff.forms import ReturnForm
from feedback.staff.forms import RouteForm
from feedback.validators import chosen_id

QUEUE_LIMIT = 200


def _submissions(*conditions: object) -> list[Submission]:
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


def _route_form(submission: Submission) -> RouteForm:
    form = RouteForm()
    form.section_id.choices = [
        SelectChoice(str(s.id), s.name) for s in triage.active_sections(db.session)
    ]
    suggestion = triage.suggest_section(submission)
    if suggestion is not None and not form.is_submitted():
        form.section_id.data = str(suggestion.id)
    return form


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int) -> ResponseReturnValue:
    """Show one submission with what the viewer may do to it."""
    from feedback.staff import decisions

    item = visible(submission_id)
    drafts = [r for r in item.replies if r.state is ReplyState.DRAFT]
    return render_template(
        "staff/submission.html",
        submission=item,
        reply_templates=current_app.config["REPLY_TEMPLATES"],
        may_ask=questions.may_ask(item, g.user),
        ask_form=AskForm(prefix="ask"),
        accept_form=FlaskForm(prefix="accept"),
        conclude_form=ConcludeForm(prefix="conclude"),
        reopen_form=ReasonForm(prefix="reopen"),
        keep_form=ReasonForm(prefix="keep"),
        needs_review=closing.needs_review(item),
        suggestion=triage.suggest_section(item),
        route_form=_route_form(item),
        reply_form=ReplyForm(body=templated_reply(request.args.get("template"))),
        approve_forms={
            r.id: ApproveForm(prefix=f"r{r.id}", body=r.body) for r in drafts
        },
        return_forms={r.id: ReturnForm(prefix=f"return{r.id}") for r in drafts},
        publish_forms={
            r.id: PublishForm(prefix=f"publish{r.id}", text=replies.masked_text(r))
            for r in item.replies
            if r.state is ReplyState.APPROVED and r.published_at is None
        },
        refuse_form=decisions.refuse_form(),
        duplicate_form=DuplicateForm(prefix="duplicate"),
        extend_form=ExtendForm(prefix="extend"),
        note_form=NoteForm(prefix="note"),
        spam_form=FlaskForm(),
    )


@bp.post("/submissions/<int:submission_id>/route")
@role_required(Role.LEAD)
def route(submission_id: int) -> ResponseReturnValue:
    """Send a submission to the section that should answer it."""
    item = db.get_or_404(Submission, submission_id)
    form = _route_form(item)
    if form.validate_on_submit():
        section = db.get_or_404(Section, int(form.section_id.data))
        attempt(
            lambda: triage.route(db.session, item, section, actor=g.user),
            _("已转办给%(name)s，邮件将很快发出。", name=section.name),
        )
    else:
        flash(_("请选择股室。"), "error")
    return redirect(url_for("staff.submission", submission_id=item.id))


@bp.post("/submissions/<int:submission_id>/reply")
@role_required(Role.SECTION)
def reply(submission_id: int) -> ResponseReturnValue:
    """Let section staff answer on the web; the lead approves it before it goes out."""
    item = visible(submission_id)
    form = ReplyForm()
    if form.validate_on_submit():
        attempt(
            lambda: replies.draft(
                db.session,
                item,
                g.user.section,
                form.body.data,
                channel=ReplyChannel.WEB,
                author_label=g.user.email,
                actor=g.user,
            ),
            _("答复已提交，待纪检组长审核后发给群众。"),
        )
    else:
        for error in form.body.errors:
            flash(str(error), "error")
    return redirect(url_for("staff.submission", submission_id=item.id))


@bp.post("/replies/<int:reply_id>/approve")
@role_required(Role.LEAD)
def approve_reply(reply_id: int) -> ResponseReturnValue:
    """Approve a section's draft, as written or edited."""
    item = db.get_or_404(Reply, reply_id)
    form = ApproveForm(prefix=f"r{item.id}")
    if form.validate_on_submit():
        attempt(
            lambda: replies.approve(
                db.session, item, actor=g.user, body=form.body.data
            ),
            _("答复已审核通过，群众可以用查询码看到。"),
        )
    else:
        flash(_("答复内容不能为空。"), "error")
    return redirect(url_for("staff.submission", submission_id=item.submission_id))


@bp.get("/attachments/<int:attachment_id>")
def attachment(attachment_id: int) -> ResponseReturnValue:
    """Hand staff a citizen's file, if they may read its submission."""
    item = db.get_or_404(Attachment, attachment_id)
    visible(item.submission_id)
    return send_attachment(item)


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
    form = QueueFilterForm(request.args, meta={"csrf": False})
    form.kind.choices = [SelectChoice("", _("全部"))] + [
        SelectChoice(k.value, str(KIND_NAMES[k])) for k in SubmissionKind
    ]
    form.state.choices = [SelectChoice("", _("全部"))] + [
        SelectChoice(s.value, str(STATE_LABELS[s])) for s in SubmissionState
    ]
    form.section.choices = [SelectChoice("", _("全部"))] + [
        SelectChoice(str(s.id), s.name) for s in triage.active_sections(db.session)
    ]
    form.problem.choices = [SelectChoice("", _("全部"))] + [
        SelectChoice(str(p.id), f"{p.code} {p.title}")
        for p in board.all_problems(db.session)
    ]
    form.validate()

    def start_of(day: date | None, offset: int = 0) -> datetime | None:
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=offset), time.min, tzinfo=zone)

    filters = queues.Filters(
        kind=SubmissionKind(form.kind.data)
        if form.kind.data and not form.kind.errors
        else None,
        state=SubmissionState(form.state.data)
        if form.state.data and not form.state.errors
        else None,
        section_id=chosen_id(form.section),
        problem_id=chosen_id(form.problem),
        received_after=start_of(
            None if form.received_from.errors else form.received_from.data
        ),
        received_before=start_of(
            None if form.received_to.errors else form.received_to.data, 1
        ),
        text=form.q.data or "",
    )
    return form, filters


def _lead_desk() -> ResponseReturnValue:
    """The lead's desk: queues with counts, filters, and one page of the chosen queue."""
    config = current_app.config
    soon = config["REMINDER_DAYS_BEFORE"]
    name = request.args.get("queue", "new")
    if name not in queues.QUEUE_NAMES:
        name = "new"
    form, filters = queue_filters()
    today = deadlines.today()
    current = queues.page(
        db.session,
        name,
        filters,
        today=today,
        soon_days=soon,
        after=queues.parse_after(request.args.get("after")),
    )
    counts = {q: queues.count(db.session, q, today, soon) for q in queues.QUEUE_NAMES}
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
    args = {k: v for k, v in request.args.items() if k != "after"}
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
        failed=failed,
        args=args,
    )
