"""The authorisation matrix: every staff URL, for every kind of visitor, GET and POST.

Objects belong to section A (办公室). "A" and "B" are section staff of 办公室 and
人事股; B must never reach A's things, not even by guessing identifiers.

The refusals come first; then every POST that changes stored data is made by
each visitor, on objects set up for it: those allowed change the database as
the action says, the others leave every table as it was.
"""

import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from flask import url_for
from flask.testing import FlaskClient
from helpers import base_config
from helpers import empty_schema
from helpers import login
from helpers import share_compiled_templates
from helpers import staff_user
from helpers import submit
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback import create_app
from feedback import demo
from feedback.db import Base
from feedback.db import utcnow
from feedback.extensions import db
from feedback.models import Aspect
from feedback.models import Attachment
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import Holiday
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import InfoRequest
from feedback.models import Note
from feedback.models import NoticeImport
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Problem
from feedback.models import ProgressUpdate
from feedback.models import Rating
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import Role
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import StatusChange
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import accounts
from feedback.services import closing
from feedback.services import replies
from feedback.services import triage
from feedback.signing import reply_token

EVERYONE = {"A", "B", "lead", "admin"}
# endpoint: (method, path with {placeholders}, who may)
MATRIX = {
    "staff.index": ("GET", "/staff/", EVERYONE),
    "auth.change_password": ("GET", "/auth/password", EVERYONE),
    "staff.submission": ("GET", "/staff/submissions/{submission}", {"A", "lead"}),
    "staff.attachment": ("GET", "/staff/attachments/{attachment}", {"A", "lead"}),
    "staff.add_note": ("POST", "/staff/submissions/{submission}/notes", {"A", "lead"}),
    "staff.reply": ("POST", "/staff/submissions/{submission}/reply", {"A"}),
    "staff.route": ("POST", "/staff/submissions/{fresh}/route", {"lead"}),
    "staff.refuse": ("POST", "/staff/submissions/{fresh}/refuse", {"lead"}),
    "staff.mark_duplicate": ("POST", "/staff/submissions/{fresh}/duplicate", {"lead"}),
    "staff.mark_spam": ("POST", "/staff/submissions/{fresh}/spam", {"lead"}),
    "staff.extend": ("POST", "/staff/submissions/{submission}/extend", {"lead"}),
    "staff.approve_reply": ("POST", "/staff/replies/{reply}/approve", {"lead"}),
    "staff.return_reply": ("POST", "/staff/replies/{reply}/return", {"lead"}),
    "staff.publish_reply": ("POST", "/staff/replies/{reply}/publish", {"lead"}),
    "staff.new_offline_submission": ("GET", "/staff/submissions/new", {"lead"}),
    "staff.held_mail": ("GET", "/staff/held", {"lead"}),
    "staff.held_message": ("GET", "/staff/held/{held}", {"lead"}),
    "staff.file_held": ("POST", "/staff/held/{held}/file", {"lead"}),
    "staff.discard_held": ("POST", "/staff/held/{held}/discard", {"lead"}),
    "staff.audit_log": ("GET", "/staff/audit", {"lead", "admin"}),
    "staff.outbox_list": ("GET", "/staff/outbox", {"lead", "admin"}),
    "staff.outbox_retry": ("POST", "/staff/outbox/{outbox}/retry", {"lead", "admin"}),
    "staff.outbox_retry_failed": (
        "POST",
        "/staff/outbox/retry-failed",
        {"lead", "admin"},
    ),
    "staff.outbox_acknowledge": (
        "POST",
        "/staff/outbox/acknowledge",
        {"lead", "admin"},
    ),
    "staff.board_list": ("GET", "/staff/board", {"lead", "admin"}),
    "staff.edit_problem": ("GET", "/staff/problems/{problem}", {"lead", "admin"}),
    "staff.save_problem": ("POST", "/staff/problems/{problem}", {"lead", "admin"}),
    "staff.change_status": (
        "POST",
        "/staff/problems/{problem}/status",
        {"lead", "admin"},
    ),
    "staff.add_progress": (
        "POST",
        "/staff/problems/{problem}/progress",
        {"lead", "admin"},
    ),
    "staff.sections": ("GET", "/staff/sections", {"admin"}),
    "staff.create_section": ("POST", "/staff/sections", {"admin"}),
    "staff.update_section": ("POST", "/staff/sections/{section}", {"admin"}),
    "staff.import_notice": ("GET", "/staff/notices/import", {"admin"}),
    "staff.preview_notice": ("POST", "/staff/notices/import", {"admin"}),
    "staff.confirm_notice": ("POST", "/staff/notices/import/confirm", {"admin"}),
    "staff.ask_author": ("POST", "/staff/submissions/{submission}/ask", {"A", "lead"}),
    "staff.accept_report": ("POST", "/staff/submissions/{fresh}/accept", {"lead"}),
    "staff.conclude_report": (
        "POST",
        "/staff/submissions/{submission}/conclude",
        {"lead"},
    ),
    "staff.reopen": ("POST", "/staff/submissions/{submission}/reopen", {"lead"}),
    "staff.keep_closed": (
        "POST",
        "/staff/submissions/{submission}/keep-closed",
        {"lead"},
    ),
    "staff.holidays": ("GET", "/staff/holidays", {"admin"}),
    "staff.save_holiday": ("POST", "/staff/holidays", {"admin"}),
    "staff.import_holidays": ("POST", "/staff/holidays/import", {"admin"}),
    "staff.remove_holiday": ("POST", "/staff/holidays/2026-10-01/remove", {"admin"}),
    "staff.mail_sink": ("GET", "/staff/mail", EVERYONE),
    "staff.mail_sink_message": ("GET", "/staff/mail/{mail}", {"A", "lead"}),
    "staff.export_ledger": ("GET", "/staff/exports/ledger.xlsx", {"lead", "admin"}),
    # Sections get their own submissions only (tests/test_exports.py).
    "staff.export_submissions": (
        "GET",
        "/staff/exports/submissions.xlsx",
        {"A", "B", "lead"},
    ),
    # Everyone, each to their own scope: the lead all (举报 too), a section its
    # own submissions, an admin the sums without 举报 and without any text.
    "staff.statistics": ("GET", "/staff/statistics", EVERYONE),
}
VISITORS = ["anonymous", "A", "B", "lead", "admin"]


