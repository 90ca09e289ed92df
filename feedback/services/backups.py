"""Backups: a consistent snapshot of the database and the attachment files, and its checked restore.

A backup is a directory, owner-only (0700, its files 0600), because it holds
everything the database holds, personal data included:

- ``database.sqlite`` (SQLite, written by its online backup API) or
  ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``);
- ``attachments/<stored_name>``: the files of attachments stored in the
  attachment directory; attachments stored in the database are chunk rows
  inside the database file or dump and are not repeated;
- ``manifest.json``, written last and atomically, so a directory without it
  is visibly a backup that did not finish: the engine, the schema revision,
  the row count of every table, the SHA-256 and size of every file, and for
  every attachment its SHA-256 (from its row) and where the backup keeps it.

Counts, files and database are one instant. On PostgreSQL the counts are
taken in a REPEATABLE READ transaction whose snapshot ``pg_dump --snapshot``
dumps while the transaction stays open; on SQLite they are read from the
copy itself. The retention purge's named lock is held from the snapshot
until the last file is copied, so a purge cannot delete a file the snapshot
still lists.

A restore reads the manifest and checks every file's SHA-256 before it
touches anything, refuses a database of another engine or one that is not
empty, restores the database, puts the files into the configured storage,
and then compares every table's row count and every attachment's stored
bytes with the manifest.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import BinaryIO

from sqlalchemy import Connection
from sqlalchemy import create_engine
from sqlalchemy import Engine
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import table
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import Attachment
from feedback.models import Storage
from feedback.services import attachments
from feedback.services import DomainError
from feedback.services import locks

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
DUMP_FILE = "database.dump"
FILES_DIR = "attachments"
# docs/deploy.md: backups are kept 30 days, not longer, or they would keep
# what the retention purge removed from the database.
KEEP_DAYS = 30
# Held by `flask retention purge` from its purge to the removal of the files.
PURGE_LOCK = "retention-purge"
# Restored files are committed in batches: a crash loses at most one batch,
# and the session never holds every file's bytes at once.
BATCH_FILES = 50
BATCH_BYTES = 64 * 1024 * 1024
_READ_SIZE = 1024 * 1024
_CLIENT_PACKAGE = "postgresql-client-{major}"


class BackupError(DomainError):
    """A backup cannot be made, read or restored; the message says what and why."""


class Where(enum.StrEnum):
    """Where a backup keeps an attachment's bytes."""

    DATABASE = "database"  # chunk rows inside database.sqlite or database.dump
    FILE = "file"  # attachments/<stored_name>
    MISSING = "missing"  # the file was already gone when the backup was made


@dataclass(frozen=True)
class FileSum:
    """The SHA-256 and size of one file of a backup."""

    sha256: str
    size: int


@dataclass(frozen=True)
class Kept:
    """An attachment as the backup keeps it: its row's SHA-256 and where its bytes are."""

    sha256: str
    where: Where
    file: str | None = None  # relative path, for Where.FILE


