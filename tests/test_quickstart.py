"""The quick start's pieces: the secret key, the mail sink, the worker loop, the mailbox page."""

import smtplib
import threading
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from helpers import free_port
from helpers import login
from helpers import staff_user
from helpers import TEST_DATABASE_URL

from feedback import demo
from feedback.extensions import db
from feedback.models import Notification
from feedback.models import OutboxState
from feedback.models import Role
from feedback.quickstart import ensure_secret_key
from feedback.quickstart import SinkHandler
from feedback.quickstart import start_worker
from feedback.services import locks
from feedback.services import outbox


def test_secret_key_is_written_once(tmp_path):
    assert ensure_secret_key(tmp_path) is True
    first = (tmp_path / "config.py").read_text()
    assert "SECRET_KEY = '" in first
    assert ensure_secret_key(tmp_path) is False
    assert (tmp_path / "config.py").read_text() == first
    assert oct((tmp_path / "config.py").stat().st_mode)[-3:] == "600"


def test_existing_config_keeps_its_key(tmp_path):
    (tmp_path / "config.py").write_text("SECRET_KEY = 'mine'\n")
    assert ensure_secret_key(tmp_path) is False
    assert (tmp_path / "config.py").read_text() == "SECRET_KEY = 'mine'\n"


def _sink(folder):
    controller = Controller(SinkHandler(folder), hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def _send(controller, to, subject):
    message = EmailMessage()
    message["From"] = "noreply@meijiang-edu.example"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("正文 http://feedback.test/section/reply/abc")
    with smtplib.SMTP(controller.hostname, controller.port) as smtp:
        smtp.send_message(message)


def test_sink_keeps_mail_and_staff_read_only_their_own(make_app, tmp_path):
    folder = tmp_path / "mail"
    controller = _sink(folder)
    try:
        _send(controller, "finance@meijiang-edu.example", "给财务股的邮件")
        _send(controller, "office@meijiang-edu.example", "给办公室的邮件")
    finally:
        controller.stop()
    assert len(list(folder.glob("*.eml"))) == 2

    app = make_app(MAIL_SINK_DIR=str(folder))

    with app.app_context():
        demo.load(db.session)
        db.session.commit()
        client = app.test_client()
        login(client, staff_user(Role.SECTION, "计划财务股"))
        listing = client.get("/staff/mail").get_data(as_text=True)
        assert "给财务股的邮件" in listing
        assert "给办公室的邮件" not in listing
        login(client, staff_user(Role.LEAD))
        listing = client.get("/staff/mail").get_data(as_text=True)
        assert "给办公室的邮件" in listing
        name = sorted(p.name for p in folder.glob("*.eml"))[0]
        page = client.get(f"/staff/mail/{name}").get_data(as_text=True)
        assert 'href="http://feedback.test/section/reply/abc"' in page
        assert client.get("/staff/mail/..%2Fconfig.py").status_code == 404


def test_mailbox_page_is_off_without_a_sink(client, demo_loaded):
    with client.application.app_context():
        login(client, staff_user(Role.LEAD))
    assert client.get("/staff/mail").status_code == 404


def test_worker_loop_delivers_then_stops(make_app, smtp_server):
    controller, handler = smtp_server
    app = make_app(MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port)
    with app.app_context():
        message = outbox.enqueue(
            db.session,
            template=Notification.SUBMISSION_ROUTED,
            recipient="a@meijiang-edu.example",
            subject="s",
            body_text="b",
            body_html="<p>b</p>",
        )
        db.session.commit()
        message_id = message.id
        reports = []
        outbox.work(
            db.session,
            poll_seconds=0.01,
            should_stop=lambda: bool(reports),  # stop after the pass that sent
            report=reports.append,
        )
        assert str(reports[0]) == "sent=1 deferred=0 failed=0"
        message = db.session.get(type(message), message_id)
        assert message.state is OutboxState.SENT
    assert len(handler.messages) == 1


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="the one-worker rule is SQLite's")
def test_the_demo_worker_stays_idle_while_another_sends(app, capsys):
    with app.app_context():
        with locks.exclusive(db.engine, "outbox", wait=False):
            thread = start_worker(app, threading.Event())
            thread.join(timeout=5)
        assert not thread.is_alive()
    assert "another worker is sending" in capsys.readouterr().out
