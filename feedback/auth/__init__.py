"""Staff sign-in: the blueprint, the current user on g, and role checks."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from feedback.auth import views  # noqa: E402,F401 - registers the routes
