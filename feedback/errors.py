"""Error pages, and keeping a citizen's typed text when a form cannot be taken now."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import TooManyRequests

from feedback.extensions import db

FormKeeper = Callable[[str], str]
# Endpoint -> view that shows its form again from request.form, with a note.
_form_keepers: dict[str, FormKeeper] = {}


def keeps_typed_input(endpoint: str) -> Callable[[FormKeeper], FormKeeper]:
    """Register a function that shows a form again, with what was typed, and a note."""

    def register(func: FormKeeper) -> FormKeeper:
        _form_keepers[endpoint] = func
        return func

    return register


def _keep_or_page(error: HTTPException, kept: str, plain: str) -> ResponseReturnValue:
    """Show the form again with the ``kept`` note, or an error page saying ``plain``."""
    keeper = (
        _form_keepers.get(request.endpoint or "") if request.method == "POST" else None
    )
    code = error.code or 400
    if keeper is not None:
        return keeper(kept), code
    return render_template("errors/generic.html", error=error, note=plain), code


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


def _server_error(error: Exception) -> ResponseReturnValue:
    db.session.rollback()
    return render_template("errors/500.html"), 500


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(TooManyRequests, _too_many)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
