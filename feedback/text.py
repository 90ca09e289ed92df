"""Turning what people wrote into safe HTML; the only module that imports bleach."""

from __future__ import annotations

import bleach
from markupsafe import escape
from markupsafe import Markup


def linkify(text: str | None) -> Markup:
    """Escape ``text``, make web addresses clickable and keep line breaks."""
    if not text:
        return Markup("")
    html = bleach.linkify(
        str(escape(text)), callbacks=[bleach.callbacks.nofollow], parse_email=False
    )
    return Markup(html.replace("\n", "<br>\n"))  # noqa: S704 - escaped, then linkified
