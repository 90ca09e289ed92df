"""Citizens' files: checking their type from content, storing them safely, reading them back.

The bytes live where ATTACHMENT_STORAGE says: as files in ATTACHMENT_DIR (one
machine's disk, the default for a single SQLite install) or in the database,
in slices of CHUNK_SIZE (every node sees them). Each row records where its
own bytes are, so files stored either way are read back either way.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy import select

from feedback.config import enum_setting
from feedback.db import DbSession
from feedback.models import Attachment
from feedback.models import AttachmentChunk
from feedback.models import InfoRequest
from feedback.models import Storage
from feedback.models import Submission
from feedback.services import DomainError

if TYPE_CHECKING:
    from pypdf.generic import PdfObject

# Bytes a chunk row holds, and a file is read in: small enough for any
# database's row, large enough that a 10 MB file is 40 rows.
CHUNK_SIZE = 256 * 1024


class AttachmentError(DomainError):
    """A file was refused; the message says which and why."""


class MissingFile(AttachmentError):
    """An attachment's bytes are not where its row says they are."""


class DamagedFile(AttachmentError):
    """An attachment's bytes are there but differ from the SHA-256 on its row."""


def read_storage(setting: object) -> Storage:
    """Return the ``ATTACHMENT_STORAGE`` setting as a storage; refuse one it cannot be."""
    return enum_setting(Storage, "ATTACHMENT_STORAGE", setting)


def configured_storage() -> Storage:
    """Return where new files go (ATTACHMENT_STORAGE)."""
    return read_storage(current_app.config["ATTACHMENT_STORAGE"])


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


def extension_of(content_type: str) -> str:
    """Return the extension files of a checked ``content_type`` are named with."""
    return next(
        (ext for _sig, kind, ext in _SIGNATURES if kind == content_type), ".bin"
    )


# What lets a PDF run code or reach outside itself when it, a page, a link or a
# field is opened: script, trigger actions, XFA forms (which carry script),
# embedded media and files, and the actions that launch, import, submit or
# open another document. A plain "open at page 1" /OpenAction is none of them.
_ACTIVE_KEYS = frozenset(
    {"/JS", "/JavaScript", "/AA", "/XFA", "/RichMedia", "/EmbeddedFiles"}
)
_ACTIVE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/ImportData",
        "/SubmitForm",
        "/GoToE",
        "/GoToR",
        "/Rendition",
    }
)
# Objects looked at before giving up and calling the file active: a 10 MB PDF
# of tiny objects must not hold a request for long.
PDF_OBJECT_LIMIT = 200_000


def has_active_content(data: bytes) -> bool:
    """Tell whether a PDF holds script or actions that launch or open things.

    Every object reachable from the trailer is looked at, as pypdf reads it
    (names unescaped, object streams unpacked, so ``/J#61vaScript`` or a
    compressed action is found). A PDF pypdf cannot read, or one too big to
    look through, counts as active: it is kept, and staff are warned, since a
    reader may well open what pypdf could not.

    pypdf is imported here, at the first PDF a process checks, not with the
    module: it takes about 17 MB in each process, and most web workers and
    every outbox worker never see a PDF.
    """
    import pypdf  # noqa: PLC0415 - see the docstring

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns of every oddity it mends
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                reader.decrypt("")  # opened without a password, as a reader would
            return _holds_active(reader.trailer, pypdf.generic)
    except Exception:  # noqa: BLE001 - any failure to read means "could be anything"
        return True