@dataclass
class Manifest:
    """What manifest.json says: the backup's contents, to check a restore against."""

    engine: str
    created_at: str
    revisions: list[str]
    tables: dict[str, int]
    files: dict[str, FileSum] = field(default_factory=dict)
    attachments: dict[int, Kept] = field(default_factory=dict)
    tools: dict[str, str] = field(default_factory=dict)

    @property
    def database_file(self) -> str:
        return SQLITE_FILE if self.engine == "sqlite" else DUMP_FILE

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def kept(self, where: Where) -> list[int]:
        """Return the ids of the attachments kept ``where``."""
        return [id_ for id_, kept in self.attachments.items() if kept.where is where]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "created_at": self.created_at,
            "engine": self.engine,
            "schema_revisions": self.revisions,
            "tools": self.tools,
            "tables": self.tables,
            "files": {
                path: {"sha256": s.sha256, "size": s.size}
                for path, s in sorted(self.files.items())
            },
            "attachments": {
                str(id_): {"sha256": k.sha256, "where": k.where.value}
                | ({"file": k.file} if k.file else {})
                for id_, k in sorted(self.attachments.items())
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """Read a manifest; raise BackupError if it is not one this code wrote."""
        if data.get("format") != FORMAT:
            raise BackupError(
                f"{MANIFEST} has format {data.get('format')!r}; "
                f"this version reads format {FORMAT}"
            )
        try:
            return cls(
                engine=str(data["engine"]),
                created_at=str(data["created_at"]),
                revisions=[str(r) for r in data["schema_revisions"]],
                tools={str(k): str(v) for k, v in data.get("tools", {}).items()},
                tables={str(k): int(v) for k, v in data["tables"].items()},
                files={
                    str(path): FileSum(str(s["sha256"]), int(s["size"]))
                    for path, s in data["files"].items()
                },
                attachments={
                    int(id_): Kept(
                        str(k["sha256"]),
                        Where(k["where"]),
                        str(k["file"]) if k.get("file") else None,
                    )
                    for id_, k in data["attachments"].items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BackupError(f"{MANIFEST} is damaged: {exc!r}") from exc


# ---- making a backup ------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    id: int
    stored_name: str
    sha256: str
    stored_in: Storage


@dataclass
class _Snapshot:
    revisions: list[str]
    tables: dict[str, int]
    rows: list[_Row]
    tools: dict[str, str] = field(default_factory=dict)


def create(engine: Engine, directory: Path) -> Manifest:
    """Write a backup of the database and its attachment files into ``directory``.

    ``directory`` must not exist or be empty. Attachments whose file is
    already missing are recorded as such (``manifest.kept(Where.MISSING)``).
    """
    made = _prepare(directory)
    try:
        with locks.exclusive(engine, PURGE_LOCK, wait=True):
            if engine.dialect.name == "postgresql":
                snapshot = _dump_postgresql(engine, directory / DUMP_FILE)
                database_file = DUMP_FILE
            else:
                snapshot = _copy_sqlite(engine, directory / SQLITE_FILE)
                database_file = SQLITE_FILE
            manifest = Manifest(
                engine=engine.dialect.name,
                created_at=utcnow().isoformat(timespec="seconds"),
                revisions=snapshot.revisions,
                tables=snapshot.tables,
                tools=snapshot.tools,
            )
            manifest.files[database_file] = _sum_of(directory / database_file)
            _copy_files(snapshot.rows, directory, manifest)
        _write_manifest(directory, manifest)
    except BaseException:
        # A backup that failed leaves no personal data behind it.
        _empty(directory)
        if made:
            directory.rmdir()
        raise
    return manifest


def _empty(directory: Path) -> None:
    for path in directory.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _prepare(directory: Path) -> bool:
    """Make ``directory`` owner-only, refusing one that holds anything; True if made."""
    made = not directory.exists()
    if not made:
        if not directory.is_dir() or any(directory.iterdir()):
            raise BackupError(
                f"{directory} exists and is not an empty directory: "
                "a backup goes into a new one"
            )
    else:
        directory.mkdir(parents=True, mode=0o700)
    directory.chmod(0o700)  # mkdir's mode is filtered by the umask
    return made


def _private_file(path: Path) -> BinaryIO:
    """Open a new file for writing that only its owner may read, whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "wb")


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _read_snapshot(connection: Connection) -> _Snapshot:
    """Count every table's rows and read the attachments' rows, in one transaction."""
    names = sorted(inspect(connection).get_table_names())
    tables = {
        name: connection.scalar(select(func.count()).select_from(table(name))) or 0
        for name in names
    }
    revisions = (
        sorted(connection.scalars(text("SELECT version_num FROM alembic_version")))
        if "alembic_version" in names
        else []
    )
    columns = Attachment.__table__.c
    rows = [
        _Row(row.id, row.stored_name, row.sha256, Storage(row.stored_in))
        for row in connection.execute(
            select(
                columns.id, columns.stored_name, columns.sha256, columns.stored_in
            ).order_by(columns.id)
        )
    ]
    return _Snapshot(revisions, tables, rows)


def _copy_sqlite(engine: Engine, target: Path) -> _Snapshot:
    """Copy the database with SQLite's online backup API and read the copy."""
    _private_file(target).close()
    with engine.connect() as connection:
        source = connection.connection.driver_connection
        assert isinstance(source, sqlite3.Connection)  # the dialect is pysqlite
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    reader = create_engine(f"sqlite:///{target}", poolclass=NullPool)
    try:
        with reader.connect() as connection:
            snapshot = _read_snapshot(connection)
    finally:
        reader.dispose()
    # One self-contained file, whatever the app's connections set: no -wal
    # or -shm beside it in the backup.
    copy = sqlite3.connect(target)
    try:
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
    return snapshot


def _dump_postgresql(engine: Engine, target: Path) -> _Snapshot:
    """Dump the database with pg_dump from the instant the counts were taken."""
    with (
        engine.connect() as plain,
        plain.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        ) as connection,
        connection.begin(),
    ):
        pg_dump = _client("pg_dump", _server_major(connection))
        snapshot_id = connection.scalar(text("SELECT pg_export_snapshot()"))
        snapshot = _read_snapshot(connection)
        # pg_dump joins the exported snapshot, which lives only as long as
        # this transaction: it stays open until the dump is written.
        _run(
            [
                pg_dump.path,
                "--format=custom",
                f"--snapshot={snapshot_id}",
                f"--file={target}",
                "--no-password",
                f"--dbname={_conninfo(engine)}",
            ],
            engine,
        )
    snapshot.tools = {"pg_dump": pg_dump.version}
    target.chmod(0o600)
    return snapshot


def _copy_files(rows: list[_Row], directory: Path, manifest: Manifest) -> None:
    """Copy the files of attachments stored in the directory into the backup."""
    folder = directory / FILES_DIR
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    for row in rows:
        if row.stored_in is Storage.DATABASE:
            manifest.attachments[row.id] = Kept(row.sha256, Where.DATABASE)
            continue
        # A name from the database never leads out of the backup directory.
        name = Path(row.stored_name).name
        relative = f"{FILES_DIR}/{name}"
        source = attachments.path_of(Attachment(id=row.id, stored_name=name))
        try:
            manifest.files[relative] = _copy_private(source, directory / relative)
        except FileNotFoundError:
            manifest.attachments[row.id] = Kept(row.sha256, Where.MISSING)
            continue
        manifest.attachments[row.id] = Kept(row.sha256, Where.FILE, relative)
    _sync_directory(folder)


def _copy_private(source: Path, target: Path) -> FileSum:
    """Copy ``source`` to a new owner-only ``target``, synced; return its sum."""
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reading, _private_file(target) as writing:
        while chunk := reading.read(_READ_SIZE):
            digest.update(chunk)
            size += len(chunk)
            writing.write(chunk)
        writing.flush()
        os.fsync(writing.fileno())
    return FileSum(digest.hexdigest(), size)


def _sum_of(path: Path) -> FileSum:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reading:
        while chunk := reading.read(_READ_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return FileSum(digest.hexdigest(), size)


def _write_manifest(directory: Path, manifest: Manifest) -> None:
    """Write manifest.json whole or not at all: it marks the backup complete."""
    temporary = directory / f"{MANIFEST}.part"
    with _private_file(temporary) as handle:
        handle.write(json.dumps(manifest.to_json(), indent=2).encode())
        handle.flush()
        os.fsync(handle.fileno())
    temporary.rename(directory / MANIFEST)
    _sync_directory(directory)


# ---- pg_dump and pg_restore -----------------------------------------------------


@dataclass(frozen=True)
class _Client:
    path: str
    version: str


def _server_major(connection: Connection) -> int:
    return int(connection.scalar(text("SHOW server_version_num")) or 0) // 10000


def _client(name: str, server_major: int) -> _Client:
    """Find ``name`` (pg_dump, pg_restore) on PATH, at least the server's version."""
    package = _CLIENT_PACKAGE.format(major=server_major)
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not on PATH: install Debian's {package} "
            f"(apt-get install {package})"
        )
    output = subprocess.run(  # noqa: S603 - a PostgreSQL client found on PATH
        [path, "--version"], capture_output=True, text=True, check=False
    ).stdout
    found = re.search(r"\)\s*(\d+)(\.\d+)?", output)
    if found is None:
        raise BackupError(f"cannot read the version of {path}: {output.strip()!r}")
    if int(found.group(1)) < server_major:
        raise BackupError(
            f"{path} is version {found.group(1)}, older than the PostgreSQL "
            f"{server_major} server: install Debian's {package} "
            f"(apt-get install {package})"
        )
    return _Client(path, found.group(0).lstrip(") \t"))


def _conninfo(engine: Engine) -> str:
    """Return the database URL for libpq, without its password (never on a command line)."""
    return engine.url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False
    )


def _run(command: list[str], engine: Engine) -> None:
    """Run a PostgreSQL client with the URL's password in its environment only."""
    environment = dict(os.environ)
    if engine.url.password is not None:
        environment["PGPASSWORD"] = str(engine.url.password)
    done = subprocess.run(  # noqa: S603 - our own arguments, no shell
        command,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        umask=0o077,
    )
    if done.returncode != 0:
        name = Path(command[0]).name
        raise BackupError(f"{name} failed ({done.returncode}): {done.stderr.strip()}")


# ---- restoring ------------------------------------------------------------------


def read(directory: Path) -> Manifest:
    """Read the backup's manifest.json; check the files with ``check_files``."""
    try:
        data = json.loads((directory / MANIFEST).read_bytes())
    except FileNotFoundError as exc:
        raise BackupError(
            f"{directory / MANIFEST} is missing: not a backup, "
            "or one that did not finish"
        ) from exc
    except (OSError, ValueError) as exc:
        raise BackupError(f"{directory / MANIFEST} cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise BackupError(f"{directory / MANIFEST} is damaged: not an object")
    manifest = Manifest.from_json(data)
    if manifest.engine not in {"sqlite", "postgresql"}:
        raise BackupError(f"{MANIFEST} names an unknown engine {manifest.engine!r}")
    return manifest


def check_files(directory: Path, manifest: Manifest) -> None:
    """Check that every file the manifest lists is there with its SHA-256 and size."""
    listed = set(manifest.files)
    needed = {manifest.database_file} | {
        kept.file for kept in manifest.attachments.values() if kept.file
    }
    bad = [f"{path}: not listed in {MANIFEST}" for path in sorted(needed - listed)]
    for path, expected in sorted(manifest.files.items()):
        bad += _check_file(directory, path, expected)
    if bad:
        raise BackupError(
            "the backup is damaged, nothing was restored:\n  " + "\n  ".join(bad)
        )


def _check_file(directory: Path, relative: str, expected: FileSum) -> list[str]:
    path = directory / relative
    if ".." in Path(relative).parts or Path(relative).is_absolute():
        return [f"{relative}: a path outside the backup"]
    try:
        found = _sum_of(path)
    except FileNotFoundError:
        return [f"{relative}: missing"]
    if found != expected:
        return [
            f"{relative}: SHA-256 {found.sha256[:12]}… ({found.size} bytes), "
            f"the manifest says {expected.sha256[:12]}… ({expected.size} bytes)"
        ]
    return []


def check_target(engine: Engine, manifest: Manifest) -> None:
    """Refuse a database of another engine than the backup's, or one that is not empty."""
    engine_name = engine.dialect.name
    if manifest.engine != engine_name:
        raise BackupError(
            f"the backup is of a {manifest.engine} database and the configured "
            f"database is {engine_name}: restore it into a {manifest.engine} database"
        )
    if engine_name == "sqlite":
        path = _sqlite_path(engine)
        if not path.exists() or path.stat().st_size == 0:
            return
    with engine.connect() as connection:
        names = sorted(inspect(connection).get_table_names())
        if engine_name == "postgresql":
            _client("pg_restore", _server_major(connection))
    engine.dispose()
    if names:
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise BackupError(
            f"the configured database is not empty ({len(names)} tables: {shown}): "
            "a backup is restored only into an empty database"
        )


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("the configured SQLite database is not a file")
    return Path(database)


def restore_database(engine: Engine, directory: Path, manifest: Manifest) -> None:
    """Restore the backup's database into the configured (empty) one."""
    if manifest.engine == "sqlite":
        _put_sqlite(engine, directory / SQLITE_FILE)
    else:
        _run(
            [
                _pg_restore(engine),
                "--no-owner",  # the restoring role may not be the one that dumped
                "--no-privileges",
                "--exit-on-error",
                # A failure leaves the database as empty as it was, to try again.
                "--single-transaction",
                "--no-password",
                f"--dbname={_conninfo(engine)}",
                str(directory / DUMP_FILE),
            ],
            engine,
        )
    engine.dispose()  # no pooled connection saw the database before it


def _pg_restore(engine: Engine) -> str:
    with engine.connect() as connection:
        return _client("pg_restore", _server_major(connection)).path


def _put_sqlite(engine: Engine, source: Path) -> None:
    """Copy the backup's file into place whole, or leave the target as it was."""
    target = _sqlite_path(engine)
    target.parent.mkdir(parents=True, exist_ok=True)
    engine.dispose()
    temporary = target.with_name(f"{target.name}.restoring")
    temporary.unlink(missing_ok=True)
    _copy_private(source, temporary)
    # The empty database's write-ahead log would be replayed into the copy.
    for suffix in ("-wal", "-shm", "-journal"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    temporary.replace(target)
    _sync_directory(target.parent)


def count_rows(engine: Engine) -> dict[str, int]:
    """Return the row count of every table of the database."""
    with engine.connect() as connection:
        return _read_tables(connection)


def _read_tables(connection: Connection) -> dict[str, int]:
    return {
        name: connection.scalar(select(func.count()).select_from(table(name))) or 0
        for name in sorted(inspect(connection).get_table_names())
    }


def compare_counts(manifest: Manifest, counts: Mapping[str, int]) -> list[str]:
    """Return what differs between the manifest's row counts and ``counts``."""
    differences = []
    for name in sorted(set(manifest.tables) | set(counts)):
        expected, found = manifest.tables.get(name), counts.get(name)
        if expected != found:
            differences.append(
                f"table {name}: {'no table' if found is None else f'{found} rows'}, "
                f"the manifest says "
                f"{'no table' if expected is None else f'{expected} rows'}"
            )
    return differences


def restore_files(
    session: DbSession, directory: Path, manifest: Manifest, storage: Storage
) -> Iterator[int]:
    """Put the backup's attachment files into ``storage``, a batch at a time.

    After each batch it yields how many files are in so far; the caller
    commits there. Attachments the backup kept inside the database came
    back with it and stay where they are.
    """
    done = 0
    batch_bytes = 0
    for id_ in manifest.kept(Where.FILE):
        kept = manifest.attachments[id_]
        attachment = session.get(Attachment, id_)
        if attachment is None or kept.file is None:
            continue  # verify() names it
        data = (directory / kept.file).read_bytes()
        attachments.put(session, attachment, data, storage)
        done += 1
        batch_bytes += len(data)
        if done % BATCH_FILES == 0 or batch_bytes >= BATCH_BYTES:
            session.flush()
            yield done
            session.expunge_all()
            batch_bytes = 0
    session.flush()
    yield done


def check_attachments(session: DbSession, manifest: Manifest) -> list[str]:
    """Return the attachments whose stored bytes differ from the backup's SHA-256."""
    differences = []
    for id_, kept in sorted(manifest.attachments.items()):
        if kept.where is Where.MISSING:
            continue  # nothing to restore: the file was gone when the backup was made
        attachment = session.get(Attachment, id_)
        if attachment is None:
            differences.append(f"attachment {id_}: no row in the restored database")
            continue
        stored = attachments.stored_sha256(session, attachment)
        if stored != kept.sha256 or attachment.sha256 != kept.sha256:
            differences.append(
                f"attachment {id_} ({attachment.stored_name}): "
                + ("no stored bytes" if stored is None else f"stored {stored[:12]}…")
                + f", the manifest says {kept.sha256[:12]}…"
            )
        session.expunge(attachment)
    return differences
