"""Attachments kept in the database or the directory: stored, streamed back, moved, purged."""

import hashlib
import io
import os
from datetime import datetime
from datetime import UTC

import pytest
from helpers import base_config
from helpers import read_receipt
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from feedback import create_app
from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import AttachmentChunk
from feedback.models import Storage
from feedback.models import Submission
from feedback.services import attachments
from feedback.services import retention

# A PNG (as the form checks it: by its first bytes) of a little over two
# chunks, so that a file spans several rows; and a small PDF of one.
BIG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * (2 * attachments.CHUNK_SIZE // 256 + 7)
SMALL = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"


def _submit(client, *files):
    """Submit with ``files``; return the access code."""
    builder = EnvironBuilder(
        path="/submit",
        method="POST",
        data={
            "kind": "complaint",
            "subject": "食堂卫生",
            "body": "附照片。",
            "identity": "anonymous",
            "attachments": [(io.BytesIO(data), name) for name, data in files],
        },
    )
    environ = builder.get_environ()
    try:
        response = client.open(environ)
    finally:
        # Werkzeug's test client spools a large body to a temporary file
        # that nobody closes; the app closes its own copies.
        builder.close()
        environ["wsgi.input"].close()
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return read_receipt(response.get_data(as_text=True))[1]


def _download(client, attachment_id, code):
    """Download as the author does, the body kept as the pieces it came in."""
    response = client.post(
        f"/track/attachments/{attachment_id}", data={"code": code}, buffered=False
    )
    pieces = list(response.response)
    response.close()
    return response, pieces


def test_files_in_the_database_are_chunked_and_streamed_back(make_app):
    app = make_app(ATTACHMENT_STORAGE="database")
    client = app.test_client()
    code = _submit(client, ("照片.png", BIG), ("说明.pdf", SMALL))
    with app.app_context():
        big, small = db.session.scalars(select(Attachment).order_by(Attachment.id))
        assert (big.stored_in, small.stored_in) == (Storage.DATABASE,) * 2
        sizes = db.session.execute(
            select(AttachmentChunk.seq, func.length(AttachmentChunk.data))
            .where(AttachmentChunk.attachment_id == big.id)
            .order_by(AttachmentChunk.seq)
        ).all()
        big_id, small_id = big.id, small.id
    # Two whole chunks and the rest; nothing written to the folder.
    assert sizes == [
        (0, attachments.CHUNK_SIZE),
        (1, attachments.CHUNK_SIZE),
        (2, len(BIG) - 2 * attachments.CHUNK_SIZE),
    ]
    folder = app.config["ATTACHMENT_DIR"]
    assert not os.path.exists(folder) or os.listdir(folder) == []

    response, pieces = _download(client, big_id, code)
    assert response.status_code == 200
    assert response.content_length == len(BIG)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]
    # Sent a chunk at a time, never as one body.
    assert [len(piece) for piece in pieces] == [size for _seq, size in sizes]
    assert b"".join(pieces) == BIG
    assert b"".join(_download(client, small_id, code)[1]) == SMALL


def test_a_file_stored_in_the_directory_still_downloads_after_the_switch(
    make_app, tmp_path, database_url
):
    before = make_app()
    code = _submit(before.test_client(), ("说明.pdf", SMALL))
    # The same site restarted with the database as its storage.
    after = create_app(
        base_config(tmp_path, database_url, ATTACHMENT_STORAGE="database")
    )
    with after.app_context():
        attachment = db.session.scalar(select(Attachment))
        assert attachment.stored_in is Storage.DIRECTORY
        attachment_id = attachment.id
        db.session.remove()
    response, pieces = _download(after.test_client(), attachment_id, code)
    with after.app_context():
        db.engine.dispose()
    assert response.status_code == 200
    assert b"".join(pieces) == SMALL


def test_bytes_that_are_gone_give_404_not_500(make_app):
    app = make_app(ATTACHMENT_STORAGE="database")
    client = app.test_client()
    code = _submit(client, ("照片.png", BIG))
    with app.app_context():
        attachment = db.session.scalar(select(Attachment))
        attachments.forget(db.session, attachment, Storage.DATABASE)
        db.session.commit()
        attachment_id = attachment.id
    response, _pieces = _download(client, attachment_id, code)
    assert response.status_code == 404


