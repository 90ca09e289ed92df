"""`flask mail fetch` against a real IMAP server: Debian's Dovecot on a high port."""

import getpass
import imaplib
import os
import shutil
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from helpers import CLOSED_PORT
from helpers import free_port
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from feedback.extensions import db
from feedback.models import InboundMessage
from feedback.models import Submission

PASSWORD = "imap-test-secret"


@pytest.fixture
def imap_server():
    """Dovecot with its own configuration, run as an unprivileged mail user."""
    dovecot = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
    )
    if dovecot is None:
        pytest.skip("Debian's dovecot-imapd is not installed (.ci/run installs it)")
    # Dovecot's own users must reach these files, so not pytest's private tmp.
    root = Path(tempfile.mkdtemp(prefix="feedback-dovecot-"))
    mail = root / "mail"
    for folder in (root / "run", root / "state", mail):
        folder.mkdir(parents=True)
    root.chmod(0o755)
    if os.geteuid() == 0:
        uid = gid = 65534  # nobody: the mailbox is never served as root
        shutil.chown(mail, uid, gid)
        users = ""
    else:
        uid, gid = os.getuid(), os.getgid()
        me = getpass.getuser()
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    (root / "users").write_text(
        f"reply:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{mail}/reply::\n"
    )
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(
        f"""base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{users}protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
    )
    subprocess.run([dovecot, "-c", str(config)], check=True)
    try:
        for _ in range(50):
            try:
                imaplib.IMAP4("127.0.0.1", port, timeout=2).logout()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        subprocess.run([doveadm, "-c", str(config), "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)


def _deliver(port, message):
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("reply", PASSWORD)
    client.append("INBOX", None, None, message.as_bytes())
    client.logout()


def _letter(number):
    letter = EmailMessage()
    letter["From"] = f"citizen{number}@example.com"
    letter["To"] = "supervision@meijiang-edu.example"
    letter["Subject"] = f"第{number}封来信"
    letter["Message-ID"] = f"<letter-{number}@example.com>"
    letter.set_content(f"这是第{number}封来信的内容。", charset="gb18030")
    return letter


def _mailbox_app(make_app, port):
    return make_app(
        MAIL_IMAP_HOST="127.0.0.1",
        MAIL_IMAP_PORT=port,
        MAIL_IMAP_SSL=False,
        MAIL_IMAP_USER="reply",
        MAIL_IMAP_PASSWORD=PASSWORD,
    )


def test_fetch_files_unseen_mail_once(make_app, imap_server):
    app = _mailbox_app(make_app, imap_server)
    for number in range(3):
        _deliver(imap_server, _letter(number))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["mail", "fetch"])
    assert first.exit_code == 0, first.output
    assert "filed=3" in first.output
    second = runner.invoke(args=["mail", "fetch"])
    assert "nothing new" in second.output  # marked seen after filing
    _deliver(imap_server, _letter(1))  # the same message again, e.g. after a crash
    third = runner.invoke(args=["mail", "fetch"])
    assert "discarded=1" in third.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 3
        assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 4
        bodies = sorted(db.session.scalars(select(Submission.body)))
        assert bodies[0] == "这是第0封来信的内容。"


def _unseen(port):
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("reply", PASSWORD)
    client.select("INBOX")
    _status, data = client.uid("SEARCH", None, "UNSEEN")
    client.logout()
    return len(data[0].split())


def _fetch_failing_to_commit(app, error, monkeypatch):
    """Run `mail fetch` with a commit that raises ``error``."""

    def commit():
        raise error

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "commit", commit)
        return app.test_cli_runner().invoke(args=["mail", "fetch"])


def _comes_again_and_is_filed(app, port):
    """Check the message was left unseen and unfiled, and the next fetch files it."""
    assert _unseen(port) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
    again = app.test_cli_runner().invoke(args=["mail", "fetch"])
    assert "filed=1" in again.output
    assert _unseen(port) == 0


def test_a_message_stays_unseen_until_its_row_is_committed(
    make_app, imap_server, monkeypatch
):
    app = _mailbox_app(make_app, imap_server)
    _deliver(imap_server, _letter(7))
    power_cut = RuntimeError("the process died before its commit")
    crashed = _fetch_failing_to_commit(app, power_cut, monkeypatch)
    assert isinstance(crashed.exception, RuntimeError)
    _comes_again_and_is_filed(app, imap_server)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1


def test_fetch_exits_75_when_the_database_fails_and_leaves_the_message_unseen(
    make_app, imap_server, monkeypatch
):
    app = _mailbox_app(make_app, imap_server)
    _deliver(imap_server, _letter(8))
    gone = OperationalError("COMMIT", {}, Exception("server closed the connection"))
    failed = _fetch_failing_to_commit(app, gone, monkeypatch)
    assert failed.exit_code == 75
    assert failed.stderr == (
        "temporary failure, try again later: server closed the connection\n"
    )
    assert "Traceback" not in failed.output
    _comes_again_and_is_filed(app, imap_server)


def test_fetch_exits_75_when_the_server_is_unreachable(make_app):
    app = make_app(
        MAIL_IMAP_HOST="127.0.0.1", MAIL_IMAP_PORT=CLOSED_PORT, MAIL_IMAP_SSL=False
    )
    result = app.test_cli_runner().invoke(args=["mail", "fetch"])
    assert result.exit_code == 75
