"""The admin's notice import: upload or paste, preview with its checks, then confirm."""

from __future__ import annotations

from pathlib import PurePath

from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from feedback import notices
from feedback.auth.decorators import role_required
from feedback.extensions import db
from feedback.models import Inspection
from feedback.models import Role
from feedback.notices import normalise
from feedback.services import DomainError
from feedback.services import notices as notice_import
from feedback.staff import bp
from feedback.staff.forms import NoticeConfirmForm
from feedback.staff.forms import NoticeUploadForm
from feedback.web.actions import decide
from feedback.web.forms import add_error
from feedback.web.forms import SelectChoice

# The preview carries the notice back in the confirm form; Flask keeps form
# fields under 500 kB, so a bigger saved page travels as its extracted text.
CARRY_LIMIT_BYTES = 400_000
AUTO_ROUND = ""


def _round_choices() -> list[SelectChoice]:
    rounds = db.session.execute(
        select(Inspection).order_by(Inspection.id.desc())
    ).scalars()
    return [SelectChoice(AUTO_ROUND, _("按通报内容匹配已有轮次，没有则新建"))] + [
        SelectChoice(str(r.id), f"{r.id} · {r.name}") for r in rounds
    ]


def _upload_form() -> NoticeUploadForm:
    form = NoticeUploadForm()
    form.round_id.choices = _round_choices()
    return form


def _chosen_round(value: str | None) -> Inspection | None:
    if not value:
        return None
    return notice_import.find_round(db.session, value)


def _page(
    form: NoticeUploadForm, code: int = 200, **preview: object
) -> ResponseReturnValue:
    return (
        render_template("staff/notice_import.html", form=form, **preview),
        code,
    )


@bp.get("/notices/import")
@role_required(Role.ADMIN)
def import_notice() -> ResponseReturnValue:
    """Show the form for uploading or pasting a notice."""
    return _page(_upload_form())


@bp.post("/notices/import")
@role_required(Role.ADMIN)
def preview_notice() -> ResponseReturnValue:
    """Parse the notice and show what would change, without changing anything."""
    form = _upload_form()
    if not form.validate_on_submit():
        return _page(form, 400)
    filename = None
    if form.notice_file.data:
        upload = form.notice_file.data
        filename = PurePath(upload.filename or "").name[:255] or None
        try:
            parsed = notices.parse_bytes(upload.read(), filename)
        except notices.UnreadableNotice as exc:
            add_error(form.notice_file, str(exc))
            return _page(form, 400)
    else:
        parsed = notices.parse_text(form.text.data or "")
    inspection = _chosen_round(form.round_id.data)
    if form.round_id.data and inspection is None:
        form.round_id.errors = [_("这个巡察轮次已不存在，请重新选择。")]
        return _page(form, 400)

    # Import for real, read what changed, and roll it all back: the preview
    # shows exactly what confirming will do.
    try:
        report = notice_import.import_notice(
            db.session, parsed, inspection=inspection, actor=g.user
        )
        changes = report.lines()
        target = report.inspection.name
        creates = report.created_round
    except DomainError as exc:
        changes, target, creates = [str(exc)], None, False
    finally:
        db.session.rollback()

    kind, source = normalise.portable(parsed.document)
    if len(source.encode("utf-8")) > CARRY_LIMIT_BYTES:
        kind, source = "text", "\n\n".join(parsed.document.paragraphs) + "\n"
    confirm = NoticeConfirmForm(
        formdata=None,
        source=source,
        kind=kind,
        filename=filename or "",
        round_id=form.round_id.data or "",
    )
    return _page(
        form,
        notice=parsed,
        confirm_form=confirm,
        changes=changes,
        target=target,
        creates=creates,
    )


@bp.post("/notices/import/confirm")
@role_required(Role.ADMIN)
def confirm_notice() -> ResponseReturnValue:
    """Import the previewed notice and commit it."""
    form = NoticeConfirmForm()
    if not form.validate_on_submit() or form.kind.data not in ("text", "html", "docx"):
        flash(_("预览内容已失效，请重新上传或粘贴通报。"), "error")
        return redirect(url_for("staff.import_notice"))
    parsed = notices.parse(
        normalise.from_portable(form.kind.data, form.source.data or "")
    )
    inspection = _chosen_round(form.round_id.data)
    if form.round_id.data and inspection is None:
        flash(_("这个巡察轮次已不存在，请重新选择。"), "error")
        return redirect(url_for("staff.import_notice"))
    return decide(
        lambda: notice_import.import_notice(
            db.session,
            parsed,
            inspection=inspection,
            actor=g.user,
            filename=form.filename.data or None,
        ).lines(),
        lambda lines: [_("通报已导入。"), *lines],
        url_for("staff.import_notice"),
    )
