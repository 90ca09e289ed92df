"""Keyed hashes, signed reply links and reply addresses: every use of the secrets."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

REPLY_LINK_SALT = "section-reply-link"
REPLY_PAGE_SALT = "section-reply-page"


def _key(purpose: str) -> bytes:
    base = current_app.config["CODE_HMAC_KEY"] or current_app.config["SECRET_KEY"]
    return hmac.new(base.encode(), purpose.encode(), hashlib.sha256).digest()


def keyed_hash(purpose: str, value: str) -> str:
    """Return the hex HMAC-SHA256 of ``value`` under a key kept for ``purpose``."""
    return hmac.new(_key(purpose), value.encode(), hashlib.sha256).hexdigest()


def external_url(endpoint: str, **values: object) -> str:
    """Build an absolute URL from ``PUBLIC_URL``, with or without a request."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    # Signed with SECRET_KEY; keys retired into SECRET_KEY_FALLBACKS (oldest
    # first, as Flask reads them for sessions) still open the links already
    # mailed, until they are dropped from the list.
    config = current_app.config
    keys = [*(config["SECRET_KEY_FALLBACKS"] or ()), config["SECRET_KEY"]]
    return URLSafeTimedSerializer(keys, salt)


def reply_token(submission_id: int, section_id: int) -> str:
    """Sign a token that lets one section answer one submission."""
    return _serializer(REPLY_LINK_SALT).dumps({"s": submission_id, "sec": section_id})


@dataclass(frozen=True)
class ReplyGrant:
    """What a reply link grants: one section may answer one submission.

    ``signed_at`` is when the link was signed (seconds since the epoch); the
    link, and every cookie it is exchanged for, ends REPLY_LINK_MAX_AGE_DAYS later.
    """

    submission_id: int
    section_id: int
    signed_at: float


def _grant(data: object, signed_at: float) -> ReplyGrant | None:
    if not isinstance(data, dict):
        return None
    submission_id, section_id = data.get("s"), data.get("sec")
    if not isinstance(submission_id, int) or not isinstance(section_id, int):
        return None
    return ReplyGrant(submission_id, section_id, signed_at)


def _link_max_age() -> int:
    return current_app.config["REPLY_LINK_MAX_AGE_DAYS"] * 86400


def load_reply_link(token: str) -> ReplyGrant | None:
    """Return what a valid, unexpired reply link grants, else None."""
    try:
        data, signed = _serializer(REPLY_LINK_SALT).loads(
            token, max_age=_link_max_age(), return_timestamp=True
        )
    except BadSignature:
        return None
    return _grant(data, signed.timestamp())


def load_reply_token(token: str) -> tuple[int, int] | None:
    """Return (submission id, section id) for a valid, unexpired token, else None."""
    grant = load_reply_link(token)
    return None if grant is None else (grant.submission_id, grant.section_id)


def reply_cookie(grant: ReplyGrant) -> str:
    """Sign the cookie that opens the reply page, good for REPLY_PAGE_MINUTES from now.

    It holds the ids and when the link was signed, never the link itself.
    """
    return _serializer(REPLY_PAGE_SALT).dumps(
        {"s": grant.submission_id, "sec": grant.section_id, "at": grant.signed_at}
    )


def load_reply_cookie(value: str) -> ReplyGrant | None:
    """Return the grant of a reply cookie signed within REPLY_PAGE_MINUTES, whose link
    has not expired either; else None."""
    try:
        data = _serializer(REPLY_PAGE_SALT).loads(
            value, max_age=current_app.config["REPLY_PAGE_MINUTES"] * 60
        )
    except BadSignature:
        return None
    signed_at = data.get("at") if isinstance(data, dict) else None
    if not isinstance(signed_at, int | float):
        return None
    if time.time() - signed_at > _link_max_age():
        return None
    return _grant(data, signed_at)


def reply_address(submission_id: int) -> str:
    """Return the unguessable address a section's reply to this submission goes to."""
    tag = keyed_hash("reply-address", str(submission_id))[:16]
    domain = current_app.config["MAIL_REPLY_DOMAIN"]
    return f"reply+{submission_id}-{tag}@{domain}"


def verify_reply_address(local_part: str) -> int | None:
    """Return the submission id of a ``reply+<id>-<hmac>`` local part, if genuine."""
    prefix, _, rest = local_part.partition("+")
    id_text, _, tag = rest.partition("-")
    if prefix != "reply" or not id_text.isdigit():
        return None
    expected = keyed_hash("reply-address", id_text)[:16]
    return int(id_text) if hmac.compare_digest(tag.lower(), expected) else None
