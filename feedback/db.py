"""Declarative base, column types, the session type, utcnow, SQLite pragmas, a database away."""

from __future__ import annotations

import contextlib
import enum
from datetime import datetime
from datetime import UTC
from typing import Any
from typing import TypeAlias

import psycopg
from sqlalchemy import DateTime
from sqlalchemy import Engine
from sqlalchemy import Enum
from sqlalchemy import event
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import registry
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Services take the session from their caller: views and CLI commands pass
# Flask-SQLAlchemy's ``db.session``, a ``scoped_session`` that proxies the
# request's session, while tests and scripts may pass a plain ``Session``.
# ``scoped_session`` is invariant in its parameter, so ``scoped_session[Session]``
# would refuse Flask-SQLAlchemy's ``scoped_session[flask_sqlalchemy.session.Session]``;
# ``Any`` accepts it, and the methods services call (add, flush, execute,
# scalar, scalars, get, delete) are typed alike on both members of the union.
DbSession: TypeAlias = Session | scoped_session[Any]
"""The session a service takes: ``db.session`` or a plain ``Session``."""


# What the database, its driver or the pool raise when the server cannot be
# reached or the connection broke: wait and try again. Any other DBAPIError
# is a fault of ours.
UNREACHABLE = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


# A server that answers and refuses for good is not away: waiting will not
# mend a wrong password, a missing database or a missing table, so these are
# faults to report rather than outages to sit out. PostgreSQL gives no SQLSTATE
# for a refused connection, only libpq's message.
_REFUSED_FOR_GOOD = (
    "password authentication failed",
    "no pg_hba.conf entry",
    "does not exist",
)


def unreachable(error: BaseException) -> bool:
    """Tell whether ``error`` says the database cannot be reached just now."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, UNREACHABLE):
        return False
    orig = driver_error(error)
    # SQLite's generic SQLITE_ERROR is "no such table", a syntax error and the
    # like; busy, locked, I/O and cannot-open errors carry their own names.
    if getattr(orig, "sqlite_errorname", None) == "SQLITE_ERROR":
        return False
    if isinstance(orig, psycopg.OperationalError) and orig.sqlstate is None:
        message = str(orig)
        return not any(sign in message for sign in _REFUSED_FOR_GOOD)
    return True


def driver_error(error: BaseException) -> BaseException:
    """Return the driver's own exception behind a SQLAlchemy one, or ``error`` itself."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        return error.orig
    return error


def rollback_quietly(session: DbSession) -> None:
    """Roll back ``session``; a database that cannot be reached for it is no error.

    The pool drops a broken connection, so the next use starts afresh.
    """
    with contextlib.suppress(DBAPIError, *UNREACHABLE):
        session.rollback()


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC and always hand back aware UTC values.

    SQLite keeps no zone, so values are normalised on the way in and tagged on
    the way out; PostgreSQL gets ``timestamp with time zone``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use feedback.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_type(enum_class: type[enum.StrEnum], *, length: int = 32) -> Enum:
    """Return the column type that stores ``enum_class`` by value in a VARCHAR.

    Reading a value that is not a member raises ``LookupError``. Pass
    ``length`` where a column was a wider string before it held an enum, so
    that its DDL stays the same.
    """
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    """Base class of every model."""

    # One registry carries the naming convention and the type map, so that
    # Flask-SQLAlchemy's subclass of this base keeps both.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            datetime: UTCDateTime(),
            enum.StrEnum: enum_type(enum.StrEnum),
        },
    )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    if type(dbapi_conn).__module__ != "sqlite3":
        return
    cursor = dbapi_conn.cursor()
    for pragma in (
        "foreign_keys=ON",
        "journal_mode=WAL",
        "busy_timeout=10000",
        "synchronous=NORMAL",
    ):
        cursor.execute("PRAGMA " + pragma)
    cursor.close()
