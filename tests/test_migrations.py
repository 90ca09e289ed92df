"""The schema is created by migrating, on SQLite and on PostgreSQL, and matches the models."""

from flask_migrate import downgrade
from flask_migrate import upgrade
from helpers import base_config
from helpers import reset_schema
from sqlalchemy import inspect

from feedback import create_app
from feedback import PROJECT_ROOT
from feedback.extensions import db

MIGRATIONS = str(PROJECT_ROOT / "migrations")


def test_upgrade_from_empty_matches_models_then_downgrades(tmp_path, database_url):
    app = create_app(base_config(tmp_path))
    runner = app.test_cli_runner()
    with app.app_context():
        reset_schema()
        try:
            upgrade(directory=MIGRATIONS)
            tables = set(inspect(db.engine).get_table_names())
            assert set(db.metadata.tables) <= tables
            check = runner.invoke(args=["db", "check"])
            assert check.exit_code == 0, check.output

            demo_result = runner.invoke(args=["demo", "load"])
            assert demo_result.exit_code == 0, demo_result.output
            assert client_board_has_18_problems(app)
            db.session.remove()  # the request shared this app context's session

            downgrade(directory=MIGRATIONS, revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        finally:
            db.session.remove()
            reset_schema()
            db.engine.dispose()


def client_board_has_18_problems(app):
    html = app.test_client().get("/").get_data(as_text=True)
    return html.count('class="problem"') == 18
