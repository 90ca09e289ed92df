"""The authorisation matrix: every staff URL, for every kind of visitor, GET and POST.

Objects belong to section A (办公室). "A" and "B" are section staff of 办公室 and
人事股; B must never reach A's things, not even by guessing identifiers.
"""

from pathlib import Path

import pytest
from flask import Flask
from helpers import login
from helpers import staff_user
from helpers import submit
from sqlalchemy import select

from feedback import demo
from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import OutboxMessage
from feedback.models import Problem
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.services import replies
from feedback.services import triage

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
