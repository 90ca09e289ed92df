"""Sending files staff download (citizens' attachments, exports) so browsers never run or sniff them."""

from __future__ import annotations

import re
import tempfile
import unicodedata
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
    when they are not there. The name is :func:`attachment_name`.
    """
    try:
        body = attachments.chunks(session, attachment)
    except attachments.MissingFile:
        abort(404)
    response = Response(stream_with_context(body), mimetype=attachment.content_type)
    response.content_length = attachment.size
    name = attachment_name(attachment)
    return _name_as_attachment(response, name, name)


# Dropped from names: control characters (NUL, line breaks), format characters
# such as the right-to-left override that shows "x\u202egpj.exe" as
# "xexe.jpg", surrogates, private and unassigned code points, line separators.
_UNSEEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Replaced: what Windows refuses in a name, and the folder separators.
_RESERVED = re.compile(r'[<>:"/\\|?*]')
# Left of a name's base: more is never needed to recognise a file.
BASE_MAX = 100
# A name with nothing left of its own.
PLACEHOLDER = "attachment"


def attachment_name(attachment: Attachment) -> str:
    """Return the name a citizen's file is shown and downloaded under.

    The citizen's base name, cleaned (:func:`clean_base`), with the
    extension of the type read from its content: JPEG bytes sent as
    ``evil.html`` are ``evil.jpg``. The stored name stays as the citizen
    gave it, like the rest of what they wrote; it is cleaned on the way out,
    which also covers rows stored before this rule.
    """
    base = clean_base(attachment.filename) or PLACEHOLDER
    return base + attachments.extension_of(attachment.content_type)


def clean_base(name: str) -> str:
    """Return ``name`` without folders, extension or unseen characters; may be empty."""
    last = re.split(r"[/\\]", name)[-1]
    visible = "".join(c for c in last if unicodedata.category(c) not in _UNSEEN)
    stem, dot, _extension = visible.rpartition(".")
    base = stem if dot else visible
    return _RESERVED.sub("_", base).strip(" .")[:BASE_MAX].strip(" .")


def _ascii_name(name: str) -> str:
    """Return ``name`` in printable ASCII for browsers that ignore ``filename*``.

    Every run of other characters becomes one ``_``; a base with nothing
    left becomes :data:`PLACEHOLDER`, so the name is never ``.png``.
    """
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    base = re.sub(r"[^ !#-[\]-~]+", "_", stem).strip("_ .") or PLACEHOLDER
    extension = re.sub(r"[^A-Za-z0-9]", "", extension)
    return f"{base}.{extension}" if extension else base


def _name_as_attachment(response: Response, name: str, ascii_name: str) -> Response:
    """Name the download: ``name`` for browsers that read RFC 5987's
    ``filename*`` (all current ones), ``ascii_name`` made plain ASCII for the rest."""
    response.headers.set(
        "Content-Disposition",
        "attachment",
        filename=_ascii_name(ascii_name),
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
