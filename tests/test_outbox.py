"""The outbox: real delivery, one bad message never blocking the rest, leases, back-off, retry, the banner."""

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from helpers import CollectingHandler
from helpers import free_port
from helpers import login
from helpers import staff_user
from helpers import TEST_DATABASE_URL
from helpers import wait_until
from sqlalchemy import create_engine
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from feedback import PROJECT_ROOT
from feedback.db import utcnow
from feedback.extensions import db
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import FailureKind
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Role
from feedback.services import locks
from feedback.services import outbox

FLASK = str(Path(sys.executable).with_name("flask"))


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


class ScriptedHandler(CollectingHandler):
    """A sink that counts connections, refuses one address, and answers DATA as told."""

    def __init__(self, refuse=(), data_answers=(), on_ehlo=None, on_data=None):
        super().__init__()
        self.refuse = set(refuse)
        self.data_answers = list(data_answers)  # answered in turn, then 250
        self.on_ehlo = on_ehlo
        self.on_data = on_data
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.connections += 1
        session.host_name = hostname
        if self.on_ehlo:
            self.on_ehlo()
        return responses

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_answers:
            return self.data_answers.pop(0)
        answer = await super().handle_DATA(server, session, envelope)
        if self.on_data:
            self.on_data()
        return answer


@pytest.fixture
def scripted(make_app):
    """Start a scripted sink and return (app, handler); stopped at the end."""
    controllers = []

    def start(handler, **config):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        controllers.append(controller)
        return make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, **config)

    yield start
    for controller in controllers:
        controller.stop()


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
        assert message.lease_token is None
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


def test_line_breaks_in_headers_are_folded_when_queued(mail_app):
    app, handler = mail_app
    with app.app_context():
        folded = _queue(
            db.session,
            subject="[MJ1] 请答复：a\r\nBcc: victim@example.com\nb\x00c",
            reply_to="reply+1@reply.test\r\nX-Injected: 1",
        )
        assert folded.subject == "[MJ1] 请答复：a Bcc: victim@example.com b c"
        assert folded.body_text == "正文：<b>不是标签</b>"  # bodies stay as given
        # A paragraph on one line of HTML is longer than SMTP allows a line.
        long_line = "<p>" + "希望公开整改进展。" * 100 + "</p>"
        _queue(db.session, subject="后面的邮件", body_html=long_line)
        assert str(outbox.deliver_pending(db.session)) == "sent=2 deferred=0 failed=0"
    first, second = (m for _s, _r, m in handler.messages)
    assert second.get_body(("html",)).get_content().strip() == long_line
    assert first["Subject"] == "[MJ1] 请答复：a Bcc: victim@example.com b c"
    assert first["Bcc"] is None
    assert first["X-Injected"] is None
    assert second["Subject"] == "后面的邮件"


def test_a_message_that_cannot_be_built_fails_and_the_next_goes(mail_app):
    app, handler = mail_app
    with app.app_context():
        # An address whose local part is not ASCII needs SMTPUTF8 to be sent.
        broken = _queue(db.session, recipient="用户@例子.中国")
        _queue(db.session, subject="后面的邮件")
        counts = outbox.deliver_pending(db.session)
        assert str(counts) == "sent=1 deferred=0 failed=1"
        db.session.refresh(broken)
        assert broken.state is OutboxState.FAILED
        assert broken.failed_at is not None
        assert broken.last_error.startswith("unbuildable: UnicodeEncodeError")
    assert [m["Subject"] for _s, _r, m in handler.messages] == ["后面的邮件"]


def test_a_refused_recipient_fails_at_once_without_its_address(scripted, caplog):
    handler = ScriptedHandler(refuse={"gone@meijiang-edu.example"})
    app = scripted(handler)
    caplog.set_level(logging.INFO, logger="feedback.outbox")
    with app.app_context():
        refused = _queue(db.session, recipient="gone@meijiang-edu.example")
        _queue(db.session)
        assert str(outbox.deliver_pending(db.session)) == "sent=1 deferred=0 failed=1"
        db.session.refresh(refused)
        assert refused.state is OutboxState.FAILED
        assert refused.attempts == 1
        assert outbox.failure_kind(refused.last_error) is FailureKind.RECIPIENT_REFUSED
        assert "550" in refused.last_error
        assert "Recipient address rejected" in refused.last_error
        assert "@" not in refused.last_error
    assert len(handler.messages) == 1
    assert handler.connections == 1  # the refusal did not cost the connection
    lines = [r for r in caplog.records if getattr(r, "event", None) == "outbox"]
    assert [(r.message_id, r.outcome) for r in lines] == [
        (refused.id, "failed"),
        (refused.id + 1, "sent"),
    ]
    assert all("@" not in r.getMessage() for r in lines)


