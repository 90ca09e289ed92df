"""Measure the journey's hot paths on a scratch database and print the figures.

Run: .venv/bin/python bench/journey.py [--submissions N] [--mails N]
Set FEEDBACK_BENCH_DATABASE_URL to measure on PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import socket
import statistics
import time

import bench_paths  # noqa: E402, F401 - before anything imports http
from aiosmtpd.controller import Controller  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from scratch import samples  # noqa: E402
from scratch import scratch_app  # noqa: E402

from feedback.config import DefaultConfig  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.models import Section  # noqa: E402
from feedback.models import Submission  # noqa: E402
from feedback.services import outbox  # noqa: E402
from feedback.services import triage  # noqa: E402


class CountingSink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.count += 1
        return "250 OK"


def report(name: str, taken: list[float]) -> None:
    ordered = sorted(taken)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"{name:34} n={len(ordered):5}  median {statistics.median(ordered):7.2f} ms"
        f"  p95 {p95:7.2f} ms  max {ordered[-1]:7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=500)
    parser.add_argument("--mails", type=int, default=300)
    args = parser.parse_args()

    sink = CountingSink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app = scratch_app(
        os.environ.get("FEEDBACK_BENCH_DATABASE_URL", ""),
        WTF_CSRF_ENABLED=False,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_SUPPRESS_SEND=False,
    )
    client = app.test_client()
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")

    report("GET / (board, 18 problems)", samples(lambda: client.get("/"), 200))
    codes: list[str] = []

    def submit() -> None:
        i = len(codes)
        response = client.post(
            "/submit",
            data={
                "kind": "opinion",
                "subject": f"意见 {i}",
                "body": "希望公开整改进展。" * 20,
                "identity": "anonymous",
                "idempotency_key": f"bench-form-key-{i:08d}",
            },
        )
        html = response.get_data(as_text=True)
        start = html.index('id="access-code">') + len('id="access-code">')
        codes.append(re.sub(r"<[^>]+>", "", html[start : html.index("</dd>", start)]))

    report("POST /submit (durable receipt)", samples(submit, args.submissions))
    lookups = itertools.cycle(codes)
    report(
        "POST /track (HMAC lookup)",
        samples(lambda: client.post("/track", data={"code": next(lookups)}), 300),
    )

    with app.app_context():
        section = db.session.scalar(db.select(Section))
        pending = db.session.scalars(db.select(Submission).limit(args.mails)).all()
        start = time.perf_counter()
        for item in pending:
            triage.route(db.session, item, section, actor=None)
        db.session.commit()
        route_ms = (time.perf_counter() - start) * 1000 / max(len(pending), 1)
        print(f"{'route + queue mail (service)':34} {route_ms:7.2f} ms each")
        start = time.perf_counter()
        counts = outbox.deliver_pending(db.session, limit=args.mails)
        seconds = time.perf_counter() - start
        print(
            f"{'outbox send to local SMTP':34} {counts}  "
            f"{counts.sent / seconds:7.1f} mails/s  (sink got {sink.count})"
        )
        hasher = PasswordHasher(
            DefaultConfig.ARGON2_TIME_COST,
            DefaultConfig.ARGON2_MEMORY_KIB,
            DefaultConfig.ARGON2_PARALLELISM,
        )
        report("argon2id hash, production cost", samples(lambda: hasher.hash("pw"), 5))
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    controller.stop()


if __name__ == "__main__":
    main()
