"""Measure the outbox's drain rate against plain smtplib, and the duplicates a killed worker leaves.

Run: .venv/bin/python bench/outbox.py [--messages N] [--killed-run N]
Set FEEDBACK_BENCH_DATABASE_URL to measure on PostgreSQL instead of SQLite.

First, N queued messages are drained by ``flask outbox send`` passes into a
local aiosmtpd sink, and the same messages (built beforehand) are sent to the
same sink by a plain smtplib loop over one connection; both rates and their
ratio are printed. Then a slow sink, a short lease and a real
``flask outbox work`` process killed with SIGKILL mid-pass, another worker
finishing: the messages delivered, the distinct Message-IDs at the sink and
the duplicates are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
import bench_paths  # noqa: E402, F401 - before anything imports http
from aiosmtpd.controller import Controller  # noqa: E402
from flask import Flask  # noqa: E402
from scratch import scratch_app  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy import update  # noqa: E402

from feedback.db import utcnow  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.models import Notification  # noqa: E402
from feedback.models import OutboxMessage  # noqa: E402
from feedback.models import OutboxState  # noqa: E402
from feedback.services import outbox  # noqa: E402

FLASK = Path(sys.executable).with_name("flask")
SENDER = "noreply@meijiang-edu.example"


class Sink:
    """Counts each Message-ID received; then waits ``delay`` seconds before its 250.

    A message counts as delivered once its data is in, as a relay that has
    queued it and is slow to say so: a client killed during that wait is the
    one window in which the outbox sends a message twice.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.ids: Counter[str] = Counter()
        self.receiving = threading.Event()  # set while a 250 is being withheld

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        headers = BytesHeaderParser(policy=default).parsebytes(envelope.content)
        self.ids[str(headers["Message-ID"]).strip()] += 1
        if self.delay:
            self.receiving.set()
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.receiving.clear()
        return "250 OK"


def start_sink(sink: Sink) -> Controller:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def queue(app: Flask, count: int) -> None:
    with app.app_context():
        for number in range(count):
            outbox.enqueue(
                db.session,
                template=Notification.SUBMISSION_ROUTED,
                recipient=f"section{number % 7}@meijiang-edu.example",
                subject=f"[MJ2025-{number:05d}] 请答复公众意见：希望公开整改进展",
                body_text="希望公开整改进展。\n" * 30,
                body_html="<p>希望公开整改进展。</p>" * 30,
            )
        db.session.commit()


def drain_rate(database_url: str, count: int, rounds: int) -> None:
    """Print the best of ``rounds`` drains by the outbox and by plain loops, interleaved.

    The machine is shared, so each way is measured several times, taking
    turns, and its best round is kept.
    """
    sink = Sink()
    controller = start_sink(sink)
    app = scratch_app(database_url, MAIL_PORT=controller.port, MAIL_SUPPRESS_SEND=False)
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")
    queue(app, count)
    with app.app_context():
        letters = [
            outbox.Letter.of(message)
            for message in db.session.scalars(select(OutboxMessage))
        ]
        db.session.rollback()
    runner = app.test_cli_runner()

    def by_outbox() -> float:
        with app.app_context():
            db.session.execute(
                update(OutboxMessage).values(
                    state=OutboxState.PENDING, next_attempt_at=utcnow(), attempts=0
                )
            )
            db.session.commit()
        sink.ids.clear()
        started = time.perf_counter()
        for _ in range(count):
            result = runner.invoke(args=["outbox", "send"])
            assert result.exit_code == 0, result.output
            if sum(sink.ids.values()) >= count:
                break
        return count / (time.perf_counter() - started)

    def by_plain_loop(build: bool) -> float:
        with app.app_context():
            prebuilt = [b"" if build else outbox.to_mail(x).as_bytes() for x in letters]
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", controller.port, timeout=10) as smtp:
                for letter, data in zip(letters, prebuilt, strict=True):
                    message = outbox.to_mail(letter).as_bytes() if build else data
                    smtp.sendmail(SENDER, [letter.recipient], message)
        return count / (time.perf_counter() - started)

    rates: dict[str, list[float]] = {"outbox": [], "built": [], "bytes": []}
    for _ in range(rounds):
        rates["outbox"].append(by_outbox())
        rates["built"].append(by_plain_loop(build=True))
        rates["bytes"].append(by_plain_loop(build=False))
    controller.stop()
    best = {way: max(taken) for way, taken in rates.items()}
    batch = app.config["OUTBOX_BATCH_SIZE"]
    print(f"best of {rounds} rounds, {count} messages each:")
    print(f"  outbox send passes ({batch} a pass)        {best['outbox']:7.1f} /s")
    print(f"  plain smtplib loop, building each message {best['built']:7.1f} /s")
    print(f"  plain smtplib loop, bytes built before    {best['bytes']:7.1f} /s")
    print(
        f"  ratio outbox / plain loop {best['outbox'] / best['built']:.2f}x "
        f"(target >= 0.7x); against bytes built before "
        f"{best['outbox'] / best['bytes']:.2f}x"
    )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def worker(app: Flask, port: int, lease: int) -> subprocess.Popen[bytes]:
    """Start ``flask outbox work`` as its own process on the bench's database."""
    env = {
        **os.environ,
        "FEEDBACK_SECRET_KEY": "bench",
        "FEEDBACK_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FEEDBACK_MAIL_SERVER": "127.0.0.1",
        "FEEDBACK_MAIL_PORT": str(port),
        "FEEDBACK_OUTBOX_LEASE_SECONDS": str(lease),
        "FEEDBACK_OUTBOX_RETRY_BASE_SECONDS": "1",
    }
    return subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [str(FLASK), "--app", "app", "outbox", "work", "--poll", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def sent(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).where(OutboxMessage.state == OutboxState.SENT)
        )
        db.session.rollback()
        return count or 0


def killed_worker(database_url: str, count: int) -> None:
    lease = 2
    sink = Sink(delay=0.1)  # a slow relay: 0.1 s before each 250
    controller = start_sink(sink)
    app = scratch_app(database_url)
    queue(app, count)
    first = worker(app, controller.port, lease)
    # Kill it mid-pass, while the sink is answering one of its messages.
    while sum(sink.ids.values()) < count // 3:
        time.sleep(0.01)
    sink.receiving.wait(timeout=10)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = sum(sink.ids.values())
    second = worker(app, controller.port, lease)
    deadline = time.monotonic() + 120
    while sent(app) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    second.send_signal(signal.SIGTERM)
    status = second.wait(timeout=30)
    controller.stop()
    delivered = sum(sink.ids.values())
    distinct = len(sink.ids)
    print(
        f"killed worker (SIGKILL after {killed_at} delivered, lease {lease} s, "
        f"slow sink): queued {count}, recorded sent {sent(app)}, delivered {delivered}, "
        f"distinct Message-IDs {distinct}, duplicates {delivered - distinct}; "
        f"second worker exited {status} on SIGTERM"
    )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--killed-run", type=int, default=60)
    args = parser.parse_args()
    database_url = os.environ.get("FEEDBACK_BENCH_DATABASE_URL", "")
    drain_rate(database_url, args.messages, args.rounds)
    killed_worker(database_url, args.killed_run)


if __name__ == "__main__":
    main()