def test_an_unknown_storage_stops_the_service_at_start_up(tmp_path):
    with pytest.raises(RuntimeError, match="ATTACHMENT_STORAGE must be"):
        create_app(base_config(tmp_path, "", ATTACHMENT_STORAGE="s3"))


@pytest.mark.parametrize("storage", list(Storage))
def test_the_purge_removes_the_bytes_wherever_they_are(make_app, storage):
    app = make_app(ATTACHMENT_STORAGE=storage.value)
    _submit(app.test_client(), ("照片.png", BIG))
    with app.app_context():
        attachment = db.session.scalar(select(Attachment))
        path = attachments.path_of(attachment)
        submission = db.session.get(Submission, attachment.submission_id)
        assert retention.purge(db.session, submission, datetime.now(UTC)) == 1
        db.session.commit()
        retention.remove_files(db.session)
        assert db.session.scalar(select(func.count()).select_from(AttachmentChunk)) == 0
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert not path.exists()


def _storages(app):
    with app.app_context():
        rows = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
        found = [
            (row.stored_in, attachments.stored_sha256(db.session, row)) for row in rows
        ]
        db.session.remove()
        return found


def test_move_goes_both_ways_checked_and_resumes(make_app):
    app = make_app()
    client = app.test_client()
    _submit(client, ("照片.png", BIG), ("说明.pdf", SMALL))
    _submit(client, ("另一张.png", BIG[:-1] + b"!"))
    hashes = [
        hashlib.sha256(data).hexdigest() for data in (BIG, SMALL, BIG[:-1] + b"!")
    ]
    folder = app.config["ATTACHMENT_DIR"]
    assert len(os.listdir(folder)) == 3
    runner = app.test_cli_runner()

    to_db = runner.invoke(args=["attachments", "move", "--to", "database"])
    assert to_db.exit_code == 0, to_db.output
    assert "moved=3 left=0" in to_db.output
    assert _storages(app) == [(Storage.DATABASE, h) for h in hashes]
    assert os.listdir(folder) == []

    # Halfway back, then stopped: the second run goes on from there.
    with app.app_context():
        first = db.session.scalar(select(Attachment).order_by(Attachment.id))
        old = attachments.move(db.session, first, Storage.DIRECTORY)
        db.session.commit()
        assert old is None  # chunk rows went with the commit
    back = runner.invoke(args=["attachments", "move", "--to", "directory"])
    assert back.exit_code == 0, back.output
    assert "moved=2 left=0" in back.output
    assert _storages(app) == [(Storage.DIRECTORY, h) for h in hashes]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AttachmentChunk)) == 0
    assert len(os.listdir(folder)) == 3


def test_move_leaves_a_damaged_file_where_it_is_and_says_so(make_app):
    app = make_app()
    client = app.test_client()
    _submit(client, ("照片.png", BIG), ("说明.pdf", SMALL))
    with app.app_context():
        damaged = db.session.scalar(select(Attachment).order_by(Attachment.id))
        path = attachments.path_of(damaged)
        damaged_id = damaged.id
    path.write_bytes(BIG[:-1] + b"?")

    moved = app.test_cli_runner().invoke(
        args=["attachments", "move", "--to", "database"]
    )

    assert moved.exit_code == 1
    assert f"attachment {damaged_id}: its bytes differ from its hash" in moved.output
    assert "moved=1 left=1" in moved.output
    stored = _storages(app)
    assert stored[0] == (Storage.DIRECTORY, hashlib.sha256(BIG[:-1] + b"?").hexdigest())
    assert stored[1] == (Storage.DATABASE, hashlib.sha256(SMALL).hexdigest())
    assert path.read_bytes() == BIG[:-1] + b"?"  # the evidence stays as it was


def test_a_file_left_behind_by_a_stopped_move_is_removed_by_the_next(make_app):
    app = make_app()
    _submit(app.test_client(), ("说明.pdf", SMALL))
    with app.app_context():
        attachment = db.session.scalar(select(Attachment))
        # The move committed, then stopped before removing the old file.
        attachments.move(db.session, attachment, Storage.DATABASE)
        db.session.commit()
        path = attachments.path_of(attachment)
    assert path.exists()
    again = app.test_cli_runner().invoke(
        args=["attachments", "move", "--to", "database"]
    )
    assert again.exit_code == 0, again.output
    assert "moved=0 left=0 old files removed=1" in again.output
    assert not path.exists()
