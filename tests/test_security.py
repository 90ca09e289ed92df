"""Each finding of the security review, attacked again: it must hold."""

from __future__ import annotations

import io
import re
from unittest.mock import patch
from urllib.parse import unquote

import pytest
from helpers import login
from helpers import staff_user
from helpers import submit
from itsdangerous.timed import TimestampSigner
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject
from pypdf.generic import NameObject
from pypdf.generic import TextStringObject
from sqlalchemy import select

from feedback.downloads import clean_base
from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import Reply
from feedback.models import Role
from feedback.models import Section
from feedback.services import attachments
from feedback.services import triage
from feedback.signing import reply_token

# ---- 5. Uploads keep the citizen's extension

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ACTIVE_WARNING = "注意：此PDF含有脚本"


def _pdf(open_action: DictionaryObject | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    if open_action is not None:
        writer._root_object[NameObject("/OpenAction")] = open_action
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _javascript_pdf() -> bytes:
    return _pdf(
        DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert(1)"),
            }
        )
    )


def _stored(app, *files: tuple[str, bytes]) -> tuple[list[int], int, str]:
    """Hand in a submission with ``files``, routed to 办公室.

    Returns the attachments' ids, the submission's id and its access code.
    """
    with app.app_context():
        receipt = submit(db.session)
        uploads = [attachments.Upload(name, data) for name, data in files]
        attachments.store(db.session, receipt.submission, uploads)
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        triage.route(db.session, receipt.submission, office, actor=None)
        db.session.commit()
        ids = [a.id for a in receipt.submission.attachments]
        return ids, receipt.submission.id, receipt.access_code


def _lead(app):
    client = app.test_client()
    with app.app_context():
        login(client, staff_user(Role.LEAD))
    return client


def _disposition(client, attachment_id: int) -> tuple[str, str, str]:
    """Return the Content-Disposition of a download, its ASCII name and its UTF-8 name."""
    response = client.get(f"/staff/attachments/{attachment_id}")
    assert response.status_code == 200
    header = response.headers["Content-Disposition"]
    ascii_part = header.split("filename=", 1)[1].split(";", 1)[0].strip('"')
    utf8_part = unquote(header.split("filename*=UTF-8''", 1)[1])
    return header, ascii_part, utf8_part


@pytest.mark.parametrize(
    ("given", "data", "expected"),
    [
        ("x.html", JPEG, "x.jpg"),
        ("x.hta", JPEG, "x.jpg"),
        ("x.bat", PNG, "x.png"),
        ("x.pdf.exe", _pdf(), "x.pdf.pdf"),
    ],
)
def test_a_file_downloads_named_by_its_content(app, demo_loaded, given, data, expected):
    (attachment_id,), submission_id, _code = _stored(app, (given, data))
    lead = _lead(app)
    _header, ascii_name, name = _disposition(lead, attachment_id)
    assert (ascii_name, name) == (expected, expected)
    page = lead.get(f"/staff/submissions/{submission_id}").get_data(as_text=True)
    assert f">{expected}</a>" in page
    assert given not in page
    with app.app_context():  # kept as the citizen gave it
        assert db.session.get(Attachment, attachment_id).filename == given


def test_control_characters_and_folders_never_reach_the_header(app, demo_loaded):
    given = "..\\..\\evil\r\nX-Injected: 1\x1b\u202egpj.exe"
    (attachment_id,), _sid, _code = _stored(app, (given, PNG))
    header, ascii_name, name = _disposition(_lead(app), attachment_id)
    assert all(" " <= c <= "~" for c in header), repr(header)
    assert name == ascii_name == "evilX-Injected_ 1gpj.png"
    # NUL never gets as far as the database (the form is refused), but a name
    # that somehow held one would lose it too.
    assert clean_base("a\x00b\x07c.html") == "abc"


def test_a_name_with_nothing_ascii_keeps_a_plain_fallback(app, demo_loaded):
    ids, _sid, _code = _stored(app, ("照片.png", PNG), ("\u202e.jpg", JPEG))
    lead = _lead(app)
    _header, ascii_name, name = _disposition(lead, ids[0])
    assert (ascii_name, name) == ("attachment.png", "照片.png")
    _header, ascii_name, name = _disposition(lead, ids[1])
    assert (ascii_name, name) == ("attachment.jpg", "attachment.jpg")


def test_a_pdf_with_script_is_kept_flagged_and_staff_are_warned(app, demo_loaded):
    ids, submission_id, code = _stored(
        app, ("通知.pdf", _javascript_pdf()), ("说明.pdf", _pdf())
    )
    with app.app_context():
        flagged = {
            a.id: a.active_content for a in db.session.scalars(select(Attachment))
        }
    assert flagged == {ids[0]: True, ids[1]: False}
    lead_page = _lead(app).get(f"/staff/submissions/{submission_id}")
    assert lead_page.get_data(as_text=True).count(ACTIVE_WARNING) == 1
    section = app.test_client()
    with app.app_context():
        login(section, staff_user(Role.SECTION, "办公室"))
        token = reply_token(
            submission_id,
            db.session.scalar(select(Section.id).where(Section.name == "办公室")),
        )
    staff_page = section.get(f"/staff/submissions/{submission_id}")
    assert ACTIVE_WARNING in staff_page.get_data(as_text=True)
    linked = section.get(f"/section/reply/{token}", follow_redirects=True)
    assert ACTIVE_WARNING in linked.get_data(as_text=True)
    tracked = app.test_client().post("/track", data={"code": code})
    assert "通知.pdf" in tracked.get_data(as_text=True)
    assert ACTIVE_WARNING not in tracked.get_data(as_text=True)


