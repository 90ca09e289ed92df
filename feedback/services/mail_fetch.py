"""Polling an IMAP mailbox for replies and public mail, for `flask mail fetch`."""

from __future__ import annotations

import contextlib
import imaplib
from collections import Counter

from flask import current_app
from sqlalchemy.orm import Session

from feedback.services import inbound


def _connect() -> imaplib.IMAP4:
    config = current_app.config
    host, port = config["MAIL_IMAP_HOST"], config["MAIL_IMAP_PORT"]
    if not host:
        raise OSError("MAIL_IMAP_HOST is not set")
    if config["MAIL_IMAP_SSL"]:
        return imaplib.IMAP4_SSL(host, port, timeout=30)
    return imaplib.IMAP4(host, port, timeout=30)


def fetch(session: Session) -> Counter[str]:
    """File every unseen message, committing each before marking it seen.

    A message is marked seen only after its row is committed, so a crash
    between the two makes it come again; the Message-ID check then drops the
    copy as a duplicate. Nothing is lost and nothing is taken twice.
    """
    config = current_app.config
    counts: Counter[str] = Counter()
    client = _connect()
    try:
        client.login(config["MAIL_IMAP_USER"], config["MAIL_IMAP_PASSWORD"])
        client.select(config["MAIL_IMAP_FOLDER"])
        _status, data = client.uid("SEARCH", None, "UNSEEN")
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
            outcome = inbound.ingest(session, raw)
            session.commit()
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            counts[outcome.inbound.state.value] += 1
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    return counts
