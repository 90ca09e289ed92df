"""Which e-mail goes out for which event: subjects here, wording in templates/emails/."""

from __future__ import annotations

import enum
from datetime import date
from datetime import timedelta

from flask import current_app
from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel import LazyString
from limits import parse_many
from limits import RateLimitItem
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import InboundMessage
from feedback.models import InfoRequest
from feedback.models import Language
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Reply
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.services import accounts
from feedback.services import locks
from feedback.services import outbox
from feedback.signing import external_url
from feedback.signing import reply_address
from feedback.signing import reply_token

# Mail to the bureau's staff is written in the bureau's own script.
STAFF_LOCALE = "zh_Hans_CN"

# A subject may name the reference (ref), the submission's own subject and
# its reply due date (due).
SUBJECTS = {
    Notification.RECEIPT: _l("[%(ref)s] 已收到您的意见"),
    Notification.SUBMISSION_ROUTED: _l("[%(ref)s] 请答复公众意见：%(subject)s"),
    Notification.DEADLINE_REMINDER: _l("[%(ref)s] 提醒：请在%(due)s前答复"),
    Notification.DEADLINE_ESCALATION: _l("[%(ref)s] 已超期，请督办"),
    Notification.AUTHOR_UPDATE: _l("[%(ref)s] 您的意见有新进展"),
    Notification.REPLY_RETURNED: _l("[%(ref)s] 答复被退回，请修改后重新答复"),
    Notification.REPLY_APPROVED: _l("[%(ref)s] 您的意见已答复"),
    Notification.INFO_ANSWERED: _l("[%(ref)s] 群众已补充材料"),
    Notification.RATED_DISSATISFIED: _l("[%(ref)s] 群众对答复不满意"),
    # Mail about staff accounts and sections names no submission.
    Notification.SIGN_IN_LOCKED: _l("您的账号登录已暂停"),
    Notification.SECTION_ADDRESS_CHANGED: _l("%(section)s的收件邮箱已更改"),
    Notification.REPLY_HELD: _l("[%(ref)s] 您的答复邮件未能自动收下，已交纪检组长核对"),
}

# The routing mail of a reopened submission says so before anything else.
REOPENED_SUBJECT = _l("[%(ref)s] 重新办理，请再次答复：%(subject)s")

# A sender whose reply was held hears of it at most once in this long, so
# that an auto-responder answering the notice cannot start a loop.
REPLY_HELD_INTERVAL = timedelta(days=1)

# What a 举报's author is told is worded as a report, never as an opinion.
MISCONDUCT_SUBJECTS = {
    Notification.RECEIPT: _l("[%(ref)s] 已收到您的举报"),
    Notification.AUTHOR_UPDATE: _l("[%(ref)s] 您的举报有新进展"),
    Notification.REPLY_APPROVED: _l("[%(ref)s] 您的举报已办结"),
}


class AuthorUpdate(enum.StrEnum):
    """What :func:`author_update` tells the author about their submission.

    ``templates/emails/_author_update.txt`` words each one in a macro named
    after its value.
    """

    ACCEPTED = "accepted"  # routed to a section, or a 举报 taken up
    REFUSED = "refused"  # 不予受理, with the reason
    DUPLICATE = "duplicate"  # merged into an earlier submission
    EXTENDED = "extended"  # the reply deadline moved, with the reason
    INFO_REQUESTED = "info_requested"  # a question the author should answer
    REOPENED = "reopened"  # handled again, with a new deadline


def _render(
    name: Notification,
    subject_args: dict[str, object],
    context: dict[str, object],
    *,
    misconduct: bool = False,
    locale: str = STAFF_LOCALE,
    wording: LazyString | None = None,
) -> tuple[str, str, str]:
    """Return the subject, text and HTML of ``emails/<name>`` in ``locale``
    (the traditional one converts the bureau's words too); ``wording``
    replaces the subject's usual one."""
    if wording is None:
        special = MISCONDUCT_SUBJECTS.get(name) if misconduct else None
        wording = special or SUBJECTS[name]
    with force_locale(locale):
        subject = str(wording) % subject_args
        text = render_template(f"emails/{name}.txt", **context)
        html = render_template(f"emails/{name}.html", **context)
    return subject, text, html


def _queue(
    session: DbSession,
    name: Notification,
    submission: Submission | None,
    recipients: list[str],
    context: dict[str, object],
    *,
    subject_args: dict[str, object] | None = None,
    reply_to: str | None = None,
    redact_after_send: bool = False,
    locale: str = STAFF_LOCALE,
    wording: LazyString | None = None,
) -> list[OutboxMessage]:
    """Render ``emails/<name>`` now, once, in ``locale``, and queue a copy in
    the outbox for each recipient.

    Mail about a submission names it in its subject (``subject_args`` are
    for mail about none).
    """
    if not recipients:
        return []
    if submission is not None:
        subject_args = {
            "ref": submission.reference,
            "subject": submission.subject,
            "due": submission.due_on,
        }
        context = {"submission": submission, **context}
    subject, body_text, body_html = _render(
        name,
        subject_args or {},
        context,
        misconduct=submission is not None and submission.is_misconduct,
        locale=locale,
        wording=wording,
    )
    return [
        outbox.enqueue(
            session,
            template=name,
            recipient=recipient,
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            submission=submission,
            reply_to=reply_to,
            redact_after_send=redact_after_send,
        )
        for recipient in recipients
    ]


