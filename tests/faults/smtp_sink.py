"""An SMTP sink for the fault suite, run as a process of its own, logging what it accepts.

    python tests/faults/smtp_sink.py PORT LOG [--tempfail-once]
        [--reject ADDRESS] [--delay SECONDS]

Each accepted message is appended to LOG as one JSON line (Message-ID,
recipients, decoded subject) and flushed at once, so the count survives the
sink being killed and started again on the same log. ``--tempfail-once``
answers 451 to the first try of each Message-ID; ``--reject`` answers 550 to
RCPT TO of that address; ``--delay`` keeps the client waiting for its 250
after the message has been logged, as a slow relay that has already queued
it would.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import signal
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    """aiosmtpd handler: refuse, defer or accept and log."""

    def __init__(self, log: Path, args: argparse.Namespace) -> None:
        self.log = log
        self.tempfail_once: bool = args.tempfail_once
        self.reject = {address.lower() for address in args.reject}
        self.delay: float = args.delay
        self.deferred: set[str] = set()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        message_id = str(message.get("Message-ID", "")).strip()
        if self.tempfail_once and message_id not in self.deferred:
            self.deferred.add(message_id)
            return "451 4.3.0 Temporary local problem, try again later"
        record = {
            "message_id": message_id,
            "to": list(envelope.rcpt_tos),
            "subject": str(message.get("Subject", "")),
        }
        with self.log.open("a", encoding="utf-8") as log:
            log.write(json.dumps(record, ensure_ascii=False) + "\n")
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("log", type=Path)
    parser.add_argument("--tempfail-once", action="store_true")
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    controller = Controller(Sink(args.log, args), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
