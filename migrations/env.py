"""Alembic environment: run migrations with the Flask app's engine and metadata."""

import contextlib
import logging
from logging.config import fileConfig
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from flask import current_app
from sqlalchemy.types import TypeDecorator

from feedback.services.locks import exclusive

config = context.config
# Tests and the quick start configure logging themselves; don't reset it.
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
# Whoever upgrades sees each revision run ("Running upgrade a -> b"), unless
# the caller chose otherwise (the quick start's console is for its URLs).
migration_log = logging.getLogger("alembic.runtime.migration")
if migration_log.level == logging.NOTSET:
    migration_log.setLevel(logging.INFO)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
engine = target_db.engine
config.set_main_option(
    "sqlalchemy.url",
    engine.url.render_as_string(hide_password=False).replace("%", "%%"),
)


def render_app_type(
    kind: str, obj: object, autogen_context: AutogenContext
) -> str | Literal[False]:
    """Write the app's own column types as the SQLAlchemy type they wrap.

    A revision that imported the app would change, or stop loading, whenever
    the app's types do; the wrapped type gives the same DDL.
    """
    if (
        kind == "type"
        and isinstance(obj, TypeDecorator)
        and not type(obj).__module__.startswith("sqlalchemy.")
        and type(obj.impl_instance).__module__ == "sqlalchemy.sql.sqltypes"
    ):
        return f"sa.{obj.impl_instance!r}"
    return False


def run_migrations_offline() -> None:
    """Write the SQL of the migrations instead of running them."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def one_migration_at_a_time() -> contextlib.AbstractContextManager[None]:
    """Hold the migration lock: every machine that shares the database shares it.

    Nodes upgraded together each run ``db upgrade``; the first migrates while
    the others wait, then find the schema at the head and do nothing. A
    SQLite database in memory belongs to one process and needs no lock.
    """
    if engine.dialect.name == "sqlite" and engine.url.database in (
        None,
        "",
        ":memory:",
    ):
        return contextlib.nullcontext()
    return exclusive(engine, "schema-migration", wait=True)


def run_migrations_online() -> None:
    """Run the migrations on a connection from the app's engine."""

    def skip_empty_revision(context, revision, directives) -> None:
        # `flask db migrate` with no schema change writes no empty revision.
        if (
            getattr(config.cmd_opts, "autogenerate", False)
            and directives[0].upgrade_ops.is_empty()
        ):
            directives[:] = []
            logger.info("No changes in schema detected.")

    configure_args = dict(current_app.extensions["migrate"].configure_args)
    configure_args.setdefault("process_revision_directives", skip_empty_revision)
    configure_args.setdefault("render_item", render_app_type)
    with one_migration_at_a_time(), engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild tables that others point at; SQLite
            # checks the keys again when they are switched back on.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection, target_metadata=target_db.metadata, **configure_args
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