def test_a_nul_in_the_servers_answer_is_recorded_and_the_next_goes(scripted):
    # PostgreSQL refuses NUL in text: stored as said, the failure would not
    # be recorded and the message would be sent again after every lease.
    handler = ScriptedHandler(data_answers=["554 5.7.1 spam\x00score"])
    app = scripted(handler)
    with app.app_context():
        refused = _queue(db.session)
        _queue(db.session)
        assert str(outbox.deliver_pending(db.session)) == "sent=1 deferred=0 failed=1"
        db.session.refresh(refused)
        assert refused.state is OutboxState.FAILED
        assert refused.last_error == "refused: SMTPDataError: 554 5.7.1 spam score"


def test_a_temporary_refusal_defers_then_sends(scripted):
    handler = ScriptedHandler(data_answers=["451 4.3.0 Try again later"])
    app = scripted(handler, OUTBOX_RETRY_BASE_SECONDS=0)
    with app.app_context():
        message = _queue(db.session)
        assert outbox.deliver_pending(db.session).deferred == 1
        db.session.refresh(message)
        assert message.state is OutboxState.PENDING
        assert message.failing_since is not None
        assert message.last_error.startswith("busy: SMTPDataError: 451")
        assert outbox.deliver_pending(db.session).sent == 1
        db.session.refresh(message)
        assert message.state is OutboxState.SENT
        assert message.failing_since is None
        assert message.attempts == 2
    assert len(handler.messages) == 1


def test_one_connection_serves_a_whole_pass(scripted):
    handler = ScriptedHandler()
    app = scripted(handler)
    with app.app_context():
        for number in range(3):
            _queue(db.session, subject=f"第{number}封")
        assert outbox.deliver_pending(db.session).sent == 3
    assert handler.connections == 1
    assert len(handler.messages) == 3


def test_a_stop_is_heard_between_messages(mail_app):
    app, handler = mail_app
    with app.app_context():
        for number in range(3):
            _queue(db.session, subject=f"第{number}封")
        counts = outbox.deliver_pending(
            db.session, should_stop=lambda: len(handler.messages) >= 1
        )
        assert counts.sent == 1
    assert len(handler.messages) == 1


@pytest.mark.parametrize("lost", ["before sending", "while sending"])
def test_a_lost_lease_sends_nothing_or_records_nothing(scripted, database_url, lost):
    app = None

    def take_over():
        # Another worker takes the lease (as after an expiry), on its own connection.
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with engine.begin() as connection:
            connection.execute(text("UPDATE outbox_messages SET lease_token = 'other'"))
        engine.dispose()

    handler = ScriptedHandler(
        on_ehlo=take_over if lost == "before sending" else None,
        on_data=take_over if lost == "while sending" else None,
    )
    app = scripted(handler)
    with app.app_context():
        message = _queue(db.session)
        counts = outbox.deliver_pending(db.session)
        assert counts.sent == 0
        assert counts.lease_lost == 1
        db.session.refresh(message)
        # The other worker's lease stands: nothing was recorded over it.
        assert message.state is OutboxState.SENDING
        assert message.lease_token == "other"
        assert message.sent_at is None
        assert message.attempts == 0
    assert len(handler.messages) == (0 if lost == "before sending" else 1)


def test_server_down_defers_with_jittered_back_off(app, runner):
    with app.app_context():
        message = _queue(db.session)
        behind = _queue(db.session)
        result = runner.invoke(args=["outbox", "send"])
        assert result.exit_code == 0
        # One connection attempt a pass: the message behind waits, untried.
        assert "sent=0 deferred=1 failed=0" in result.output
        db.session.refresh(behind)
        assert (behind.state, behind.attempts) == (OutboxState.PENDING, 0)
        db.session.refresh(message)
        assert message.state is OutboxState.PENDING
        assert message.attempts == 1
        assert outbox.failure_kind(message.last_error) is FailureKind.UNREACHABLE
        assert "Connection refused" in message.last_error
        wait = message.next_attempt_at - utcnow()
        assert wait <= timedelta(seconds=60)
        message.next_attempt_at = utcnow() + timedelta(minutes=5)
        db.session.commit()
        # Not due yet: the next pass leaves it alone and tries the one behind.
        assert (
            "sent=0 deferred=1 failed=0"
            in runner.invoke(args=["outbox", "send"]).output
        )
        db.session.refresh(message)
        db.session.refresh(behind)
        assert (message.attempts, behind.attempts) == (1, 1)


def test_a_lease_shorter_than_a_slow_send_is_warned_of(make_app):
    app = make_app(OUTBOX_LEASE_SECONDS=50, MAIL_TIMEOUT=10)
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0
    assert result.stderr.startswith("warning: OUTBOX_LEASE_SECONDS (50) is under 6")
    app = make_app(OUTBOX_LEASE_SECONDS=60, MAIL_TIMEOUT=10)
    assert app.test_cli_runner().invoke(args=["outbox", "send"]).stderr == ""


