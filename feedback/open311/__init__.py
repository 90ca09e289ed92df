"""The Open311 GeoReport v2 API: services, requests, and filing a request with a key."""

from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

from feedback.open311 import views  # noqa: E402,F401 - registers the routes
