"""Sending a stored attachment as a download that browsers will not run or sniff."""

from __future__ import annotations

import io

from flask import abort
from flask import send_file
from flask.typing import ResponseReturnValue

from feedback.models import Attachment
from feedback.services import attachments


def send_attachment(attachment: Attachment) -> ResponseReturnValue:
    """Return the file as an attachment with its checked type and ``nosniff``."""
    path = attachments.path_of(attachment)
    if not path.is_file():
        abort(404)
    # Files are at most ATTACHMENT_MAX_BYTES, so the bytes are read at once and
    # no file handle outlives the request.
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
