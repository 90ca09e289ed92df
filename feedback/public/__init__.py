"""Pages for citizens: the board, published replies, statistics, the form and tracking."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from feedback.public import board  # noqa: E402,F401 - registers the routes
from feedback.public import replies  # noqa: E402,F401 - registers the routes
from feedback.public import statistics  # noqa: E402,F401 - registers the routes
from feedback.public import views  # noqa: E402,F401 - registers the routes