def test_every_staff_url_is_in_the_matrix(app: Flask):
    endpoints = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("staff.") or rule.endpoint == "auth.change_password"
    }
    assert endpoints - set(MATRIX) == set()


@pytest.fixture
def world(make_app, tmp_path):
    """Section A's submission (routed, with a draft, a file and a mail), and more."""
    sink = tmp_path / "sink"
    sink.mkdir()
    (sink / "1-a.eml").write_text(
        "From: noreply@meijiang-edu.example\nTo: office@meijiang-edu.example\nSubject: x\n\nx\n"
    )
    app = make_app(MAIL_SINK_DIR=str(sink))

    with app.app_context():
        session = db.session
        demo.load(session)
        office = session.scalar(select(Section).where(Section.name == "办公室"))
        lead = staff_user(Role.LEAD)
        routed = submit(session, subject="A的意见").submission
        triage.route(session, routed, office, actor=lead)
        draft = replies.draft(
            session, routed, office, "草稿", channel=ReplyChannel.WEB, author_label="A"
        )
        fresh = submit(session, subject="待分办").submission
        session.add(
            Attachment(
                submission=routed,
                filename="a.pdf",
                stored_name="0" * 32 + ".pdf",
                content_type="application/pdf",
                size=5,
                sha256="0" * 64,
            )
        )
        folder = Path(app.config["ATTACHMENT_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ("0" * 32 + ".pdf")).write_bytes(b"%PDF-")
        held = InboundMessage(sender="x@y.example", raw=b"x", state=InboundState.HELD)
        session.add(held)
        session.commit()
        ids = {
            "submission": routed.id,
            "fresh": fresh.id,
            "reply": draft.id,
            "attachment": session.scalar(select(Attachment.id)),
            "held": held.id,
            "outbox": session.scalar(select(OutboxMessage.id)),
            "problem": session.scalar(select(Problem.id)),
            "section": office.id,
            "mail": "1-a.eml",
        }
    return app, ids


def _client_for(app, visitor):
    client = app.test_client()
    if visitor != "anonymous":
        role, section = {
            "A": (Role.SECTION, "办公室"),
            "B": (Role.SECTION, "人事股"),
            "lead": (Role.LEAD, None),
            "admin": (Role.ADMIN, None),
        }[visitor]
        with app.app_context():
            login(client, staff_user(role, section))
    return client


@pytest.mark.parametrize("visitor", VISITORS)
def test_matrix(world, visitor):
    app, ids = world
    client = _client_for(app, visitor)
    wrong = []
    for endpoint, (method, path, allowed) in MATRIX.items():
        url = path.format(**ids)
        response = client.open(url, method=method, data={})
        status = response.status_code
        response.close()
        to_login = status == 302 and "/auth/login" in response.headers.get(
            "Location", ""
        )
        if visitor == "anonymous":
            ok = to_login
        elif visitor in allowed:
            ok = status not in (403, 404) and not to_login
        else:
            ok = status in (403, 404)
        if not ok:
            wrong.append(f"{visitor} {method} {url} ({endpoint}) -> {status}")
    assert wrong == []


def test_section_b_cannot_guess_into_a(world):
    app, ids = world
    client = _client_for(app, "B")
    for number in range(1, ids["submission"] + 5):
        assert client.get(f"/staff/submissions/{number}").status_code == 404
    for number in range(1, ids["attachment"] + 5):
        assert client.get(f"/staff/attachments/{number}").status_code == 404


# ---- the allowed cases -------------------------------------------------------

# What a set-up made and the test needs later: URL values (named as in the
# rule), ids, and "visitor", "actor" (the visitor's account id, or None) and
# "since" (the last audit event before the action), which the test adds.
Made = dict[str, Any]
_serial = itertools.count(1)
YESTERDAY = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
ACCOUNTS = {
    "A": (Role.SECTION, "办公室"),
    "B": (Role.SECTION, "人事股"),
    "lead": (Role.LEAD, None),
    "admin": (Role.ADMIN, None),
}
PASSWORDS = {entry.email: entry.password for entry in demo.LOGINS}
NEW_PASSWORD = "a-new-password-for-the-test"  # noqa: S105 - a test value
ICS = (
    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20271001\r\n"
    "DTEND;VALUE=DATE:20271003\r\nSUMMARY:国庆节\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
NOTICE = (
    "某局党组关于巡察整改进展情况的通报\n"
    "第一方面：作风建设有差距\n"
    "问题1.公车管理不严。\n"
    "整改状态：已完成。\n"
)


@dataclass(frozen=True)
class Action:
    """One POST that changes stored data: who may make it, on what, and what it does.

    ``setup`` makes fresh objects in the state the action needs (in an app
    context, committed by the test) and returns what it made; ``form`` is
    what the page's form posts; ``effect`` reads the database and says
    whether the action took effect. ``prepare`` readies the client first
    (a step of a sign-in, a value the page keeps in the session), and a
    signed-out visitor who is not allowed is sent to ``signed_out_to``.
    """

    allowed: frozenset[str]
    setup: Callable[[Session, Made], Made]
    form: Callable[[Made], dict[str, object]]
    effect: Callable[[Session, Made], bool]
    prepare: Callable[[FlaskClient, Made], None] | None = None
    signed_out_to: str = "auth.login"


def _open_link(client: FlaskClient, token: str) -> None:
    """Open a section's e-mailed link, as the clerk does, for its page's cookie."""
    opened = client.get(f"/section/reply/{token}")
    assert opened.status_code == 303, opened.status_code


def _allowed(*visitors: str) -> frozenset[str]:
    return frozenset(visitors)


def _audited(
    session: Session, made: Made, action: AuditAction, *, by: str = "actor"
) -> bool:
    """Whether an audit event of ``action`` by ``made[by]`` came after the set-up."""
    return (
        session.scalar(
            select(Event.id)
            .where(
                Event.id > made["since"],
                Event.action == action,
                Event.actor_id.is_(None)
                if made[by] is None
                else Event.actor_id == made[by],
            )
            .limit(1)
        )
        is not None
    )


def _get(session: Session, model: type, made: Made, key: str) -> Any:
    return session.get(model, made[key])


def _office(session: Session) -> Section:
    return session.scalars(select(Section).where(Section.name == "办公室")).one()


def _received(
    session: Session, kind: SubmissionKind = SubmissionKind.OPINION
) -> Submission:
    return submit(session, kind=kind, subject=f"意见{next(_serial)}").submission


def _routed(session: Session) -> Submission:
    item = _received(session)
    triage.route(session, item, _office(session), actor=staff_user(Role.LEAD))
    return item


def _draft(session: Session) -> Reply:
    return replies.draft(
        session,
        _routed(session),
        _office(session),
        "股室的答复草稿",
        channel=ReplyChannel.WEB,
        author_label="办公室",
    )


def _approved(session: Session) -> Reply:
    reply = _draft(session)
    reply.submission.publish_consent = True
    replies.approve(session, reply, actor=staff_user(Role.LEAD))
    return reply


def _dissatisfied(session: Session) -> Submission:
    item = _approved(session).submission
    closing.rate(session, item, Rating.DISSATISFIED, "没有解决问题")
    return item


def _accepted_report(session: Session) -> Submission:
    item = _received(session, SubmissionKind.MISCONDUCT)
    triage.accept_misconduct(session, item, actor=staff_user(Role.LEAD))
    return item


def _problem(session: Session) -> Problem:
    aspect = session.scalars(select(Aspect).order_by(Aspect.id)).first()
    problem = Problem(aspect=aspect, number=100 + next(_serial), title="新的问题")
    session.add(problem)
    session.flush()
    return problem


def _failed_mail(session: Session) -> OutboxMessage:
    number = next(_serial)
    message = OutboxMessage(
        state=OutboxState.FAILED,
        template=Notification.SUBMISSION_ROUTED,
        recipient="office@meijiang-edu.example",
        subject="x",
        body_text="x",
        body_html="x",
        message_id=f"<failed-{number}@feedback.test>",
        attempts=8,
        failed_at=utcnow(),
        last_error="550 mailbox unavailable",
    )
    session.add(message)
    session.flush()
    return message


def _held(session: Session) -> InboundMessage:
    message = InboundMessage(
        sender="office@meijiang-edu.example",
        raw=b"x",
        reply_text="邮件里的答复",
        state=InboundState.HELD,
    )
    session.add(message)
    session.flush()
    return message


def _section(session: Session) -> Section:
    number = next(_serial)
    section = Section(name=f"股室{number}", email=f"s{number}@meijiang-edu.example")
    session.add(section)
    session.flush()
    return section


def _account(made: Made) -> StaffUser:
    """The visitor's own account; a signed-out visitor signs in as the lead."""
    return staff_user(*ACCOUNTS.get(made["visitor"], (Role.LEAD, None)))


def _credentials(made: Made) -> dict[str, object]:
    return {"email": made["email"], "password": PASSWORDS[made["email"]]}


def _as_demo_left_it(user: StaffUser) -> StaffUser:
    """Undo what other actions did to an account: its password, second factor, lock."""
    user.password_hash = accounts.hash_password(PASSWORDS[user.email])
    user.totp_secret = user.totp_last_step = user.locked_until = None
    user.failed_logins = 0
    return user


def _sign_in_as(session: Session, made: Made) -> Made:
    user = _as_demo_left_it(_account(made))
    return {"account": user.id, "email": user.email}


def _with_authenticator(session: Session, made: Made) -> Made:
    user = _as_demo_left_it(_account(made))
    user.totp_secret = pyotp.random_base32(32)
    return {"account": user.id, "email": user.email, "secret": user.totp_secret}


def _code(made: Made) -> str:
    return pyotp.TOTP(made["secret"]).now()


def _own_account(session: Session, made: Made) -> Made:
    if made["actor"] is None:
        return {"version": None}
    user = _as_demo_left_it(session.get(StaffUser, made["actor"]))
    return {"email": user.email, "version": user.session_version}


def _ended_sessions(session: Session, made: Made, action: AuditAction) -> bool:
    if made["actor"] is None:
        return False
    user = session.get(StaffUser, made["actor"])
    return user.session_version > made["version"] and _audited(session, made, action)


def _authenticator_on(session: Session, made: Made) -> bool:
    if made["actor"] is None:
        return False
    user = session.get(StaffUser, made["actor"])
    return user.totp_secret == made["secret"] and _audited(
        session, made, AuditAction.TOTP_CHANGED
    )


def _setting_up_authenticator(client: FlaskClient, made: Made) -> None:
    with client.session_transaction() as flask_session:
        flask_session["totp_setup"] = made["secret"]


def _with_new_secret(session: Session, made: Made) -> Made:
    if made["actor"] is not None:
        _as_demo_left_it(session.get(StaffUser, made["actor"]))
    return {"secret": pyotp.random_base32(32)}


def _without_days(session: Session, *days: date) -> Made:
    session.execute(delete(Holiday).where(Holiday.day.in_(days)))
    return {}


def _notices(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(NoticeImport)) or 0


def _state(session: Session, made: Made, state: SubmissionState) -> bool:
    return _get(session, Submission, made, "submission_id").state is state


ACTIONS: dict[str, Action] = {
    # ---- sign-in and one's own account: the account, not the role, decides
    "/auth/login": Action(
        allowed=_allowed(*VISITORS),
        setup=_sign_in_as,
        form=_credentials,
        effect=lambda s, m: _audited(s, m, AuditAction.LOGGED_IN, by="account"),
    ),
    "/auth/totp": Action(
        allowed=_allowed(*VISITORS),
        setup=_with_authenticator,
        prepare=lambda client, m: client.post("/auth/login", data=_credentials(m)),
        form=lambda m: {"code": _code(m)},
        effect=lambda s, m: _audited(s, m, AuditAction.LOGGED_IN, by="account"),
    ),
    "/auth/two-factor": Action(
        allowed=_allowed("lead", "admin"),
        setup=_with_new_secret,
        prepare=_setting_up_authenticator,
        form=lambda m: {"code": _code(m), "action": "enable"},
        effect=_authenticator_on,
    ),
    "/auth/password": Action(
        allowed=_allowed("A", "B", "lead", "admin"),
        setup=_own_account,
        form=lambda m: {
            "current": PASSWORDS.get(m.get("email", ""), ""),
            "new": NEW_PASSWORD,
            "again": NEW_PASSWORD,
        },
        effect=lambda s, m: _ended_sessions(s, m, AuditAction.PASSWORD_CHANGED),
    ),
    "/auth/logout": Action(
        allowed=_allowed("A", "B", "lead", "admin"),
        setup=_own_account,
        form=lambda m: {},
        effect=lambda s, m: _ended_sessions(s, m, AuditAction.LOGGED_OUT),
        signed_out_to="public.board",  # nothing to end
    ),
    # ---- the signed link is the section's key, whoever holds it: opened,
    # it is exchanged for a cookie of the reply page, which the POST needs
    "/section/submissions/<int:submission_id>/reply": Action(
        allowed=_allowed(*VISITORS),
        setup=lambda s, m: {
            "token": reply_token((item := _routed(s)).id, _office(s).id),
            "submission_id": item.id,
        },
        prepare=lambda client, m: _open_link(client, m["token"]),
        form=lambda m: {"body": "通过邮件链接写的答复"},
        effect=lambda s, m: (
            s.scalar(
                select(Reply.id).where(
                    Reply.submission_id == m["submission_id"],
                    Reply.body == "通过邮件链接写的答复",
                    Reply.state == ReplyState.DRAFT,
                )
            )
            is not None
            and _audited(s, m, AuditAction.REPLY_DRAFTED, by="nobody")
        ),
    ),
    # ---- triage: the lead's
    "/staff/submissions/<int:submission_id>/route": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {
            "submission_id": _received(s).id,
            "section": _office(s).id,
        },
        form=lambda m: {"section_id": str(m["section"])},
        effect=lambda s, m: (
            _get(s, Submission, m, "submission_id").section_id == m["section"]
            and _state(s, m, SubmissionState.ROUTED)
            and _audited(s, m, AuditAction.ROUTED)
        ),
    ),
    "/staff/submissions/<int:submission_id>/refuse": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {"submission_id": _received(s).id},
        form=lambda m: {
            "refuse-template": "",
            "refuse-reason": "不属于本局职责",
            "refuse-confirm": "y",
        },
        effect=lambda s, m: (
            _get(s, Submission, m, "submission_id").decision_reason == "不属于本局职责"
            and _state(s, m, SubmissionState.NOT_ACCEPTED)
            and _audited(s, m, AuditAction.REFUSED)
        ),
    ),
    "/staff/submissions/<int:submission_id>/duplicate": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {
            "submission_id": _received(s).id,
            "original": (original := _received(s)).id,
            "reference": original.reference,
        },
        form=lambda m: {
            "duplicate-reference": m["reference"],
            "duplicate-confirm": "y",
        },
        effect=lambda s, m: (
            _get(s, Submission, m, "submission_id").duplicate_of_id == m["original"]
            and _state(s, m, SubmissionState.DUPLICATE)
            and _audited(s, m, AuditAction.MARKED_DUPLICATE)
        ),
    ),
    "/staff/submissions/<int:submission_id>/spam": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {"submission_id": _received(s).id},
        form=lambda m: {"spam-confirm": "y"},
        effect=lambda s, m: (
            _state(s, m, SubmissionState.SPAM)
            and _audited(s, m, AuditAction.MARKED_SPAM)
        ),
    ),
    "/staff/submissions/<int:submission_id>/extend": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {"submission_id": _routed(s).id},
        form=lambda m: {"extend-days": "10", "extend-reason": "需要实地核实"},
        effect=lambda s, m: (
            _get(s, Submission, m, "submission_id").extended_days == 10
            and _audited(s, m, AuditAction.EXTENDED)
        ),
    ),
    "/staff/submissions/<int:submission_id>/accept": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {
            "submission_id": _received(s, SubmissionKind.MISCONDUCT).id
        },
        form=lambda m: {},
        effect=lambda s, m: (
            _get(s, Submission, m, "submission_id").accepted_at is not None
            and _audited(s, m, AuditAction.ACCEPTED)
        ),
    ),
    "/staff/submissions/<int:submission_id>/conclude": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {"submission_id": _accepted_report(s).id},
        form=lambda m: {
            "conclude-concluded_on": YESTERDAY,
            "conclude-result": "经查属实，已严肃处理。",
        },
        effect=lambda s, m: (
            _get(s, Submission, m, "submission_id").concluded_on is not None
            and _audited(s, m, AuditAction.CONCLUDED)
        ),
    ),
    "/staff/submissions/new": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {"subject": f"电话反映{next(_serial)}"},
        form=lambda m: {
            "channel": "phone",
            "received_on": YESTERDAY,
            "kind": "opinion",
            "subject": m["subject"],
            "body": "来电反映校门口交通拥堵。",
        },
        effect=lambda s, m: (
            s.scalar(
                select(Submission.channel).where(Submission.subject == m["subject"])
            )
            == "phone"
            and _audited(s, m, AuditAction.SUBMITTED)  # by the lead who typed it
        ),
    ),
    # ---- a section's work on what is routed to it (the lead may note and ask)
    "/staff/submissions/<int:submission_id>/reply": Action(
        allowed=_allowed("A"),
        setup=lambda s, m: {"submission_id": _routed(s).id},
        form=lambda m: {"body": "网上写的答复"},
        effect=lambda s, m: (
            s.scalar(
                select(Reply.id).where(
                    Reply.submission_id == m["submission_id"],
                    Reply.body == "网上写的答复",
                )
            )
            is not None
            and _audited(s, m, AuditAction.REPLY_DRAFTED)
        ),
    ),
    "/staff/submissions/<int:submission_id>/notes": Action(
        allowed=_allowed("A", "lead"),
        setup=lambda s, m: {"submission_id": _routed(s).id},
        form=lambda m: {"note-body": "内部备注"},
        effect=lambda s, m: (
            s.scalar(
                select(Note.id).where(
                    Note.submission_id == m["submission_id"],
                    Note.author_id == m["actor"],
                )
            )
            is not None
            and _audited(s, m, AuditAction.NOTE_ADDED)
        ),
    ),
    "/staff/submissions/<int:submission_id>/ask": Action(
        allowed=_allowed("A", "lead"),
        setup=lambda s, m: {"submission_id": _routed(s).id},
        form=lambda m: {"ask-question": "请补充是哪所学校。"},
        effect=lambda s, m: (
            s.scalar(
                select(InfoRequest.id).where(
                    InfoRequest.submission_id == m["submission_id"]
                )
            )
            is not None
            and _get(s, Submission, m, "submission_id").info_pending
            and _audited(s, m, AuditAction.INFO_REQUESTED)
        ),
    ),
    # ---- replies: the lead's
    "/staff/replies/<int:reply_id>/approve": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {"reply_id": _draft(s).id},
        form=lambda m: {f"r{m['reply_id']}-body": "审核后的答复"},
        effect=lambda s, m: (
            _get(s, Reply, m, "reply_id").state is ReplyState.APPROVED
            and _get(s, Reply, m, "reply_id").body == "审核后的答复"
            and _audited(s, m, AuditAction.REPLY_APPROVED)
        ),
    ),
    "/staff/replies/<int:reply_id>/return": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {"reply_id": _draft(s).id},
        form=lambda m: {f"return{m['reply_id']}-reason": "请写明整改时间"},
        effect=lambda s, m: (
            _get(s, Reply, m, "reply_id").state is ReplyState.RETURNED
            and _audited(s, m, AuditAction.REPLY_RETURNED)
        ),
    ),
    "/staff/replies/<int:reply_id>/publish": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {"reply_id": _approved(s).id},
        form=lambda m: {f"publish{m['reply_id']}-text": "公开的答复"},
        effect=lambda s, m: (
            _get(s, Reply, m, "reply_id").published_body == "公开的答复"
            and _audited(s, m, AuditAction.REPLY_PUBLISHED)
        ),
    ),
    # ---- closing: the lead's
    "/staff/submissions/<int:submission_id>/reopen": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {"submission_id": _dissatisfied(s).id},
        form=lambda m: {"reopen-reason": "群众不满意，重新办理"},
        effect=lambda s, m: (
            _state(s, m, SubmissionState.ROUTED)
            and _audited(s, m, AuditAction.REOPENED)
        ),
    ),
    "/staff/submissions/<int:submission_id>/keep-closed": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {"submission_id": _dissatisfied(s).id},
        form=lambda m: {"keep-reason": "答复已说明情况"},
        effect=lambda s, m: (
            _get(s, Submission, m, "submission_id").rating_reviewed_at is not None
            and _state(s, m, SubmissionState.CLOSED)
            and _audited(s, m, AuditAction.RATING_REVIEWED)
        ),
    ),
    # ---- the holding pen: the lead's
    "/staff/held/<int:message_id>/file": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {
            "message_id": _held(s).id,
            "reference": _routed(s).reference,
        },
        form=lambda m: {"reference": m["reference"]},
        effect=lambda s, m: (
            _get(s, InboundMessage, m, "message_id").state is InboundState.FILED
            and _audited(s, m, AuditAction.REPLY_DRAFTED)
        ),
    ),
    "/staff/held/<int:message_id>/discard": Action(
        allowed=_allowed("lead"),
        setup=lambda s, m: {"message_id": _held(s).id},
        form=lambda m: {},
        effect=lambda s, m: (
            _get(s, InboundMessage, m, "message_id").state is InboundState.DISCARDED
            and _audited(s, m, AuditAction.MAIL_DISCARDED)
        ),
    ),
    # ---- the outbox: the lead's and the admins'
    "/staff/outbox/<int:message_id>/retry": Action(
        allowed=_allowed("lead", "admin"),
        setup=lambda s, m: {"message_id": _failed_mail(s).id},
        form=lambda m: {},
        effect=lambda s, m: (
            _get(s, OutboxMessage, m, "message_id").state is OutboxState.PENDING
            and _audited(s, m, AuditAction.OUTBOX_RETRIED)
        ),
    ),
    "/staff/outbox/retry-failed": Action(
        allowed=_allowed("lead", "admin"),
        setup=lambda s, m: {"failed": _failed_mail(s).id},
        form=lambda m: {},
        effect=lambda s, m: (
            _get(s, OutboxMessage, m, "failed").state is OutboxState.PENDING
            and _audited(s, m, AuditAction.OUTBOX_RETRIED)
        ),
    ),
    "/staff/outbox/acknowledge": Action(
        allowed=_allowed("lead", "admin"),
        setup=lambda s, m: {"failed": _failed_mail(s).id},
        form=lambda m: {},
        effect=lambda s, m: _audited(s, m, AuditAction.OUTBOX_ACKNOWLEDGED),
    ),
    # ---- the board: the lead's and the admins'
    "/staff/problems/<int:problem_id>": Action(
        allowed=_allowed("lead", "admin"),
        setup=lambda s, m: {"problem_id": _problem(s).id},
        form=lambda m: {
            "edit-title": f"{m['visitor']}改过的标题",
            "edit-details": "一是……",
            "edit-measures": "",
            "edit-deadline": "",
            "edit-section_id": "",
        },
        effect=lambda s, m: (
            _get(s, Problem, m, "problem_id").title == f"{m['visitor']}改过的标题"
            and _audited(s, m, AuditAction.PROBLEM_EDITED)
        ),
    ),
    "/staff/problems/<int:problem_id>/status": Action(
        allowed=_allowed("lead", "admin"),
        setup=lambda s, m: {"problem_id": _problem(s).id},
        form=lambda m: {
            "status-word": "已完成",
            "status-reason": "经验收合格",
            "status-effective_on": YESTERDAY,
        },
        effect=lambda s, m: (
            _get(s, Problem, m, "problem_id").status_word == "已完成"
            and s.scalar(
                select(StatusChange.id).where(
                    StatusChange.problem_id == m["problem_id"]
                )
            )
            is not None
            and _audited(s, m, AuditAction.STATUS_CHANGED)
        ),
    ),
    "/staff/problems/<int:problem_id>/progress": Action(
        allowed=_allowed("lead", "admin"),
        setup=lambda s, m: {"problem_id": _problem(s).id},
        form=lambda m: {
            "progress-body": "已建立公车使用台账",
            "progress-published_on": YESTERDAY,
        },
        effect=lambda s, m: (
            s.scalar(
                select(ProgressUpdate.id).where(
                    ProgressUpdate.problem_id == m["problem_id"],
                    ProgressUpdate.actor_id == m["actor"],
                )
            )
            is not None
            and _audited(s, m, AuditAction.PROGRESS_ADDED)
        ),
    ),
    # ---- configuration: the admins'
    "/staff/sections": Action(
        allowed=_allowed("admin"),
        setup=lambda s, m: {"name": f"新股室{next(_serial)}"},
        form=lambda m: {
            "new-name": m["name"],
            "new-email": "new.section@meijiang-edu.example",
            "new-reply_domains": "",
            "new-active": "y",
        },
        effect=lambda s, m: (
            s.scalar(select(Section.id).where(Section.name == m["name"])) is not None
            and _audited(s, m, AuditAction.SECTION_SAVED)
        ),
    ),
    "/staff/sections/<int:section_id>": Action(
        allowed=_allowed("admin"),
        setup=lambda s, m: {
            "section_id": (section := _section(s)).id,
            "name": section.name,
        },
        form=lambda m: {
            f"s{m['section_id']}-name": m["name"],
            f"s{m['section_id']}-email": "changed@meijiang-edu.example",
            f"s{m['section_id']}-reply_domains": "",
            f"s{m['section_id']}-active": "y",
        },
        effect=lambda s, m: (
            _get(s, Section, m, "section_id").email == "changed@meijiang-edu.example"
            and _audited(s, m, AuditAction.SECTION_SAVED)
        ),
    ),
    "/staff/holidays": Action(
        allowed=_allowed("admin"),
        setup=lambda s, m: _without_days(s, date(2027, 5, 3)),
        form=lambda m: {"day-day": "2027-05-03", "day-name": "劳动节"},
        effect=lambda s, m: (
            s.get(Holiday, date(2027, 5, 3)) is not None
            and _audited(s, m, AuditAction.HOLIDAY_SAVED)
        ),
    ),
    "/staff/holidays/import": Action(
        allowed=_allowed("admin"),
        setup=lambda s, m: _without_days(s, date(2027, 10, 1), date(2027, 10, 2)),
        form=lambda m: {"ics-calendar": (io.BytesIO(ICS.encode()), "holidays.ics")},
        effect=lambda s, m: (
            s.get(Holiday, date(2027, 10, 2)) is not None
            and _audited(s, m, AuditAction.HOLIDAY_SAVED)
        ),
    ),
    "/staff/holidays/<day>/remove": Action(
        allowed=_allowed("admin"),
        setup=lambda s, m: (
            s.merge(Holiday(day=date(2026, 10, 1), name="国庆节"))
            and {"day": "2026-10-01"}
        ),
        form=lambda m: {},
        effect=lambda s, m: (
            s.get(Holiday, date(2026, 10, 1)) is None
            and _audited(s, m, AuditAction.HOLIDAY_SAVED)
        ),
    ),
    "/staff/notices/import/confirm": Action(
        allowed=_allowed("admin"),
        setup=lambda s, m: {"notices": _notices(s)},
        form=lambda m: {
            "source": NOTICE,
            "kind": "text",
            "filename": "",
            "round_id": "",
        },
        effect=lambda s, m: (
            _notices(s) > m["notices"] and _audited(s, m, AuditAction.NOTICE_IMPORTED)
        ),
    ),
}
# POSTs under those prefixes that store nothing, and why.
STORES_NOTHING = {
    "/staff/notices/import": "the preview imports, reads the changes, rolls back",
}
PREFIXES = ("/staff", "/section", "/auth")


