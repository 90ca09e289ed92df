"""The e-mail loop against a real SMTP server: section mail out, replies in, the pen."""

import json
import threading
from email.message import EmailMessage
from email.utils import formataddr

import pytest
from aiosmtpd.controller import Controller
from helpers import base_config
from helpers import CollectingHandler
from helpers import free_port
from helpers import login
from helpers import staff_user
from helpers import submit
from helpers import TEST_DATABASE_URL
from sqlalchemy import func
from sqlalchemy import select

from feedback import create_app
from feedback.extensions import db
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import outbox
from feedback.services import triage

ANSWER = "收到，已安排食堂每月公开账目。"


def _routed(app, section_name="计划财务股", **fields):
    """Route a new submission and deliver the section's e-mail; return (submission id, mail)."""
    with app.app_context():
        receipt = submit(db.session, **fields)
        section = db.session.scalar(select(Section).where(Section.name == section_name))
        triage.route(
            db.session, receipt.submission, section, actor=staff_user(Role.LEAD)
        )
        db.session.commit()
        outbox.deliver_pending(db.session)
        return receipt.submission.id, receipt.submission.reference


def _delivered(handler, to):
    return next(m for _s, rcpt, m in reversed(handler.messages) if to in rcpt)


def _answer(
    original, *, style, sender="caiwu.zhang@meijiang-edu.example", to=None, text=ANSWER
):
    """Answer ``original`` the way a mail client does, quoting it below."""
    quoted_body = original.get_body(("plain",)).get_content()
    reply = EmailMessage()
    reply["From"] = formataddr(("计划财务股 张老师", sender))
    reply["To"] = to or original["Reply-To"]
    reply["Subject"] = ("回复：" if style != "gmail" else "Re: ") + original["Subject"]
    reply["Message-ID"] = f"<answer-{style}-{id(reply)}@mail.example>"
    reply["In-Reply-To"] = original["Message-ID"]
    reply["References"] = original["Message-ID"]
    if style == "outlook":
        quote = (
            f"\n\n________________________________\n发件人: {original['From']}\n"
            f"发送时间: 2026年11月28日 10:00\n收件人: {original['To']}\n"
            f"主题: {original['Subject']}\n\n{quoted_body}"
        )
    elif style == "qq":
        quote = (
            "\n\n------------------ 原始邮件 ------------------\n"
            f'发件人: "公众监督平台" <noreply@meijiang-edu.example>;\n'
            "发送时间: 2026年11月28日(星期六) 上午10:00\n"
            f'收件人: "计划财务股" <finance@meijiang-edu.example>;\n主题: {original["Subject"]}\n\n'
            + quoted_body
        )
    else:
        quote = (
            "\n\nOn Sat, 28 Nov 2026 at 10:00, 公众监督平台 <noreply@meijiang-edu.example> wrote:\n"
            + "".join(f"> {line}\n" for line in quoted_body.splitlines())
        )
    reply.set_content(
        text + "\n\n张老师\n" + quote, charset="gb18030" if style == "qq" else "utf-8"
    )
    return reply.as_bytes()


def _ingest(app, raw):
    return app.test_cli_runner().invoke(args=["mail", "ingest"], input=raw)


@pytest.mark.parametrize("style", ["outlook", "qq", "gmail"])
def test_reply_by_email_becomes_a_draft_without_the_quote(mail_app, style):
    app, handler = mail_app
    submission_id, reference = _routed(app)
    original = _delivered(handler, "finance@meijiang-edu.example")
    result = _ingest(app, _answer(original, style=style))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"filed: reply_address {reference}")
    with app.app_context():
        reply = db.session.scalar(
            select(Reply).where(Reply.submission_id == submission_id)
        )
        assert reply.state is ReplyState.DRAFT
        assert reply.channel is ReplyChannel.EMAIL
        assert reply.body.startswith(ANSWER)
        assert "原始邮件" not in reply.body
        assert "直接回复本邮件即可答复" not in reply.body  # the quoted original is gone
        inbound = db.session.scalar(select(InboundMessage))
        assert inbound.state is InboundState.FILED
        assert b"In-Reply-To" in inbound.raw  # kept whole, as it came


