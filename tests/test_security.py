"""Each finding of the security review, attacked again: it must hold."""

import json
import re
from email.message import EmailMessage

import pytest
from helpers import login
from helpers import staff_user
from helpers import submit
from sqlalchemy import func
from sqlalchemy import select

from feedback import demo
from feedback.extensions import db
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import Role
from feedback.models import Section
from feedback.services import replies
from feedback.services import triage
from feedback.signing import reply_address

# ---- 1. Forged draft replies by e-mail


@pytest.fixture
def office_case(make_app):
    """A CSRF-checking app with the demo and a submission routed to 办公室.

    Returns (app, submission id, reference, its signed reply address).
    """
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        demo.load(db.session)
        submission = submit(db.session).submission
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        triage.route(db.session, submission, office, actor=staff_user(Role.LEAD))
        db.session.commit()
        return app, submission.id, submission.reference, reply_address(submission.id)


def _mail(sender, to, subject, message_id):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content("同意，已办结。")
    return message.as_bytes()


def _inspect(app, tmp_path, raw):
    path = tmp_path / "in.eml"
    path.write_bytes(raw)
    result = app.test_cli_runner().invoke(args=["mail", "inspect", str(path), "--json"])
    return json.loads(result.output)


def _ingest(app, raw):
    return app.test_cli_runner().invoke(args=["mail", "ingest"], input=raw)


def _reply_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Reply))


def test_spoofed_section_reply_by_subject_is_held_with_the_submission(
    office_case, tmp_path
):
    app, submission_id, reference, _address = office_case
    spoofed = _mail(
        "office@meijiang-edu.example",
        "supervision@meijiang-edu.example",
        f"回复：{reference}",
        "<spoof@attacker.example>",
    )
    inspected = _inspect(app, tmp_path, spoofed)
    assert inspected["action"] == "hold"
    assert (inspected["match"], inspected["reason"]) == (reference, "subject")
    assert _ingest(app, spoofed).output.startswith(f"held: subject {reference}")
    assert _reply_count(app) == 0
    with app.app_context():
        held = db.session.scalar(select(InboundMessage))
        assert held.state is InboundState.HELD
        assert held.submission_id == submission_id


@pytest.mark.parametrize(
    "sender",
    ["personnel@meijiang-edu.example", "personnel.staff@meijiang-edu.example"],
)
def test_reply_from_another_section_to_the_signed_address_is_held(
    office_case, tmp_path, sender
):
    app, _id, reference, address = office_case
    raw = _mail(sender, address, f"回复：{reference}", "<other@meijiang-edu.example>")
    inspected = _inspect(app, tmp_path, raw)
    assert (inspected["action"], inspected["reason"]) == ("hold", "other_section")
    assert _ingest(app, raw).output.startswith(f"held: other_section {reference}")
    assert _reply_count(app) == 0


def test_genuine_signed_reply_files_a_draft_and_a_closed_case_does_not(
    office_case, tmp_path
):
    app, submission_id, reference, address = office_case
    genuine = _mail(
        "wang@meijiang-edu.example", address, f"回复：{reference}", "<a@x.example>"
    )
    assert _inspect(app, tmp_path, genuine)["action"] == "file_draft"
    assert _ingest(app, genuine).output.startswith(f"filed: reply_address {reference}")
    with app.app_context():
        draft = db.session.scalar(select(Reply))
        assert (draft.submission_id, draft.state) == (submission_id, ReplyState.DRAFT)
        replies.approve(db.session, draft, actor=staff_user(Role.LEAD))
        db.session.commit()
    late = _mail(
        "wang@meijiang-edu.example", address, f"回复：{reference}", "<b@x.example>"
    )
    inspected = _inspect(app, tmp_path, late)
    assert (inspected["action"], inspected["reason"]) == ("hold", "not_waiting")


def _csrf_token(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_lead_files_a_held_reply_with_one_click_and_nobody_else_can(office_case):
    app, submission_id, reference, _address = office_case
    _ingest(
        app,
        _mail(
            "office@meijiang-edu.example",
            "office@meijiang-edu.example",
            f"回复：{reference}",
            "<held@meijiang-edu.example>",
        ),
    )
    with app.app_context():
        held_id = db.session.scalar(select(InboundMessage.id))
        office_id, personnel_id = (
            db.session.scalar(select(Section.id).where(Section.name == name))
            for name in ("办公室", "人事股")
        )
        users = {
            role: staff_user(role, "办公室" if role is Role.SECTION else None)
            for role in Role
        }
    clicked = {"reference": reference, "section_id": str(office_id)}
    url = f"/staff/held/{held_id}/file"
    for role in (Role.SECTION, Role.ADMIN):
        other = app.test_client()
        login(other, users[role])
        token = _csrf_token(other.get("/staff/").get_data(as_text=True))
        refused = other.post(url, data={**clicked, "csrf_token": token})
        assert refused.status_code == 403
    lead = app.test_client()
    login(lead, users[Role.LEAD])
    assert lead.post(url, data=clicked).status_code == 400  # no CSRF token
    assert _reply_count(app) == 0
    pen = lead.get("/staff/held").get_data(as_text=True)
    assert "作为办公室的答复草稿" in pen
    token = _csrf_token(pen)
    # A button naming a section the submission does not wait for files nothing.
    lead.post(
        url, data={**clicked, "section_id": str(personnel_id), "csrf_token": token}
    )
    assert _reply_count(app) == 0
    lead.post(url, data={**clicked, "csrf_token": token})
    with app.app_context():
        draft = db.session.scalar(select(Reply))
        assert draft.submission_id == submission_id
        assert (draft.state, draft.channel) == (ReplyState.DRAFT, ReplyChannel.EMAIL)
        assert db.session.get(InboundMessage, held_id).state is InboundState.FILED
        event = db.session.scalar(
            select(Event).where(Event.action == AuditAction.REPLY_DRAFTED)
        )
        assert event.actor_id == users[Role.LEAD].id
        assert f"held mail {held_id}" in event.reason
