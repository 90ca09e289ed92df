"""The outbox: real delivery, deferral when the server is down, back-off, failure, retry."""

from datetime import timedelta

import pytest
from helpers import login
from helpers import staff_user
from sqlalchemy import select

from feedback.db import utcnow
from feedback.extensions import db
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Role
from feedback.services import outbox


def _queue(session, **overrides):
    fields = {
        "template": Notification.SUBMISSION_ROUTED,
        "recipient": "office@meijiang-edu.example",
        "subject": "[MJ1] 测试邮件",
        "body_text": "正文：<b>不是标签</b>",
        "body_html": "<p>正文：&lt;b&gt;不是标签&lt;/b&gt;</p>",
    }
    fields.update(overrides)
    message = outbox.enqueue(session, **fields)
    session.commit()
    return message


@pytest.fixture
def mail_app(make_app, smtp_server):
    controller, handler = smtp_server
    app = make_app(MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port)
    return app, handler


def test_send_command_delivers_to_a_real_smtp_server(mail_app):
    app, handler = mail_app
    with app.app_context():
        message = _queue(
            db.session, reply_to="reply+1-abc@reply.test", in_reply_to="<x@y>"
        )
        result = app.test_cli_runner().invoke(args=["outbox", "send"])
        assert result.exit_code == 0
        assert "sent=1 deferred=0 failed=0" in result.output
        db.session.refresh(message)
        assert message.state is OutboxState.SENT
        assert message.sent_at is not None
        stored_id = message.message_id
    ((_sender, recipients, received),) = handler.messages
    assert recipients == ["office@meijiang-edu.example"]
    assert received["Subject"] == "[MJ1] 测试邮件"
    assert received["Message-ID"].strip() == stored_id
    assert received["Reply-To"] == "reply+1-abc@reply.test"
    assert received["In-Reply-To"] == "<x@y>"
    assert (
        received.get_body(("plain",)).get_content().startswith("正文：<b>不是标签</b>")
    )
    assert "&lt;b&gt;" in received.get_body(("html",)).get_content()


def test_server_down_defers_with_back_off(app, runner):
    with app.app_context():
        message = _queue(db.session)
        result = runner.invoke(args=["outbox", "send"])
        assert result.exit_code == 0
        assert "sent=0 deferred=1 failed=0" in result.output
        db.session.refresh(message)
        assert message.state is OutboxState.PENDING
        assert message.attempts == 1
        assert (
            "Connection" in message.last_error
            or "refused" in message.last_error.lower()
        )
        wait = message.next_attempt_at - utcnow()
        assert timedelta(seconds=50) < wait <= timedelta(seconds=60)
        # Not due yet: a second pass leaves it alone.
        assert (
            "sent=0 deferred=0 failed=0"
            in runner.invoke(args=["outbox", "send"]).output
        )


def test_back_off_doubles(app):
    with app.app_context():
        assert [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3)] == [
            60,
            120,
            240,
        ]


def test_gives_up_after_max_attempts_and_staff_can_retry(
    app, runner, client, demo_loaded
):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    with app.app_context():
        message = _queue(db.session)
        runner.invoke(args=["outbox", "send"])
        message.next_attempt_at = utcnow()
        db.session.commit()
        result = runner.invoke(args=["outbox", "send"])
        assert "failed=1" in result.output
        db.session.refresh(message)
        assert message.state is OutboxState.FAILED
        login(client, staff_user(Role.LEAD))
        page = client.get("/staff/outbox").get_data(as_text=True)
        assert "failed" in page
        client.post(f"/staff/outbox/{message.id}/retry")
        db.session.refresh(message)
        assert message.state is OutboxState.PENDING


def test_expired_lease_is_taken_over(mail_app):
    app, handler = mail_app
    with app.app_context():
        message = _queue(db.session)
        message.state = OutboxState.SENDING  # a worker died mid-send
        message.locked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
        counts = outbox.deliver_pending(db.session)
        assert counts.sent == 1
    assert len(handler.messages) == 1


def test_live_lease_is_left_alone(mail_app):
    app, handler = mail_app
    with app.app_context():
        message = _queue(db.session)
        message.state = OutboxState.SENDING
        message.locked_until = utcnow() + timedelta(minutes=5)
        db.session.commit()
        assert outbox.deliver_pending(db.session).sent == 0
    assert handler.messages == []


def test_redacted_after_send(mail_app):
    app, handler = mail_app
    with app.app_context():
        message = _queue(db.session, body_text="查询码 ABCD", redact_after_send=True)
        outbox.deliver_pending(db.session)
        db.session.refresh(message)
        assert "ABCD" not in message.body_text
        assert "ABCD" not in message.body_html
    assert "查询码 ABCD" in handler.messages[0][2].get_body(("plain",)).get_content()


def test_each_message_has_its_own_message_id(session):
    first = _queue(session)
    second = _queue(session)
    assert first.message_id != second.message_id
    assert first.message_id.endswith("@reply.meijiang-edu.example>")
    assert len(session.scalars(select(OutboxMessage)).all()) == 2