def test_matches_by_headers_or_subject_are_held_with_the_submission(mail_app):
    app, handler = mail_app
    _id, reference = _routed(app)
    original = _delivered(handler, "finance@meijiang-edu.example")
    by_header = _answer(original, style="gmail", to="finance-desk@meijiang-edu.example")
    assert _ingest(app, by_header).output.startswith(f"held: header {reference}")

    subject_only = EmailMessage()
    subject_only["From"] = "caiwu.zhang@meijiang-edu.example"
    subject_only["To"] = "someone@meijiang-edu.example"
    subject_only["Subject"] = f"关于 {reference} 的补充答复"
    subject_only["Message-ID"] = "<subject-only@mail.example>"
    subject_only.set_content("补充：下月起执行。")
    assert _ingest(app, subject_only.as_bytes()).output.startswith(
        f"held: subject {reference}"
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reply)) == 0


def test_forged_reply_address_is_held_whatever_else_matches(mail_app):
    app, handler = mail_app
    submission_id, reference = _routed(app)
    original = _delivered(handler, "finance@meijiang-edu.example")
    address = original["Reply-To"]
    forged = address.replace(f"reply+{submission_id}-", f"reply+{submission_id}-0")
    result = _ingest(app, _answer(original, style="outlook", to=forged))
    # Its thread headers still suggest the submission to the lead.
    assert result.output == f"held: bad_signature {reference}\n"
    other = address.replace(f"reply+{submission_id}-", f"reply+{submission_id + 1}-")
    assert _ingest(app, _answer(original, style="qq", to=other)).output.startswith(
        "held: bad_signature"
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reply)) == 0


def test_foreign_sender_is_held_and_lead_can_file_it(mail_app):
    app, handler = mail_app
    submission_id, reference = _routed(app)
    original = _delivered(handler, "finance@meijiang-edu.example")
    result = _ingest(
        app, _answer(original, style="gmail", sender="zhang@gmail.example")
    )
    assert result.output.startswith("held: foreign_domain")
    client = app.test_client()
    with app.app_context():
        login(client, staff_user(Role.LEAD))
        held = db.session.scalar(select(InboundMessage))
    assert "发件人不在股室的邮箱域名内" in client.get("/staff/held").get_data(
        as_text=True
    )
    page = client.get(f"/staff/held/{held.id}").get_data(as_text=True)
    assert ANSWER in page
    unknown = client.post(
        f"/staff/held/{held.id}/file",
        data={"reference": "MJ00000000-00000"},
        follow_redirects=True,
    )
    assert unknown.request.path == f"/staff/held/{held.id}"
    assert "没有这个编号" in unknown.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(InboundMessage, held.id).state is InboundState.HELD
    client.post(f"/staff/held/{held.id}/file", data={"reference": reference})
    with app.app_context():
        reply = db.session.scalar(
            select(Reply).where(Reply.submission_id == submission_id)
        )
        assert reply.body.startswith(ANSWER)
        assert db.session.get(InboundMessage, held.id).state is InboundState.FILED


def test_auto_replies_and_duplicates_are_dropped(mail_app):
    app, handler = mail_app
    _routed(app)
    original = _delivered(handler, "finance@meijiang-edu.example")
    away = EmailMessage()
    away["From"] = "finance@meijiang-edu.example"
    away["To"] = original["Reply-To"]
    away["Subject"] = "自动回复: " + original["Subject"]
    away["Auto-Submitted"] = "auto-replied"
    away["Message-ID"] = "<away@mail.example>"
    away.set_content("我正在休假，12月1日回来。")
    assert _ingest(app, away.as_bytes()).output.startswith("discarded: auto_reply")
    answer = _answer(original, style="qq")
    assert _ingest(app, answer).output.startswith("filed: reply_address")
    assert _ingest(app, answer).output.startswith("discarded: duplicate")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reply)) == 1


def test_unknown_mail_waits_in_the_pen(mail_app):
    app, _handler = mail_app
    stray = EmailMessage()
    stray["From"] = "someone@meijiang-edu.example"
    stray["To"] = "office@meijiang-edu.example"
    stray["Subject"] = "会议通知"
    stray["Message-ID"] = "<stray@mail.example>"
    stray.set_content("明天开会。")
    assert _ingest(app, stray.as_bytes()).output.startswith("held: no_match")


