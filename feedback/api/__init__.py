"""The read-only JSON API of the board: rounds, aspects and problems."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from feedback.api import views  # noqa: E402,F401 - registers the routes
