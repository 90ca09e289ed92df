"""Error pages, and keeping a citizen's typed text when a form's token has expired."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from feedback.extensions import db

# Endpoint -> view that re-renders its form from request.form after a CSRF error.
_form_keepers: dict[str, Callable[[str], ResponseReturnValue]] = {}


def keeps_typed_input(
    endpoint: str,
) -> Callable[
    [Callable[[str], ResponseReturnValue]], Callable[[str], ResponseReturnValue]
]:
    """Register a function that shows a form again, with what was typed, and a note."""

    def register(
        func: Callable[[str], ResponseReturnValue],
    ) -> Callable[[str], ResponseReturnValue]:
        _form_keepers[endpoint] = func
        return func

    return register


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    template = (
        f"errors/{code}.html" if code in (403, 404, 413) else "errors/generic.html"
    )
    return render_template(template, error=error), code


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    keeper = _form_keepers.get(request.endpoint or "")
    if keeper is not None:
        body, _status = keeper(error.description)  # type: ignore[misc]
        return body, 400
    return render_template("errors/generic.html", error=error), 400


def _server_error(error: Exception) -> ResponseReturnValue:
    db.session.rollback()
    return render_template("errors/500.html"), 500


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
