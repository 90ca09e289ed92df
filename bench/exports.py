"""Time the submissions ledger export (XLSX and CSV) and measure its peak memory (SQLite).

Run: .venv/bin/python bench/exports.py [--sizes 10000 100000]
Submissions (a third of them answered) are bulk-inserted into a scratch
database; each export is downloaded once through the app as the demo lead,
reading the response in chunks as a browser would. Times (wall clock, and
CPU, which a busy machine disturbs less) come from a run without tracing;
the peak of Python's heap (tracemalloc) from a second run. If exports stream, the peak stays about the same whatever the
number of rows.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import bench_paths  # noqa: E402, F401 - before anything imports http
from flask.testing import FlaskClient  # noqa: E402
from scratch import filled_client  # noqa: E402
from scratch import insert_mixed  # noqa: E402
from scratch import Row  # noqa: E402

from feedback.extensions import db  # noqa: E402
from feedback.models import Reply  # noqa: E402
from feedback.models import Section  # noqa: E402
from feedback.models import Submission  # noqa: E402

BODY = "希望学校周末开放操场，方便附近居民锻炼身体。" * 12  # about 260 characters
REPLY = "经核实，学校将于下月起在周末上午开放操场，并安排专人管理。" * 6


def rows(size: int) -> Iterator[tuple[type, Row]]:
    """Yield ``size`` submissions, every third one with its approved reply."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    sections = [s.id for s in db.session.scalars(db.select(Section))]
    for n in range(1, size + 1):
        received = base + timedelta(minutes=n)
        answered = n % 3 == 0
        yield (
            Submission,
            {
                "id": n,
                "reference": f"MJ{received:%Y%m%d}-{n:06d}",
                "access_code_hash": f"{n:064x}",
                "state": "replied" if answered else "routed",
                "kind": "opinion",
                "channel": "web",
                "subject": f"关于操场开放的建议 {n}",
                "body": BODY,
                "anonymous": n % 2 == 0,
                "author_name": None if n % 2 == 0 else "张三",
                "author_phone": None if n % 2 == 0 else "13800138000",
                "publish_consent": False,
                "received_at": received,
                "created_at": received,
                "accepted_at": received,
                "triage_due_on": (received + timedelta(days=15)).date(),
                "due_on": (received + timedelta(days=60)).date(),
                "replied_at": received + timedelta(days=20) if answered else None,
                "section_id": sections[n % len(sections)],
            },
        )
        if answered:
            yield (
                Reply,
                {
                    "submission_id": n,
                    "section_id": sections[n % len(sections)],
                    "body": REPLY,
                    "state": "approved",
                    "channel": "web",
                    "created_at": received + timedelta(days=19),
                    "approved_at": received + timedelta(days=20),
                },
            )


def download(client: FlaskClient, url: str) -> int:
    """Fetch ``url`` and return its size, never holding the whole of it."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    size = sum(len(chunk) for chunk in response.response)
    response.close()
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    for size in args.sizes:
        client = filled_client(lambda n: insert_mixed(rows(n)), size)
        for fmt in ("xlsx", "csv"):
            url = f"/staff/exports/submissions.{fmt}"
            started, cpu = time.perf_counter(), time.process_time()
            length = download(client, url)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            tracemalloc.start()
            download(client, url)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(
                f"    {fmt:5} {seconds:6.1f} s ({cpu:5.1f} s CPU)"
                f"  {size / cpu:8,.0f} rows per CPU second"
                f"  {length / 2**20:6.1f} MiB  peak heap {peak / 2**20:6.1f} MiB"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS over the whole run: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