def _to_leads(
    session: DbSession,
    name: Notification,
    submission: Submission,
    leads: list[StaffUser],
    **context: object,
) -> None:
    """Queue ``emails/<name>`` to each lead, with a link to the submission's page."""
    staff_url = external_url("staff.submission", submission_id=submission.id)
    recipients = [lead.email for lead in leads]
    _queue(session, name, submission, recipients, {"staff_url": staff_url, **context})


def _to_section(
    session: DbSession,
    name: Notification,
    submission: Submission,
    section: Section,
    wording: LazyString | None = None,
    **context: object,
) -> None:
    """Queue ``emails/<name>`` to a section, replying to the submission's own
    address, with the signed link to its reply page and one to each of the
    citizen's files (``files``: pairs of attachment and link)."""
    token = reply_token(submission.id, section.id)
    reply_url = external_url("section.reply", token=token)
    files = [
        (
            item,
            external_url("section.attachment_link", token=token, attachment_id=item.id),
        )
        for item in submission.attachments
    ]
    _queue(
        session,
        name,
        submission,
        [section.email],
        {"section": section, "reply_url": reply_url, "files": files, **context},
        reply_to=reply_address(submission.id),
        wording=wording,
    )


def _to_author(
    session: DbSession,
    name: Notification,
    submission: Submission,
    *,
    redact_after_send: bool = False,
    **context: object,
) -> list[OutboxMessage]:
    """Queue ``emails/<name>`` to the author, if they left an e-mail address,
    with the link to the tracking page, in the language and script of the
    page they wrote on."""
    if not submission.author_email:
        return []
    return _queue(
        session,
        name,
        submission,
        [submission.author_email],
        {"track_url": external_url("public.track"), **context},
        redact_after_send=redact_after_send,
        locale=author_locale(submission),
    )


def author_locale(submission: Submission) -> str:
    """Return the Babel locale of the author's e-mails (simplified if unknown)."""
    if submission.language in set(Language):
        return Language(submission.language).locale
    return Language.SIMPLIFIED.locale


def submission_routed(
    session: DbSession,
    submission: Submission,
    section: Section,
    *,
    instruction: str | None = None,
) -> None:
    """Tell a section that a submission is theirs to answer, with a reply link.

    With the lead's ``instruction`` it is a reopened submission: the mail says
    so first, with the author's rating and reason and the earlier reply.
    """
    _to_section(
        session,
        Notification.SUBMISSION_ROUTED,
        submission,
        section,
        wording=REOPENED_SUBJECT if instruction is not None else None,
        instruction=instruction,
        earlier=submission.approved_reply if instruction is not None else None,
    )


def reply_approved(session: DbSession, submission: Submission, reply: Reply) -> None:
    """Send the approved reply to the author, if they left an e-mail address."""
    _to_author(session, Notification.REPLY_APPROVED, submission, reply=reply)


def receipt_limits(setting: str) -> list[RateLimitItem]:
    """Read ``RECEIPT_RATE_LIMIT`` ("3/hour", "3 per hour;10 per day");
    raise ValueError for anything else."""
    return parse_many(setting)


def _count_alone(session: DbSession, name: str) -> None:
    """On PostgreSQL, hold a lock named ``name`` until the commit, so that two
    nodes never count the same mail in the outbox at once; on SQLite the
    transaction's write lock does."""
    if session.get_bind().dialect.name == "postgresql":
        key = locks.advisory_key(name)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _receipt_allowed(session: DbSession, address: str) -> bool:
    """Say whether one more new-submission receipt may go to ``address``.

    Counted in the outbox, so every node counts the same mail.
    """
    address = address.strip().lower()
    _count_alone(session, f"receipt:{address}")
    now = utcnow()
    for limit in receipt_limits(current_app.config["RECEIPT_RATE_LIMIT"]):
        since = now - timedelta(seconds=limit.get_expiry())
        sent = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.template == Notification.RECEIPT,
                func.lower(OutboxMessage.recipient) == address,
                OutboxMessage.state != OutboxState.SUPPRESSED,
                OutboxMessage.created_at >= since,
            )
        )
        if (sent or 0) >= limit.amount:
            return False
    return True


