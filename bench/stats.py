"""Time the statistics (public and the lead's) with 200,000 and 1,000,000 submissions (SQLite).

Run: .venv/bin/python bench/stats.py [--sizes 200000 1000000] [--runs 5]
       [--database-url postgresql://…  (its tables are dropped before and after)]
Rows of every state, kind, channel, section, problem and rating are
bulk-inserted into a scratch database; each figure set is computed --runs
times and the median and slowest are printed; then each page is fetched
twice: computed, and from the per-process cache.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import bench_paths  # noqa: E402, F401 - before anything imports http
from scratch import filled_app  # noqa: E402
from scratch import insert_rows  # noqa: E402
from scratch import lead_client  # noqa: E402
from scratch import timed  # noqa: E402
from sqlalchemy import select  # noqa: E402

from feedback.extensions import db  # noqa: E402
from feedback.models import Problem  # noqa: E402
from feedback.models import Section  # noqa: E402
from feedback.models import Submission  # noqa: E402
from feedback.services import stats  # noqa: E402

TODAY = date(2026, 6, 30)
STATES = [
    "received",
    "spam",
    "not_accepted",
    "duplicate",
    "routed",
    "replied",
    "closed",
]
WEIGHTS = [5, 3, 4, 3, 15, 30, 40]
KINDS = ["opinion", "suggestion", "complaint", "misconduct"]
CHANNELS = ["web", "email", "api", "phone", "letter", "visit"]
RATINGS = ["satisfied", "basically_satisfied", "dissatisfied"]


def rows(size: int) -> Iterator[dict[str, object]]:
    rng = random.Random(1)  # noqa: S311 - repeatable test data, not secrets
    sections = list(db.session.scalars(select(Section.id)))
    problems = [*db.session.scalars(select(Problem.id)), None]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = int((datetime(2026, 6, 1, tzinfo=UTC) - start).total_seconds())
    for n in range(size):
        state = rng.choices(STATES, WEIGHTS)[0]
        received = start + timedelta(seconds=rng.randrange(span))
        row = {
            "reference": f"B{n:09d}",
            "access_code_hash": f"{n:064x}",
            "state": state,
            "kind": rng.choice(KINDS),
            "channel": rng.choice(CHANNELS),
            "subject": "x",
            "body": "x",
            "anonymous": True,
            "publish_consent": False,
            "received_at": received,
            "created_at": received,
            "problem_id": rng.choice(problems),
        }
        if state in ("routed", "replied", "closed"):
            accepted = received + timedelta(hours=rng.randrange(1, 300))
            row |= {
                "section_id": rng.choice(sections),
                "accepted_at": accepted,
                "due_on": (accepted + timedelta(days=60)).date(),
            }
            if state != "routed":
                replied = accepted + timedelta(hours=rng.randrange(1, 2000))
                row["replied_at"] = replied
            if state == "closed":
                row |= {
                    "rating": rng.choice(RATINGS),
                    "rating_reason": rng.choice([None, "", "答复很及时"]),
                    "rated_at": row["replied_at"] + timedelta(days=1),
                }
        yield row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default="", help="default: scratch SQLite")
    args = parser.parse_args()
    for size in args.sizes:
        app = filled_app(
            lambda n: insert_rows(Submission, rows(n)),
            size,
            database_url=args.database_url,
        )
        with app.app_context():
            for label, scope in (
                ("public", stats.PUBLIC),
                ("lead", stats.Scope(stats.Audience.LEAD)),
                ("one section", stats.Scope(stats.Audience.SECTION, section_id=1)),
            ):
                median, slowest = timed(
                    lambda scope=scope: stats.compute(
                        db.session,
                        scope,
                        stats.Filters(),
                        today=TODAY,
                        tz_name="Asia/Shanghai",
                    ),
                    args.runs,
                )
                print(
                    f"    {label:12} compute median {median:7.0f} ms   max {slowest:7.0f} ms"
                )
            client = lead_client(app)
        for label, url in (
            ("public page", "/statistics"),
            ("lead page", "/staff/statistics"),
        ):
            for visit in ("first", "cached"):
                started = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200
                print(f"    {label:12} GET {visit:6} {elapsed:7.0f} ms")
        if args.database_url:
            with app.app_context():
                db.session.remove()
                db.drop_all()


if __name__ == "__main__":
    main()