def test_mail_to_the_public_address_becomes_a_submission_with_a_receipt(mail_app):
    app, handler = mail_app
    letter = EmailMessage()
    letter["From"] = formataddr(("刘女士", "liu@example.com"))
    letter["To"] = "supervision@meijiang-edu.example"
    letter["Subject"] = "建议公开校服采购情况"
    letter["Message-ID"] = "<letter@example.com>"
    letter.set_content("希望公开校服采购的价格和供应商。", charset="gb18030")
    result = _ingest(app, letter.as_bytes())
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        assert result.output == f"filed: new_submission {submission.reference}\n"
        assert submission.channel.value == "email"
        assert submission.author_email == "liu@example.com"
        assert submission.body == "希望公开校服采购的价格和供应商。"
        reference = submission.reference
        outbox.deliver_pending(db.session)
    receipt = _delivered(handler, "liu@example.com").get_body(("plain",)).get_content()
    assert reference in receipt
    assert "查询码" in receipt


def test_inspect_changes_nothing_and_prints_json(mail_app, tmp_path):
    app, handler = mail_app
    _id, reference = _routed(app)
    original = _delivered(handler, "finance@meijiang-edu.example")
    path = tmp_path / "answer.eml"
    path.write_bytes(_answer(original, style="outlook"))
    result = app.test_cli_runner().invoke(args=["mail", "inspect", str(path), "--json"])
    payload = json.loads(result.output)
    assert payload == {
        "action": "file_draft",
        "match": reference,
        "reason": "reply_address",
        "reply_text": payload["reply_text"],
    }
    assert payload["reply_text"].startswith(ANSWER)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 0


def test_ingest_exits_75_when_the_database_is_unavailable(tmp_path):
    app = create_app(
        base_config(tmp_path, f"sqlite:///{tmp_path}/missing/dir/x.sqlite")
    )
    message = EmailMessage()
    message["From"] = "a@b.example"
    message.set_content("x")
    result = app.test_cli_runner().invoke(
        args=["mail", "ingest"], input=message.as_bytes()
    )
    assert result.exit_code == 75


def test_outbound_mail_names_no_anonymous_author(mail_app):
    app, handler = mail_app
    _routed(app, body="匿名反映的问题。")
    mail = _delivered(handler, "finance@meijiang-edu.example")
    text = mail.get_body(("plain",)).get_content()
    assert mail.get_body(("html",)) is not None
    assert "匿名反映的问题。" in text
    assert "提交人" not in text


def test_section_never_gets_a_misconduct_report_by_kind(mail_app):
    app, _handler = mail_app
    with app.app_context():
        report = submit(db.session, kind=SubmissionKind.MISCONDUCT).submission
        opinion = submit(db.session).submission
        assert triage.suggest_section(report) is None
        assert triage.suggest_section(opinion).name == "办公室"  # mapped to the kind


def test_smtp_down_at_first_then_everything_arrives_once(make_app):
    port = free_port()  # nothing listens yet: the mail server is down
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, OUTBOX_RETRY_BASE_SECONDS=0)
    with app.app_context():
        for number in range(5):
            outbox.enqueue(
                db.session,
                template=Notification.SUBMISSION_ROUTED,
                recipient=f"s{number}@meijiang-edu.example",
                subject=f"第{number}封",
                body_text="x",
                body_html="<p>x</p>",
            )
        db.session.commit()
        for _attempt in range(2):
            # One connection attempt a pass: the rest wait for the next pass.
            assert outbox.deliver_pending(db.session).deferred == 1
        handler = CollectingHandler()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()  # the mail server is back
        try:
            assert outbox.deliver_pending(db.session).sent == 5
            assert outbox.deliver_pending(db.session).sent == 0
        finally:
            controller.stop()
    subjects = sorted(m["Subject"] for _s, _r, m in handler.messages)
    assert subjects == [f"第{n}封" for n in range(5)]


@pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="several workers need PostgreSQL (SKIP LOCKED)"
)
def test_three_workers_on_postgresql_send_each_message_once(make_app, smtp_server):
    controller, handler = smtp_server
    app = make_app(
        MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port, OUTBOX_BATCH_SIZE=5
    )
    with app.app_context():
        for number in range(60):
            outbox.enqueue(
                db.session,
                template=Notification.SUBMISSION_ROUTED,
                recipient="finance@meijiang-edu.example",
                subject=f"{number}",
                body_text="x",
                body_html="<p>x</p>",
            )
        db.session.commit()

    def worker():
        with app.app_context():
            while outbox.deliver_pending(db.session).sent:
                pass
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    subjects = [m["Subject"] for _s, _r, m in handler.messages]
    assert sorted(subjects, key=int) == [str(n) for n in range(60)]
    with app.app_context():
        states = db.session.scalars(select(OutboxMessage.state)).all()
        assert set(states) == {OutboxState.SENT}
