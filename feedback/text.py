"""Turning what people wrote into safe HTML; the only module that imports bleach."""

from __future__ import annotations

import re

import bleach
from bleach.linkifier import Linker
from markupsafe import escape
from markupsafe import Markup

# http(s) addresses, any host (IP addresses and intranet names included). A URL
# ends at the first non-ASCII character, so Chinese punctuation that follows it
# (，。）) stays outside, and trailing ASCII punctuation is left out too.
URL_RE = re.compile(
    r"""(?i:https?)://[^\s<>"'\u0080-\U0010ffff]+?"""
    r"""(?=[.,;:!?)\]]*(?:[\s<>"'\u0080-\U0010ffff]|$))""",
)  # no IGNORECASE: k, s and i would fold into the non-ASCII range

_linker = Linker(
    url_re=URL_RE, callbacks=[bleach.callbacks.nofollow], parse_email=False
)


def linkify(text: str | None) -> Markup:
    """Escape ``text``, make web addresses clickable and keep line breaks."""
    if not text:
        return Markup("")
    html = _linker.linkify(str(escape(text)))
    return Markup(html.replace("\n", "<br>\n"))  # noqa: S704 - escaped, then linkified