def test_back_off_doubles_up_to_its_cap_with_full_jitter(make_app):
    app = make_app(OUTBOX_RETRY_BASE_SECONDS=60, OUTBOX_RETRY_MAX_SECONDS=200)
    with app.app_context():
        assert [outbox.retry_ceiling(n).total_seconds() for n in (1, 2, 3, 40)] == [
            60,
            120,
            200,
            200,
        ]
        delays = [outbox.retry_delay(3).total_seconds() for _ in range(200)]
    assert all(0 <= d <= 200 for d in delays)
    # Spread over the whole range, not bunched at the ceiling.
    assert min(delays) < 50
    assert max(delays) > 150


def test_gives_up_only_after_failing_for_the_give_up_time(app, runner):
    with app.app_context():
        young = _queue(db.session, subject="71 h")
        old = _queue(db.session, subject="73 h")
        young.failing_since = utcnow() - timedelta(hours=71)
        old.failing_since = utcnow() - timedelta(hours=73)
        young.attempts = old.attempts = 30
        db.session.commit()
        # The server is down: each pass tries one message, then ends.
        first = runner.invoke(args=["outbox", "send"])
        second = runner.invoke(args=["outbox", "send"])
        assert "sent=0 deferred=1 failed=0" in first.output
        assert "sent=0 deferred=0 failed=1" in second.output
        db.session.refresh(young)
        db.session.refresh(old)
        assert young.state is OutboxState.PENDING
        assert young.next_attempt_at - utcnow() <= timedelta(hours=1)  # the cap
        assert old.state is OutboxState.FAILED
        assert old.failed_at is not None


def test_a_hanging_server_costs_mail_timeout_only(make_app):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts connections and never says a word
    try:
        app = make_app(MAIL_PORT=listener.getsockname()[1], MAIL_TIMEOUT=0.5)
        with app.app_context():
            message = _queue(db.session)
            started = time.monotonic()
            assert outbox.deliver_pending(db.session).deferred == 1
            assert time.monotonic() - started < 3
            db.session.refresh(message)
            assert "timed out" in message.last_error
            assert outbox.failure_kind(message.last_error) in (
                FailureKind.TIMEOUT,
                FailureKind.UNREACHABLE,  # when the greeting never came
            )
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (
            OperationalError("SELECT", {}, Exception("server closed the connection")),
            "db_unavailable",
        ),
        (RuntimeError("a bug, quoting zs@example.org"), "pass_failed"),
    ],
    ids=["database-away", "a-bug"],
)
def test_the_worker_outlives_a_failed_pass(
    mail_app, monkeypatch, caplog, error, outcome
):
    app, handler = mail_app
    claim = outbox.Ledger.claim
    failures = []

    def flaky_claim(ledger, now):
        if not failures:
            failures.append(now)
            raise error
        return claim(ledger, now)

    monkeypatch.setattr(outbox.Ledger, "claim", flaky_claim)
    caplog.set_level(logging.INFO, logger="feedback.outbox")
    with app.app_context():
        _queue(db.session)
        reports = []
        outbox.work(
            db.session,
            poll_seconds=0.01,
            should_stop=lambda: bool(reports),
            report=reports.append,
        )
    assert len(failures) == 1
    assert str(reports[0]) == "sent=1 deferred=0 failed=0"
    assert len(handler.messages) == 1
    said = [r for r in caplog.records if getattr(r, "outcome", None) == outcome]
    assert len(said) == 1
    assert "zs@example.org" not in caplog.text


def _failed(session, count):
    messages = [_queue(session, subject=f"失败{n}") for n in range(count)]
    for message in messages:
        message.state = OutboxState.FAILED
        message.failed_at = utcnow()
        message.failing_since = utcnow() - timedelta(hours=80)
        message.last_error = "refused: SMTPDataError: 554 no"
    session.commit()
    return messages


def _retried_events(session):
    return list(
        session.scalars(select(Event).where(Event.action == AuditAction.OUTBOX_RETRIED))
    )


def test_retry_all_failed_from_the_command_line(app, runner):
    with app.app_context():
        messages = _failed(db.session, 2)
        sent = _queue(db.session, subject="已发")
        sent.state = OutboxState.SENT
        db.session.commit()
        result = runner.invoke(args=["outbox", "retry", "--all-failed"])
        assert result.exit_code == 0
        assert result.output == "2 failed messages queued again.\n"
        for message in messages:
            db.session.refresh(message)
            assert message.state is OutboxState.PENDING
            assert message.failed_at is None
            assert message.failing_since is None
            assert message.next_attempt_at <= utcnow()
        db.session.refresh(sent)
        assert sent.state is OutboxState.SENT
        (event,) = _retried_events(db.session)
        assert (event.actor_label, event.reason) == ("operator", "2 messages")
        result = runner.invoke(args=["outbox", "retry", str(messages[0].id)])
        assert result.exit_code == 1  # no longer failed