def _holds_active(start: PdfObject, generic: ModuleType) -> bool:
    seen: set[tuple[int, int]] = set()
    pending: list[PdfObject | None] = [start]
    looked_at = 0
    while pending:
        looked_at += 1
        if looked_at > PDF_OBJECT_LIMIT:
            return True
        item = pending.pop()
        if isinstance(item, generic.IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        if isinstance(item, generic.DictionaryObject):
            action = item.get("/S")
            if isinstance(action, generic.IndirectObject):
                action = action.get_object()
            if _ACTIVE_KEYS.intersection(item) or action in _ACTIVE_ACTIONS:
                return True
            pending.extend(item.values())
        elif isinstance(item, generic.ArrayObject):
            pending.extend(item)
    return False


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
            _l("最多只能上传%(n)s个文件。", n=config["ATTACHMENT_MAX_FILES"]),
            field="attachments",
        )
    checked = []
    for upload in uploads:
        if not upload.data:
            raise AttachmentError(
                _l("%(name)s：文件是空的。", name=upload.filename),
                field="attachments",
            )
        if len(upload.data) > config["ATTACHMENT_MAX_BYTES"]:
            limit = config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024)
            raise AttachmentError(
                _l(
                    "%(name)s：文件超过%(limit)sMB，请压缩后再上传。",
                    name=upload.filename,
                    limit=limit,
                ),
                field="attachments",
            )
        kind = sniff(upload.data)
        if kind is None:
            raise AttachmentError(
                _l(
                    "%(name)s：只能上传JPEG、PNG图片或PDF文件。",
                    name=upload.filename,
                ),
                field="attachments",
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
    """Store the files where ATTACHMENT_STORAGE says and add their rows.

    Files sent with the answer to a question carry ``info_request``. Returns
    the files written to disk (synced); the caller commits, and if that
    fails it must remove them. Bytes stored in the database go with the
    commit or not at all.
    """
    written: list[Path] = []
    storage = configured_storage()
    try:
        for upload, content_type, extension in check(uploads):
            attachment = Attachment(
                submission=submission,
                info_request=info_request,
                filename=Path(upload.filename).name[:255] or f"file{extension}",
                stored_name=secrets.token_hex(16) + extension,
                content_type=content_type,
                size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
                active_content=content_type == "application/pdf"
                and has_active_content(upload.data),
            )
            session.add(attachment)
            path = put(session, attachment, upload.data, storage)
            if path is not None:
                written.append(path)
    except Exception:
        discard(written)
        raise
    return written


def put(
    session: DbSession, attachment: Attachment, data: bytes, storage: Storage
) -> Path | None:
    """Write an attachment's bytes into ``storage`` and record that they are there.

    Returns the file written (synced) for the directory, None for the
    database, whose chunk rows are added to the session. The bytes are not
    removed from where they were: see :func:`forget`.
    """
    attachment.stored_in = storage
    if storage is Storage.DIRECTORY:
        path = storage_dir() / attachment.stored_name
        _write_durably(path, data)
        return path
    session.flush()  # the row's id, which the chunks point at
    session.execute(
        delete(AttachmentChunk).where(AttachmentChunk.attachment_id == attachment.id)
    )
    session.add_all(
        AttachmentChunk(
            attachment_id=attachment.id,
            seq=seq,
            data=data[start : start + CHUNK_SIZE],
        )
        for seq, start in enumerate(range(0, len(data), CHUNK_SIZE))
    )
    session.flush()
    return None


def chunks(session: DbSession, attachment: Attachment) -> Iterator[bytes]:
    """Yield an attachment's bytes from wherever they are, CHUNK_SIZE at a time.

    Only one slice is in memory at once. Raises :class:`MissingFile` when
    the bytes are not there (before yielding anything).
    """
    if attachment.stored_in is Storage.DIRECTORY:
        return _file_chunks(path_of(attachment))
    return _row_chunks(session, attachment.id)


def _file_chunks(path: Path) -> Iterator[bytes]:
    if not path.is_file():
        raise MissingFile(f"{path.name}: not in the attachment folder")

    def read() -> Iterator[bytes]:
        try:
            with path.open("rb") as handle:
                while block := handle.read(CHUNK_SIZE):
                    yield block
        except FileNotFoundError as exc:  # removed since it was looked for
            raise MissingFile(f"{path.name}: not in the attachment folder") from exc

    return read()


def _row_chunks(session: DbSession, attachment_id: int) -> Iterator[bytes]:
    numbers = list(
        session.scalars(
            select(AttachmentChunk.seq)
            .where(AttachmentChunk.attachment_id == attachment_id)
            .order_by(AttachmentChunk.seq)
        )
    )
    if numbers != list(range(len(numbers))) or not numbers:
        raise MissingFile(f"attachment {attachment_id}: its chunks are not all there")

    def read() -> Iterator[bytes]:
        # One row a query: a server-side cursor would hold the connection's
        # transaction open for the whole download.
        for seq in numbers:
            data = session.scalar(
                select(AttachmentChunk.data).where(
                    AttachmentChunk.attachment_id == attachment_id,
                    AttachmentChunk.seq == seq,
                )
            )
            if data is None:
                raise MissingFile(f"attachment {attachment_id}: chunk {seq} is gone")
            yield data

    return read()


def stored_sha256(session: DbSession, attachment: Attachment) -> str | None:
    """Return the SHA-256 of the bytes as stored, or None when they are missing."""
    digest = hashlib.sha256()
    try:
        for block in chunks(session, attachment):
            digest.update(block)
    except MissingFile:
        return None
    return digest.hexdigest()


def forget(session: DbSession, attachment: Attachment, storage: Storage) -> Path | None:
    """Remove an attachment's bytes from ``storage``.

    Chunk rows are deleted in the session (gone with its commit); a file's
    path is returned for the caller to :func:`discard` once it has
    committed, so that a failed commit loses nothing.
    """
    if storage is Storage.DIRECTORY:
        return path_of(attachment)
    session.execute(
        delete(AttachmentChunk).where(AttachmentChunk.attachment_id == attachment.id)
    )
    return None


def discard(paths: list[Path]) -> None:
    """Remove files whose rows were never committed."""
    for path in paths:
        path.unlink(missing_ok=True)


def path_of(attachment: Attachment) -> Path:
    """Return where an attachment's file is, or would be, in the directory."""
    return configured_dir() / attachment.stored_name


def to_move(
    session: DbSession, to: Storage, *, after: int, limit: int
) -> list[Attachment]:
    """Return the next attachments, by id after ``after``, whose bytes are not in ``to``."""
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.stored_in != to, Attachment.id > after)
            .order_by(Attachment.id)
            .limit(limit)
        )
    )


