"""Mail pages: the outbox, the holding pen of unmatched replies, and the demo sink."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import UTC
from email.message import EmailMessage
from email.utils import getaddresses
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TypeVar

from flask import abort
from flask import current_app
from flask import g
from flask import has_request_context
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from feedback import masking
from feedback.auth.decorators import role_required
from feedback.extensions import db
from feedback.models import FailureKind
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Role
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import Submission
from feedback.services import inbound
from feedback.services import outbox
from feedback.services import submissions
from feedback.staff import bp
from feedback.staff.common import page_of
from feedback.staff.forms import FileHeldForm
from feedback.web.actions import decide
from feedback.web.actions import Telling

T = TypeVar("T")


@dataclass
class SinkMail:
    """One message as the local SMTP sink wrote it to disk."""

    name: str
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""

    @property
    def sent_at(self) -> datetime | None:
        """Return when the message says it was sent, or None if it does not say."""
        try:
            sent = parsedate_to_datetime(str(self.message.get("Date", "")))
        except (TypeError, ValueError):
            return None
        # RFC 5322's "-0000": the zone is unknown; UTC is the honest guess.
        return sent if sent.tzinfo is not None else sent.replace(tzinfo=UTC)


def _sink_dir() -> Path:
    folder = current_app.config["MAIL_SINK_DIR"]
    if not folder:
        abort(404)
    return Path(folder)


def _addresses(mail: EmailMessage) -> set[str]:
    """Return the exact addresses ``mail`` went to (To and Cc), lower-cased."""
    fields = [str(value) for key in ("To", "Cc") for value in mail.get_all(key, [])]
    return {address.lower() for _name, address in getaddresses(fields) if address}


def _carries_access_code(mail: EmailMessage) -> bool:
    """Return whether ``mail`` is a message the outbox marked as carrying an access code."""
    message_id = str(mail.get("Message-ID", "")).strip()
    if not message_id:
        return False
    sent = db.session.execute(
        select(OutboxMessage.template, OutboxMessage.redact_after_send).where(
            OutboxMessage.message_id == message_id
        )
    ).first()
    return sent is not None and (
        sent.redact_after_send or sent.template is Notification.RECEIPT
    )


def _readable(mail: EmailMessage) -> bool:
    """Whether the signed-in user may read ``mail`` from the demo sink.

    The lead reads everything. Nobody else reads a receipt with an access
    code; section staff read mail sent to their section's own address, and
    admins mail sent only to staff accounts.
    """
    user = g.user
    if user.role is Role.LEAD:
        return True
    addresses = _addresses(mail)
    if not addresses or _carries_access_code(mail):
        return False
    if user.role is Role.SECTION:
        return user.section is not None and user.section.email.lower() in addresses
    if user.role is Role.ADMIN:
        staff = {
            e.lower()
            for e in db.session.scalars(
                select(StaffUser.email).where(StaffUser.active.is_(True))
            )
        }
        return addresses <= staff
    return False


def _load(path: Path) -> SinkMail:
    with path.open("rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    return SinkMail(name=path.name, message=message)


@bp.get("/mail")
def mail_sink() -> ResponseReturnValue:
    """List the mail the demo's local SMTP sink received, newest first."""
    folder = _sink_dir()
    paths = sorted(folder.glob("*.eml"), reverse=True)[:200] if folder.is_dir() else []
    mails = [m for m in (_load(p) for p in paths) if _readable(m.message)]
    return render_template("staff/mail_sink.html", mails=mails)


@bp.get("/mail/<name>")
def mail_sink_message(name: str) -> ResponseReturnValue:
    """Show one message from the demo sink."""
    folder = _sink_dir()
    path = folder / name
    if "/" in name or not name.endswith(".eml") or not path.is_file():
        abort(404)
    mail = _load(path)
    if not _readable(mail.message):
        abort(404)
    return render_template("staff/mail_message.html", mail=mail)


# A reference number, whatever the site's prefix (REFERENCE_PREFIX).
REFERENCE = re.compile(r"[A-Za-z]*\d{8}-\d{5}")


@dataclass
class Delivery:
    """What an admin may read of an outgoing message: how its delivery goes.

    Never its subject, its recipient's address or the submission it is
    about, which are the citizens' and the lead's business.
    """

    id: int
    template: Notification
    domain: str
    state: OutboxState
    attempts: int
    failure: FailureKind | None
    detail: str
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None

    @classmethod
    def of(cls, message: OutboxMessage) -> Delivery:
        failure = outbox.failure_kind(message.last_error)
        detail = message.last_error or ""
        if failure is not None:
            detail = detail.partition(": ")[2]
        return cls(
            id=message.id,
            template=message.template,
            domain=message.recipient.rpartition("@")[2],
            state=message.state,
            attempts=message.attempts,
            failure=failure,
            # A server's answer may quote the address or the subject.
            detail=masking.mask(REFERENCE.sub(_("［编号已隐去］"), detail)),
            created_at=message.created_at,
            sent_at=message.sent_at,
            failed_at=message.failed_at,
        )


@bp.get("/outbox")
@role_required(Role.LEAD, Role.ADMIN)
def outbox_list() -> ResponseReturnValue:
    """Show the newest outgoing messages and their sending state.

    The lead sees each message whole; admins only what its delivery needs.
    """
    messages = list(
        db.session.execute(
            select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)
        ).scalars()
    )
    full = g.user.role is Role.LEAD
    return render_template(
        "staff/outbox.html",
        full=full,
        messages=messages if full else [],
        deliveries=[] if full else [Delivery.of(m) for m in messages],
        failures={m.id: outbox.failure_kind(m.last_error) for m in messages},
        retry_form=FlaskForm(),
        any_failed=db.session.scalar(
            select(OutboxMessage.id)
            .where(OutboxMessage.state == OutboxState.FAILED)
            .limit(1)
        )
        is not None,
    )


