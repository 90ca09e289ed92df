"""Running unattended: database and Redis outages, unstorable input, health, metrics, logs."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys

import pytest
from alembic.script import ScriptDirectory
from flask import url_for
from flask_migrate import stamp
from helpers import base_config
from helpers import CLOSED_PORT
from helpers import login
from helpers import share_compiled_templates
from helpers import staff_user
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict

from feedback import create_app
from feedback import database_uri
from feedback import logs
from feedback import PROJECT_ROOT
from feedback.chinese import to_traditional
from feedback.errors import refuse_unreadable_input
from feedback.errors import UnreadableInput
from feedback.extensions import db
from feedback.extensions import limiter
from feedback.models import InboundMessage
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Role
from feedback.models import Submission
from feedback.services import api_keys
from feedback.validators import unreadable

MIGRATIONS = str(PROJECT_ROOT / "migrations")
NOWHERE = f"postgresql://nobody:nothing@127.0.0.1:{CLOSED_PORT}/none"
FORM = {
    "kind": "opinion",
    "subject": "操场开放时间",
    "body": "希望周末开放学校操场。",
    "identity": "anonymous",
    "problem_id": "7",
    "idempotency_key": "kept-form-key-0123456789",
}
READY_KEYS = {
    "database",
    "schema",
    "outbox_pending",
    "outbox_oldest_pending_seconds",
    "outbox_failed",
    "held_mail",
}


@pytest.fixture
def database_away(tmp_path):
    """An app whose PostgreSQL refuses every connection (nothing listens there)."""
    app = create_app(base_config(tmp_path, "", DATABASE_URL=NOWHERE))
    return share_compiled_templates(app)


# ---- the database away -------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "note"),
    [
        ("zh-Hans", "系统暂时无法保存，请过几分钟再点一次“提交”。"),
        ("zh-Hant", to_traditional("系统暂时无法保存，请过几分钟再点一次“提交”。")),
        ("en", "The system cannot save right now."),
    ],
)
def test_submit_while_the_database_is_away_keeps_the_form(database_away, lang, note):
    client = database_away.test_client()
    client.set_cookie("lang", lang)
    response = client.post("/submit", data=FORM)
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    assert f'<html lang="{lang}"' in html
    assert note in html
    assert "操场开放时间" in html
    assert "希望周末开放学校操场。" in html
    assert 'value="kept-form-key-0123456789"' in html  # no second submission
    # The problems could not be listed: the choice rides along unseen.
    assert '<input type="hidden" name="problem_id" value="7">' in html


def test_pages_and_the_api_answer_503_while_the_database_is_away(database_away, caplog):
    client = database_away.test_client()
    page = client.get("/")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "30"
    assert "系统暂时无法使用" in page.get_data(as_text=True)
    assert "database unavailable (OperationalError" in caplog.text
    api = client.post(
        "/open311/v2/requests.json",
        data={"api_key": "x", "service_code": "opinion", "description": "正文"},
    )
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "30"
    assert api.json == [{"code": 503, "description": "服务暂时无法使用，请稍后再试。"}]
    # Liveness touches nothing; readiness says what it could not read.
    alive = client.get("/healthz")
    assert (alive.status_code, alive.mimetype, alive.data) == (200, "text/plain", b"ok")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json == dict.fromkeys(READY_KEYS) | {"database": "error"}
    scraped = client.get("/metrics")
    assert scraped.status_code == 200
    assert "feedback_database_up 0.0" in scraped.get_data(as_text=True)


def test_readiness_answers_its_keys_when_the_pool_is_exhausted(make_app):
    app = make_app(
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_size": 1,
            "max_overflow": 0,
            "pool_timeout": 0.1,
        }
    )
    with app.app_context(), db.engine.connect():  # the pool's one connection
        ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json == dict.fromkeys(READY_KEYS) | {"database": "error"}


def test_connections_come_back_after_the_server_drops_them(app, client, database_url):
    if not database_url:
        pytest.skip("PostgreSQL only: a SQLite file has no server to drop connections")
    assert client.get("/").status_code == 200  # a connection now waits in the pool
    admin = create_engine(database_uri(database_url, PROJECT_ROOT))
    with admin.connect() as connection:
        dropped = connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    admin.dispose()
    assert dropped >= 1
    assert client.get("/").status_code == 200  # pool_pre_ping reconnects


def test_a_stored_submission_gets_its_receipt_if_the_database_goes_just_after(
    app, client
):
    def gone(*_args, **_kwargs):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    def break_after(_connection):
        event.listen(engine, "before_cursor_execute", gone)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", break_after)
    try:
        response = client.post("/submit", data=FORM | {"problem_id": ""})
    finally:
        event.remove(engine, "commit", break_after)
        if event.contains(engine, "before_cursor_execute", gone):
            event.remove(engine, "before_cursor_execute", gone)
    assert response.status_code == 200
    with app.app_context():
        stored = db.session.scalar(select(Submission))
        assert stored is not None
        assert stored.reference in response.get_data(as_text=True)


# ---- Redis away --------------------------------------------------------------


def test_the_limiter_falls_back_to_memory_when_redis_is_away(make_app, caplog):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{CLOSED_PORT}/0",
    )
    client = app.test_client()
    try:
        submitted = client.post("/submit", data=FORM | {"problem_id": ""})
        signed_in = client.post(
            "/auth/login", data={"email": "nobody@example.com", "password": "x"}
        )
    finally:
        # The limiter is one object for every app of this process.
        limiter._storage_dead = False
    assert submitted.status_code == 200
    assert "已收到您的意见" in submitted.get_data(as_text=True)
    assert signed_in.status_code == 200
    assert "falling back to in-memory storage" in caplog.text


# ---- what no database can store ---------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/?q=%00",
        "/staff/?q=%00",
        "/staff/audit?reference=%00",
        "/replies?problem=%00",
        "/?%00=1",
    ],
)
def test_nul_in_a_query_is_refused_with_a_message(app, demo_loaded, client, url):
    with app.app_context():
        login(client, staff_user(Role.LEAD))
    response = client.get(url)
    assert response.status_code == 400
    assert "请求中含有无法处理的控制字符" in response.get_data(as_text=True)


def test_undecodable_bytes_arrive_as_text_and_are_searched(client):
    # Werkzeug 3.1 keeps "%ED%A0%80" (an encoded surrogate) as those nine
    # characters, so a lone surrogate cannot come from a URL or a form.
    assert client.get("/?q=%ED%A0%80").status_code == 200


def test_a_lone_surrogate_would_be_refused_too(app):
    assert unreadable(MultiDict({"q": "a\ud800"}))
    assert unreadable(MultiDict({"\udfff": "a"}))
    assert not unreadable(MultiDict({"q": "正常的文字 🙂"}))
    with app.test_request_context("/?q=a"):
        assert refuse_unreadable_input() is None
    with app.test_request_context("/?q=a%00"), pytest.raises(UnreadableInput):
        refuse_unreadable_input()


def test_nul_in_a_form_keeps_the_form(client):
    response = client.post("/submit", data=FORM | {"body": "正文\x00", "x\x00": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "含有无法保存的控制字符" in html
    assert "操场开放时间" in html


def test_nul_in_an_uploads_file_name_keeps_the_form(app, client):
    upload = (io.BytesIO(b"%PDF-1.4\n"), "说明\x00.pdf")
    response = client.post("/submit", data=FORM | {"attachments": upload})
    assert response.status_code == 400
    assert "含有无法保存的控制字符" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Submission)) is None


def test_nul_sent_to_open311_is_answered_in_its_format(app, client):
    with app.app_context():
        _row, key = api_keys.create(db.session, "测试伙伴")
        db.session.commit()
    response = client.post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "opinion", "description": "a\x00"},
    )
    assert response.status_code == 400
    assert response.json == [
        {
            "code": 400,
            "description": "请求中含有无法处理的控制字符（如空字符），请删除后再试。",
        }
    ]


# ---- single-line fields ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("subject", "上半句\n下半句"), ("name", "张\r三"), ("phone", "138\r\n0013")],
)
def test_line_breaks_are_refused_in_fields_of_one_line(app, client, field, value):
    data = FORM | {"problem_id": "", "identity": "real_name", "name": "张三"}
    data |= {"phone": "13800138000", field: value}
    response = client.post("/submit", data=data)
    assert response.status_code == 400
    assert "此栏只能填写一行，请删除其中的换行。" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Submission)) is None


@pytest.mark.parametrize("field", ["first_name", "last_name", "phone"])
def test_open311_refuses_line_breaks_in_names_and_phones(app, client, field):
    with app.app_context():
        _row, key = api_keys.create(db.session, "测试伙伴")
        db.session.commit()
    data = {
        "api_key": key,
        "service_code": "opinion",
        "description": "第一行\n第二行",  # many lines are fine here
        "first_name": "三",
        "last_name": "张",
        "phone": "13800138000",
    }
    response = client.post("/open311/v2/requests.json", data=data | {field: "a\nb"})
    assert response.status_code == 400
    assert response.json == [
        {"code": 400, "description": f"{field}: 此栏只能填写一行，请删除其中的换行。"}
    ]


# ---- readiness and metrics ---------------------------------------------------


def _queue(state: OutboxState, number: int) -> OutboxMessage:
    return OutboxMessage(
        state=state,
        template=Notification.RECEIPT,
        recipient="someone@example.com",
        subject="回执",
        body_text="正文",
        body_html="<p>正文</p>",
        message_id=f"<{number}@test>",
    )


@pytest.fixture
def queues(app):
    """Two unfinished messages, one sent, one failed, and one held in the pen."""
    with app.app_context():
        db.session.add_all(
            [
                _queue(OutboxState.PENDING, 1),
                _queue(OutboxState.SENDING, 2),
                _queue(OutboxState.SENT, 3),
                _queue(OutboxState.FAILED, 4),
                InboundMessage(sender="a@example.com", raw=b"x"),
            ]
        )
        db.session.commit()


def test_readiness_follows_the_schema_and_allows_a_newer_one(app, client, queues):
    with app.app_context():
        stamp(directory=MIGRATIONS)
        try:
            current = client.get("/readyz")
            heads = ScriptDirectory(MIGRATIONS).get_heads()
            older = ScriptDirectory(MIGRATIONS).get_revision(heads[0]).down_revision
            stamp(directory=MIGRATIONS, revision=older, purge=True)
            behind = client.get("/readyz")
            # A newer release migrated first (a rolling upgrade): still ready.
            db.session.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
            db.session.commit()
            ahead = client.get("/readyz")
        finally:
            db.session.execute(text("DROP TABLE alembic_version"))
            db.session.commit()
    assert current.status_code == 200
    assert current.mimetype == "application/json"
    reading = current.json
    assert set(reading) == READY_KEYS
    assert reading | {"outbox_oldest_pending_seconds": 0} == {
        "database": "ok",
        "schema": "current",
        "outbox_pending": 2,
        "outbox_oldest_pending_seconds": 0,
        "outbox_failed": 1,
        "held_mail": 1,
    }
    assert 0 <= reading["outbox_oldest_pending_seconds"] < 60
    assert behind.status_code == 503
    assert behind.json | {"outbox_oldest_pending_seconds": 0} == reading | {
        "schema": "behind",
        "outbox_oldest_pending_seconds": 0,
    }
    assert ahead.status_code == 200
    assert ahead.json["schema"] == "ahead"


def test_metrics_count_requests_by_rule_and_read_the_queues(app, client, queues):
    client.get("/section/reply/secret-token-abc")
    client.open("/no-such-page", method="BREW-ALICE")
    body = client.get("/metrics").get_data(as_text=True)
    assert "secret-token-abc" not in body
    assert "ALICE" not in body  # a made-up method is counted as "other"
    assert 'method="other",rule="none",status="404"' in body
    assert re.search(
        r'feedback_http_requests_total\{method="GET",rule="/section/reply/<token>",'
        r'status="\d+"\} [1-9]',
        body,
    )
    assert 'feedback_http_request_duration_seconds_bucket{le="0.005",' in body
    for line in (
        'feedback_outbox_messages{state="sent"} 1.0',
        'feedback_outbox_messages{state="failed"} 1.0',
        "feedback_outbox_pending 2.0",
        "feedback_outbox_failed 1.0",
        "feedback_held_mail 1.0",
        'feedback_deadline_alerts{kind="reply_soon"} 0.0',
        "feedback_database_up 1.0",
    ):
        assert line in body


@pytest.mark.parametrize(
    ("settings", "remote", "authorization", "status"),
    [
        ({}, "127.0.0.1", None, 200),
        ({}, "::1", None, 200),
        ({}, "10.0.0.8", None, 403),
        ({"METRICS_TOKEN": "s3cret"}, "127.0.0.1", None, 403),
        ({"METRICS_TOKEN": "s3cret"}, "127.0.0.1", "Bearer wrong", 403),
        ({"METRICS_TOKEN": "s3cret"}, "10.0.0.8", "Bearer s3cret", 200),
        ({"PROXY_FIX_X_FOR": 1}, "127.0.0.1", None, 403),
        ({"PROXY_FIX_X_FOR": 1, "METRICS_TOKEN": "s3cret"}, "::1", "Bearer x", 403),
        (
            {"PROXY_FIX_X_FOR": 1, "METRICS_TOKEN": "s3cret"},
            "::1",
            "Bearer s3cret",
            200,
        ),
    ],
)
def test_who_may_read_the_metrics(make_app, settings, remote, authorization, status):
    client = make_app(**settings).test_client()
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get(
        "/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote}
    )
    assert response.status_code == status
    if status == 200:
        assert response.mimetype == "text/plain"
        assert "# TYPE feedback_outbox_pending gauge" in response.get_data(as_text=True)


# ---- logs --------------------------------------------------------------------


def _json_lines(err: str, logger: str) -> list[dict]:
    found = []
    for line in err.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record["logger"] == logger:
                found.append(record)
    return found


def test_json_logs_give_a_line_per_request_by_rule(make_app, capsys):
    client = make_app(LOG_FORMAT="json").test_client()
    capsys.readouterr()
    given = client.get(
        "/section/reply/secret-token-abc", headers={"X-Request-ID": "lb-42"}
    )
    made = client.get("/submit", headers={"X-Request-ID": "not a sane id"})
    err = capsys.readouterr().err
    assert "secret-token-abc" not in err
    first, second = _json_lines(err, "feedback.requests")
    assert set(first) >= {
        "time",
        "request_id",
        "method",
        "rule",
        "status",
        "duration_ms",
    }
    assert first["rule"] == "/section/reply/<token>"
    assert (first["method"], first["status"]) == ("GET", given.status_code)
    assert first["request_id"] == "lb-42" == given.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", second["request_id"])
    assert second["request_id"] == made.headers["X-Request-ID"]
    assert (second["rule"], second["status"]) == ("/submit", 200)
    assert isinstance(second["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])


def test_a_failed_request_is_logged_without_its_path_or_values(make_app, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom/<secret>")
    def boom(secret: str) -> str:
        db.session.execute(text("CREATE TEMPORARY TABLE once (x TEXT UNIQUE)"))
        for _twice in range(2):
            db.session.execute(
                text("INSERT INTO once VALUES (:x)"), {"x": "张三的住址"}
            )
        return secret

    assert app.test_client().get("/boom/signed-token-xyz").status_code == 500
    assert "Exception on /boom/<secret> [GET]" in caplog.text
    assert "IntegrityError" in caplog.text or "UniqueViolation" in caplog.text
    assert ", in boom\n" in caplog.text  # the frames are there
    assert "signed-token-xyz" not in caplog.text
    assert "张三的住址" not in caplog.text


def test_json_logs_carry_outbox_events(make_app, capsys):
    make_app(LOG_FORMAT="json")
    capsys.readouterr()
    event_keys = {
        "event": "outbox",
        "message_id": 7,
        "template": "receipt",
        "attempt": 2,
        "outcome": "deferred",
        "error": "451 try later (<redacted>)",
    }
    logging.getLogger("feedback.outbox").info("deferred", extra=event_keys)
    (line,) = _json_lines(capsys.readouterr().err, "feedback.outbox")
    assert line.items() >= event_keys.items()
    assert line["level"] == "INFO"


def test_logging_is_set_up_once_per_process(make_app, capsys):
    make_app(LOG_FORMAT="json", LOG_STREAM="stdout")
    logging.getLogger("feedback.test").info("to standard output")
    make_app(LOG_FORMAT="text")
    logging.getLogger("feedback.test").info("to standard error")
    ours = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logs._Console)
    ]
    assert len(ours) == 1
    assert not isinstance(ours[0].formatter, logs.JsonFormatter)
    written = capsys.readouterr()
    assert '"message": "to standard output"' in written.out
    assert "INFO feedback.test: to standard error" in written.err


def test_log_format_defaults_by_mode():
    assert logs.read_format("", debug=True) == "text"
    assert logs.read_format("", debug=False) == "json"
    assert logs.read_format("text", debug=False) == "text"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logs.read_format("xml", debug=False)


SCRAPE = """
import sys
from feedback import create_app
from feedback.extensions import db

