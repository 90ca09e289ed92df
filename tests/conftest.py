"""Shared fixtures: the app on SQLite or PostgreSQL, a real SMTP server, sign-in."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from werkzeug.serving import make_server

from feedback import create_app
from feedback import PROJECT_ROOT
from feedback.extensions import db
from feedback.models import Role
from feedback.models import StaffUser

SHARED = PROJECT_ROOT.parent / "shared"
# Set by .ci/run for the second pass over the suite.
TEST_DATABASE_URL = os.environ.get("FEEDBACK_TEST_DATABASE_URL", "")


def shared_path(*parts: str) -> Path:
    """Return a path under ../shared/, or skip the test where a clone lacks it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads the shared corpus (CI has it)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(tmp_path: Path) -> str:
    return TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite'}"


def base_config(tmp_path: Path, **overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url(tmp_path),
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_URL": "http://feedback.test",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": free_port(),  # nothing listens: sends are deferred
        "MAIL_SUPPRESS_SEND": False,
        "OUTBOX_RETRY_BASE_SECONDS": 60,
        "ARGON2_TIME_COST": 1,  # production cost is measured in bench/, not here
        "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_PARALLELISM": 1,
        "RATELIMIT_ENABLED": False,  # test_rate_limits turns it on
        "ATTACHMENT_DIR": str(tmp_path / "attachments"),
    }
    config.update(overrides)
    return config


def reset_schema() -> None:
    """Drop every table, including Alembic's, so a database starts empty."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[object]:
    """Build an app with extra settings; its schema is created and dropped."""
    made: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        app = create_app(base_config(tmp_path, **overrides))
        with app.app_context():
            reset_schema()
            db.create_all()  # fast; test_migrations runs the real migrations
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            reset_schema()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def session(app: Flask):
    with app.app_context():
        yield db.session


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


class CollectingHandler:
    """Keeps every message the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, CollectingHandler]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1."""
    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


@pytest.fixture
def mail_app(make_app, smtp_server):
    """An app with the demo loaded that sends to the real SMTP server; (app, handler)."""
    from feedback import demo

    controller, handler = smtp_server
    app = make_app(MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port)
    with app.app_context():
        demo.load(db.session)
        db.session.commit()
    return app, handler


def login(client, user: StaffUser) -> None:
    """Sign ``user`` in on ``client`` without going through the form."""
    with client.session_transaction() as flask_session:
        flask_session["user_id"] = user.id
        flask_session["v"] = user.session_version


@pytest.fixture
def demo_loaded(app: Flask):
    """The demo board, sections and staff, loaded into the test database."""
    from feedback import demo

    with app.app_context():
        demo.load(db.session)
        db.session.commit()


def staff_user(role: Role, section_name: str | None = None) -> StaffUser:
    """Return the demo account for ``role`` (and section)."""
    from feedback import demo
    from feedback.services import accounts

    for entry in demo.LOGINS:
        if entry.role is role and (
            section_name is None or entry.section == section_name
        ):
            user = accounts.find_by_email(db.session, entry.email)
            assert user is not None
            return user
    raise LookupError(role)


def read_receipt(html: str) -> tuple[str, str]:
    """Return the reference number and the access code shown on a receipt page."""
    reference = re.search(r'class="reference">([^<]+)<', html)
    code = re.search(r'id="access-code">(.*?)</dd>', html, re.S)
    assert reference is not None, "no reference on the page"
    assert code is not None, "no access code on the page"
    return reference.group(1), re.sub(r"<[^>]+>", "", code.group(1))


class _ActiveMarkup(HTMLParser):
    """Collects anything in a page that a browser could run."""

    RUNNABLE_TAGS = frozenset(
        {
            "script",
            "iframe",
            "object",
            "embed",
            "svg",
            "math",
            "base",
            "meta",
            "link",
            "style",
        }
    )
    URL_ATTRIBUTES = frozenset(
        {"href", "src", "action", "formaction", "xlink:href", "data"}
    )

    def __init__(self, allowed_tags):
        super().__init__(convert_charrefs=True)
        self.allowed_tags = allowed_tags
        self.found = []

    def handle_starttag(self, tag, attrs):
        ours = tag == "script" and dict(attrs).get("src", "").startswith("/static/js/")
        if tag in self.RUNNABLE_TAGS and tag not in self.allowed_tags and not ours:
            self.found.append(tag)
        for name, value in attrs:
            scheme = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            elif name in self.URL_ATTRIBUTES and scheme.startswith(
                ("javascript:", "vbscript:", "data:")
            ):
                self.found.append(f"{tag}[{name}={value}]")


def runnable_markup(html: str) -> list[str]:
    """Return what in ``html`` a browser could run, beyond our own page head."""
    parser = _ActiveMarkup(allowed_tags={"meta", "link"})  # the page head's own
    parser.feed(html)
    return parser.found


# Browser tests: Debian's Chromium driven by pytest-playwright, against a live server.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Screenshots and other artefacts that CI keeps (ignored by git).
ARTIFACTS = PROJECT_ROOT / "test-results"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's Chromium; Playwright's own browser downloads are never used."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not on PATH (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """Browse as a reader in mainland China: Accept-Language zh-CN."""
    return {**browser_context_args, "locale": "zh-CN"}


@dataclass
class LiveServer:
    """The app with the demo loaded, served on 127.0.0.1 for a real browser."""

    app: Flask
    url: str


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve the demo with CSRF on, as citizens meet it; one server per module.

    Module scope keeps a module's tables only as long as it runs, so the
    PostgreSQL pass never sees another module's data.
    """
    from feedback import demo

    app = create_app(
        base_config(tmp_path_factory.mktemp("live"), WTF_CSRF_ENABLED=True)
    )
    with app.app_context():
        reset_schema()
        db.create_all()
        demo.load(db.session)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            reset_schema()
            db.engine.dispose()
