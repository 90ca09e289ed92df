"""Time the Open311 API's lists, one request and filing, among many submissions (SQLite).

Run: .venv/bin/python bench/open311.py [--sizes 10000 1000000]
Rows are bulk-inserted into a scratch database, a few hundred a day over
years, a third of them with a published reply; each call is made 20 times
and the median and maximum are printed. A full list is 1000 requests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy import select  # noqa: E402

from feedback import create_app  # noqa: E402
from feedback import demo  # noqa: E402
from feedback.db import utcnow  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.models import Reply  # noqa: E402
from feedback.models import Section  # noqa: E402
from feedback.models import Submission  # noqa: E402
from feedback.services import api_keys  # noqa: E402

KINDS = ("opinion", "suggestion", "complaint", "misconduct")


def fill(size: int) -> str:
    """Insert ``size`` submissions, newest now; return the newest reference."""
    now = utcnow()
    sections = list(db.session.scalars(select(Section.id)))
    step = timedelta(minutes=5)  # 288 a day: a full 90 days is over 1000
    batch, replies = [], []
    for n in range(size):
        received = now - step * n
        replied = n % 3 == 0
        batch.append(
            {
                "id": n + 1,
                "reference": f"B{n:09d}",
                "access_code_hash": f"{n:064x}",
                "state": "replied" if replied else "routed",
                "kind": KINDS[n % len(KINDS)],
                "channel": "api",
                "subject": f"op{n}",
                "body": "x",
                "anonymous": True,
                "publish_consent": replied,
                "received_at": received,
                "created_at": received,
                "accepted_at": received + timedelta(hours=1),
                "replied_at": received + timedelta(days=3) if replied else None,
                "triage_due_on": (received + timedelta(days=15)).date(),
                "due_on": (received + timedelta(days=60)).date(),
                "section_id": sections[n % len(sections)],
            }
        )
        if replied:
            replies.append(
                {
                    "submission_id": n + 1,
                    "section_id": sections[n % len(sections)],
                    "body": "答复全文",
                    "state": "approved",
                    "channel": "web",
                    "published_body": "已公开的答复" * 20,
                    "published_at": received + timedelta(days=4),
                    "created_at": received + timedelta(days=2),
                }
            )
        if len(batch) == 20_000:
            db.session.execute(insert(Submission), batch)
            db.session.execute(insert(Reply), replies)
            batch, replies = [], []
    if batch:
        db.session.execute(insert(Submission), batch)
    if replies:
        db.session.execute(insert(Reply), replies)
    db.session.commit()
    return "B000000000"


def measure(label: str, call: Callable[[], object]) -> None:
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    print(
        f"    {label:34} median {statistics.median(samples):7.1f} ms"
        f"   max {max(samples):7.1f} ms"
    )


def bench(size: int) -> None:
    """Fill a scratch database with ``size`` submissions and time the API on it."""
    folder = tempfile.mkdtemp()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{folder}/o.sqlite",
            "RATELIMIT_ENABLED": False,
            "MAIL_SUPPRESS_SEND": True,
        }
    )
    with app.app_context():
        db.create_all()
        demo.load(db.session)
        db.session.commit()
        started = time.perf_counter()
        newest = fill(size)
        filled = time.perf_counter() - started
        _key, plain = api_keys.create(db.session, "bench")
        db.session.commit()
    client = app.test_client()
    print(f"{size:>9,} submissions (inserted in {filled:.1f} s)")
    for fmt in ("json", "xml"):
        url = f"/open311/v2/requests.{fmt}"
        kilobytes = len(client.get(url).data) // 1024
        measure(f"list of 1000, {fmt} ({kilobytes} KB)", lambda u=url: client.get(u))
    measure(
        "list, closed complaints",
        lambda: client.get(
            "/open311/v2/requests.json?status=closed&service_code=complaint"
        ),
    )
    measure("one request", lambda: client.get(f"/open311/v2/requests/{newest}.xml"))
    filing = {"api_key": plain, "service_code": "opinion", "description": "正文"}
    measure(
        "file a request",
        lambda: client.post("/open311/v2/requests.json", data=filing),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    args = parser.parse_args()
    for size in args.sizes:
        bench(size)


if __name__ == "__main__":
    main()
