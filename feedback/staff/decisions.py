"""Decisions on a submission and its replies, each posted from the submission's page.

Route, refuse, duplicate, spam, accept, conclude, extend; a section's web
reply, notes and questions; approve, return, publish; reopen, keep closed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import g
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import LazyString

from feedback.auth.decorators import role_required
from feedback.extensions import db
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.services import closing
from feedback.services import questions
from feedback.services import replies
from feedback.services import submissions
from feedback.services import triage
from feedback.staff import bp
from feedback.staff.common import page_of
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
from feedback.staff.forms import RefuseForm
from feedback.staff.forms import ReopenForm
from feedback.staff.forms import ReturnForm
from feedback.staff.forms import RouteForm
from feedback.staff.forms import SpamForm
from feedback.web.actions import decide
from feedback.web.forms import PrefixedForm
from feedback.web.forms import ReplyForm

F = TypeVar("F", bound=PrefixedForm)
View = Callable[..., ResponseReturnValue]


def _lead_reads(submission_id: int) -> Submission:
    return db.get_or_404(Submission, submission_id)


def decision(
    form: type[F],
    done: LazyString,
    *,
    load: Callable[[int], Submission] = _lead_reads,
) -> Callable[[Callable[[Submission, F], object]], View]:
    """Make ``act(submission, form)`` the view of a decision posted from its page.

    The view finds the submission the URL names with ``load`` (by default
    any, as the lead reads them all), builds ``form`` as the page did, and
    lets :func:`decide` run ``act``, say ``done`` (or why not) and go back
    to the page.
    """

    def wrap(act: Callable[[Submission, F], object]) -> View:
        @wraps(act)
        def view(submission_id: int) -> ResponseReturnValue:
            item = load(submission_id)
            posted = form()
            return decide(
                lambda: act(item, posted), done, page_of(item.id), form=posted
            )

        return view

    return wrap


def reply_decision(
    form: type[F], done: LazyString, *, invalid: LazyString | None = None
) -> Callable[[Callable[[Reply, F], object]], View]:
    """Make ``act(reply, form)`` the view of a decision on a reply, which
    :func:`decision` runs for a submission.

    Several replies stand on their submission's page, so each one's form
    carries its id; ``invalid`` replaces the form's own errors.
    """

    def wrap(act: Callable[[Reply, F], object]) -> View:
        @wraps(act)
        def view(reply_id: int) -> ResponseReturnValue:
            reply = db.get_or_404(Reply, reply_id)
            posted = form.of(reply.id)
            return decide(
                lambda: act(reply, posted),
                done,
                page_of(reply.submission_id),
                form=posted,
                invalid=invalid,
            )

        return view

    return wrap


@bp.post("/submissions/<int:submission_id>/route")
@role_required(Role.LEAD)
def route(submission_id: int) -> ResponseReturnValue:
    """Send a submission to the section that should answer it."""
    item = db.get_or_404(Submission, submission_id)
    form = RouteForm.for_submission(item)

    def act() -> Section:
        section = db.get_or_404(Section, int(form.section_id.data))
        triage.route(db.session, item, section, actor=g.user)
        return section

    return decide(
        act,
        lambda section: _("已转办给%(name)s，邮件将很快发出。", name=section.name),
        page_of(item.id),
        form=form,
        invalid=_("请选择股室。"),
    )


@bp.post("/submissions/<int:submission_id>/refuse")
@role_required(Role.LEAD)
@decision(RefuseForm, _l("已决定不予受理，并告知群众。"))
def refuse(item: Submission, form: RefuseForm) -> None:
    """Decline a submission with a reason the author reads."""
    triage.refuse(db.session, item, form.text(), actor=g.user)


@bp.post("/submissions/<int:submission_id>/duplicate")
@role_required(Role.LEAD)
@decision(DuplicateForm, _l("已标记为重复件。"))
def mark_duplicate(item: Submission, form: DuplicateForm) -> None:
    """Close a submission as a repeat of another."""
    original = submissions.by_reference(db.session, form.reference.data)
    triage.mark_duplicate(db.session, item, original, actor=g.user)


@bp.post("/submissions/<int:submission_id>/spam")
@role_required(Role.LEAD)
@decision(SpamForm, _l("已标记为无效信息。"))
def mark_spam(item: Submission, _form: SpamForm) -> None:
    """Set aside a submission that is not an opinion at all."""
    triage.mark_spam(db.session, item, actor=g.user)


@bp.post("/submissions/<int:submission_id>/accept")
@role_required(Role.LEAD)
@decision(AcceptForm, _l("举报已受理，并告知举报人。"))
def accept_report(item: Submission, _form: AcceptForm) -> None:
    """Take up a 举报, telling the reporter it was accepted."""
    triage.accept_misconduct(db.session, item, actor=g.user)


@bp.post("/submissions/<int:submission_id>/conclude")
@role_required(Role.LEAD)
@decision(ConcludeForm, _l("办理结果已告知举报人。"))
def conclude_report(item: Submission, form: ConcludeForm) -> None:
    """Record a 举报's result and send it to the reporter."""
    result, day = form.result.data, form.concluded_on.data
    replies.conclude(db.session, item, result, day, actor=g.user)


