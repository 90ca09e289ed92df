"""The lead's audit page, and typing in opinions that came by phone, letter or visit."""

from __future__ import annotations

from datetime import datetime
from datetime import time
from zoneinfo import ZoneInfo

from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from feedback.auth.decorators import role_required
from feedback.extensions import db
from feedback.labels import CHANNEL_NAMES
from feedback.labels import KIND_NAMES
from feedback.models import AuditAction
from feedback.models import Channel
from feedback.models import Event
from feedback.models import Role
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import DomainError
from feedback.services import submissions
from feedback.staff import bp
from feedback.staff.forms import AuditFilterForm
from feedback.staff.forms import OfflineSubmissionForm

PAGE_SIZE = 100
OFFLINE_CHANNELS = (Channel.PHONE, Channel.LETTER, Channel.VISIT)


@bp.get("/audit")
@role_required(Role.LEAD, Role.ADMIN)
def audit_log() -> ResponseReturnValue:
    """List audit events, newest first, filtered and paged by id (keyset)."""
    form = AuditFilterForm(request.args, meta={"csrf": False})
    form.action.choices = [SelectChoice("", _("全部"))] + [
        SelectChoice(a.value, a.value) for a in AuditAction
    ]
    form.validate()
    query = select(Event).order_by(Event.id.desc()).limit(PAGE_SIZE + 1)
    if form.action.data and not form.action.errors:
        query = query.where(Event.action == AuditAction(form.action.data))
    if form.reference.data:
        query = query.join(Submission, Submission.id == Event.submission_id).where(
            Submission.reference == form.reference.data.strip()
        )
    if form.before.data:
        query = query.where(Event.id < form.before.data)
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


def _offline_form() -> OfflineSubmissionForm:
    form = OfflineSubmissionForm()
    form.channel.choices = [
        SelectChoice(c.value, str(CHANNEL_NAMES[c])) for c in OFFLINE_CHANNELS
    ]
    form.kind.choices = [
        SelectChoice(k.value, str(KIND_NAMES[k])) for k in SubmissionKind
    ]
    return form


@bp.route("/submissions/new", methods=["GET", "POST"])
@role_required(Role.LEAD)
def new_offline_submission() -> ResponseReturnValue:
    """Type in an opinion that came by phone, letter or visit, to track it like any other."""
    form = _offline_form()
    if form.validate_on_submit():
        zone = ZoneInfo(current_app.config["TIME_ZONE"])
        received = datetime.combine(form.received_on.data, time(12, 0), tzinfo=zone)
        try:
            receipt = submissions.submit(
                db.session,
                kind=SubmissionKind(form.kind.data),
                subject=form.subject.data,
                body=form.body.data,
                author=submissions.Author(
                    name=(form.name.data or "").strip() or None,
                    phone=(form.phone.data or "").strip() or None,
                    email=(form.email.data or "").strip() or None,
                ),
                channel=Channel(form.channel.data),
                received_at=received,
            )
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(
                _(
                    "已登记，编号 %(ref)s，查询码 %(code)s（请告知来电或来信人，只显示这一次）。",
                    ref=receipt.submission.reference,
                    code=receipt.access_code,
                )
            )
            return redirect(
                url_for("staff.submission", submission_id=receipt.submission.id)
            )
    return render_template("staff/offline_submission.html", form=form)
