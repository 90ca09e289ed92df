"""Time the lead's queue pages with 1,000 and with 1,000,000 submissions (SQLite).

Run: .venv/bin/python bench/queues.py [--sizes 1000 1000000]
Rows are bulk-inserted into a scratch database; each page is asked for 20
times, signed in as the demo lead, and the median is printed.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import bench_paths  # noqa: E402, F401 - before anything imports http
from scratch import filled_client  # noqa: E402
from scratch import insert_rows  # noqa: E402
from scratch import timed_page  # noqa: E402

from feedback.extensions import db  # noqa: E402
from feedback.models import Section  # noqa: E402
from feedback.models import Submission  # noqa: E402

PAGES = {
    "new": "/staff/",
    "awaiting": "/staff/?queue=awaiting",
    "overdue": "/staff/?queue=overdue",
    "due soon": "/staff/?queue=due_soon",
    "filtered by text": "/staff/?queue=awaiting&q=op9",
    "waiting for author": "/staff/?queue=asked",
    "not satisfied": "/staff/?queue=dissatisfied",
    "all, closed only": "/staff/?queue=all&state=closed",
}


def rows(size: int) -> Iterator[dict[str, object]]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    sections = [s.id for s in db.session.scalars(db.select(Section))]
    for n in range(size):
        # A third new, a third routed, a third closed; a few of the routed
        # wait for the author, a few of the closed were rated 不满意.
        routed = n % 3 != 0
        closed = n % 3 == 2
        received = base + timedelta(minutes=n)
        yield {
            "reference": f"B{n:09d}",
            "access_code_hash": f"{n:064x}",
            "state": "closed" if closed else "routed" if routed else "received",
            "info_pending": n % 301 == 1,
            "rating": ("dissatisfied" if n % 97 == 2 else "satisfied")
            if closed
            else None,
            "kind": "opinion",
            "channel": "web",
            "subject": f"op{n}",
            "body": "x",
            "anonymous": True,
            "publish_consent": False,
            "received_at": received,
            "created_at": received,
            "triage_due_on": (received + timedelta(days=15)).date(),
            "due_on": (received + timedelta(days=60)).date() if routed else None,
            "section_id": sections[n % len(sections)] if routed else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 1_000_000])
    args = parser.parse_args()
    for size in args.sizes:
        client = filled_client(lambda n: insert_rows(Submission, rows(n)), size)
        for label, url in PAGES.items():
            median, slowest = timed_page(client, url)
            print(f"    {label:18} median {median:7.1f} ms   max {slowest:7.1f} ms")


if __name__ == "__main__":
    main()