def test_staff_retry_every_failed_message_with_one_button(app, client, demo_loaded):
    with app.app_context():
        messages = _failed(db.session, 3)
        lead = staff_user(Role.LEAD)
        login(client, lead)
        page = client.get("/staff/outbox").get_data(as_text=True)
        assert "全部重新发送" in page
        # The reason in the reader's words, the server's own after it.
        assert page.count("邮件服务器拒收此邮件。<br><small") == 3
        assert "SMTPDataError: 554 no" in page
        client.post(f"/staff/outbox/{messages[0].id}/retry")  # one by one, as before
        response = client.post("/staff/outbox/retry-failed")
        assert response.status_code == 302
        states = {db.session.get(OutboxMessage, m.id).state for m in messages}
        assert states == {OutboxState.PENDING}
        one, rest = _retried_events(db.session)
        assert (one.object_id, one.reason) == (messages[0].id, "1 message")
        assert (rest.actor_id, rest.reason) == (lead.id, "2 messages")
        assert "全部重新发送" not in client.get("/staff/outbox").get_data(as_text=True)


def test_banner_shows_failures_until_acknowledged(app, client, demo_loaded):
    banner = "封邮件发送失败"
    with app.app_context():
        login(client, staff_user(Role.LEAD))
        assert banner not in client.get("/staff/").get_data(as_text=True)
        _failed(db.session, 2)
        page = client.get("/staff/").get_data(as_text=True)
        assert "有2封邮件发送失败" in page
        client.post("/staff/outbox/acknowledge")
        assert banner not in client.get("/staff/").get_data(as_text=True)
        acknowledged = db.session.scalar(
            select(Event).where(Event.action == AuditAction.OUTBOX_ACKNOWLEDGED)
        )
        assert acknowledged is not None
        _failed(db.session, 1)  # a new failure after the acknowledgement
        assert "有1封邮件发送失败" in client.get("/staff/").get_data(as_text=True)
        section = app.test_client()
        login(section, staff_user(Role.SECTION, "办公室"))
        assert banner not in section.get("/staff/").get_data(as_text=True)


def test_banner_shows_mail_waiting_too_long(app, client, demo_loaded):
    with app.app_context():
        login(client, staff_user(Role.LEAD))
        waiting = _queue(db.session)
        assert "待发邮件" not in client.get("/staff/").get_data(as_text=True)
        waiting.created_at = utcnow() - timedelta(minutes=20)
        db.session.commit()
        assert "最早的待发邮件已等待20分钟" in client.get("/staff/").get_data(
            as_text=True
        )


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="the one-worker rule is SQLite's")
@pytest.mark.parametrize("command", ["send", "work"])
def test_a_second_worker_on_sqlite_is_refused(app, runner, command):
    with app.app_context():
        _queue(db.session)
        with locks.exclusive(db.engine, "outbox", wait=False):
            result = runner.invoke(args=["outbox", command])
        assert result.exit_code == 75
        assert "only one may run" in result.stderr
        assert db.session.scalar(select(OutboxMessage.attempts)) == 0


def test_each_message_has_its_own_message_id(session):
    first = _queue(session)
    second = _queue(session)
    assert first.message_id != second.message_id
    assert first.message_id.endswith("@reply.meijiang-edu.example>")
    assert len(session.scalars(select(OutboxMessage)).all()) == 2


def test_expired_lease_is_taken_over(mail_app):
    app, handler = mail_app
    with app.app_context():
        message = _queue(db.session)
        message.state = OutboxState.SENDING  # a worker died mid-send
        message.locked_until = utcnow() - timedelta(seconds=1)
        message.lease_token = "dead worker"
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


def test_outbox_work_starts_and_waits_while_the_database_is_down(tmp_path):
    env = {
        **os.environ,
        "FEEDBACK_SECRET_KEY": "test",
        "FEEDBACK_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/none",
        "FEEDBACK_LOG_FORMAT": "text",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as output_file:
        worker = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [FLASK, "--app", "app", "outbox", "work", "--poll", "0.1"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        # Two passes meet no database: the worker has started and is waiting.
        wait_until(
            lambda: log.read_text().count("the database is unavailable") >= 2,
            30,
            "the worker meets the missing database twice",
        )
        running = worker.poll() is None
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=10)
    finally:
        worker.kill()
    output = log.read_text()
    assert running, output
    assert worker.returncode == 0, output
    assert "Stopped." in output