def test_every_post_that_stores_has_an_allowed_case(tmp_path):
    app = create_app(base_config(tmp_path, ""))
    posts = {
        rule.rule: rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.rule.startswith(PREFIXES)
    }
    missing = [
        f"POST {rule} ({endpoint})"
        for rule, endpoint in sorted(posts.items())
        if rule not in ACTIONS and rule not in STORES_NOTHING
    ]
    assert missing == [], (
        "add an entry to ACTIONS in tests/test_authorization.py (who may, the "
        "set-up, the form, the effect), or to STORES_NOTHING with the reason, "
        f"for: {', '.join(missing)}"
    )
    assert set(ACTIONS) | set(STORES_NOTHING) <= set(posts), "entries for no route"


def _snapshot() -> dict[str, list[str]]:
    """Every row of every table, to show that a refused POST changed nothing."""
    return {
        table.name: sorted(
            repr(tuple(row)) for row in db.session.execute(select(table))
        )
        for table in Base.metadata.sorted_tables
    }


def _post(app: Flask, client: FlaskClient, rule: str, made: Made) -> tuple[str, Any]:
    endpoint = next(r.endpoint for r in app.url_map.iter_rules() if r.rule == rule)
    arguments = next(r.arguments for r in app.url_map.iter_rules() if r.rule == rule)
    with app.test_request_context():
        url = url_for(endpoint, **{name: made[name] for name in arguments})
    response = client.post(url, data=ACTIONS[rule].form(made))
    response.close()
    return url, response