def move(session: DbSession, attachment: Attachment, to: Storage) -> Path | None:
    """Copy an attachment's bytes into ``to``, checked, and let go of the old copy.

    The bytes are read whole (a file is at most ATTACHMENT_MAX_BYTES), their
    SHA-256 checked against the row before and after the copy. Returns the
    old file for the caller to :func:`discard` after it commits (old chunk
    rows go with the commit). Raises :class:`MissingFile` or
    :class:`DamagedFile`, leaving the row where it was; on that error the
    caller rolls back and discards :func:`path_of` if ``to`` is the directory.
    """
    source = attachment.stored_in
    data = b"".join(chunks(session, attachment))
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise DamagedFile(f"attachment {attachment.id}: its bytes differ from its hash")
    put(session, attachment, data, to)
    if stored_sha256(session, attachment) != attachment.sha256:
        raise DamagedFile(f"attachment {attachment.id}: the copy differs from its hash")
    return forget(session, attachment, source)


def leftover_files(session: DbSession) -> list[Path]:
    """Return files still on disk for attachments whose checked bytes are in the database.

    A move that stopped between its commit and removing the old file leaves
    one behind; the database copy is checked before the file is named.
    """
    found = []
    stored = session.scalars(
        select(Attachment).where(Attachment.stored_in == Storage.DATABASE)
    )
    for attachment in stored:
        path = path_of(attachment)
        if path.is_file() and stored_sha256(session, attachment) == attachment.sha256:
            found.append(path)
    return found
