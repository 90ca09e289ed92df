"""Typing in opinions that came by phone, letter or visit, to track them like any other."""

from __future__ import annotations

from datetime import datetime
from datetime import time
from zoneinfo import ZoneInfo

from flask import current_app
from flask import g
from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from feedback.auth.decorators import role_required
from feedback.extensions import db
from feedback.labels import CHANNEL_NAMES
from feedback.labels import KIND_NAMES
from feedback.models import Channel
from feedback.models import Role
from feedback.models import SubmissionKind
from feedback.services import submissions
from feedback.staff import bp
from feedback.staff.common import page_of
from feedback.staff.forms import OfflineSubmissionForm
from feedback.web.actions import decide
from feedback.web.forms import labelled_choices

OFFLINE_CHANNELS = (Channel.PHONE, Channel.LETTER, Channel.VISIT)


def _offline_form() -> OfflineSubmissionForm:
    form = OfflineSubmissionForm()
    form.channel.choices = labelled_choices(CHANNEL_NAMES, OFFLINE_CHANNELS)
    form.kind.choices = labelled_choices(KIND_NAMES, SubmissionKind)
    return form


@bp.route("/submissions/new", methods=["GET", "POST"])
@role_required(Role.LEAD)
def new_offline_submission() -> ResponseReturnValue:
    """Type in an opinion that came by phone, letter or visit, to track it like any other."""
    form = _offline_form()

    def act() -> submissions.Receipt:
        zone = ZoneInfo(current_app.config["TIME_ZONE"])
        received = datetime.combine(form.received_on.data, time(12, 0), tzinfo=zone)
        return submissions.submit(
            db.session,
            kind=SubmissionKind(form.kind.data),
            subject=form.subject.data,
            body=form.body.data,
            author=form.author(),
            channel=Channel(form.channel.data),
            received_at=received,
            actor=g.user,
        )

    def done(receipt: submissions.Receipt) -> str:
        return _(
            "已登记，编号 %(ref)s，查询码 %(code)s（请告知来电或来信人，只显示这一次）。",
            ref=receipt.submission.reference,
            code=receipt.access_code,
        )

    return decide(
        act,
        done,
        lambda receipt: page_of(receipt.submission.id),
        form=form,
        again=lambda: render_template("staff/offline_submission.html", form=form),
    )
