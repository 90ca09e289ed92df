"""The work a page costs: the queries it runs, and what a worker leaves unloaded until needed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event

from feedback import demo
from feedback import PROJECT_ROOT
from feedback.extensions import db

# The board's round, its problems with their statuses, the aspects, the
# rounds list and the published replies' count: what the page shows.
BOARD_QUERIES = 5

# Loaded by the first page or file that needs them, never by create_app:
# each is tens of MB in every worker (see bench/memory.py).
LAZY_MODULES = ("pypinyin", "pypdf")


@contextmanager
def counted_queries(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements the app runs inside the block."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_board_runs_only_the_queries_it_shows(make_app) -> None:
    # Rendering is what is counted: the page cache would answer without it.
    app = make_app(PAGE_CACHE_ENABLED=False)
    with app.app_context():
        demo.load(db.session)
        db.session.commit()
    client = app.test_client()
    client.get("/")  # the first request of a process may read settings once
    with counted_queries(app) as statements:
        response = client.get("/")
    assert response.status_code == 200
    assert len(statements) <= BOARD_QUERIES, "\n\n".join(statements)


def test_a_cached_board_runs_at_most_the_stamp_query(app, client, demo_loaded) -> None:
    client.get("/")
    with counted_queries(app) as statements:
        response = client.get("/")
    assert response.status_code == 200
    assert len(statements) <= 1, "\n\n".join(statements)


def test_create_app_leaves_large_modules_unloaded() -> None:
    probe = (
        "import sys\n"
        "from feedback import create_app\n"
        "create_app({'TESTING': True, 'SECRET_KEY': 'x'})\n"
        f"print(','.join(m for m in {LAZY_MODULES!r} if m in sys.modules))\n"
    )
    loaded = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == ""
