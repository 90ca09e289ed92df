"""Guards for views that only some staff may open."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec
from typing import TypeVar

from flask import abort
from flask import g
from flask import redirect
from flask import request
from flask import url_for

from feedback.models import Role

P = ParamSpec("P")
R = TypeVar("R")


def role_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let only signed-in staff with one of ``roles`` through; others get 403."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if g.user is None:
                return redirect(url_for("auth.login", next=request.full_path))  # type: ignore[return-value]
            if g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
