"""The demo in one command: secret key, migrations, demo data, mail sink, worker, web.

Run with ``python -m feedback.quickstart``. Mail the demo sends goes to a local
SMTP sink that writes each message to ``instance/mail/*.eml``; staff read it at
``/staff/mail``.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import secrets
import socket
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from typing import NoReturn

from aiosmtpd.controller import Controller
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from feedback import create_app
from feedback import demo
from feedback import PROJECT_ROOT
from feedback.extensions import db
from feedback.services import locks
from feedback.services import outbox

INSTANCE = PROJECT_ROOT / "instance"


def ensure_secret_key(instance: Path = INSTANCE) -> bool:
    """Write a random SECRET_KEY into instance/config.py unless it has one."""
    config = instance / "config.py"
    instance.mkdir(parents=True, exist_ok=True)
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    if "SECRET_KEY" in text:
        return False
    with config.open("a", encoding="utf-8") as handle:
        handle.write(
            "\n# Written by the quick start; keep it secret and keep it stable.\n"
            f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
        )
    config.chmod(0o600)
    return True


class SinkHandler:
    """An SMTP handler that keeps every message as an .eml file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        data = envelope.original_content or envelope.content
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (self.folder / name).write_bytes(data)
        return "250 Message accepted for delivery"


def port_problem(what: str, host: str, port: int, option: str) -> str | None:
    """Say in one line why ``host:port`` cannot be listened on, or return None."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        # With SO_REUSEADDR, as both servers bind: a port that only lingers
        # after a stopped server is free; one that something listens on is not.
        with socket.create_server((host, port), family=family):
            return None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            why = "is in use by another program (is the quick start running already?)"
        else:
            why = f"cannot be opened ({exc.strerror or exc})"
    return (
        f"Port {port} on {host}, for the {what}, {why}. "
        f"Stop that program, or choose another port with {option}."
    )


def refuse_to_start(problem: str) -> NoReturn:
    """Print ``problem`` and exit 1: a taken port needs no traceback."""
    print(f"quickstart: {problem}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def start_worker(app: Flask, stop: threading.Event) -> threading.Thread:
    """Run the outbox worker in a thread of this process."""

    def run() -> None:
        with app.app_context():
            try:
                with outbox.sole_worker(db.engine):
                    outbox.work(
                        db.session,
                        poll_seconds=app.config["OUTBOX_POLL_SECONDS"],
                        should_stop=stop.is_set,
                        report=lambda counts: print(f"outbox: {counts}", flush=True),
                    )
            except locks.LockBusy:
                print(
                    "outbox: another worker is sending this database's mail;"
                    " this one stays idle.",
                    flush=True,
                )

    thread = threading.Thread(target=run, name="outbox-worker", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> None:
    """Prepare the demo and serve it until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--smtp-port", type=int, default=8025)
    args = parser.parse_args(argv)
    # FEEDBACK_MAIL_PORT, if set, wins over --smtp-port, as it does for the app.
    smtp_port = int(os.environ.setdefault("FEEDBACK_MAIL_PORT", str(args.smtp_port)))
    for problem in (
        port_problem("web server", args.host, args.port, "--port"),
        port_problem("SMTP sink", "127.0.0.1", smtp_port, "--smtp-port"),
    ):
        if problem is not None:
            refuse_to_start(problem)

    if ensure_secret_key():
        print("Wrote a new SECRET_KEY to instance/config.py.")
    sink = INSTANCE / "mail"
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104 - only compared
    os.environ.setdefault("FEEDBACK_PUBLIC_URL", f"http://{shown_host}:{args.port}")
    os.environ.setdefault("FEEDBACK_MAIL_SINK_DIR", str(sink))
    os.environ.setdefault("FEEDBACK_MAIL_SERVER", "127.0.0.1")
    # Someone is reading this console: lines for eyes, not for a log collector.
    os.environ.setdefault("FEEDBACK_LOG_FORMAT", "text")
    app = create_app()
    # A first look wants the URLs below, not a line per migration.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        demo.load(db.session)
        demo.load_published_replies(db.session)
        db.session.commit()

    controller = Controller(SinkHandler(sink), hostname="127.0.0.1", port=smtp_port)
    try:
        controller.start()
    except OSError as exc:  # taken since the check above
        refuse_to_start(f"the SMTP sink cannot listen on port {smtp_port}: {exc}")
    stop = threading.Event()
    worker = start_worker(app, stop)

    base = app.config["PUBLIC_URL"]
    print(
        "\n"
        f"  Board (citizens):     {base}/\n"
        f"  Published replies:    {base}/replies\n"
        f"  Submit an opinion:    {base}/submit\n"
        f"  Track with a code:    {base}/track\n"
        f"  Staff sign-in:        {base}/auth/login\n"
        f"  Demo mailbox:         {base}/staff/mail   (files in {sink})\n"
        f"  SMTP sink:            127.0.0.1:{app.config['MAIL_PORT']}\n"
    )
    print("  Demo logins (public passwords, demo only):")
    for login in demo.LOGINS:
        where = f" [{login.section}]" if login.section else ""
        print(f"    {login.role.value:8} {login.email}  {login.password}{where}")
    print("\n  Stop with Ctrl-C.\n", flush=True)
    try:
        run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    finally:
        stop.set()
        worker.join(timeout=5)
        controller.stop()


if __name__ == "__main__":
    main()