def _path_of(app: Flask, endpoint: str) -> str:
    with app.test_request_context():
        return url_for(endpoint)


@pytest.fixture(scope="module")
def acting_app(tmp_path_factory: pytest.TempPathFactory, database_url: str):
    """One app with the demo loaded for every action: each sets up its own objects."""
    folder = tmp_path_factory.mktemp("acting")
    app = share_compiled_templates(create_app(base_config(folder, database_url)))
    with app.app_context():
        empty_schema()
        demo.load(db.session)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("rule", list(ACTIONS))
def test_allowed_roles_act_and_the_others_change_nothing(acting_app, rule):
    """Each visitor makes the POST on objects set up for it, in the right state."""
    app, action = acting_app, ACTIONS[rule]
    wrong = []
    for visitor in VISITORS:
        client = _client_for(app, visitor)
        with app.app_context():
            actor = None if visitor == "anonymous" else _account({"visitor": visitor})
            made: Made = {
                "visitor": visitor,
                "actor": actor and actor.id,
                "nobody": None,
            }
            made |= action.setup(db.session, made)
            db.session.commit()
        if action.prepare is not None:
            action.prepare(client, made)
        with app.app_context():
            made["since"] = db.session.scalar(select(func.max(Event.id))) or 0
            assert not action.effect(db.session, made), f"{rule}: effect before acting"
            before = _snapshot()
        url, response = _post(app, client, rule, made)
        status, location = response.status_code, response.headers.get("Location", "")
        with app.app_context():
            if visitor in action.allowed:
                done = status in (200, 302) and "/auth/login" not in location
                if not (done and action.effect(db.session, made)):
                    wrong.append(
                        f"{visitor} may, but POST {url} -> {status}: no effect"
                    )
                continue
            to = _path_of(app, action.signed_out_to)
            refused = (
                status == 302 and urlsplit(location).path == to
                if visitor == "anonymous"
                else status in (403, 404)
            )
            if not refused or _snapshot() != before:
                wrong.append(
                    f"{visitor} may not, yet POST {url} -> {status}, or changed"
                )
    assert not wrong, "\n".join(wrong)


def test_the_notice_preview_stores_nothing(make_app):
    app = make_app()
    with app.app_context():
        demo.load(db.session)
        db.session.commit()
        before = _snapshot()
    client = _client_for(app, "admin")
    response = client.post("/staff/notices/import", data={"text": NOTICE})
    assert response.status_code == 200
    assert "公车管理不严" in response.get_data(as_text=True)
    with app.app_context():
        assert _snapshot() == before
