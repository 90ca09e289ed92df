"""`flask config check` names unsafe settings with their fixes; https turns on secure cookies and HSTS."""

from flask import Config
from helpers import base_config

from feedback import create_app
from feedback import PROJECT_ROOT
from feedback.config_check import findings
from feedback.config_check import shared_settings

GOOD_KEY = "k" * 48


def test_a_short_key_and_plain_http_are_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    app = create_app(
        base_config(tmp_path, "", SECRET_KEY="too-short", MAIL_TIMEOUT=0.2)
    )
    result = app.test_cli_runner().invoke(args=["config", "check"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("error: SECRET_KEY") for line in lines)
    assert any(
        line.startswith("error: PUBLIC_URL (http://feedback.test)") for line in lines
    )
    # memory:// under two workers, the SQLite trial database, and no mail server.
    assert any(line.startswith("error: RATELIMIT_STORAGE_URI") for line in lines)
    assert any(line.startswith("warning: the database is SQLite") for line in lines)
    assert any(line.startswith("warning: the mail server") for line in lines)
    assert lines[0].startswith("same on every node: SECRET_KEY=")
    assert all("Fix: " in line for line in lines[1:-1])
    assert lines[-1] == "3 errors, 4 warnings"  # two .example mail domains


def test_settings_fit_for_production_pass():
    config = {
        "SECRET_KEY": GOOD_KEY,
        "PUBLIC_URL": "https://jiandu.meijiang.gov.cn",
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://feedback@db/feedback",
        "RATELIMIT_STORAGE_URI": "redis://cache:6379/0",
        "MAIL_DEFAULT_SENDER": ("梅江区教育局", "noreply@meijiang.gov.cn"),
        "MAIL_REPLY_DOMAIN": "reply.meijiang.gov.cn",
        "ATTACHMENT_STORAGE": "database",
    }
    assert findings(config, web_concurrency=4, debug=False) == []
    on_one_disk = config | {"ATTACHMENT_STORAGE": "directory"}
    assert [
        f.problem.split(":")[0]
        for f in findings(on_one_disk, web_concurrency=4, debug=False)
    ] == ["ATTACHMENT_STORAGE is directory"]
    # The quick start (debug, one process, SQLite) is left alone but for its demo domains.
    trial = config | {
        "PUBLIC_URL": "http://127.0.0.1:5000",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///instance/feedback.sqlite",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    assert findings(trial, web_concurrency=1, debug=True) == []


def test_https_public_url_makes_cookies_secure_and_sends_hsts(tmp_path):
    plain = create_app(base_config(tmp_path, ""))
    assert plain.config["SESSION_COOKIE_SECURE"] is False
    assert (
        "Strict-Transport-Security" not in plain.test_client().get("/healthz").headers
    )
    secure = create_app(
        base_config(tmp_path, "", PUBLIC_URL="https://jiandu.meijiang.gov.cn")
    )
    assert secure.config["SESSION_COOKIE_SECURE"] is True
    with secure.test_request_context():
        response = secure.test_client().get("/auth/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_nodes_compare_their_keys_by_fingerprint_never_by_value():
    node = {
        "SECRET_KEY": GOOD_KEY,
        "CODE_HMAC_KEY": "",
        "PUBLIC_URL": "https://jiandu.meijiang.gov.cn",
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://feedback:pw-9Xq@db/feedback",
    }
    line = shared_settings(node, "/srv/shared/attachments")
    assert line == shared_settings(dict(node), "/srv/shared/attachments")
    assert GOOD_KEY not in line
    assert "pw-9Xq" not in line
    assert "postgresql+psycopg://feedback:***@db/feedback" in line
    assert "CODE_HMAC_KEY=derived-from-SECRET_KEY" in line
    assert "ATTACHMENT_DIR=/srv/shared/attachments" in line
    other = shared_settings(node | {"SECRET_KEY": "j" * 48}, "/srv/shared/attachments")
    assert other.split()[4] != line.split()[4]  # SECRET_KEY=…


def test_behind_a_proxy_metrics_without_a_token_are_named():
    config = {
        "SECRET_KEY": GOOD_KEY,
        "PUBLIC_URL": "https://jiandu.meijiang.gov.cn",
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://feedback@db/feedback",
        "RATELIMIT_STORAGE_URI": "redis://cache:6379/0",
        "PROXY_FIX_X_FOR": 1,
    }
    assert [f.problem for f in findings(config, web_concurrency=4, debug=False)] == [
        "METRICS_TOKEN is empty behind a proxy (PROXY_FIX_X_FOR), so /metrics "
        "answers nobody."
    ]
    with_token = config | {"METRICS_TOKEN": "t" * 40}
    assert findings(with_token, web_concurrency=4, debug=False) == []


def test_the_example_configs_placeholders_are_errors():
    example = Config(PROJECT_ROOT)
    example.from_pyfile("instance/config.example.py")
    named = [
        finding.problem.split()[0]
        for finding in findings(example, web_concurrency=1, debug=False)
        if finding.level == "error"
    ]
    assert named == ["SECRET_KEY", "CODE_HMAC_KEY", "METRICS_TOKEN"]
