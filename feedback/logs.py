"""Where logs go and how they read: JSON or text lines, request ids, a line per request."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import datetime
from datetime import UTC
from types import TracebackType
from typing import Any
from typing import TextIO

from flask import current_app
from flask import Flask
from flask import g
from flask import has_request_context
from flask import request
from flask import Response
from sqlalchemy.exc import DBAPIError

FORMATS = ("json", "text")
REQUESTS = logging.getLogger("feedback.requests")
# A request id given by a proxy is kept if it looks like one: no spaces, no
# control characters, nothing long enough to fill a log.
_SANE_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
# What every LogRecord has; anything else on a record came as ``extra=``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def read_format(setting: str, *, debug: bool) -> str:
    """Return the LOG_FORMAT to use: as set, or "text" in debug and tests, else "json"."""
    chosen = setting or ("text" if debug else "json")
    if chosen not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}: {setting!r}")
    return chosen


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and every ``extra`` key."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    """Return the formatter of ``log_format`` ("json" or "text")."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(_TEXT)


class _RequestId(logging.Filter):
    """Put the request's id on each record logged while a request is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            has_request_context()
            and "request_id" in g
            and not hasattr(record, "request_id")
        ):
            record.request_id = g.request_id
        return True


STREAMS = ("stderr", "stdout")


class _Console(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` (or ``sys.stdout``) is at the time.

    Test runners swap those objects, so the handler looks them up each time.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.stream_name = "stderr"

    @property
    def stream(self) -> TextIO:
        return sys.stdout if self.stream_name == "stdout" else sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure(log_format: str, stream: str = "stderr") -> None:
    """Send the service's logs (and others' warnings) to ``stream`` as ``log_format``.

    One handler on the root logger, made once per process: a second app
    (tests make many) only changes how and where it writes.
    """
    if stream not in STREAMS:
        raise ValueError(f"LOG_STREAM must be one of {', '.join(STREAMS)}: {stream!r}")
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _Console)), None)
    if handler is None:
        handler = _Console()
        handler.addFilter(_RequestId())
        root.addHandler(handler)
    handler.stream_name = stream
    handler.setFormatter(formatter(log_format))
    # The service's own INFO lines (requests, outbox events); other libraries
    # keep the root's WARNING.
    service = logging.getLogger("feedback")
    if service.level == logging.NOTSET or service.level > logging.INFO:
        service.setLevel(logging.INFO)


def route_rule() -> str | None:
    """Return the rule of the route this request matched (``/track/<reference>``), if any.

    Logs and metrics name a request by it, never by its path: paths carry
    signed reply tokens and codes, the rule says which page without them.
    """
    return request.url_rule.rule if request.url_rule else None


class App(Flask):
    """Flask, except that a failed request is logged by its route's rule, not its path,
    and a database error without its text."""

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        _kind, error, frames = exc_info
        if not isinstance(error, DBAPIError):
            self.logger.error(
                "Exception on %s [%s]", route_rule(), request.method, exc_info=exc_info
            )
            return
        # The driver's text may quote a row: a unique key's DETAIL, a value
        # it could not read. Its class, SQLSTATE and the frames say where.
        self.logger.error(
            "Exception on %s [%s]: %s (SQLSTATE %s), its text withheld\n%s",
            route_rule(),
            request.method,
            type(error.orig).__name__,
            getattr(error.orig, "sqlstate", None),
            "".join(traceback.format_tb(frames)).rstrip(),
        )


def _start_request() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex


def elapsed_seconds() -> float:
    """Return how long this request has run so far."""
    return time.perf_counter() - g.get("request_started", time.perf_counter())


def _finish_request(response: Response) -> Response:
    """Hand the request id back, and in JSON log one line for the request, by its rule."""
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if current_app.config["LOG_FORMAT"] != "json":
        return response  # the development server logs each request itself
    rule = route_rule()
    REQUESTS.info(
        "%s %s %s",
        request.method,
        rule,
        response.status_code,
        extra={
            "method": request.method,
            "rule": rule,
            "status": response.status_code,
            "duration_ms": round(elapsed_seconds() * 1000, 1),
        },
    )
    return response


def init_app(app: Flask) -> None:
    """Configure logging from LOG_FORMAT, give each request an id, and log each request."""
    app.config["LOG_FORMAT"] = read_format(
        app.config["LOG_FORMAT"], debug=app.debug or app.testing
    )
    configure(app.config["LOG_FORMAT"], app.config["LOG_STREAM"])
    app.before_request(_start_request)
    app.after_request(_finish_request)