def _on_outbox(action: Callable[[], T], done: Telling[T]) -> ResponseReturnValue:
    """Run a staff action on the outbox, commit it and come back to the outbox page."""
    return decide(action, done, url_for("staff.outbox_list"), form=FlaskForm())


@bp.post("/outbox/<int:message_id>/retry")
@role_required(Role.LEAD, Role.ADMIN)
def outbox_retry(message_id: int) -> ResponseReturnValue:
    """Queue a failed message again."""
    message = db.get_or_404(OutboxMessage, message_id)
    if message.state is not OutboxState.FAILED:
        return redirect(url_for("staff.outbox_list"))
    return _on_outbox(
        lambda: outbox.retry(db.session, message, actor=g.user),
        _("邮件已重新排队发送。"),
    )


@bp.post("/outbox/retry-failed")
@role_required(Role.LEAD, Role.ADMIN)
def outbox_retry_failed() -> ResponseReturnValue:
    """Queue every failed message again."""
    return _on_outbox(
        lambda: outbox.retry_failed(db.session, actor=g.user),
        lambda count: _("%(count)d 封失败的邮件已重新排队发送。", count=count),
    )


@bp.post("/outbox/acknowledge")
@role_required(Role.LEAD, Role.ADMIN)
def outbox_acknowledge() -> ResponseReturnValue:
    """Note that the failures so far have been seen, which takes the banner away."""
    return _on_outbox(
        lambda: outbox.acknowledge(db.session, actor=g.user),
        _("已知悉。之后再有邮件发送失败时会重新提示。"),
    )


@bp.app_context_processor
def outbox_banner() -> dict[str, object]:
    """Give staff pages the mail banner of the lead and admins (GET pages only).

    Never worked out while a POST's change is being made, so that its queries
    flush nothing half-done.
    """
    if not has_request_context() or request.method != "GET":
        return {}
    if request.blueprint not in ("staff", "auth"):  # the pages on staff/_layout
        return {}
    user = g.get("user")
    if user is None or user.role not in (Role.LEAD, Role.ADMIN):
        return {}
    return {"outbox_alert": outbox.alert(db.session)}


@dataclass(frozen=True)
class HeldRow:
    """A message in the pen, the submission it seems to answer, and whether it files."""

    message: InboundMessage
    suggested: Submission | None
    fileable: bool  # the suggested submission waits for its section's answer


@bp.get("/held")
@role_required(Role.LEAD)
def held_mail() -> ResponseReturnValue:
    """List the messages in the holding pen, newest first, each with its likely match."""
    messages = list(
        db.session.scalars(
            select(InboundMessage)
            .where(InboundMessage.state == InboundState.HELD)
            .order_by(InboundMessage.received_at.desc())
            .limit(200)
        )
    )
    ids = {m.submission_id for m in messages if m.submission_id is not None}
    suggested = {
        s.id: s
        for s in db.session.scalars(
            select(Submission)
            .where(Submission.id.in_(ids))
            .options(selectinload(Submission.section))
        )
    }
    rows = []
    for message in messages:
        submission = (
            suggested.get(message.submission_id) if message.submission_id else None
        )
        fileable = submission is not None and inbound.awaits_reply(submission)
        rows.append(HeldRow(message, submission, fileable))
    return render_template("staff/held_mail.html", rows=rows)


@bp.get("/held/<int:message_id>")
@role_required(Role.LEAD)
def held_message(message_id: int) -> ResponseReturnValue:
    """Show a held message with the forms to file or discard it."""
    message = db.get_or_404(InboundMessage, message_id)
    matched = (
        db.session.get(Submission, message.submission_id)
        if message.submission_id
        else None
    )
    return render_template(
        "staff/held_message.html",
        message=message,
        file_form=FileHeldForm(),
        discard_form=FlaskForm(),
        matched=matched,
        fileable=matched is not None and inbound.awaits_reply(matched),
    )


@bp.post("/held/<int:message_id>/file")
@role_required(Role.LEAD)
def file_held(message_id: int) -> ResponseReturnValue:
    """File a held message as a draft reply to the submission the lead names."""
    message = db.get_or_404(InboundMessage, message_id)
    form = FileHeldForm()
    back = url_for("staff.held_message", message_id=message.id)
    if not form.validate_on_submit():
        return redirect(back)

    def act() -> Submission:
        submission = submissions.by_reference(db.session, form.reference.data)
        section = None
        if form.section_id.data is not None:
            section = db.session.get(Section, form.section_id.data)
            if section is None:
                raise inbound.PenError(_("没有这个股室。"))
        inbound.file_held(
            db.session, message, submission, actor=g.user, section=section
        )
        return submission

    return decide(
        act,
        lambda submission: _(
            "已归入%(ref)s，成为待审核的答复。", ref=submission.reference
        ),
        lambda submission: page_of(submission.id),
        back=back,
    )


@bp.post("/held/<int:message_id>/discard")
@role_required(Role.LEAD)
def discard_held(message_id: int) -> ResponseReturnValue:
    """Drop a held message that is not a reply."""
    message = db.get_or_404(InboundMessage, message_id)
    return decide(
        lambda: inbound.discard_held(db.session, message, actor=g.user),
        _("已丢弃。"),
        url_for("staff.held_mail"),
        form=FlaskForm(),
    )
