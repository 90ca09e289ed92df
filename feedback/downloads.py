"""Sending files staff download (citizens' attachments, exports) so browsers never run or sniff them."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from urllib.parse import quote

from flask import abort
from flask import Response
from flask import send_file
from flask import stream_with_context

from feedback import spreadsheets
from feedback.db import DbSession
from feedback.models import Attachment
from feedback.services import attachments

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def _harden(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def send_attachment(session: DbSession, attachment: Attachment) -> Response:
    """Stream the file as an attachment with its checked type and ``nosniff``.

    The bytes go out a chunk at a time from wherever they are stored; 404
    when they are not there.
    """
    try:
        body = attachments.chunks(session, attachment)
    except attachments.MissingFile:
        abort(404)
    response = Response(stream_with_context(body), mimetype=attachment.content_type)
    response.content_length = attachment.size
    return _name_as_attachment(
        response, attachment.filename, _ascii_name(attachment.filename)
    )


def _ascii_name(name: str) -> str:
    """Return ``name`` with anything outside printable ASCII replaced, for old browsers."""
    cleaned = "".join(c if 32 < ord(c) < 127 and c not in '"\\' else "_" for c in name)
    return cleaned or "file"


def _name_as_attachment(response: Response, name: str, ascii_name: str) -> Response:
    """Name the download: ``name`` for browsers that read RFC 5987's
    ``filename*`` (all current ones), ``ascii_name`` for the rest."""
    response.headers.set(
        "Content-Disposition",
        "attachment",
        filename=ascii_name,
        **{"filename*": "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")},
    )
    return _harden(response)


def send_xlsx(
    tables: Iterable[spreadsheets.Table], name: str, ascii_name: str, *, title: str
) -> Response:
    """Write ``tables`` to a temporary file and stream it as an XLSX download.

    The workbook is finished before the first byte goes out, so a failure
    gives an error page rather than a broken file; the temporary file is
    removed once sent.
    """
    file = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it once sent
    try:
        spreadsheets.write_xlsx(tables, file, title=title)
        size = file.tell()
        file.seek(0)
    except BaseException:
        file.close()
        raise
    response = send_file(file, mimetype=XLSX_TYPE, max_age=0, conditional=False)
    response.content_length = size
    return _name_as_attachment(response, name, ascii_name)


def send_csv(table: spreadsheets.Table, name: str, ascii_name: str) -> Response:
    """Stream ``table`` as a CSV download, rows read and sent as they come."""
    response = Response(
        stream_with_context(spreadsheets.csv_chunks(table)), content_type=CSV_TYPE
    )
    return _name_as_attachment(response, name, ascii_name)
