"""Turning what people wrote into safe HTML; the only module that imports bleach."""

from __future__ import annotations

import re

import bleach
from bleach.linkifier import Linker
from markupsafe import escape
from markupsafe import Markup

# http(s) addresses, any host (IP addresses and intranet names included). A URL
# ends at the first non-ASCII character, so Chinese punctuation that follows it
# (，。）) stays outside, and trailing ASCII punctuation is left out too. The
# linker reads text that is already escaped, so quotes and angle brackets
# arrive as the entities escape() writes; a URL ends before those too, or
# what follows an address would be taken into the link and escaped twice.
_ENDS_URL = r"""[\s<>"'\u0080-\U0010ffff]|&(?:\#34|\#39|lt|gt);"""
URL_RE = re.compile(
    rf"""(?i:https?)://(?:(?!{_ENDS_URL})[^\s<>"'\u0080-\U0010ffff])+?"""
    rf"""(?=[.,;:!?)\]]*(?:{_ENDS_URL}|$))""",
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
