"""The audit page: who did what, filtered and paged, for the lead and admins."""

from __future__ import annotations

from flask import g
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from feedback.auth.decorators import role_required
from feedback.extensions import db
from feedback.labels import AUDIT_ACTIONS
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import Role
from feedback.models import Submission
from feedback.services import tracking
from feedback.staff import bp
from feedback.staff.forms import AuditFilterForm
from feedback.web.forms import SelectChoice

PAGE_SIZE = 100


@bp.get("/audit")
@role_required(Role.LEAD, Role.ADMIN)
def audit_log() -> ResponseReturnValue:
    """List audit events, newest first, filtered and paged by id (keyset)."""
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", _("全部"))] + [
        SelectChoice(a.value, str(AUDIT_ACTIONS[a])) for a in AuditAction
    ]
    form.read()
    query = select(Event).order_by(Event.id.desc()).limit(PAGE_SIZE + 1)
    action = form.understood(form.action)
    if action:
        query = query.where(Event.action == AuditAction(action))
    reference = form.understood(form.reference)
    if reference:
        query = query.join(Submission, Submission.id == Event.submission_id).where(
            Submission.reference == tracking.normalise_reference(reference)
        )
    before = form.understood(form.before)
    if before:
        query = query.where(Event.id < before)
    if g.user.role is Role.ADMIN:
        # Admins see configuration and accounts, never what citizens wrote.
        query = query.where(Event.submission_id.is_(None))
    events = list(db.session.scalars(query))
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    return render_template(
        "staff/audit.html",
        form=form,
        events=events,
        next_before=events[-1].id if more and events else None,
    )
