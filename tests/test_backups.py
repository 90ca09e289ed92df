"""Backups: a round trip through `backup create` and `backup restore`, its refusals, its permissions."""

import io
import json
import math
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import stamp
from helpers import base_config
from helpers import read_receipt
from helpers import share_compiled_templates
from sqlalchemy import create_engine
from sqlalchemy import inspect
from sqlalchemy import make_url
from sqlalchemy import select
from sqlalchemy import text

from feedback import create_app
from feedback import database_uri
from feedback import demo
from feedback import PROJECT_ROOT
from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import Storage
from feedback.services import attachments
from feedback.services import backups

MIGRATIONS = str(PROJECT_ROOT / "migrations")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Larger than one chunk, so that it is stored in several rows.
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(attachments.CHUNK_SIZE + 1000)
LEAD = {"email": "lead@meijiang-edu.example", "password": "demo-lead-pass"}


def _app(tmp_path: Path, database_url: str, **overrides: object) -> Flask:
    """An app on ``database_url`` that leaves its tables as they are."""
    return share_compiled_templates(
        create_app(base_config(tmp_path, database_url, **overrides))
    )


def _dispose(*apps: Flask) -> None:
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def target(tmp_path: Path, database_url: str) -> Iterator[str]:
    """The URL of an empty database to restore into: a new SQLite file, or a new database."""
    if not database_url:
        yield f"sqlite:///{tmp_path / 'restored' / 'feedback.sqlite'}"
        return
    for client in ("pg_dump", "pg_restore"):
        if shutil.which(client) is None:
            pytest.skip(
                f"{client} is not on PATH: install Debian's postgresql-client "
                "of the server's major version (postgresql brings it)"
            )
    url = make_url(database_url)
    name = f"{url.database}_restore"
    admin = create_engine(database_uri(database_url, PROJECT_ROOT))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.exec_driver_sql(
            f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"
        )
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def _submit(app: Flask, key: str, files: list[tuple[str, bytes]]) -> str:
    """Hand in a submission through the public form; return its access code."""
    response = app.test_client().post(
        "/submit",
        data={
            "kind": "complaint",
            "subject": f"食堂价格 {key}",
            "body": "学校食堂饭菜价格偏高。",
            "identity": "real_name",
            "name": "钱七",
            "email": "qianqi@example.com",
            "idempotency_key": f"backup-form-key-{key}",
            "attachments": [(io.BytesIO(data), name) for name, data in files],
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return read_receipt(response.get_data(as_text=True))[1]


def _flask(app: Flask, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``flask --app app ARGS`` in a process of its own, with ``app``'s settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACK_")}
    for key in (
        "DATABASE_URL",
        "SECRET_KEY",
        "ATTACHMENT_DIR",
        "ATTACHMENT_STORAGE",
        "TESTING",
    ):
        environment[f"FEEDBACK_{key}"] = json.dumps(app.config[key])
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _tables(app: Flask) -> list[str]:
    with app.app_context():
        return inspect(db.engine).get_table_names()


@pytest.mark.parametrize("restore_into", list(Storage))
def test_a_backup_restores_into_an_empty_database_with_every_row_and_file(
    make_app, tmp_path, database_url, target, restore_into
):
    source = make_app(ATTACHMENT_STORAGE="directory")
    with source.app_context():
        demo.load(db.session)
        db.session.commit()
        stamp(directory=MIGRATIONS)  # alembic_version, as a migrated database has
    code = _submit(source, "0001", [("照片.jpg", JPEG), ("说明.pdf", PDF)])
    in_database = _app(tmp_path, database_url, ATTACHMENT_STORAGE="database")
    _submit(in_database, "0002", [("图.png", PNG)])
    restored = _app(
        tmp_path / "restored",
        target,
        ATTACHMENT_STORAGE=restore_into.value,
        ATTACHMENT_DIR=str(tmp_path / "restored-files"),
    )
    try:
        with source.app_context():
            counts = backups.count_rows(db.engine)
            sent = {
                a.id: (a.stored_in, a.size)
                for a in db.session.scalars(select(Attachment))
            }
        assert sorted(storage for storage, _size in sent.values()) == [
            Storage.DATABASE,
            Storage.DIRECTORY,
            Storage.DIRECTORY,
        ]
        backup = tmp_path / "backup"
        if restore_into is Storage.DIRECTORY:  # once per engine, as cron runs it
            created = _flask(source, "backup", "create", str(backup))
            assert created.returncode == 0, created.stderr
            output = created.stdout
        else:
            result = source.test_cli_runner().invoke(
                args=["backup", "create", str(backup)]
            )
            assert result.exit_code == 0, result.output
            output = result.output
        assert "holds personal data" in output
        assert "2 as files, 1 inside the database, 0 missing" in output

        modes = {
            path.relative_to(backup).as_posix(): stat.S_IMODE(path.stat().st_mode)
            for path in [backup, *backup.rglob("*")]
        }
        assert modes.pop(".") == 0o700
        assert modes.pop("attachments") == 0o700
        assert set(modes.values()) == {0o600}, modes
        engine_file = "database.sqlite" if not database_url else "database.dump"
        assert {"manifest.json", engine_file} <= set(modes)

        result = restored.test_cli_runner().invoke(
            args=["backup", "restore", str(backup)]
        )
        assert result.exit_code == 0, result.output
        assert "verified: " in result.output
        if restore_into is Storage.DIRECTORY:
            assert "attachments move --to directory" in result.output

        # The same rows, and in the chunk table the files put into it.
        chunks_added = sum(
            math.ceil(size / attachments.CHUNK_SIZE)
            for storage, size in sent.values()
            if storage is Storage.DIRECTORY and restore_into is Storage.DATABASE
        )
        with restored.app_context():
            found = backups.count_rows(db.engine)
            assert found.pop("attachment_chunks") == (
                counts.pop("attachment_chunks") + chunks_added
            )
            assert found == counts
            stored_in = {
                a.id: a.stored_in for a in db.session.scalars(select(Attachment))
            }
        assert stored_in == {
            id_: storage if storage is Storage.DATABASE else restore_into
            for id_, (storage, _size) in sent.items()
        }

        # The restored copy works: the lead signs in and downloads every
        # file as it was sent, the author tracks with the access code.
        client = restored.test_client()
        assert client.post("/auth/login", data=LEAD).status_code == 302
        uploaded = {len(JPEG): JPEG, len(PDF): PDF, len(PNG): PNG}
        for id_, (_storage, size) in sent.items():
            download = client.get(f"/staff/attachments/{id_}")
            assert download.status_code == 200
            assert download.get_data() == uploaded[size]
        tracked = restored.test_client().post("/track", data={"code": code})
        assert "食堂价格 0001" in tracked.get_data(as_text=True)

        again = restored.test_cli_runner().invoke(
            args=["backup", "restore", str(backup)]
        )
        assert again.exit_code == 1
        assert "the configured database is not empty" in again.output
        assert "a backup is restored only into an empty database" in again.output
    finally:
        _dispose(in_database, restored)
        with source.app_context(), db.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))


@pytest.fixture
def small_backup(make_app, tmp_path) -> Path:
    """A backup, made in this process, of a database with one attachment file."""
    app = make_app(ATTACHMENT_STORAGE="directory")
    with app.app_context():
        demo.load(db.session)
        db.session.commit()
    _submit(app, "0003", [("说明.pdf", PDF)])
    backup = tmp_path / "small-backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(backup)])
    assert result.exit_code == 0, result.output
    return backup


def test_a_changed_byte_is_refused_before_anything_is_written(
    small_backup, tmp_path, target
):
    (stored,) = (small_backup / "attachments").iterdir()
    data = bytearray(stored.read_bytes())
    data[-3] ^= 1
    stored.write_bytes(bytes(data))
    restored = _app(tmp_path / "restored", target)
    try:
        result = restored.test_cli_runner().invoke(
            args=["backup", "restore", str(small_backup)]
        )
        assert result.exit_code == 1
        assert f"attachments/{stored.name}: SHA-256" in result.output
        assert "nothing was restored" in result.output
        if target.startswith("sqlite"):
            assert not Path(make_url(target).database).exists()
        else:
            assert _tables(restored) == []
    finally:
        _dispose(restored)


def test_a_backup_of_another_engine_is_refused(small_backup, tmp_path, target):
    manifest = json.loads((small_backup / "manifest.json").read_text())
    made_on = manifest["engine"]
    manifest["engine"] = "postgresql" if made_on == "sqlite" else "sqlite"
    (small_backup / "manifest.json").write_text(json.dumps(manifest))
    restored = _app(tmp_path / "restored", target)
    try:
        result = restored.test_cli_runner().invoke(
            args=["backup", "restore", str(small_backup)]
        )
    finally:
        _dispose(restored)
    assert result.exit_code == 1
    assert (
        f"the backup is of a {manifest['engine']} database and the configured "
        f"database is {made_on}"
    ) in result.output


def test_a_backup_goes_into_a_new_or_empty_directory(small_backup, make_app):
    result = (
        make_app()
        .test_cli_runner()
        .invoke(args=["backup", "create", str(small_backup)])
    )
    assert result.exit_code == 1
    assert "is not an empty directory" in result.output


def test_an_attachment_whose_file_is_gone_is_named_and_the_backup_kept(
    make_app, tmp_path
):
    app = make_app(ATTACHMENT_STORAGE="directory")
    with app.app_context():
        demo.load(db.session)
        db.session.commit()
    _submit(app, "0004", [("说明.pdf", PDF)])
    with app.app_context():
        attachment = db.session.scalar(select(Attachment))
        attachments.path_of(attachment).unlink()
        lost = attachment.id
    backup = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(backup)])
    assert result.exit_code == 1
    assert f"attachments whose file was already missing: {lost}" in result.output
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["attachments"][str(lost)]["where"] == "missing"
