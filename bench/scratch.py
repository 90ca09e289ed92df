"""What the benchmarks share: a scratch app with the demo, bulk rows, the lead's client, timing."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable  # noqa: E402
from collections.abc import Iterable  # noqa: E402

import bench_paths  # noqa: E402, F401 - before anything imports http
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from flask_sqlalchemy import SQLAlchemy  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from feedback import create_app  # noqa: E402
from feedback import demo  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.models import Role  # noqa: E402
from feedback.services import accounts  # noqa: E402

# Rows of one model are inserted this many at a time.
BATCH = 20_000

Row = dict[str, object]


def scratch_app(database_url: str = "", **config: object) -> Flask:
    """Return an app with the demo loaded, on a new SQLite file or the database given.

    The given database is emptied first (its tables dropped and made again).
    ``config`` adds to or overrides the bench settings.
    """
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "DATABASE_URL": database_url
            or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite",
            "RATELIMIT_ENABLED": False,  # measure the service, not the limiter
            **config,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        demo.load(db.session)
        db.session.commit()
    return app


def discard_database(app: Flask, database: SQLAlchemy, *, drop: bool) -> None:
    """Close ``app``'s connections to ``database``, dropping its tables first if ``drop``.

    A scratch SQLite file goes with its folder; a given database is left empty.
    """
    with app.app_context():
        if drop:
            database.drop_all()
        database.session.remove()
        database.engine.dispose()


def lead_client(app: Flask) -> FlaskClient:
    """Return a test client signed in as the demo lead."""
    client = app.test_client()
    with app.app_context():
        lead = next(
            user
            for user in (
                accounts.find_by_email(db.session, x.email) for x in demo.LOGINS
            )
            if user is not None and user.role is Role.LEAD
        )
        with client.session_transaction() as session:
            session["user_id"], session["v"] = lead.id, lead.session_version
    return client


def insert_mixed(rows: Iterable[tuple[type, Row]]) -> None:
    """Bulk-insert (model, row) pairs, ``BATCH`` rows of a model at a time, and commit.

    Each batch goes in with those of the models that came before it, in the
    order the models first came, so that a row may refer to one of an earlier
    model given before it (a reply to its submission).
    """
    batches: dict[type, list[Row]] = {}

    def flush() -> None:
        for model, batch in batches.items():
            if batch:
                db.session.execute(insert(model), batch)
                batch.clear()

    for model, row in rows:
        batch = batches.setdefault(model, [])
        batch.append(row)
        if len(batch) == BATCH:
            flush()
    flush()
    db.session.commit()


def insert_rows(model: type, rows: Iterable[Row]) -> None:
    """Bulk-insert ``rows`` of ``model`` in batches and commit."""
    insert_mixed((model, row) for row in rows)


def filled_app(
    fill: Callable[[int], object],
    size: int,
    *,
    database_url: str = "",
    what: str = "submissions",
    **config: object,
) -> Flask:
    """Return a scratch app that ``fill`` gave ``size`` rows, and print how long that took.

    ``what`` names the rows in the line printed.
    """
    app = scratch_app(database_url, **config)
    with app.app_context():
        started = time.perf_counter()
        fill(size)
        seconds = time.perf_counter() - started
    print(f"{size:>9,} {what} (inserted in {seconds:.1f} s)")
    return app


def filled_client(fill: Callable[[int], object], size: int) -> FlaskClient:
    """Return the lead's client on a scratch app that ``fill`` gave ``size``
    submissions, and print how long that took."""
    return lead_client(filled_app(fill, size))


def samples(call: Callable[[], object], runs: int = 20) -> list[float]:
    """Run ``call`` ``runs`` times; return how long each run took, in ms."""
    taken = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        taken.append((time.perf_counter() - started) * 1000)
    return taken


def timed(call: Callable[[], object], runs: int = 20) -> tuple[float, float]:
    """Run ``call`` ``runs`` times; return the median and the slowest, in ms."""
    taken = samples(call, runs)
    return statistics.median(taken), max(taken)


def timed_page(client: FlaskClient, url: str, runs: int = 20) -> tuple[float, float]:
    """Fetch ``url`` ``runs`` times, each a success; return the median and the slowest, in ms."""

    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return timed(get, runs)
