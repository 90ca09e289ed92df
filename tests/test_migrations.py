"""The schema is created by migrating, on SQLite and on PostgreSQL, and matches the models."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from click.testing import Result
from flask import Flask
from flask_migrate import downgrade
from flask_migrate import upgrade
from helpers import base_config
from helpers import reset_schema
from sqlalchemy import inspect
from sqlalchemy import text

from feedback import create_app
from feedback import PROJECT_ROOT
from feedback.db import utcnow
from feedback.extensions import db

MIGRATIONS = str(PROJECT_ROOT / "migrations")

# What ebf80076dbe2 gained after databases had already run it (commit
# 4d78624 lacked them); the revision after f27d77343854 repairs them.
LATE_COLUMNS = [("events", "before"), ("events", "after")]
LATE_INDEXES = [
    ("replies", "ix_replies_published_at"),
    ("submissions", "ix_submissions_pending_received"),
    ("submissions", "ix_submissions_rating_received"),
]


@pytest.fixture
def migrating_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """An app whose database starts empty, with its context pushed."""
    app = create_app(base_config(tmp_path, database_url))
    with app.app_context():
        reset_schema()
        try:
            yield app
        finally:
            db.session.remove()
            reset_schema()
            db.engine.dispose()


def test_upgrade_from_empty_matches_models_then_downgrades(
    migrating_app: Flask,
) -> None:
    app = migrating_app
    runner = app.test_cli_runner()
    upgrade(directory=MIGRATIONS)
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    check = db_check(app)
    assert check.exit_code == 0, check.output

    demo_result = runner.invoke(args=["demo", "load"])
    assert demo_result.exit_code == 0, demo_result.output
    assert client_board_has_18_problems(app)
    db.session.remove()  # the request shared this app context's session

    downgrade(directory=MIGRATIONS, revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


@pytest.mark.parametrize(
    ("columns", "indexes"),
    [
        (LATE_COLUMNS, LATE_INDEXES),
        (LATE_COLUMNS[:1], LATE_INDEXES[2:]),
    ],
    ids=["as-first-released", "partly-repaired"],
)
def test_upgrade_repairs_a_database_that_ran_the_first_ebf80076dbe2(
    migrating_app: Flask,
    columns: list[tuple[str, str]],
    indexes: list[tuple[str, str]],
) -> None:
    upgrade(directory=MIGRATIONS, revision="ebf80076dbe2")
    # The first version of ebf80076dbe2 was today's without these.
    with db.engine.begin() as connection:
        operations = Operations(MigrationContext.configure(connection))
        for table, index in indexes:
            operations.drop_index(index, table_name=table)
        for table, column in columns:
            operations.drop_column(table, column)
    upgrade(directory=MIGRATIONS, revision="f27d77343854")
    assert db_check(migrating_app).exit_code != 0

    upgrade(directory=MIGRATIONS)

    schema = inspect(db.engine)
    for table, column in LATE_COLUMNS:
        assert column in {c["name"] for c in schema.get_columns(table)}, column
    for table, index in LATE_INDEXES:
        assert index in {i["name"] for i in schema.get_indexes(table)}, index
    check = db_check(migrating_app)
    assert check.exit_code == 0, check.output


def test_the_repair_leaves_a_complete_database_as_it_is(
    migrating_app: Flask,
) -> None:
    upgrade(directory=MIGRATIONS, revision="f27d77343854")
    before = tables_described()

    upgrade(directory=MIGRATIONS, revision="d0cf0f992aa7")

    assert tables_described() == before
    upgrade(directory=MIGRATIONS)
    check = db_check(migrating_app)
    assert check.exit_code == 0, check.output


def tables_described() -> dict[str, object]:
    """Columns (name, type, nullability, default) and indexes of every table."""
    schema = inspect(db.engine)
    return {
        table: (
            [
                (c["name"], str(c["type"]), c["nullable"], c["default"])
                for c in schema.get_columns(table)
            ],
            sorted((i["name"], i["column_names"]) for i in schema.get_indexes(table)),
        )
        for table in schema.get_table_names()
        if table != "alembic_version"
    }


def db_check(app: Flask) -> Result:
    """Run `flask db check`: exit 0 when the database matches the models."""
    return app.test_cli_runner().invoke(args=["db", "check"])


def client_board_has_18_problems(app):
    html = app.test_client().get("/").get_data(as_text=True)
    return html.count('class="problem"') == 18


def test_upgrade_folds_line_breaks_in_headers_of_unsent_mail(
    migrating_app: Flask,
) -> None:
    upgrade(directory=MIGRATIONS, revision="d0cf0f992aa7")
    rows = {"pending": "a\r\nb", "failed": "c\nd", "sent": "e\nf"}
    with db.engine.begin() as connection:
        for number, (state, subject) in enumerate(rows.items()):
            connection.execute(
                text(
                    "INSERT INTO outbox_messages (state, template, recipient,"
                    " subject, body_text, body_html, message_id,"
                    " redact_after_send, attempts, next_attempt_at, created_at)"
                    " VALUES (:state, 'receipt', 'a@example.org', :subject, '',"
                    " '', :message_id, false, 0, :now, :now)"
                ),
                {
                    "state": state,
                    "subject": subject,
                    "message_id": f"<{number}@example.org>",
                    "now": utcnow(),
                },
            )

    upgrade(directory=MIGRATIONS)

    with db.engine.connect() as connection:
        found = {
            state: subject
            for state, subject in connection.execute(
                text("SELECT state, subject FROM outbox_messages")
            )
        }
        failed_at = connection.scalar(
            text("SELECT failed_at FROM outbox_messages WHERE state = 'failed'")
        )
    # Sent mail is history and stays as it went out.
    assert found == {"pending": "a b", "failed": "c d", "sent": "e\nf"}
    assert failed_at is not None


def test_two_nodes_upgrading_at_once_migrate_once(migrating_app: Flask) -> None:
    """Both exit 0 at the head: one ran the revisions, the other waited, then had none to run."""
    url = migrating_app.config["DATABASE_URL"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACK_")}
    env.update(
        FEEDBACK_DATABASE_URL=json.dumps(url),
        FEEDBACK_SECRET_KEY=json.dumps("migration-test"),
        FEEDBACK_DEBUG="true",
        FEEDBACK_LOG_FORMAT=json.dumps("text"),
    )
    command = [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"]
    nodes = [
        subprocess.Popen(  # noqa: S603 - our own command
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [node.communicate(timeout=120)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs
    revisions = len(list(ScriptDirectory(MIGRATIONS).walk_revisions()))
    ran = sorted(output.count("Running upgrade") for output in outputs)
    assert ran == [0, revisions], outputs
    head = ScriptDirectory(MIGRATIONS).get_current_head()
    with db.engine.connect() as connection:
        assert (
            connection.scalar(text("SELECT version_num FROM alembic_version")) == head
        )
