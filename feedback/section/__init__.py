"""The signed-link reply form that sections open from their e-mail."""

from flask import Blueprint

bp = Blueprint("section", __name__, url_prefix="/section")

from feedback.section import views  # noqa: E402,F401 - registers the routes
