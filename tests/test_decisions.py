"""The lead's decisions: refuse, duplicate, spam, extend once, notes, return a draft."""

from datetime import timedelta

import pytest
from helpers import login
from helpers import read_receipt
from helpers import staff_user
from helpers import submit
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import OutboxMessage
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import replies
from feedback.services import triage


@pytest.fixture
def case(app, client, demo_loaded):
    """A real-name submission from the form; returns (client, submission id, code)."""
    response = client.post(
        "/submit",
        data={
            "kind": "complaint",
            "subject": "校车超载",
            "body": "每天早上校车都超载。",
            "identity": "real_name",
            "name": "赵六",
            "email": "zhaoliu@example.com",
            "idempotency_key": "decision-form-key-0001",
        },
    )
    _reference, code = read_receipt(response.get_data(as_text=True))
    with app.app_context():
        submission_id = db.session.scalar(select(Submission.id))
        login(client, staff_user(Role.LEAD))
    return client, submission_id, code


def _mails_to(app, address):
    with app.app_context():
        return [
            m.body_text
            for m in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.recipient == address)
            )
        ]


def _state(app, submission_id):
    with app.app_context():
        return db.session.get(Submission, submission_id).state


def test_refuse_with_a_template_reason_tells_the_author(app, case):
    client, submission_id, code = case
    client.post(
        f"/staff/submissions/{submission_id}/refuse",
        data={"refuse-template": "0", "refuse-confirm": "y"},
    )
    assert _state(app, submission_id) is SubmissionState.NOT_ACCEPTED
    reason = app.config["REFUSAL_REASONS"][0]
    assert any(reason in text for text in _mails_to(app, "zhaoliu@example.com"))
    tracked = (
        app.test_client().post("/track", data={"code": code}).get_data(as_text=True)
    )
    assert "不予受理" in tracked
    assert reason in tracked


def test_refusal_needs_a_reason(app, case):
    client, submission_id, _code = case
    page = client.post(
        f"/staff/submissions/{submission_id}/refuse",
        data={"refuse-reason": " ", "refuse-confirm": "y"},
        follow_redirects=True,
    )
    assert "请写明不予受理的理由，群众会看到。" in page.get_data(as_text=True)
    assert _state(app, submission_id) is SubmissionState.RECEIVED


def test_duplicate_points_the_author_to_the_original(app, case):
    client, submission_id, code = case
    with app.app_context():
        original = submit(db.session).submission
        db.session.commit()
        reference = original.reference
    bad = client.post(
        f"/staff/submissions/{submission_id}/duplicate",
        data={"duplicate-reference": "MJ00000000-00000", "duplicate-confirm": "y"},
        follow_redirects=True,
    )
    assert "没有这个编号" in bad.get_data(as_text=True)
    client.post(
        f"/staff/submissions/{submission_id}/duplicate",
        data={"duplicate-reference": reference, "duplicate-confirm": "y"},
    )
    assert _state(app, submission_id) is SubmissionState.DUPLICATE
    tracked = (
        app.test_client().post("/track", data={"code": code}).get_data(as_text=True)
    )
    assert reference in tracked


def test_spam_sends_nothing(app, case):
    client, submission_id, _code = case
    before = len(_mails_to(app, "zhaoliu@example.com"))
    client.post(f"/staff/submissions/{submission_id}/spam", data={"spam-confirm": "y"})
    assert _state(app, submission_id) is SubmissionState.SPAM
    assert len(_mails_to(app, "zhaoliu@example.com")) == before


def _route(app, submission_id):
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        triage.route(db.session, submission, office, actor=staff_user(Role.LEAD))
        db.session.commit()
        return submission.due_on


