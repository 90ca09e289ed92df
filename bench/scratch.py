"""What the benchmarks share: a scratch SQLite app with the demo and rows loaded, and the lead's client."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from feedback import create_app  # noqa: E402
from feedback import demo  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.models import Role  # noqa: E402
from feedback.services import accounts  # noqa: E402


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


def scratch_app() -> Flask:
    """Return an app on a new SQLite file in a temporary folder, the demo loaded."""
    folder = tempfile.mkdtemp()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite",
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
            u
            for u in (accounts.find_by_email(db.session, x.email) for x in demo.LOGINS)
            if u is not None and u.role is Role.LEAD
        )
        with client.session_transaction() as session:
            session["user_id"], session["v"] = lead.id, lead.session_version
    return client
