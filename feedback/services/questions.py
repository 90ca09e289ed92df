"""Asking the author for more information, and taking their answer through the access code.

The lead, or the section a submission is routed to, may ask one question at
a time. The author answers with text and files on the tracking page. With
INFO_REQUEST_PAUSES_CLOCK on, the calendar days the question stayed open are
added to the due date (the reply's, or the triage's while it is unrouted).
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import InfoRequest
from feedback.models import Role
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import attachments
from feedback.services import audit
from feedback.services import deadlines
from feedback.services import DomainError
from feedback.services import NotAllowed
from feedback.services import notifications
from feedback.services.notifications import AuthorUpdate

# States in which somebody is still working on the submission.
OPEN_STATES = frozenset({SubmissionState.RECEIVED, SubmissionState.ROUTED})


class QuestionError(DomainError):
    """A question could not be asked or answered."""


def open_request(submission: Submission) -> InfoRequest | None:
    """Return the question still waiting for the author, if there is one."""
    waiting = [r for r in submission.info_requests if r.is_open]
    return waiting[-1] if waiting else None


def may_ask(submission: Submission, user: StaffUser) -> bool:
    """Return whether ``user`` may ask this submission's author a question now."""
    if submission.state not in OPEN_STATES or submission.info_pending:
        return False
    if user.role is Role.LEAD:
        return True
    return (
        user.role is Role.SECTION
        and not submission.is_misconduct
        and submission.state is SubmissionState.ROUTED
        and submission.section_id == user.section_id
    )


def ask(
    session: DbSession, submission: Submission, question: str, *, actor: StaffUser
) -> InfoRequest:
    """Ask the author for more information; they are told on the page and by e-mail."""
    if not question.strip():
        raise QuestionError(_l("请填写要问群众的问题。"), field="question")
    if submission.info_pending:
        raise QuestionError(_l("群众还没有回答上一个问题，请等回答后再问。"))
    if not may_ask(submission, actor):
        raise NotAllowed(_l("现在不能向这条意见的作者提问。"))
    request = InfoRequest(submission=submission, asked_by=actor, question=question)
    session.add(request)
    submission.info_pending = True
    session.flush()
    audit.record(
        session, AuditAction.INFO_REQUESTED, submission, actor=actor, reason=question
    )
    notifications.author_update(session, submission, AuthorUpdate.INFO_REQUESTED)
    return request


def answer(
    session: DbSession,
    submission: Submission,
    text: str,
    uploads: list[attachments.Upload] | None = None,
) -> list[Path]:
    """Record the author's answer and files; return the paths written.

    The caller commits, and on failure removes the paths with
    ``attachments.discard``.
    """
    request = open_request(submission)
    if request is None:
        raise QuestionError(
            _l("现在没有需要您回答的问题，可能已经回答过了。请刷新页面查看。")
        )
    if not text.strip() and not uploads:
        raise QuestionError(_l("请填写补充内容或上传文件。"), field="answer")
    config = current_app.config
    request.answer = text
    request.answered_at = utcnow()
    submission.info_pending = False
    if config["INFO_REQUEST_PAUSES_CLOCK"]:
        zone = config["TIME_ZONE"]
        paused = (
            deadlines.local_date(request.answered_at, zone)
            - deadlines.local_date(request.asked_at, zone)
        ).days
        request.paused_days = paused
        if paused > 0 and submission.due_on is not None:
            submission.due_on = deadlines.add_days(submission.due_on, paused)
        elif paused > 0 and submission.triage_due_on is not None:
            submission.triage_due_on = deadlines.add_days(
                submission.triage_due_on, paused
            )
    written = attachments.store(session, submission, uploads or [], request)
    session.flush()
    audit.record(session, AuditAction.INFO_ANSWERED, submission, actor_label="citizen")
    notifications.info_answered(session, submission, request)
    return written