def test_extend_once_by_at_most_30_days(app, case):
    client, submission_id, code = case
    due = _route(app, submission_id)
    too_long = client.post(
        f"/staff/submissions/{submission_id}/extend",
        data={"extend-days": "31", "extend-reason": "需要调查"},
        follow_redirects=True,
    )
    assert "30" in too_long.get_data(as_text=True)
    client.post(
        f"/staff/submissions/{submission_id}/extend",
        data={"extend-days": "20", "extend-reason": "需要到学校实地调查"},
    )
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        assert submission.due_on == due + timedelta(days=20)
    again = client.post(
        f"/staff/submissions/{submission_id}/extend",
        data={"extend-days": "5", "extend-reason": "再延"},
        follow_redirects=True,
    )
    assert "答复期限已经延长过一次，不能再延长。" in again.get_data(as_text=True)
    tracked = (
        app.test_client().post("/track", data={"code": code}).get_data(as_text=True)
    )
    assert "答复期限延长20天" in tracked
    assert "需要到学校实地调查" in tracked
    assert any("需要到学校实地调查" in t for t in _mails_to(app, "zhaoliu@example.com"))


def test_notes_stay_internal(app, case):
    client, submission_id, code = case
    client.post(
        f"/staff/submissions/{submission_id}/notes",
        data={"note-body": "已电话联系学校核实。"},
    )
    assert "已电话联系学校核实。" in client.get(
        f"/staff/submissions/{submission_id}"
    ).get_data(as_text=True)
    tracked = (
        app.test_client().post("/track", data={"code": code}).get_data(as_text=True)
    )
    assert "已电话联系学校核实" not in tracked
    _route(app, submission_id)
    other = app.test_client()
    with app.app_context():
        login(other, staff_user(Role.SECTION, "人事股"))
    assert (
        other.post(
            f"/staff/submissions/{submission_id}/notes", data={"note-body": "x"}
        ).status_code
        == 404
    )


def test_returned_draft_goes_back_to_the_section(app, case):
    client, submission_id, _code = case
    _route(app, submission_id)
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        reply = replies.draft(
            db.session,
            submission,
            submission.section,
            "已处理。",
            channel=ReplyChannel.WEB,
            author_label="x",
        )
        db.session.commit()
        reply_id = reply.id
    client.post(
        f"/staff/replies/{reply_id}/return",
        data={f"return{reply_id}-reason": "请写明处理结果和时间。"},
    )
    with app.app_context():
        assert db.session.get(Reply, reply_id).state is ReplyState.RETURNED
        assert db.session.get(Submission, submission_id).state is SubmissionState.ROUTED
    assert any(
        "请写明处理结果和时间。" in t
        for t in _mails_to(app, "office@meijiang-edu.example")
    )


@pytest.mark.parametrize("url", ["refuse", "duplicate", "spam", "extend"])
def test_only_the_lead_decides(app, case, url):
    _client, submission_id, _code = case
    section = app.test_client()
    with app.app_context():
        login(section, staff_user(Role.SECTION, "办公室"))
    assert section.post(f"/staff/submissions/{submission_id}/{url}").status_code == 403


def test_lead_types_in_a_phone_call_with_its_date(app, client, demo_loaded):
    with app.app_context():
        login(client, staff_user(Role.LEAD))
    response = client.post(
        "/staff/submissions/new",
        data={
            "channel": "phone",
            "received_on": "2026-11-20",
            "kind": "complaint",
            "subject": "电话反映校门口交通",
            "body": "家长来电：放学时校门口拥堵。",
            "name": "钱七",
            "phone": "13900000000",
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "已登记" in html
    assert "查询码" in html
    with app.app_context():
        stored = db.session.scalar(select(Submission))
        assert stored.channel.value == "phone"
        assert stored.received_at.astimezone().date().isoformat() >= "2026-11-20"
        assert (
            stored.triage_due_on.isoformat() == "2026-12-05"
        )  # 15 days from 20 November


def test_audit_page_filters_and_hides_citizens_business_from_admins(app, case):
    client, submission_id, _code = case
    client.post(f"/staff/submissions/{submission_id}/spam", data={"spam-confirm": "y"})
    page = client.get("/staff/audit?action=marked_spam").get_data(as_text=True)
    # The lead reads each action in words, never its stored name.
    assert '<td data-label="操作">标记为无效信息</td>' in page
    assert "群众提交</td>" not in page
    assert "marked_spam</td>" not in page
    admin = app.test_client()
    with app.app_context():
        login(admin, staff_user(Role.ADMIN))
    assert "标记为无效信息</td>" not in admin.get("/staff/audit").get_data(as_text=True)
