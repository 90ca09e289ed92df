"""What every back-office view shares: what the user may read, and a submission's page."""

from __future__ import annotations

from flask import abort
from flask import g
from flask import url_for

from feedback.extensions import db
from feedback.models import Role
from feedback.models import Submission


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


def page_of(submission_id: int) -> str:
    """Return the address of a submission's page."""
    return url_for("staff.submission", submission_id=submission_id)
