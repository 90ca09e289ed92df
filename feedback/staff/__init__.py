"""The back office: the lead's queues, sections' work, and the demo mailbox."""

from flask import Blueprint
from flask import g
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.before_request
def require_staff() -> ResponseReturnValue | None:
    """Keep the back office closed to anyone not signed in."""
    if g.user is None:
        return redirect(url_for("auth.login", next=request.full_path))
    return None


@bp.after_request
def no_cache(response):  # type: ignore[no-untyped-def]
    """Keep staff pages out of shared caches and the browser's history cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


from feedback.staff import audit  # noqa: E402,F401 - registers the routes
from feedback.staff import board  # noqa: E402,F401 - registers the routes
from feedback.staff import decisions  # noqa: E402,F401 - registers the routes
from feedback.staff import exports  # noqa: E402,F401 - registers the routes
from feedback.staff import holidays  # noqa: E402,F401 - registers the routes
from feedback.staff import intake  # noqa: E402,F401 - registers the routes
from feedback.staff import mailbox  # noqa: E402,F401 - registers the routes
from feedback.staff import notices  # noqa: E402,F401 - registers the routes
from feedback.staff import sections  # noqa: E402,F401 - registers the routes
from feedback.staff import statistics  # noqa: E402,F401 - registers the routes
from feedback.staff import views  # noqa: E402,F401 - registers the routes
