"""Keyed hashes, signed reply links and reply addresses: every use of the secrets."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

REPLY_LINK_SALT = "section-reply-link"


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


def _reply_serializer() -> URLSafeTimedSerializer:
    # Signed with SECRET_KEY; keys retired into SECRET_KEY_FALLBACKS (oldest
    # first, as Flask reads them for sessions) still open the links already
    # mailed, until they are dropped from the list.
    config = current_app.config
    keys = [*(config["SECRET_KEY_FALLBACKS"] or ()), config["SECRET_KEY"]]
    return URLSafeTimedSerializer(keys, REPLY_LINK_SALT)


def reply_token(submission_id: int, section_id: int) -> str:
    """Sign a token that lets one section answer one submission."""
    return _reply_serializer().dumps({"s": submission_id, "sec": section_id})


def load_reply_token(token: str) -> tuple[int, int] | None:
    """Return (submission id, section id) for a valid, unexpired token, else None."""
    max_age = current_app.config["REPLY_LINK_MAX_AGE_DAYS"] * 86400
    try:
        data = _reply_serializer().loads(token, max_age=max_age)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    submission_id, section_id = data.get("s"), data.get("sec")
    if not isinstance(submission_id, int) or not isinstance(section_id, int):
        return None
    return submission_id, section_id


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
