"""Which e-mail goes out for which event: subjects here, wording in templates/emails/."""

from __future__ import annotations

from datetime import date

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel import LazyString
from sqlalchemy.orm import Session

from feedback.models import InfoRequest
from feedback.models import Reply
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.services import accounts
from feedback.services import outbox
from feedback.signing import external_url
from feedback.signing import reply_address
from feedback.signing import reply_token

# Mail to the bureau's staff is written in the bureau's own script.
STAFF_LOCALE = "zh_Hans_CN"


def _queue(
    session: Session,
    name: str,
    *,
    recipient: str,
    subject: LazyString,
    submission: Submission,
    reply_to: str | None = None,
    redact_after_send: bool = False,
    **context: object,
) -> None:
    """Render the subject and ``emails/<name>.txt`` and ``.html`` now, in the
    bureau's script, and queue them in the outbox."""
    with force_locale(STAFF_LOCALE):
        subject_text = str(subject)
        context["submission"] = submission
        text = render_template(f"emails/{name}.txt", **context)
        html = render_template(f"emails/{name}.html", **context)
    outbox.enqueue(
        session,
        template=name,
        recipient=recipient,
        subject=subject_text,
        body_text=text,
        body_html=html,
        submission=submission,
        reply_to=reply_to,
        redact_after_send=redact_after_send,
    )


def _to_leads(
    session: Session,
    name: str,
    leads: list[StaffUser],
    *,
    subject: LazyString,
    submission: Submission,
    **context: object,
) -> None:
    """Queue ``emails/<name>`` to each lead, with a link to the submission's page."""
    for lead in leads:
        _queue(
            session,
            name,
            recipient=lead.email,
            subject=subject,
            submission=submission,
            staff_url=external_url("staff.submission", submission_id=submission.id),
            **context,
        )


def _to_section(
    session: Session,
    name: str,
    section: Section,
    *,
    subject: LazyString,
    submission: Submission,
    **context: object,
) -> None:
    """Queue ``emails/<name>`` to a section, replying to the submission's own
    address, with the signed link to its reply page."""
    _queue(
        session,
        name,
        recipient=section.email,
        subject=subject,
        submission=submission,
        reply_to=reply_address(submission.id),
        section=section,
        reply_url=external_url(
            "section.reply", token=reply_token(submission.id, section.id)
        ),
        **context,
    )


def _to_author(
    session: Session,
    name: str,
    *,
    subject: LazyString,
    submission: Submission,
    **context: object,
) -> None:
    """Queue ``emails/<name>`` to the author, if they left an e-mail address,
    with the link to the tracking page."""
    if not submission.author_email:
        return
    _queue(
        session,
        name,
        recipient=submission.author_email,
        subject=subject,
        submission=submission,
        track_url=external_url("public.track"),
        **context,
    )


def submission_routed(
    session: Session, submission: Submission, section: Section
) -> None:
    """Tell a section that a submission is theirs to answer, with a reply link."""
    subject = _l(
        "[%(ref)s] 请答复公众意见：%(subject)s",
        ref=submission.reference,
        subject=submission.subject,
    )
    _to_section(
        session,
        "submission_routed",
        section,
        subject=subject,
        submission=submission,
    )


def reply_approved(session: Session, submission: Submission, reply: Reply) -> None:
    """Send the approved reply to the author, if they left an e-mail address."""
    subject = _l("[%(ref)s] 您的意见已答复", ref=submission.reference)
    _to_author(
        session, "reply_approved", subject=subject, submission=submission, reply=reply
    )


def receipt(session: Session, submission: Submission, access_code: str) -> None:
    """Send the author their reference and access code; the copy kept is redacted."""
    subject = _l("[%(ref)s] 已收到您的意见", ref=submission.reference)
    _to_author(
        session,
        "receipt",
        subject=subject,
        submission=submission,
        redact_after_send=True,
        access_code=access_code,
    )


def deadline_reminder(session: Session, submission: Submission, today: date) -> None:
    """Remind the section that a reply is due soon, with its reply link again."""
    section = submission.section
    subject = _l(
        "[%(ref)s] 提醒：请在%(due)s前答复",
        ref=submission.reference,
        due=submission.due_on,
    )
    _to_section(
        session,
        "deadline_reminder",
        section,
        subject=subject,
        submission=submission,
        today=today,
    )


def deadline_escalation(
    session: Session, submission: Submission, leads: list[StaffUser], today: date
) -> None:
    """Tell every lead that a submission is past a deadline."""
    subject = _l("[%(ref)s] 已超期，请督办", ref=submission.reference)
    _to_leads(
        session,
        "deadline_escalation",
        leads,
        subject=subject,
        submission=submission,
        today=today,
    )


def author_update(session: Session, submission: Submission, what: str) -> None:
    """Tell the author, if they left an e-mail address, what was decided and why.

    ``what`` is one of: accepted, refused, duplicate, extended,
    info_requested, reopened.
    """
    subject = _l("[%(ref)s] 您的意见有新进展", ref=submission.reference)
    _to_author(
        session, "author_update", subject=subject, submission=submission, what=what
    )


def reply_returned(session: Session, reply: Reply, reason: str) -> None:
    """Tell the section its draft came back, why, and where to answer again."""
    submission, section = reply.submission, reply.section
    if section is None:
        return
    subject = _l("[%(ref)s] 答复被退回，请修改后重新答复", ref=submission.reference)
    _to_section(
        session,
        "reply_returned",
        section,
        subject=subject,
        submission=submission,
        reason=reason,
    )


def info_answered(
    session: Session, submission: Submission, request: InfoRequest
) -> None:
    """Tell whoever is handling the submission that the author answered a question.

    That is the section it is routed to, with its reply link; otherwise (not
    yet routed, or a 举报) every lead.
    """
    subject = _l("[%(ref)s] 群众已补充材料", ref=submission.reference)
    section = None if submission.is_misconduct else submission.section
    if section is not None:
        _to_section(
            session,
            "info_answered",
            section,
            subject=subject,
            submission=submission,
            request=request,
        )
        return
    _to_leads(
        session,
        "info_answered",
        accounts.active_leads(session),
        subject=subject,
        submission=submission,
        request=request,
    )


def rated_dissatisfied(session: Session, submission: Submission) -> None:
    """Put a 不满意 rating before every lead, who may reopen the submission."""
    subject = _l("[%(ref)s] 群众对答复不满意", ref=submission.reference)
    _to_leads(
        session,
        "rated_dissatisfied",
        accounts.active_leads(session),
        subject=subject,
        submission=submission,
    )
