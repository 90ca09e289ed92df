"""The whole journey through a real SMTP server: submit, route, e-mail, reply, approve, read."""

import re

from helpers import login
from helpers import read_receipt
from helpers import staff_user
from helpers import submit
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import Role
from feedback.models import Section
from feedback.services import triage
from feedback.signing import load_reply_token
from feedback.signing import reply_token


def _text(message):
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def _sign_in(client, email, password):
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 302


def test_board_to_reply_read_by_citizen(mail_app):
    app, handler = mail_app
    runner = app.test_cli_runner()
    citizen, lead, section = app.test_client(), app.test_client(), app.test_client()

    # The citizen reads the board and comments on problem 3.3 (财务管理不规范).
    board = citizen.get("/").get_data(as_text=True)
    problem_id = re.search(
        r'href="/problems/(\d+)"><span class="code">3.3<', board
    ).group(1)
    body = "食堂账目能否按月公开？\n电话 13800000000 <script>alert(1)</script>"
    receipt = citizen.post(
        "/submit",
        data={
            "kind": "opinion",
            "problem_id": problem_id,
            "subject": "关于食堂账目",
            "body": body,
            "identity": "real_name",
            "name": "李四",
            "email": "lisi@example.com",
            "idempotency_key": "journey-form-key-0001",
        },
    ).get_data(as_text=True)
    reference, code = read_receipt(receipt)

    # The lead routes it to the suggested section; no mail leaves inside a request.
    _sign_in(lead, "lead@meijiang-edu.example", "demo-lead-pass")
    queue = lead.get("/staff/").get_data(as_text=True)
    submission_id = re.search(rf'/staff/submissions/(\d+)">{reference}<', queue).group(
        1
    )
    page = lead.get(f"/staff/submissions/{submission_id}").get_data(as_text=True)
    section_id = re.search(r'<option selected value="(\d+)">计划财务股<', page).group(1)
    lead.post(
        f"/staff/submissions/{submission_id}/route", data={"section_id": section_id}
    )
    assert handler.messages == []

    # The worker delivers the citizen's receipt, the news that it was accepted,
    # and the section's e-mail.
    result = runner.invoke(args=["outbox", "send"])
    assert "sent=3" in result.output
    to_citizen = [
        _text(m) for _s, to, m in handler.messages if to == ["lisi@example.com"]
    ]
    assert len(to_citizen) == 2
    assert any(reference in t and code in t for t in to_citizen)  # the receipt
    assert any("已受理" in t and "计划财务股" in t for t in to_citizen)
    assert all(code not in t for t in to_citizen if "已受理" in t)
    by_recipient = {tuple(to): mail for _sender, to, mail in handler.messages}
    mail = by_recipient[("finance@meijiang-edu.example",)]
    assert reference in mail["Subject"]
    assert mail["Reply-To"].startswith(f"reply+{submission_id}-")
    text = _text(mail)
    assert body in text  # the citizen's words, exactly
    assert "李四" not in text
    assert "lisi@example.com" not in text
    assert "<script>" not in mail.get_body(("html",)).get_content()
    link = re.search(r"http://feedback\.test(/section/reply/\S+)", text).group(1)

    # The section follows the link and replies; it stays a draft.
    form = section.get(link, follow_redirects=True)
    assert form.status_code == 200
    assert "食堂账目能否按月公开" in form.get_data(as_text=True)
    answer = "已安排每月10日前在校务公开栏公布食堂收支。"
    posted = section.post(form.request.path, data={"body": answer})
    assert "答复已收到" in posted.get_data(as_text=True)
    tracked = citizen.post("/track", data={"code": code}).get_data(as_text=True)
    assert answer not in tracked
    assert "已转办" in tracked

    # The lead approves; the citizen is told by e-mail and sees it when tracking.
    page = lead.get(f"/staff/submissions/{submission_id}").get_data(as_text=True)
    reply_id = re.search(r"/staff/replies/(\d+)/approve", page).group(1)
    lead.post(f"/staff/replies/{reply_id}/approve", data={f"r{reply_id}-body": answer})
    assert "sent=1" in runner.invoke(args=["outbox", "send"]).output
    (_s, to_citizen, citizen_mail) = handler.messages[-1]
    assert to_citizen == ["lisi@example.com"]
    assert answer in _text(citizen_mail)
    tracked = citizen.post("/track", data={"code": code}).get_data(as_text=True)
    assert answer in tracked
    assert "已答复" in tracked
    assert "计划财务股" in tracked
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in tracked


def _tampered(token):
    """Change the signature's first character, which carries six whole bits.

    Its last character also holds base64 padding bits: changing only those
    can decode to the same signature, and the link would still be good.
    """
    payload, signature = token.rsplit(".", 1)
    first = "B" if signature[0] == "A" else "A"
    return f"{payload}.{first}{signature[1:]}"


def test_tampered_or_foreign_reply_link_is_refused(mail_app):
    app, _handler = mail_app
    client = app.test_client()
    with app.app_context():
        receipt = submit(db.session)
        office, personnel = (
            db.session.scalar(select(Section).where(Section.name == name))
            for name in ("办公室", "人事股")
        )
        triage.route(db.session, receipt.submission, office, actor=None)
        db.session.commit()
        good = reply_token(receipt.submission.id, office.id)
        foreign = reply_token(receipt.submission.id, personnel.id)
    opened = client.get(f"/section/reply/{good}", follow_redirects=True)
    assert opened.status_code == 200
    assert client.get(f"/section/reply/{_tampered(good)}").status_code == 404
    assert client.get(f"/section/reply/{foreign}").status_code == 404
    empty = client.post(opened.request.path, data={"body": ""})
    assert empty.status_code == 400
    assert "请填写答复内容" in empty.get_data(as_text=True)


def test_a_retired_secret_key_still_opens_mailed_links_and_sessions_as_a_fallback(
    app, demo_loaded
):
    """Rotating SECRET_KEY: the old one in SECRET_KEY_FALLBACKS keeps what it signed working."""
    lead = app.test_client()
    with app.app_context():
        login(lead, staff_user(Role.LEAD))
        link = reply_token(7, 3)
    assert lead.get("/staff/").status_code == 200
    retired = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "the-new-key-" + "n" * 40
    app.config["SECRET_KEY_FALLBACKS"] = [retired]
    with app.app_context():
        assert load_reply_token(link) == (7, 3)
        assert load_reply_token(reply_token(7, 3)) == (7, 3)  # new links, new key
    assert lead.get("/staff/").status_code == 200
    # Once the old key is dropped, what it signed is refused.
    app.config["SECRET_KEY_FALLBACKS"] = []
    with app.app_context():
        assert load_reply_token(link) is None
    assert lead.get("/staff/").status_code == 302
