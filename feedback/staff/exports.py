"""Downloads of the ledgers as XLSX or CSV, with the filters of the page they are linked from."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import abort
from flask import current_app
from flask import g
from flask import request
from flask.typing import ResponseReturnValue

from feedback.auth.decorators import role_required
from feedback.downloads import send_csv
from feedback.downloads import send_xlsx
from feedback.extensions import db
from feedback.models import Role
from feedback.services import deadlines
from feedback.services import exports
from feedback.services import queues
from feedback.staff import bp
from feedback.staff.board import EDITORS
from feedback.staff.board import ledger_selection
from feedback.staff.views import queue_filters

FORMATS = "<any(xlsx, csv):fmt>"


@bp.get(f"/exports/ledger.{FORMATS}")
@role_required(*EDITORS)
def export_ledger(fmt: str) -> ResponseReturnValue:
    """Download a round's rectification ledger, filtered like the board page.

    XLSX has the problem, task and responsibility lists as three sheets; CSV
    has them side by side in one table (``exports.ledger_table``).
    """
    selection = ledger_selection()
    inspection = selection.inspection
    if inspection is None:
        abort(404)
    today = deadlines.today()
    name = exports.file_name(exports.LEDGER_TITLE, today, fmt)
    ascii_name = f"ledger-{today.isoformat()}.{fmt}"
    if fmt == "xlsx":
        return send_xlsx(
            exports.ledger_sheets(selection.problems, today=today),
            name,
            ascii_name,
            title=inspection.notice_title or inspection.name,
        )
    return send_csv(
        exports.ledger_table(selection.problems, today=today), name, ascii_name
    )


@bp.get(f"/exports/submissions.{FORMATS}")
@role_required(Role.LEAD, Role.SECTION)
def export_submissions(fmt: str) -> ResponseReturnValue:
    """Download the submissions ledger with the lead desk's filters (and queue, if
    one is named); a section gets only its own submissions."""
    _form, filters = queue_filters()
    today = deadlines.today()
    queue_name = request.args.get("queue", "")
    queue = (
        queues.condition(queue_name, today, current_app.config["REMINDER_DAYS_BEFORE"])
        if queue_name in queues.QUEUE_NAMES
        else None
    )
    try:
        table = exports.submissions_table(
            db.session,
            g.user,
            filters,
            tz_name=current_app.config["TIME_ZONE"],
            queue=queue,
        )
    except exports.ExportError:
        abort(403)
    name = exports.file_name(exports.SUBMISSIONS_TITLE, today, fmt)
    ascii_name = f"submissions-{today.isoformat()}.{fmt}"
    # The words searched for stay out of the trail: admins read it.
    asked = {k: v for k, v in request.args.items() if k != "q" and v}
    searched = " (q)" if request.args.get("q") else ""
    exports.record(db.session, g.user, f"{ascii_name} {urlencode(asked)}{searched}")
    if fmt == "xlsx":
        response = send_xlsx([table], name, ascii_name, title=table.title)
    else:
        response = send_csv(table, name, ascii_name)
    db.session.commit()  # the trail of a download, not a decision: nothing to tell
    return response