@bp.post("/submissions/<int:submission_id>/extend")
@role_required(Role.LEAD)
@decision(ExtendForm, _l("答复期限已延长，并告知群众。"))
def extend(item: Submission, form: ExtendForm) -> None:
    """Extend the reply deadline once, telling the author why."""
    triage.extend(db.session, item, form.days.data, form.reason.data, actor=g.user)


@bp.post("/submissions/<int:submission_id>/reply")
@role_required(Role.SECTION)
@decision(ReplyForm, _l("答复已提交，待纪检组长审核后发给群众。"), load=visible)
def reply(item: Submission, form: ReplyForm) -> None:
    """Let section staff answer on the web, or change their waiting draft, for the lead."""
    user = g.user
    number = form.revised_id
    replies.answer(
        db.session,
        item,
        user.section,
        form.body.data,
        revising=None if number is None else db.get_or_404(Reply, number),
        channel=ReplyChannel.WEB,
        author_label=user.email,
        actor=user,
    )


@bp.post("/submissions/<int:submission_id>/notes")
@role_required(Role.LEAD, Role.SECTION)
@decision(NoteForm, _l("备注已保存。"), load=visible)
def add_note(item: Submission, form: NoteForm) -> None:
    """Add an internal note (lead, or the section the submission is routed to)."""
    triage.add_note(db.session, item, form.body.data, actor=g.user)


@bp.post("/submissions/<int:submission_id>/ask")
@role_required(Role.LEAD, Role.SECTION)
@decision(AskForm, _l("问题已发给群众，等待补充。"), load=visible)
def ask_author(item: Submission, form: AskForm) -> None:
    """Ask the author for more information (the lead, or the section handling it)."""
    questions.ask(db.session, item, form.question.data, actor=g.user)


@bp.post("/replies/<int:reply_id>/approve")
@role_required(Role.LEAD)
@reply_decision(
    ApproveForm,
    _l("答复已审核通过，群众可以用查询码看到。"),
    invalid=_l("答复内容不能为空。"),
)
def approve_reply(draft: Reply, form: ApproveForm) -> None:
    """Approve a section's draft, as written or edited."""
    replies.approve(db.session, draft, actor=g.user, body=form.body.data)


@bp.post("/replies/<int:reply_id>/return")
@role_required(Role.LEAD)
@reply_decision(ReturnForm, _l("答复已退回股室。"))
def return_reply(draft: Reply, form: ReturnForm) -> None:
    """Send a draft reply back to its section with the lead's reason."""
    replies.return_draft(db.session, draft, form.reason.data, actor=g.user)


@bp.post("/replies/<int:reply_id>/publish")
@role_required(Role.LEAD)
@reply_decision(PublishForm, _l("答复已公开。"))
def publish_reply(approved: Reply, form: PublishForm) -> None:
    """Publish an approved reply, personal data masked, on the problem's page."""
    replies.publish(db.session, approved, form.text.data, actor=g.user)


@bp.post("/submissions/<int:submission_id>/reopen")
@role_required(Role.LEAD)
@decision(ReopenForm, _l("已重新办理，并告知承办方和群众。"))
def reopen(item: Submission, form: ReopenForm) -> None:
    """Reopen a replied or closed submission with a new deadline."""
    closing.reopen(db.session, item, form.reason.data, actor=g.user)


@bp.post("/submissions/<int:submission_id>/keep-closed")
@role_required(Role.LEAD)
@decision(KeepClosedForm, _l("已记录：维持办结。"))
def keep_closed(item: Submission, form: KeepClosedForm) -> None:
    """Keep a submission closed after a 不满意 rating, with the lead's reason."""
    closing.keep_closed(db.session, item, form.reason.data, actor=g.user)
