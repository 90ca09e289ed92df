"""Time the public list of replies and its feed with many published replies (SQLite).

Run: .venv/bin/python bench/public_replies.py [--sizes 1000 1000000]
Each size is a number of answered submissions, every third reply published
and one in ten of them a forced-public 举报 row the query must skip. Each
page is asked for 20 times and the median is printed, first without the
index the list is read along, then with it (as the schema has it):

    ix_replies_published_at ON replies (published_at, id)

Set FEEDBACK_BENCH_DATABASE_URL to measure on PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import bench_paths  # noqa: E402, F401 - before anything imports http
from flask import Flask  # noqa: E402
from scratch import filled_app  # noqa: E402
from scratch import insert_mixed  # noqa: E402
from scratch import Row  # noqa: E402
from scratch import timed_page  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy import text  # noqa: E402

from feedback.extensions import db  # noqa: E402
from feedback.models import Problem  # noqa: E402
from feedback.models import Reply  # noqa: E402
from feedback.models import Section  # noqa: E402
from feedback.models import Submission  # noqa: E402

INDEX = "CREATE INDEX ix_replies_published_at ON replies (published_at, id)"
NO_INDEX = "DROP INDEX ix_replies_published_at"
KINDS = ("opinion", "suggestion", "complaint")


def rows(size: int) -> Iterator[tuple[type, Row]]:
    """Yield ``size`` answered submissions, a reply each, a third published."""
    base = datetime(2024, 1, 1, tzinfo=UTC)
    sections = list(db.session.scalars(select(Section.id)))
    problems = list(db.session.scalars(select(Problem.id)))
    first = (db.session.scalar(select(func.max(Submission.id))) or 0) + 1
    for n in range(size):
        received = base + timedelta(minutes=n)
        # Each trait on its own cycle, so no filter matches only the unpublished.
        published = n % 3 == 0
        misconduct = published and n % 30 == 0
        section = sections[(n // 7) % len(sections)]
        yield (
            Submission,
            {
                "id": first + n,
                "reference": f"B{n:09d}",
                "access_code_hash": f"{n:064x}",
                "state": "replied",
                "kind": "misconduct" if misconduct else KINDS[(n // 5) % 3],
                "channel": "web",
                "subject": f"s{n}",
                "body": "x",
                "anonymous": True,
                "publish_consent": True,
                "received_at": received,
                "created_at": received,
                "problem_id": problems[(n // 11) % len(problems)] if n % 4 else None,
                "section_id": section,
            },
        )
        replied = received + timedelta(days=10)
        yield (
            Reply,
            {
                "submission_id": first + n,
                "section_id": section,
                "body": f"答复{n}",
                "state": "approved",
                "channel": "web",
                "created_at": replied,
                "approved_at": replied,
                "published_body": f"公开的答复{n}" if published else None,
                "published_at": replied + timedelta(days=1) if published else None,
            },
        )


def pages(app: Flask) -> dict[str, str]:
    """Return the URLs to time, a deep page's cursor found by following links."""
    with app.app_context():
        section = db.session.scalar(select(Section.id).order_by(Section.id))
        problem = db.session.scalar(select(Problem.id).order_by(Problem.id))
    client = app.test_client()
    url = "/replies"
    for _ in range(50):  # 50 pages deep
        found = re.search(r'<a href="([^"]+)">更早的答复</a>', client.get(url).text)
        if found is None:
            break
        url = found.group(1).replace("&amp;", "&")
    return {
        "newest": "/replies",
        "50 pages deep": url,
        "one month": "/replies?month=2024-06",
        "one section": f"/replies?section={section}",
        "one problem": f"/replies?problem={problem}",
        "one kind": "/replies?kind=complaint",
        "feed": "/replies/feed.atom",
        "problem page": f"/problems/{problem}",
    }


def measure(app: Flask, label: str) -> None:
    client = app.test_client()
    print(f"  {label}")
    for name, url in pages(app).items():
        median, slowest = timed_page(client, url)
        print(f"    {name:14} median {median:7.1f} ms   max {slowest:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 1_000_000])
    args = parser.parse_args()
    for size in args.sizes:
        app = filled_app(
            lambda n: insert_mixed(rows(n)),
            size,
            database_url=os.environ.get("FEEDBACK_BENCH_DATABASE_URL", ""),
            what="answered submissions",
        )
        with app.app_context():
            db.session.execute(text(NO_INDEX))
            db.session.commit()
        measure(app, "without ix_replies_published_at")
        with app.app_context():
            db.session.execute(text(INDEX))
            db.session.commit()
        measure(app, "with ix_replies_published_at (published_at, id)")
        with app.app_context():
            db.drop_all()


if __name__ == "__main__":
    main()
