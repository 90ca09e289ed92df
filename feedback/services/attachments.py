"""Citizens' files: checking their type from content, storing them safely, reading them back."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from feedback.db import DbSession
from feedback.models import Attachment
from feedback.models import InfoRequest
from feedback.models import Submission
from feedback.services import DomainError


class AttachmentError(DomainError):
    """A file was refused; the message says which and why."""


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name the citizen gave it and its bytes."""

    filename: str
    data: bytes


# The types we take, recognised by their first bytes, never by the file's name.
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)


def sniff(data: bytes) -> tuple[str, str] | None:
    """Return (content type, extension) of JPEG, PNG or PDF content, else None."""
    for signature, content_type, extension in _SIGNATURES:
        if data.startswith(signature):
            return content_type, extension
    return None


def configured_dir() -> Path:
    """Return the folder attachments live in, outside static/ (ATTACHMENT_DIR)."""
    configured = current_app.config["ATTACHMENT_DIR"]
    return (
        Path(configured)
        if configured
        else Path(current_app.instance_path) / "attachments"
    )


def storage_dir() -> Path:
    """Return the folder attachments live in, creating it."""
    folder = configured_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def check(uploads: list[Upload]) -> list[tuple[Upload, str, str]]:
    """Check count, size and type of every file before anything is written."""
    config = current_app.config
    if len(uploads) > config["ATTACHMENT_MAX_FILES"]:
        raise AttachmentError(
            f"At most {config['ATTACHMENT_MAX_FILES']} files can be attached."
        )
    checked = []
    for upload in uploads:
        if not upload.data:
            raise AttachmentError(f"{upload.filename}: the file is empty.")
        if len(upload.data) > config["ATTACHMENT_MAX_BYTES"]:
            limit = config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024)
            raise AttachmentError(f"{upload.filename}: larger than {limit} MB.")
        kind = sniff(upload.data)
        if kind is None:
            raise AttachmentError(
                f"{upload.filename}: only JPEG, PNG and PDF files are accepted."
            )
        checked.append((upload, *kind))
    return checked


def _write_durably(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(".part")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.rename(path)


def store(
    session: DbSession,
    submission: Submission,
    uploads: list[Upload],
    info_request: InfoRequest | None = None,
) -> list[Path]:
    """Write the files to disk (synced) and add their rows; return the paths written.

    Files sent with the answer to a question carry ``info_request``. The
    caller commits; if that fails it must remove the returned paths.
    """
    written: list[Path] = []
    folder = storage_dir()
    try:
        for upload, content_type, extension in check(uploads):
            stored_name = secrets.token_hex(16) + extension
            path = folder / stored_name
            _write_durably(path, upload.data)
            written.append(path)
            session.add(
                Attachment(
                    submission=submission,
                    info_request=info_request,
                    filename=Path(upload.filename).name[:255] or f"file{extension}",
                    stored_name=stored_name,
                    content_type=content_type,
                    size=len(upload.data),
                    sha256=hashlib.sha256(upload.data).hexdigest(),
                )
            )
    except Exception:
        discard(written)
        raise
    return written


def discard(paths: list[Path]) -> None:
    """Remove files whose rows were never committed."""
    for path in paths:
        path.unlink(missing_ok=True)


def path_of(attachment: Attachment) -> Path:
    """Return where an attachment's bytes are kept."""
    return storage_dir() / attachment.stored_name