def test_a_pdf_that_cannot_be_read_counts_as_active():
    assert attachments.has_active_content(b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n")
    assert not attachments.has_active_content(_pdf())


# ---- 7. Headers

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _assert_protected(response, path: str, referrer: str = "same-origin") -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (path, name)
    assert response.headers.get("Referrer-Policy") == referrer, path
    html = response.get_data(as_text=True)
    # What the policy would block must not be there to break.
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html) == [], path
    assert re.findall(r"<[^>]*\s(?:on[a-z]+|style)=[^>]*>", html) == [], path
    assert "<style" not in html, path


def _open_link(app, client, submission_id: int):
    with app.app_context():
        office = db.session.scalar(select(Section.id).where(Section.name == "办公室"))
        token = reply_token(submission_id, office)
    return token, client.get(f"/section/reply/{token}")


def test_every_page_carries_the_headers(app, demo_loaded):
    _ids, submission_id, code = _stored(app, ("照片.jpg", JPEG))
    visitor = app.test_client()
    for path in (
        "/",
        "/rounds",
        "/replies",
        "/statistics",
        "/submit",
        "/track",
        "/auth/login",
        "/no/such/page",
    ):
        _assert_protected(visitor.get(path), path)
    _assert_protected(visitor.post("/track", data={"code": code}), "POST /track")
    lead = _lead(app)
    for path in (
        "/staff/",
        f"/staff/submissions/{submission_id}",
        "/staff/outbox",
        "/staff/audit",
        "/staff/board",
    ):
        _assert_protected(lead.get(path), path)
    _token, opened = _open_link(app, visitor, submission_id)
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    page = visitor.get(opened.headers["Location"])
    _assert_protected(page, "reply page", referrer="no-referrer")
    download = lead.get(f"/staff/attachments/{_ids[0]}")
    # A download keeps its own stricter policy.
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_reply_link_becomes_a_cookie_for_that_page_alone(app, demo_loaded):
    _ids, submission_id, _code = _stored(app, ("照片.jpg", JPEG))
    client = app.test_client()
    token, opened = _open_link(app, client, submission_id)
    assert opened.status_code == 303
    page_path = f"/section/submissions/{submission_id}/reply"
    assert opened.headers["Location"] == page_path
    assert token not in opened.headers["Location"]
    cookie = opened.headers["Set-Cookie"]
    assert f"Path=/section/submissions/{submission_id}/" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    max_age = int(cookie.split("Max-Age=", 1)[1].split(";", 1)[0])
    assert max_age >= 2 * 3600
    assert token not in cookie
    page = client.get(page_path)
    assert page.status_code == 200
    assert "希望周末开放学校操场" in page.get_data(as_text=True)
    attachment = client.get(
        f"/section/submissions/{submission_id}/attachments/{_ids[0]}"
    )
    assert attachment.status_code == 200
    # Without the cookie, or with it on another submission's page, nothing opens.
    stranger = app.test_client()
    assert stranger.get(page_path).status_code == 403
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    (_other_ids, other_id, _c) = _stored(app, ("图.png", PNG))
    stranger.set_cookie("reply_page", value, path=f"/section/submissions/{other_id}/")
    assert stranger.get(f"/section/submissions/{other_id}/reply").status_code == 403


def _hours_later(hours: float):
    """Sign and check every timed token as if ``hours`` had passed."""
    now = TimestampSigner.get_timestamp
    return patch.object(
        TimestampSigner,
        "get_timestamp",
        lambda self: now(self) + int(hours * 3600),
    )


def test_the_cookie_lasts_while_the_clerk_writes_and_an_expired_one_keeps_the_text(
    app, demo_loaded
):
    _ids, submission_id, _code = _stored(app)
    client = app.test_client()
    _token, opened = _open_link(app, client, submission_id)
    page_path = opened.headers["Location"]
    answer = "经查，情况属实，已于本周整改完毕。"
    with _hours_later(3):  # loading the page renews the cookie
        assert client.get(page_path).status_code == 200
    with _hours_later(6):
        kept = client.post(page_path, data={"body": answer})
        assert kept.status_code == 200
    with _hours_later(11):  # five hours since the last load
        late = client.post(page_path, data={"body": answer + "（补充）"})
    html = late.get_data(as_text=True)
    assert late.status_code == 403
    assert "答复尚未提交" in html
    assert f"{answer}（补充）</textarea>" in html
    assert "希望周末开放学校操场" not in html  # the submission is not shown
    with app.app_context():
        assert db.session.scalars(select(Reply.body)).all() == [answer]
