"""Intake a citizen can trust: files by content, exactly once, honeypot, limits, privacy."""

import io
import os
import re

import pytest
from helpers import login
from helpers import read_receipt
from helpers import staff_user
from sqlalchemy import inspect
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from feedback import PROJECT_ROOT
from feedback.extensions import db
from feedback.extensions import limiter
from feedback.models import Attachment
from feedback.models import OutboxMessage
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.services import outbox
from feedback.services import triage
from feedback.signing import reply_token

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def _form(**overrides):
    data = {
        "kind": "complaint",
        "subject": "食堂卫生",
        "body": "食堂后厨卫生差，附照片。",
        "identity": "anonymous",
        "idempotency_key": "safety-form-key-000001",
    }
    data.update(overrides)
    return data


def _files(*items):
    return [(io.BytesIO(data), name) for name, data in items]


def test_jpeg_png_pdf_are_stored_outside_static_under_random_names(
    app, client, session
):
    data = _form(
        attachments=_files(("照片.jpg", JPEG), ("图.png", PNG), ("说明.pdf", PDF))
    )
    response = client.post("/submit", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    rows = session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [(r.filename, r.content_type) for r in rows] == [
        ("照片.jpg", "image/jpeg"),
        ("图.png", "image/png"),
        ("说明.pdf", "application/pdf"),
    ]
    folder = app.config["ATTACHMENT_DIR"]
    for row in rows:
        assert re.fullmatch(r"[0-9a-f]{32}\.(jpg|png|pdf)", row.stored_name)
        path = os.path.join(folder, row.stored_name)
        assert os.path.isfile(path)
        assert not os.path.realpath(path).startswith(str(PROJECT_ROOT / "static"))


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ((("病毒.pdf", EXE),), "病毒.pdf：只能上传JPEG、PNG图片或PDF文件。"),
        (
            (("网页.jpg", b"<html><script>alert(1)</script>"),),
            "网页.jpg：只能上传JPEG、PNG图片或PDF文件。",
        ),
        ((("空.pdf", b""),), "空.pdf：文件是空的。"),
        (tuple((f"{i}.png", PNG) for i in range(6)), "最多只能上传5个文件。"),
    ],
)
def test_wrong_files_are_refused_and_nothing_is_lost(
    app, client, session, files, message
):
    response = client.post(
        "/submit",
        data=_form(attachments=_files(*files)),
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    # Beside the file field, in the error style, and listed in the summary.
    beside = html.split('id="attachments-error"', 1)[1].split("</p>", 1)[0]
    assert message in beside
    assert f'<a href="#attachments">附件（可不传）：{message}</a>' in html
    assert "食堂后厨卫生差，附照片。</textarea>" in html
    assert session.scalar(select(Submission)) is None
    # No file written (the folder is made with the first one).
    folder = app.config["ATTACHMENT_DIR"]
    assert not os.path.exists(folder) or os.listdir(folder) == []


def test_size_limit_per_file(make_app):
    app = make_app(ATTACHMENT_MAX_BYTES=1024 * 1024)
    # Encoded here in memory: the test client would spool a body this large
    # to a temporary file it never closes.
    boundary, body = encode_multipart(
        MultiDict(
            _form(
                attachments=FileStorage(
                    io.BytesIO(PDF + b"0" * 1024 * 1024), filename="大.pdf"
                )
            )
        )
    )
    response = app.test_client().post(
        "/submit",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    assert "大.pdf：文件超过1MB，请压缩后再上传。" in response.get_data(as_text=True)


def _submit_with_pdf(client):
    response = client.post(
        "/submit",
        data=_form(attachments=_files(("说明.pdf", PDF))),
        content_type="multipart/form-data",
    )
    return read_receipt(response.get_data(as_text=True))[1]


def test_author_downloads_with_the_code_only(client, session):
    code = _submit_with_pdf(client)
    attachment = session.scalar(select(Attachment))
    url = f"/track/attachments/{attachment.id}"
    response = client.post(url, data={"code": code.lower()})
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "application/pdf"
    assert (
        client.post(url, data={"code": "AAAA-BBBB-CCCC-DDDD-EEEE"}).status_code == 404
    )
    assert client.get(url).status_code == 405
    tracked = client.post("/track", data={"code": code}).get_data(as_text=True)
    assert "下载 说明.pdf" in tracked


@pytest.mark.parametrize(
    ("role", "section", "status"),
    [
        (Role.LEAD, None, 200),
        (Role.SECTION, "办公室", 200),
        (Role.SECTION, "人事股", 404),
        (Role.ADMIN, None, 404),
    ],
)
def test_staff_download_follows_who_may_read(
    client, session, demo_loaded, role, section, status
):
    _submit_with_pdf(client)
    submission = session.scalar(select(Submission))
    office = session.scalar(select(Section).where(Section.name == "办公室"))
    triage.route(session, submission, office, actor=staff_user(Role.LEAD))
    session.commit()
    attachment = session.scalar(select(Attachment))
    login(client, staff_user(role, section))
    response = client.get(f"/staff/attachments/{attachment.id}")
    assert response.status_code == status
    if status == 200:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    token = reply_token(submission.id, office.id)
    client.get(f"/section/reply/{token}")  # the cookie for that reply page
    url = f"/section/submissions/{submission.id}/attachments/{attachment.id}"
    assert client.get(url).status_code == 200


def test_honeypot_refuses_gently_and_keeps_the_text(client, session):
    response = client.post("/submit", data=_form(website="http://spam.example"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请勿填写" in html
    assert "食堂后厨卫生差，附照片。</textarea>" in html
    assert session.scalar(select(Submission)) is None


def test_receipt_mail_carries_the_code_and_is_redacted_once_sent(make_app, smtp_server):
    controller, handler = smtp_server
    app = make_app(MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port)
    client = app.test_client()
    data = _form(identity="real_name", name="王五", email="wangwu@example.com")
    _reference, code = read_receipt(
        client.post("/submit", data=data).get_data(as_text=True)
    )
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        assert message.redact_after_send
        assert code in message.body_text
        outbox.deliver_pending(db.session)
        db.session.refresh(message)
        assert code not in message.body_text
        assert code not in message.body_html
    assert code in handler.messages[0][2].get_body(("plain",)).get_content()


def test_no_ip_address_or_user_agent_is_stored_anywhere(app):
    with app.app_context():
        columns = {
            f"{table}.{column['name']}"
            for table in inspect(db.engine).get_table_names()
            for column in inspect(db.engine).get_columns(table)
        }
    suspicious = [
        c
        for c in columns
        if re.search(r"(^|_)(ip|addr|agent|ua)($|_)", c.split(".")[1])
    ]
    assert suspicious == []


def test_form_shows_privacy_notice_and_misconduct_confidentiality(client):
    html = client.get("/submit").get_data(as_text=True)
    assert "我们如何处理您的信息" in html
    assert "不记录您的IP地址" in html
    assert "保存3年" in html
    assert "严格保密" in html
    response = client.post("/submit", data=_form(kind="misconduct"))
    assert "严格保密" in response.get_data(as_text=True)


@pytest.fixture
def limited(make_app):
    def build(reset=True, **settings):
        app = make_app(RATELIMIT_ENABLED=True, **settings)
        if reset:
            with app.app_context():
                limiter.reset()
        return app

    return build


def test_submitting_too_often_is_slowed_down_without_losing_text(limited):
    app = limited(SUBMIT_RATE_LIMIT="2 per minute")
    client = app.test_client()
    for number in range(2):
        key = f"limit-form-key-{number:06d}"
        assert (
            client.post("/submit", data=_form(idempotency_key=key)).status_code == 200
        )
    response = client.post(
        "/submit", data=_form(idempotency_key="limit-form-key-999999")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "提交太频繁" in html
    assert "食堂后厨卫生差，附照片。</textarea>" in html


def test_guessing_codes_is_slowed_down(limited):
    app = limited(TRACK_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [
        client.post("/track", data={"code": f"AAAA-BBBB-CCCC-DDDD-EEE{n}"}).status_code
        for n in range(5)
    ]
    assert statuses == [400, 400, 400, 429, 429]
    assert "操作太频繁" in client.post("/track", data={"code": "x"}).get_data(
        as_text=True
    )
    elsewhere = {"REMOTE_ADDR": "10.9.8.7"}  # another client is not held back
    assert (
        client.post("/track", data={"code": "AAAA"}, environ_base=elsewhere).status_code
        == 400
    )


def test_rate_limit_is_shared_through_real_redis(limited):
    url = os.environ.get("FEEDBACK_TEST_REDIS_URL")
    if not url:
        pytest.skip("set FEEDBACK_TEST_REDIS_URL to a Redis server (.ci/run does)")
    first = limited(TRACK_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI=url)
    statuses = [
        first.test_client().post("/track", data={"code": "x"}).status_code
        for _ in range(3)
    ]
    # A second process of the service sees the same counts through Redis.
    second = limited(
        reset=False, TRACK_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI=url
    )
    statuses.append(second.test_client().post("/track", data={"code": "x"}).status_code)
    assert statuses == [400, 400, 400, 429]
    with second.app_context():
        limiter.reset()
