"""What the benchmarks share: a scratch app with the demo, bulk rows, the lead's client."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collections.abc import Callable  # noqa: E402
from collections.abc import Iterable  # noqa: E402

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from feedback import create_app  # noqa: E402
from feedback import demo  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.models import Role  # noqa: E402
from feedback.services import accounts  # noqa: E402


def scratch_app(database_url: str = "") -> Flask:
    """Return an app with the demo loaded, on a new SQLite file or an empty database."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "DATABASE_URL": database_url
            or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        demo.load(db.session)
        db.session.commit()
    return app


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


def insert_rows(model: type, rows: Iterable[dict[str, object]]) -> None:
    """Bulk-insert ``rows`` of ``model`` in batches of 20,000 and commit."""
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 20_000:
            db.session.execute(insert(model), batch)
            batch = []
    if batch:
        db.session.execute(insert(model), batch)
    db.session.commit()


def filled_client(fill: Callable[[int], None], size: int) -> FlaskClient:
    """Return the lead's client on a scratch app that ``fill`` gave ``size``
    submissions, and print how long that took."""
    app = scratch_app()
    with app.app_context():
        started = time.perf_counter()
        fill(size)
        seconds = time.perf_counter() - started
    print(f"{size:>9,} submissions (inserted in {seconds:.1f} s)")
    return lead_client(app)
