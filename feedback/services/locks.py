"""Named locks that keep a job to one process at a time: advisory on PostgreSQL, a file on SQLite.

On PostgreSQL the lock is a session-level advisory lock held on a connection
of its own, so every machine that shares the database shares the lock, and it
goes away with the connection if the process dies. SQLite lives on one
machine, so an OS lock on a file beside the database does the same there, and
the kernel releases it when the process ends however it ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


class LockBusy(Exception):
    """Another process holds the lock and the caller chose not to wait."""


def advisory_key(name: str) -> int:
    """Return the signed 64-bit advisory-lock key PostgreSQL uses for ``name``."""
    digest = hashlib.sha256(f"feedback:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_file(engine: Engine, name: str) -> Path:
    """Return the file whose OS lock stands for ``name`` on a SQLite database."""
    database = engine.url.database
    if not database or database == ":memory:":
        raise ValueError("a lock file needs a SQLite database on disk")
    return Path(database).with_name(f"{Path(database).name}.{name}.lock")


@contextmanager
def exclusive(engine: Engine, name: str, *, wait: bool) -> Iterator[None]:
    """Hold the lock ``name`` for the ``with`` block.

    With ``wait`` the call blocks until the holder lets go; without it a held
    lock raises :class:`LockBusy` at once.
    """
    if engine.dialect.name == "postgresql":
        with _advisory(engine, advisory_key(name), wait=wait):
            yield
    else:
        with _file_lock(lock_file(engine, name), wait=wait):
            yield


@contextmanager
def _advisory(engine: Engine, key: int, *, wait: bool) -> Iterator[None]:
    with engine.connect() as connection:
        if wait:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        elif not connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
        ):
            raise LockBusy
        connection.commit()
        try:
            yield
        finally:
            # A connection lost meanwhile took the lock with it.
            with contextlib.suppress(DBAPIError):
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": key}
                )
                connection.commit()


@contextmanager
def _file_lock(path: Path, *, wait: bool) -> Iterator[None]:
    with path.open("a") as handle:
        flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError as exc:
            raise LockBusy from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
