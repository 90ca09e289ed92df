"""Error pages, and keeping a citizen's typed text when a form cannot be taken now."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from flask import current_app
from flask import Flask
from flask import g
from flask import render_template
from flask import request
from flask import Response
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.exceptions import TooManyRequests

from feedback.db import driver_error
from feedback.db import rollback_quietly
from feedback.db import UNREACHABLE
from feedback.db import unreachable
from feedback.extensions import db
from feedback.validators import unreadable

logger = logging.getLogger(__name__)

# Seconds a visitor (or a client library) is asked to wait while the database
# is away: long enough for a restart, short enough that nobody gives up.
RETRY_AFTER = 30


class FormKeeper(Protocol):
    """Shows a form again from request.form, with a note; ``database_down``
    says it must be drawn without reading the database."""

    def __call__(self, note: str, *, database_down: bool) -> str: ...


# Endpoint -> view that shows its form again from request.form, with a note.
_form_keepers: dict[str, FormKeeper] = {}


def keeps_typed_input(endpoint: str) -> Callable[[FormKeeper], FormKeeper]:
    """Register a function that shows a form again, with what was typed, and a note."""

    def register(func: FormKeeper) -> FormKeeper:
        _form_keepers[endpoint] = func
        return func

    return register


class UnreadableInput(BadRequest):
    """A query string, form, file name or path holds NUL or half a surrogate pair."""


class DatabaseUnavailable(ServiceUnavailable):
    """The database could not be reached; the request may be tried again."""


def _keep_or_page(error: HTTPException, kept: str, plain: str) -> ResponseReturnValue:
    """Show the form again with the ``kept`` note, or an error page saying ``plain``."""
    keeper = (
        _form_keepers.get(request.endpoint or "") if request.method == "POST" else None
    )
    code = error.code or 400
    if keeper is not None:
        down = isinstance(error, DatabaseUnavailable)
        try:
            return keeper(kept, database_down=down), code
        except Exception as failure:
            # A stale form (say) while the database is away: keep it all the same.
            if down or not unreachable(failure):
                raise
            _forget(failure)
            return keeper(kept, database_down=True), code
    page = "errors/503.html" if code == 503 else "errors/generic.html"
    return render_template(page, error=error, note=plain), code


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if code in (403, 404, 413):
        return render_template(f"errors/{code}.html", error=error), code
    return render_template("errors/generic.html", error=error), code


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    kept = _(
        "为保护您的信息，页面已过期。您填写的内容都还在，请核对后再点一次“提交”。"
        "如有附件，请重新选择。"
    )
    return _keep_or_page(error, kept, _("页面已过期，请返回上一页，刷新后再试。"))


def _too_many(error: TooManyRequests) -> ResponseReturnValue:
    kept = _("提交太频繁，请过一会儿再试。您填写的内容都还在，稍后再点一次“提交”即可。")
    return _keep_or_page(error, kept, _("操作太频繁，请过一会儿再试。"))


def _unreadable(error: UnreadableInput) -> ResponseReturnValue:
    kept = _(
        "您填写的内容含有无法保存的控制字符（如空字符），请删除后再点一次“提交”。"
        "您填写的其他内容都还在。"
    )
    return _keep_or_page(error, kept, str(error.description))


def _unavailable(error: ServiceUnavailable) -> ResponseReturnValue:
    kept = _(
        "系统暂时无法保存，请过几分钟再点一次“提交”。您填写的内容都还在；"
        "如果刚才其实已经收到，再点一次也不会重复提交。如有附件，请重新选择。"
    )
    return _keep_or_page(error, kept, _("系统暂时无法使用，请过几分钟再试。"))


def _forget(error: Exception) -> None:
    """Roll back the request's transaction and log why, without what was written."""
    rollback_quietly(db.session)
    cause = driver_error(error)
    # Only the driver's first line: the statement's parameters may hold
    # what a citizen wrote.
    reason = str(cause).strip().partition("\n")[0]
    logger.warning("database unavailable (%s: %s)", type(cause).__name__, reason)


def _database_away(error: Exception) -> ResponseReturnValue:
    """Answer 503 with Retry-After while the database is unreachable; re-raise the rest."""
    if not unreachable(error):
        raise error
    _forget(error)
    # Through the handlers for 503, so that a blueprint's own (Open311) answers.
    answer = current_app.handle_http_exception(DatabaseUnavailable())
    response = current_app.make_response(answer)
    response.headers["Cache-Control"] = "no-store"
    g.retry_after = RETRY_AFTER
    return response


def _ask_to_retry(response: Response) -> Response:
    # Flask-Limiter puts its own Retry-After (its window's reset) on every
    # limited route's answer; this runs after it and wins.
    if "retry_after" in g:
        response.headers["Retry-After"] = str(g.retry_after)
    return response


def _filenames() -> MultiDict[str, str]:
    """Return the names the uploads of this request came with, by field."""
    return MultiDict(
        (field, upload.filename or "")
        for field, upload in request.files.items(multi=True)
    )


def refuse_unreadable_input() -> None:
    """Refuse, before any view reads them, fields no database can store or search.

    An upload's file name counts as a field: it is stored with the attachment;
    so does a part of the path a route reads as text (a token, a day).
    """
    path_parts = MultiDict(
        (name, value)
        for name, value in (request.view_args or {}).items()
        if isinstance(value, str)
    )
    if (
        unreadable(request.args)
        or unreadable(path_parts)
        or (
            request.method == "POST"
            and (unreadable(request.form) or unreadable(_filenames()))
        )
    ):
        raise UnreadableInput(
            _("请求中含有无法处理的控制字符（如空字符），请删除后再试。")
        )


def _server_error(error: Exception) -> ResponseReturnValue:
    db.session.rollback()
    return render_template("errors/500.html"), 500


def _say_filters_were_ignored(response: Response) -> Response:
    """Answer 400 for a list shown without a filter it could not read.

    The page names the filter and shows the list without it: the reader
    loses nothing, and the status tells a program that the request was not
    taken as sent.
    """
    if g.get("filters_ignored") and response.status_code == 200:
        response.status_code = 400
    return response


def init_app(app: Flask) -> None:
    """Register the error handlers, and the check of raw fields before every view.

    Called before the limiter is set up, so that the check comes first and
    the Retry-After of a 503 is the last word.
    """
    app.before_request(refuse_unreadable_input)
    app.after_request(_ask_to_retry)
    app.after_request(_say_filters_were_ignored)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(TooManyRequests, _too_many)
    app.register_error_handler(UnreadableInput, _unreadable)
    app.register_error_handler(ServiceUnavailable, _unavailable)
    app.register_error_handler(HTTPException, _http_error)
    for away in (DBAPIError, *UNREACHABLE):
        app.register_error_handler(away, _database_away)
    app.register_error_handler(500, _server_error)
