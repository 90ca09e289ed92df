"""The factory: configuration order, the secret-key refusal, database URLs."""

from pathlib import Path

import pytest

from feedback import create_app
from feedback import database_uri


def test_refuses_default_secret_key_outside_debug(monkeypatch, tmp_path):
    monkeypatch.setattr("feedback.PROJECT_ROOT", tmp_path)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})


def test_starts_in_testing_with_default_key(tmp_path):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"}
    )
    assert app.testing


def test_environment_overrides_instance_config(monkeypatch, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        "SECRET_KEY = 'from-file'\nSITE_NAME = 'from file'\nREPLY_DAYS = 45\n"
    )
    monkeypatch.setattr("feedback.PROJECT_ROOT", tmp_path)
    monkeypatch.setenv("FEEDBACK_SITE_NAME", "from env")
    monkeypatch.setenv("FEEDBACK_DATABASE_URL", f"sqlite:///{tmp_path / 'e.sqlite'}")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["SITE_NAME"] == "from env"
    assert app.config["REPLY_DAYS"] == 45
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("e.sqlite")


def test_instance_path_in_the_environment_names_another_folder(monkeypatch, tmp_path):
    elsewhere = tmp_path / "node-b"
    elsewhere.mkdir()
    (elsewhere / "config.py").write_text("SECRET_KEY = 'node-b-file'\n")
    monkeypatch.setattr("feedback.PROJECT_ROOT", tmp_path / "checkout")
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(elsewhere))
    monkeypatch.delenv("FEEDBACK_DATABASE_URL", raising=False)
    app = create_app()
    assert Path(app.instance_path) == elsewhere
    assert app.config["SECRET_KEY"] == "node-b-file"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{elsewhere / 'feedback.sqlite'}"
    )
    assert not (tmp_path / "checkout").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/a.sqlite", "sqlite:////tmp/a.sqlite"),
    ],
)
def test_database_uri_maps_plain_postgresql(url, expected):
    assert database_uri(url, Path("/x")) == expected


def test_database_uri_defaults_to_sqlite_in_instance():
    assert database_uri("", Path("/srv/app/instance")) == (
        "sqlite:////srv/app/instance/feedback.sqlite"
    )
