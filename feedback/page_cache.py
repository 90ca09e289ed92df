"""Rendered public pages kept per reader's variant until the board's stamp moves.

The board and a problem's page change a few times a month but are opened by
hundreds of readers within minutes of a notice. Each process keeps the HTML
it rendered, by path and variant (language and script, care mode, pinyin,
the local date), in a small LRU, and serves it again while the version
stamps the page depends on (``services/board_versions.py``) stay the same.
The stamps are read at most every ``PAGE_CACHE_STAMP_SECONDS`` per process,
and at once after this process committed a change, so a change shows on
every worker and node within that time. Responses carry an ``ETag`` and
``Last-Modified`` and ``Cache-Control: no-cache``, so a browser or a proxy
revalidates and gets a 304 while nothing moved.

Nothing personal is ever kept: signed-in staff (who see staff links), a
request whose session holds flashed messages, and a query string (the
board's search and filters) are rendered afresh and not kept.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from datetime import time as clock_time
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask import Flask
from flask import g
from flask import has_app_context
from flask import make_response
from flask import request
from flask import Response
from flask import session
from flask.typing import ResponseReturnValue
from sqlalchemy import event
from sqlalchemy.orm import Session

from feedback import i18n
from feedback.extensions import db
from feedback.services import board_versions
from feedback.services import deadlines

EXTENSION = "page_cache"
# What else makes two renderings of one page differ between releases.
_SOURCES = ("templates", "feedback/translations")


class PageCache:
    """One process's rendered pages and its latest reading of the stamps."""

    def __init__(self, *, entries: int, stamp_seconds: float, release: str) -> None:
        self.entries = entries
        self.stamp_seconds = stamp_seconds
        self.release = release
        self._pages: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._stamps: dict[str, board_versions.Stamp] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def stamps(self) -> dict[str, board_versions.Stamp]:
        """Return the stamps, read from the database when the last reading is old."""
        now = time.monotonic()
        if now - self._read_at >= self.stamp_seconds:
            fresh = board_versions.read(db.session)
            with self._lock:
                if fresh != self._stamps:
                    self._pages.clear()  # every kept page is stale now
                self._stamps, self._read_at = fresh, now
        return self._stamps

    def expire_stamps(self) -> None:
        """Have the next request read the stamps (this process just moved one)."""
        self._read_at = float("-inf")

    def get(self, key: tuple[str, ...]) -> bytes | None:
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
            return body

    def put(self, key: tuple[str, ...], body: bytes) -> None:
        with self._lock:
            self._pages[key] = body
            self._pages.move_to_end(key)
            while len(self._pages) > self.entries:
                self._pages.popitem(last=False)


def release_token(root: Path) -> str:
    """Return a short hash of the templates and catalogues as installed.

    Part of every ETag, so that after a release a browser's copy of a page
    rendered by the old templates is not confirmed as current.
    """
    digest = hashlib.sha256()
    for folder in _SOURCES:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(
                    f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
                )
    return digest.hexdigest()[:8]


def _cache() -> PageCache:
    cache: PageCache = current_app.extensions[EXTENSION]
    return cache


def _personal() -> bool:
    """Return whether this request's page may differ from another reader's."""
    return (
        bool(request.query_string)
        or g.get("user") is not None
        or bool(session.get("_flashes"))
    )


def _day_start(day_text: str) -> datetime:
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    day = datetime.fromisoformat(day_text).date()
    return datetime.combine(day, clock_time.min, tzinfo=zone).astimezone(UTC)


def _stamp_text(stamp: board_versions.Stamp | None) -> str:
    if stamp is None:
        return "0"
    return f"{stamp.version}x{int(stamp.changed_at.timestamp() * 1000):x}"


def _finish(response: Response, tag: str, modified: datetime) -> ResponseReturnValue:
    response.set_etag(tag)
    response.last_modified = modified
    response.cache_control.no_cache = True
    return response.make_conditional(request)


def cached_page(
    *names: str,
    figures: Callable[[], str | None] | None = None,
) -> Callable[[Callable[..., ResponseReturnValue]], Callable[..., ResponseReturnValue]]:
    """Serve a public page from the cache while the stamps ``names`` stay put.

    ``figures``, for a page drawn from figures kept for a while rather than
    stamped, names the figures shown now; the copy is kept while it stays the
    same, and None means the page is not kept at all.
    """

    def decorate(
        view: Callable[..., ResponseReturnValue],
    ) -> Callable[..., ResponseReturnValue]:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> ResponseReturnValue:
            if not current_app.config["PAGE_CACHE_ENABLED"] or _personal():
                return view(**kwargs)
            cache = _cache()
            stamps = cache.stamps()
            prefs = i18n.preferences()
            # Pinyin is shown in care mode only: elsewhere the cookie changes nothing.
            reading = f"{int(prefs.care)}{int(prefs.care and prefs.pinyin)}"
            today = deadlines.today().isoformat()  # future progress appears by date
            # A stamp's time as well as its number: a restored backup may
            # set a number back, and the next change would reach it again.
            versions = "-".join(_stamp_text(stamps.get(n)) for n in names)
            if figures is not None:
                shown = figures()
                if shown is None:
                    return view(**kwargs)
                versions = f"{versions}-{shown}"
            key = (request.path, prefs.lang, reading, today, versions)
            tag = f"{cache.release}.{prefs.lang}.{reading}.{today}.{versions}"
            modified = max(
                [_day_start(today)]
                + [stamps[n].changed_at for n in names if n in stamps]
            )
            body = cache.get(key)
            if body is not None:
                page = current_app.response_class(body, mimetype="text/html")
                return _finish(page, tag, modified)
            response = make_response(view(**kwargs))
            if response.status_code != 200 or response.mimetype != "text/html":
                return response
            cache.put(key, response.get_data())
            return _finish(response, tag, modified)

        return wrapper

    return decorate


def _after_commit(session: Session) -> None:
    moved = board_versions.moved_by_commit(session)
    if moved and has_app_context() and EXTENSION in current_app.extensions:
        _cache().expire_stamps()


def init_app(app: Flask, root: Path) -> None:
    """Give the app its page cache and have commits move the stamps."""
    app.extensions[EXTENSION] = PageCache(
        entries=app.config["PAGE_CACHE_ENTRIES"],
        stamp_seconds=app.config["PAGE_CACHE_STAMP_SECONDS"],
        release=release_token(root),
    )
    board_versions.watch()
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