def receipt(session: DbSession, submission: Submission, access_code: str) -> bool:
    """Send the author their reference and access code; the copy kept is redacted.

    It carries nothing the author wrote, so that nobody can have the bureau
    mail their words to a stranger. Beyond ``RECEIPT_RATE_LIMIT`` receipts to
    one address it is kept suppressed instead, without the code: the receipt
    page showed the code, and the lead sees what was held back. Return
    whether a receipt is on its way.
    """
    address = submission.author_email
    if not address:
        return False
    allowed = _receipt_allowed(session, address)
    messages = _to_author(
        session,
        Notification.RECEIPT,
        submission,
        redact_after_send=True,
        access_code=access_code,
    )
    if not allowed:
        for message in messages:
            outbox.suppress(message)
    return allowed


def deadline_reminder(session: DbSession, submission: Submission, today: date) -> None:
    """Remind the section that a reply is due soon, with its reply link again."""
    section = submission.section
    if section is None:
        return
    _to_section(
        session, Notification.DEADLINE_REMINDER, submission, section, today=today
    )


def deadline_escalation(
    session: DbSession, submission: Submission, leads: list[StaffUser], today: date
) -> None:
    """Tell every lead that a submission is past a deadline."""
    _to_leads(session, Notification.DEADLINE_ESCALATION, submission, leads, today=today)


def author_update(
    session: DbSession, submission: Submission, what: AuthorUpdate
) -> None:
    """Tell the author, if they left an e-mail address, what was decided and why."""
    _to_author(session, Notification.AUTHOR_UPDATE, submission, what=what)


def reply_returned(session: DbSession, reply: Reply, reason: str) -> None:
    """Tell the section its draft came back, why, and where to answer again."""
    submission, section = reply.submission, reply.section
    if section is None:
        return
    _to_section(
        session, Notification.REPLY_RETURNED, submission, section, reason=reason
    )


def info_answered(
    session: DbSession, submission: Submission, request: InfoRequest
) -> None:
    """Tell whoever is handling the submission that the author answered a question.

    That is the section it is routed to, with its reply link; otherwise (not
    yet routed, or a 举报) every lead.
    """
    name = Notification.INFO_ANSWERED
    section = None if submission.is_misconduct else submission.section
    if section is not None:
        _to_section(session, name, submission, section, request=request)
    else:
        leads = accounts.active_leads(session)
        _to_leads(session, name, submission, leads, request=request)


def rated_dissatisfied(session: DbSession, submission: Submission) -> None:
    """Put a 不满意 rating before every lead, who may reopen the submission."""
    leads = accounts.active_leads(session)
    _to_leads(session, Notification.RATED_DISSATISFIED, submission, leads)


def _to_staff(
    session: DbSession,
    name: Notification,
    recipients: list[str],
    subject_args: dict[str, object],
    **context: object,
) -> None:
    """Queue ``emails/<name>``, about no submission, to each of ``recipients`` once."""
    unique = list(dict.fromkeys(recipients))
    _queue(session, name, None, unique, context, subject_args=subject_args)


def sign_in_locked(
    session: DbSession, user: StaffUser, *, whole_account: bool, minutes: int
) -> None:
    """Tell a staff member that sign-in to their account was stopped, and for how long.

    ``whole_account``: stopped for everyone, not only for the client that
    failed too often.
    """
    _to_staff(
        session,
        Notification.SIGN_IN_LOCKED,
        [user.email],
        {},
        user=user,
        whole_account=whole_account,
        minutes=minutes,
        login_url=external_url("auth.login"),
    )


def section_address_changed(
    session: DbSession, section: Section, old: str, *, actor: StaffUser
) -> None:
    """Tell the old and the new mailbox of a section, and the leads, of the change.

    The old mailbox hears of it, so that a change nobody there asked for is
    noticed before the section's mail goes astray.
    """
    leads = [lead.email for lead in accounts.active_leads(session)]
    _to_staff(
        session,
        Notification.SECTION_ADDRESS_CHANGED,
        [old, section.email, *leads],
        {"section": section.name},
        section=section,
        old=old,
        actor=actor,
    )


def reply_held(
    session: DbSession, held: InboundMessage, submission: Submission
) -> bool:
    """Tell a staff address that its reply was held, and how to answer; at most
    once per REPLY_HELD_INTERVAL, counted in the outbox.

    The notice quotes nothing of the held mail, whose words a forger may
    have chosen. Return whether a notice was queued.
    """
    address = held.sender.strip().lower()
    _count_alone(session, f"reply-held:{address}")
    since = utcnow() - REPLY_HELD_INTERVAL
    told = session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.template == Notification.REPLY_HELD,
            func.lower(OutboxMessage.recipient) == address,
            OutboxMessage.created_at >= since,
        )
        .limit(1)
    )
    if told is not None:
        return False
    _queue(
        session,
        Notification.REPLY_HELD,
        submission,
        [address],
        {"held": held, "section": submission.section},
    )
    return True
