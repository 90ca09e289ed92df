"""What a URL may hold: where a redirect may go, and how large a number in a path may be."""

from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map

from feedback.validators import MAX_ID


def safe_next(target: str | None, default: str = "/") -> str:
    """Return ``target`` if it is a path on this site, else ``default``."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return default


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: an id no database column can hold matches no
    route (404), rather than reaching the database, which would refuse it."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)
