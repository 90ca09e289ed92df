"""What every back-office view shares: finding what the user may read, running a decision."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from feedback.extensions import db
from feedback.models import Role
from feedback.models import Submission
from feedback.services import DomainError


def attempt(action: Callable[[], object], done: str) -> bool:
    """Run a service call and commit it, or roll back and show the rule it broke."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    db.session.commit()
    flash(done)
    return True


def visible(submission_id: int) -> Submission:
    """Return a submission the current user may read, or answer 404.

    The lead reads everything; section staff only what is routed to their
    section, never a 举报; admins no submissions at all.
    """
    submission = db.get_or_404(Submission, submission_id)
    user = g.user
    section_may_read = (
        user.role is Role.SECTION
        and not submission.is_misconduct
        and submission.section_id is not None
        and submission.section_id == user.section_id
    )
    if not (user.role is Role.LEAD or section_may_read):
        abort(404)
    return submission


def back_to(submission_id: int) -> ResponseReturnValue:
    """Redirect to a submission's page."""
    return redirect(url_for("staff.submission", submission_id=submission_id))


def flash_errors(form: FlaskForm) -> None:
    """Show every validation error of a form as a flash message."""
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")


def decide(
    form: FlaskForm, submission: Submission, act: Callable[[], object], done: str
) -> ResponseReturnValue:
    """Validate ``form``, run ``act`` if it is valid, and go back to the submission."""
    if form.validate_on_submit():
        attempt(act, done)
    else:
        flash_errors(form)
    return back_to(submission.id)


def templated_reply(choice: str | None) -> str | None:
    """Return the reply template a section chose to start from (``?template=N``)."""
    chosen = current_app.config["REPLY_TEMPLATES"]
    if choice and choice.isdigit() and int(choice) < len(chosen):
        return chosen[int(choice)]
    return None