app = create_app(
    {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite:///" + sys.argv[1]}
)
with app.app_context():
    db.create_all()
client = app.test_client()
client.get("/submit")
print(client.get("/metrics").get_data(as_text=True))
"""


def test_request_metrics_go_through_files_under_several_workers(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR set, counts are kept in files any worker reads."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = os.environ | {
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRAPE, str(tmp_path / "test.sqlite")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    line = 'feedback_http_requests_total{method="GET",rule="/submit",status="200"} 1.0'
    assert line in done.stdout, done.stdout[-2000:]
    assert "feedback_outbox_pending 0.0" in done.stdout
    assert sorted(path.name.split("_")[0] for path in shared.glob("*.db")) == [
        "counter",
        "histogram",
    ]


def test_static_urls_carry_their_contents_hash_so_a_proxy_may_keep_them_a_year(
    tmp_path,
):
    app = create_app(base_config(tmp_path, ""))
    stylesheet = PROJECT_ROOT / "static" / "css" / "site.css"
    digest = hashlib.sha256(stylesheet.read_bytes()).hexdigest()[:12]
    with app.test_request_context():
        assert url_for("static", filename="css/site.css") == (
            f"/static/css/site.css?v={digest}"
        )
        # A file that is not there gets no version rather than an error.
        assert url_for("static", filename="css/none.css") == "/static/css/none.css"
    served = app.test_client().get(f"/static/css/site.css?v={digest}", buffered=True)
    assert served.status_code == 200
    assert served.data == stylesheet.read_bytes()
