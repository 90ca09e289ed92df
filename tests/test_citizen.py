"""What a citizen reads, at each step, is worded for what they sent."""

import re
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from html import unescape

import pytest
from helpers import LiveServer
from helpers import read_receipt
from helpers import staff_user
from helpers import submit
from playwright.sync_api import Browser
from playwright.sync_api import expect
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from feedback.db import utcnow
from feedback.extensions import db
from feedback.models import OutboxMessage
from feedback.models import Role
from feedback.models import Submission
from feedback.services import replies
from feedback.services import submissions
from feedback.services import tracking
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
    # The note under the code speaks of taking up and the result, not of an answer.
    assert "凭它可以查看受理情况和办理结果" in html
    assert "答复" not in html.split('id="access-code"')[1]
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
    assert "凭它可以查看办理进度和答复" in html
    assert "分办期限" not in html
    code = read_receipt(html)[1]
    tracked = _tracked(client, code)
    assert '<dd class="state">待分办</dd>' in tracked
    assert "收到您的意见" in tracked


# ---- 4. Anonymous means no contact fields


def test_the_form_says_the_code_is_the_only_way_back_for_the_anonymous(client):
    html = client.get("/submit").get_data(as_text=True)
    identity = html.split('<div class="identity">')[1].split("</fieldset>\n  </div>")[0]
    # The radio that hides them (site.css) and the contact fields share the box.
    assert re.search(r'<input checked[^>]* value="anonymous">', identity)
    assert 'class="real-name"' in identity
    assert all(f'id="{name}"' in identity for name in ("name", "phone", "email"))
    assert "查询码就是您查看办理情况的唯一途径" in identity


def test_a_contact_posted_with_anonymous_is_not_kept_and_the_receipt_says_so(
    app, client
):
    response = client.post(
        "/submit",
        data={
            "kind": "opinion",
            "subject": "食堂价格",
            "body": "希望公开食堂饭菜价格。",
            "identity": "anonymous",
            "name": "王五",
            "phone": "13800000000",
            # Not even a well-formed address: it is not kept, so not checked.
            "email": "wangwu@",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:300]
    read_receipt(html)
    assert "您选择了匿名提交，填写的姓名、电话、电子邮箱没有保存" in html
    assert "回执也已发到" not in html
    with app.app_context():
        stored = db.session.scalar(select(Submission))
        assert stored.anonymous
        assert (stored.author_name, stored.author_phone, stored.author_email) == (
            None,
            None,
            None,
        )
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0

    plain = client.post(
        "/submit",
        data={
            "kind": "opinion",
            "subject": "图书馆开放",
            "body": "希望假期开放图书馆。",
            "identity": "anonymous",
            "email": "  ",
        },
    ).get_data(as_text=True)
    read_receipt(plain)
    assert 'id="contact-not-kept"' not in plain


@pytest.mark.browser
def test_choosing_anonymous_leaves_no_contact_field_without_javascript(
    browser: Browser, live_server: LiveServer
):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 375, "height": 667}
    )
    context.add_cookies([{"name": "lang", "value": "zh-Hans", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/submit")
    contact = [page.locator(f"#{name}") for name in ("name", "phone", "email")]
    page.get_by_label("实名提交", exact=True).check()
    for field in contact:
        expect(field).to_be_visible()
    anonymous = page.get_by_label("匿名提交", exact=True)
    anonymous.check()
    for field in contact:
        expect(field).to_be_hidden()
    # Nor can the keyboard reach them: from the choice, Tab goes past them.
    anonymous.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "publish_consent"
    context.close()


# ---- 5. Back does not duplicate

SENT_TWICE = {
    "kind": "suggestion",
    "problem_id": "",
    "subject": "校车接送",
    "body": "希望增加一条校车线路，\r\n方便郊区的孩子上学。",
    "identity": "anonymous",
}


def _hidden(html, after=""):
    """Return the hidden inputs of the page (after ``after``) as form data."""
    found = re.findall(
        r'<input[^>]* name="([^"]+)" type="hidden" value="([^"]*)"',
        html.split(after, 1)[1] if after else html,
    )
    return {name: unescape(value) for name, value in found}


def _send_from_a_fresh_form(client):
    """Open the form (a new form key), send the same subject and text."""
    form = _hidden(client.get("/submit").get_data(as_text=True))
    response = client.post(
        "/submit",
        data={
            **SENT_TWICE,
            "csrf_token": form["csrf_token"],
            "idempotency_key": form["idempotency_key"],
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Submission.id)))


def test_sending_the_same_text_again_shows_the_first_receipt_and_asks(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    author = app.test_client()
    first = _send_from_a_fresh_form(author)
    assert 'id="send-again-heading"' not in first
    receipt = read_receipt(first)

    again = _send_from_a_fresh_form(author)  # Back, then 提交 once more
    assert read_receipt(again) == receipt
    assert "要作为新的一件再提交吗？" in again
    assert _count(app) == 1

    # The button files it deliberately, as a new case, CSRF token and all.
    confirm = _hidden(again, 'id="send-again-heading"')
    assert confirm["csrf_token"]
    assert confirm["body"] == SENT_TWICE["body"]
    second = author.post("/submit", data=confirm).get_data(as_text=True)
    assert read_receipt(second)[0] != receipt[0]
    assert 'id="send-again-heading"' not in second
    assert _count(app) == 2
    # Pressed twice, the button still files one.
    author.post("/submit", data=confirm)
    assert _count(app) == 2

    # Another browser session is never asked: it cannot be the same author.
    other = _send_from_a_fresh_form(app.test_client())
    assert 'id="send-again-heading"' not in other
    assert read_receipt(other)[0] not in {receipt[0]}
    assert _count(app) == 3

    # A day later the same text is a new case.
    with app.app_context():
        db.session.execute(
            update(Submission).values(
                created_at=utcnow() - timedelta(hours=24, minutes=1)
            )
        )
        db.session.commit()
    late = _send_from_a_fresh_form(author)
    assert 'id="send-again-heading"' not in late
    assert _count(app) == 4


def test_a_code_drawn_from_the_plain_form_key_is_still_shown_again(app, session):
    # Before the same text could be recognised, codes were seeded with the
    # plain form key, which the row does not keep; the form key path still
    # gives those back to their browser.
    key, nonce = "legacy-form-key-0001", "legacy-nonce"
    receipt = submit(
        session, subject="旧的回执", body="内容", form_key=key, receipt_nonce=nonce
    )
    old_code = tracking.new_access_code(key, nonce)
    receipt.submission.access_code_hash = tracking.hash_code(old_code)
    session.flush()
    assert submissions.find_by_form_key(session, key, nonce).access_code == old_code
    # The same text finds the row but no key to derive it with: no wrong code.
    found = submissions.find_same_text(session, nonce, "旧的回执", "内容")
    assert found.submission is receipt.submission
    assert found.access_code is None
