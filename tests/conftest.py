"""Fixtures and hooks: the app on SQLite or PostgreSQL, a real SMTP server, browsers.

Shared code that is not a fixture lives in helpers.py.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from helpers import base_config
from helpers import CHROMIUM_ARGS
from helpers import CollectingHandler
from helpers import create_worker_database
from helpers import empty_schema
from helpers import free_port
from helpers import LiveServer
from helpers import SCREENSHOTS
from helpers import share_compiled_templates
from helpers import TEST_DATABASE_URL
from werkzeug.serving import make_server

from feedback import create_app
from feedback import demo
from feedback.extensions import db

# ---- what runs in which pass -------------------------------------------------

# A test that needs none of these fixtures never opens the test database, so
# the PostgreSQL pass (FEEDBACK_TEST_DATABASE_URL set) would only repeat it.
DATABASE_FIXTURES = frozenset({"database_url"})
_DESELECTED = "postgresql_deselected"
_STASH_KEY = pytest.StashKey[dict[str, int]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller, or no xdist
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # only this run's are kept


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """In the PostgreSQL pass keep only the tests that use the database.

    Browser tests run once, in the SQLite pass: what they check is the page,
    not the database. Tests that use no database fixture (parsers, text
    helpers, settings) would run the same code twice.
    """
    if not TEST_DATABASE_URL:
        return
    kept, browser, no_database = [], [], []
    for item in items:
        if item.get_closest_marker("browser"):
            browser.append(item)
        elif DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
            no_database.append(item)
        else:
            kept.append(item)
    if browser or no_database:
        config.hook.pytest_deselected(items=browser + no_database)
        items[:] = kept
    counts = {"browser": len(browser), "no_database": len(no_database)}
    config.stash[_STASH_KEY] = counts
    if hasattr(config, "workeroutput"):
        config.workeroutput[_DESELECTED] = counts


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """Under xdist, bring the workers' deselection counts to the controller."""
    counts = getattr(node, "workeroutput", {}).get(_DESELECTED)
    if counts is not None:
        node.config.stash[_STASH_KEY] = counts


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    counts = config.stash.get(_STASH_KEY, None)
    if counts is None:
        return
    terminalreporter.write_line(
        f"PostgreSQL pass: deselected {counts['browser']} browser tests "
        "(they run once, in the SQLite pass) and "
        f"{counts['no_database']} tests that use no database fixture "
        f"({', '.join(sorted(DATABASE_FIXTURES))} or anything built on it)."
    )


# ---- the app and its database ------------------------------------------------


@pytest.fixture(scope="session")
def database_url() -> str:
    """The PostgreSQL database of this pass and worker ("" for SQLite).

    Apps get their database only through this value (``base_config`` takes
    it), so asking for it is what keeps a test in the PostgreSQL pass.
    """
    if TEST_DATABASE_URL:
        create_worker_database()
    return TEST_DATABASE_URL


@pytest.fixture
def make_app(tmp_path: Path, database_url: str) -> Iterator[object]:
    """Build an app with extra settings; its tables start empty."""
    made: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        app = share_compiled_templates(
            create_app(base_config(tmp_path, database_url, **overrides))
        )
        with app.app_context():
            empty_schema()
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
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


@pytest.fixture
def demo_loaded(app: Flask):
    """The demo board, sections and staff, loaded into the test database."""
    with app.app_context():
        demo.load(db.session)
        db.session.commit()


# ---- mail --------------------------------------------------------------------


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
    controller, handler = smtp_server
    app = make_app(MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port)
    with app.app_context():
        demo.load(db.session)
        db.session.commit()
    return app, handler


# ---- browsers ----------------------------------------------------------------


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


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[LiveServer]:
    """Serve the demo with CSRF on, as citizens meet it; one server per module.

    Its tables are emptied first, as for every app of the suite; module scope
    lets a module's tests build on one another's data.
    """
    app = create_app(
        base_config(
            tmp_path_factory.mktemp("live"), database_url, WTF_CSRF_ENABLED=True
        )
    )
    share_compiled_templates(app)
    with app.app_context():
        empty_schema()
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
            db.engine.dispose()
