"""What `flask config check` finds unsafe or unwise in a configuration, each with its fix."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from feedback.config import DefaultConfig

MIN_SECRET_BYTES = 32
# How instance/config.example.py's keys begin, so a copy left unedited is caught.
PLACEHOLDER = "change me"


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the settings: ``error`` stops a deployment, ``warning`` does not."""

    level: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.level}: {self.problem} Fix: {self.fix}"


def _error(problem: str, fix: str) -> Finding:
    return Finding("error", problem, fix)


def _warning(problem: str, fix: str) -> Finding:
    return Finding("warning", problem, fix)


def _example_domain(address: str) -> bool:
    domain = address.rpartition("@")[2] if "@" in address else address
    return domain.lower().rstrip(".").endswith(".example")


def findings(
    config: Mapping[str, Any], *, web_concurrency: int, debug: bool
) -> list[Finding]:
    """Check the settings as they would run; say what is wrong and how to mend it."""
    found: list[Finding] = []
    secret = str(config.get("SECRET_KEY") or "")
    if secret == DefaultConfig.SECRET_KEY or len(secret.encode()) < MIN_SECRET_BYTES:
        found.append(
            _error(
                f"SECRET_KEY is the default or shorter than {MIN_SECRET_BYTES} bytes.",
                "set SECRET_KEY (the same on every node) to the output of "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
            )
        )
    for name in ("SECRET_KEY", "CODE_HMAC_KEY", "METRICS_TOKEN"):
        if str(config.get(name) or "").startswith(PLACEHOLDER):
            found.append(
                _error(
                    f"{name} is still the placeholder of instance/config.example.py.",
                    f"set {name} to a key of its own, made as that file says.",
                )
            )
    public_url = str(config.get("PUBLIC_URL") or "")
    if not debug and urlsplit(public_url).scheme != "https":
        found.append(
            _error(
                f"PUBLIC_URL ({public_url or 'empty'}) is not https.",
                "serve the site over TLS and set PUBLIC_URL to its https:// address; "
                "secure cookies and HSTS follow from it.",
            )
        )
    database = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    postgresql = database.startswith("postgresql")
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://") and (
        web_concurrency > 1 or postgresql
    ):
        found.append(
            _error(
                "RATELIMIT_STORAGE_URI is memory://, which counts per process: with "
                "several workers or machines each gets the whole limit.",
                "set RATELIMIT_STORAGE_URI to redis://host:6379/0, shared by every node.",
            )
        )
    if not debug and database.startswith("sqlite"):
        found.append(
            _warning(
                "the database is SQLite, which suits one machine on trial.",
                "use PostgreSQL in production (DATABASE_URL=postgresql://…).",
            )
        )
    if postgresql and str(config.get("ATTACHMENT_STORAGE", "")) == "directory":
        found.append(
            _warning(
                "ATTACHMENT_STORAGE is directory: citizens' files stay on the disk of "
                "the machine that took them, which other nodes cannot read.",
                'with more than one node, set ATTACHMENT_STORAGE = "database" and run '
                "`flask attachments move --to database` (or share ATTACHMENT_DIR).",
            )
        )
    if config.get("PROXY_FIX_X_FOR") and not config.get("METRICS_TOKEN"):
        found.append(
            _warning(
                "METRICS_TOKEN is empty behind a proxy (PROXY_FIX_X_FOR), so /metrics "
                "answers nobody.",
                "set METRICS_TOKEN and give Prometheus the same token.",
            )
        )
    for name, value in (
        ("MAIL_DEFAULT_SENDER", _address_of(config.get("MAIL_DEFAULT_SENDER"))),
        ("MAIL_SECTION_SENDER", _address_of(config.get("MAIL_SECTION_SENDER"))),
        ("MAIL_REPLY_DOMAIN", str(config.get("MAIL_REPLY_DOMAIN") or "")),
    ):
        if value and _example_domain(value):
            found.append(
                _warning(
                    f"{name} ({value}) is on an .example domain, which no mail reaches.",
                    f"set {name} to the bureau's own domain.",
                )
            )
    return found


def _address_of(sender: object) -> str:
    """Return the address of a Flask-Mail sender: "a@b", "Name <a@b>" or (name, address)."""
    address = sender[1] if isinstance(sender, tuple | list) else str(sender or "")
    return parseaddr(address)[1] or address


def fingerprint(value: str) -> str:
    """Return eight hex digits that tell two keys apart without giving either away."""
    return hashlib.sha256(f"feedback-key-fingerprint:{value}".encode()).hexdigest()[:8]


def shared_settings(config: Mapping[str, Any], attachment_dir: str) -> str:
    """Return the line an operator compares across nodes: it must read the same on each.

    Keys are shown by fingerprint only. CODE_HMAC_KEY left empty is derived
    from SECRET_KEY, and is shown so. Attachments must be one shared folder
    (``attachment_dir``, as the service resolves it), or each node would
    miss the files the others stored.
    """
    secret = str(config.get("SECRET_KEY") or "")
    code_key = str(config.get("CODE_HMAC_KEY") or "")
    code = fingerprint(code_key) if code_key else "derived-from-SECRET_KEY"
    return (
        f"same on every node: SECRET_KEY={fingerprint(secret)} CODE_HMAC_KEY={code}"
        f" PUBLIC_URL={config.get('PUBLIC_URL')}"
        f" DATABASE={_without_password(str(config.get('SQLALCHEMY_DATABASE_URI') or ''))}"
        f" ATTACHMENT_STORAGE={config.get('ATTACHMENT_STORAGE')}"
        f" ATTACHMENT_DIR={attachment_dir}"
    )


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a database URL: nothing to hide in it
        return url


def mail_server_answers(host: str, port: int, timeout: float) -> bool:
    """Say whether the mail server accepts a connection and greets within ``timeout``."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.settimeout(timeout)
            return connection.recv(3).startswith(b"2")
    except OSError:
        return False


def mail_finding(host: str, port: int, timeout: float) -> Finding | None:
    """Return a warning when the mail server does not answer, else None."""
    if mail_server_answers(host, port, timeout):
        return None
    return _warning(
        f"the mail server {host}:{port} does not answer.",
        "check MAIL_SERVER and MAIL_PORT, and that the relay runs; mail waits in "
        "the outbox meanwhile.",
    )
