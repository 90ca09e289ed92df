"""Time the Open311 API's lists, one request and filing, among many submissions (SQLite).

Run: .venv/bin/python bench/open311.py [--sizes 10000 1000000]
Rows are bulk-inserted into a scratch database, a few hundred a day over
years, a third of them with a published reply; each call is made 20 times
and the median and maximum are printed. A full list is 1000 requests.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from collections.abc import Iterator
from datetime import timedelta

import bench_paths  # noqa: E402, F401 - before anything imports http
from scratch import filled_app  # noqa: E402
from scratch import insert_mixed  # noqa: E402
from scratch import Row  # noqa: E402
from scratch import timed  # noqa: E402
from sqlalchemy import select  # noqa: E402

from feedback.db import utcnow  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.models import Reply  # noqa: E402
from feedback.models import Section  # noqa: E402
from feedback.models import Submission  # noqa: E402
from feedback.services import api_keys  # noqa: E402

KINDS = ("opinion", "suggestion", "complaint", "misconduct")
# The reference of the newest submission: rows are numbered from now backwards.
NEWEST = "B000000000"


def rows(size: int) -> Iterator[tuple[type, Row]]:
    """Yield ``size`` submissions, ``NEWEST`` first, a third with a published reply."""
    now = utcnow()
    sections = list(db.session.scalars(select(Section.id)))
    step = timedelta(minutes=5)  # 288 a day: a full 90 days is over 1000
    for n in range(size):
        received = now - step * n
        replied = n % 3 == 0
        yield (
            Submission,
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
            },
        )
        if replied:
            yield (
                Reply,
                {
                    "submission_id": n + 1,
                    "section_id": sections[n % len(sections)],
                    "body": "答复全文",
                    "state": "approved",
                    "channel": "web",
                    "published_body": "已公开的答复" * 20,
                    "published_at": received + timedelta(days=4),
                    "created_at": received + timedelta(days=2),
                },
            )


def measure(label: str, call: Callable[[], object]) -> None:
    median, slowest = timed(call)
    print(f"    {label:34} median {median:7.1f} ms   max {slowest:7.1f} ms")


def bench(size: int) -> None:
    """Fill a scratch database with ``size`` submissions and time the API on it."""
    app = filled_app(lambda n: insert_mixed(rows(n)), size, MAIL_SUPPRESS_SEND=True)
    with app.app_context():
        _key, plain = api_keys.create(db.session, "bench")
        db.session.commit()
    client = app.test_client()
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
    measure("one request", lambda: client.get(f"/open311/v2/requests/{NEWEST}.xml"))
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
