"""What a citizen reads, at each step, is worded for what they sent."""

from datetime import datetime
from datetime import UTC

from helpers import read_receipt
from helpers import staff_user
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import Role
from feedback.models import Submission
from feedback.services import replies
from feedback.services import triage

# ---- 3. A 举报 in its own words at every step


def _report(client):
    """File a real-name 举报 on the web form; return its access code."""
    response = client.post(
        "/submit",
        data={
            "kind": "misconduct",
            "subject": "某校长违规收费",
            "body": "某校长以资料费名义收费，未开收据。",
            "identity": "real_name",
            "name": "李四",
            "email": "lisi@example.com",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    html = response.get_data(as_text=True)
    assert "<h1>已收到您的举报</h1>" in html
    assert "已收到您的意见" not in html
    assert "一般在15个工作日内告知是否受理" in html
    return read_receipt(html)[1]


def _tracked(client, code):
    return client.post("/track", data={"code": code}).get_data(as_text=True)


def test_a_report_is_worded_as_a_report_at_every_step(mail_app):
    app, handler = mail_app
    client = app.test_client()
    code = _report(client)
    received = _tracked(client, code)
    assert '<dd class="state">已收到，待受理</dd>' in received
    assert "收到您的举报" in received

    with app.app_context():
        report = db.session.scalar(select(Submission))
        lead = staff_user(Role.LEAD)
        triage.accept_misconduct(db.session, report, actor=lead)
        db.session.commit()
    accepted = _tracked(client, code)
    assert '<dd class="state">已受理，核查中</dd>' in accepted
    assert "已受理，核查中" in accepted.split('id="history-heading"')[1]
    # Never "forwarded", and no section named to the reporter.
    assert "已转办" not in accepted
    assert "承办股室" not in accepted

    with app.app_context():
        report = db.session.scalar(select(Submission))
        replies.conclude(
            db.session,
            report,
            result="经核查，反映的问题属实，已责令退还并给予处分。",
            concluded_on=datetime.now(UTC).date(),
            actor=staff_user(Role.LEAD),
        )
        db.session.commit()
    sent = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert "failed=0" in sent.output, sent.output
    concluded = _tracked(client, code)
    assert '<dd class="state">已办结</dd>' in concluded
    assert '<h2 id="reply-heading">办理结果</h2>' in concluded
    assert "已责令退还" in concluded

    subjects = [str(message["Subject"]) for _s, _to, message in handler.messages]
    texts = [
        message.get_body(("plain",)).get_content() for *_x, message in handler.messages
    ]
    assert any(subject.endswith("已收到您的举报") for subject in subjects), subjects
    assert any(subject.endswith("您的举报有新进展") for subject in subjects), subjects
    assert any(subject.endswith("您的举报已办结") for subject in subjects), subjects
    assert not any("意见" in subject for subject in subjects), subjects
    assert any("您提交的举报" in text for text in texts)
    assert not any("您提交的意见" in text for text in texts)


def test_an_opinion_keeps_its_own_words(client, demo_loaded):
    response = client.post(
        "/submit",
        data={
            "kind": "opinion",
            "subject": "操场开放",
            "body": "希望周末开放操场。",
            "identity": "anonymous",
        },
    )
    html = response.get_data(as_text=True)
    assert "<h1>已收到您的意见</h1>" in html
    # When to expect an answer, in plain words, not the jargon 分办期限.
    assert "一般在60日内答复" in html
    assert "分办期限" not in html
    code = read_receipt(html)[1]
    tracked = _tracked(client, code)
    assert '<dd class="state">待分办</dd>' in tracked
    assert "收到您的意见" in tracked
