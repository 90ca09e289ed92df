"""Polling an IMAP mailbox for replies and public mail, for `flask mail fetch`."""

from __future__ import annotations

import contextlib
import imaplib
from collections.abc import Generator

from flask import current_app

from feedback.db import DbSession
from feedback.services import inbound


def _connect() -> imaplib.IMAP4:
    config = current_app.config
    host, port = config["MAIL_IMAP_HOST"], config["MAIL_IMAP_PORT"]
    if not host:
        raise OSError("MAIL_IMAP_HOST is not set")
    if config["MAIL_IMAP_SSL"]:
        return imaplib.IMAP4_SSL(host, port, timeout=30)
    return imaplib.IMAP4(host, port, timeout=30)


def fetch(session: DbSession) -> Generator[inbound.Outcome, None, None]:
    """File the unseen messages one by one, yielding each message's outcome.

    The caller commits each outcome before asking for the next one; only then
    is its message marked seen. A crash between the two makes the message come
    again, and the Message-ID check drops the copy as a duplicate: nothing is
    lost and nothing is taken twice. A caller that stops early leaves the last
    message unseen, which is as safe.
    """
    config = current_app.config
    client = _connect()
    try:
        client.login(config["MAIL_IMAP_USER"], config["MAIL_IMAP_PASSWORD"])
        client.select(config["MAIL_IMAP_FOLDER"])
        _status, data = client.uid("SEARCH", "UNSEEN")
        for uid in data[0].split():
            _status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next(
                (
                    part[1]
                    for part in parts
                    if isinstance(part, tuple) and len(part) > 1
                ),
                None,
            )
            if raw is None:
                continue
            yield inbound.ingest(session, raw)
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
