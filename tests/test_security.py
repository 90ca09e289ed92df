"""Each finding of the security review, attacked again: it must hold."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import time
from datetime import timedelta
from email.message import EmailMessage
from unittest.mock import patch
from urllib.parse import unquote

import pyotp
import pytest
from helpers import CLOSED_PORT
from helpers import corpus
from helpers import login
from helpers import read_receipt
from helpers import staff_user
from helpers import submit
from itsdangerous.timed import TimestampSigner
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject
from pypdf.generic import NameObject
from pypdf.generic import TextStringObject
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from feedback import demo
from feedback.db import utcnow
from feedback.downloads import clean_base
from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Problem
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import attachments
from feedback.services import failures
from feedback.services import outbox
from feedback.services import replies
from feedback.services import retention
from feedback.services import sections as routing
from feedback.services import submissions
from feedback.services import tracking
from feedback.services import triage
from feedback.signing import reply_address
from feedback.signing import reply_token

# ---- 1. Forged draft replies by e-mail


@pytest.fixture
def office_case(make_app):
    """A CSRF-checking app with the demo and a submission routed to 办公室.

    Returns (app, submission id, reference, its signed reply address).
    """
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        demo.load(db.session)
        submission = submit(db.session).submission
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        triage.route(db.session, submission, office, actor=staff_user(Role.LEAD))
        db.session.commit()
        return app, submission.id, submission.reference, reply_address(submission.id)


def _mail(sender, to, subject, message_id):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content("同意，已办结。")
    return message.as_bytes()


def _inspect(app, tmp_path, raw):
    path = tmp_path / "in.eml"
    path.write_bytes(raw)
    result = app.test_cli_runner().invoke(args=["mail", "inspect", str(path), "--json"])
    return json.loads(result.output)


def _ingest(app, raw):
    return app.test_cli_runner().invoke(args=["mail", "ingest"], input=raw)


def _reply_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Reply))


def test_spoofed_section_reply_by_subject_is_held_with_the_submission(
    office_case, tmp_path
):
    app, submission_id, reference, _address = office_case
    spoofed = _mail(
        "office@meijiang-edu.example",
        "supervision@meijiang-edu.example",
        f"回复：{reference}",
        "<spoof@attacker.example>",
    )
    inspected = _inspect(app, tmp_path, spoofed)
    assert inspected["action"] == "hold"
    assert (inspected["match"], inspected["reason"]) == (reference, "subject")
    assert _ingest(app, spoofed).output.startswith(f"held: subject {reference}")
    assert _reply_count(app) == 0
    with app.app_context():
        held = db.session.scalar(select(InboundMessage))
        assert held.state is InboundState.HELD
        assert held.submission_id == submission_id


@pytest.mark.parametrize(
    "sender",
    ["personnel@meijiang-edu.example", "personnel.staff@meijiang-edu.example"],
)
def test_reply_from_another_section_to_the_signed_address_is_held(
    office_case, tmp_path, sender
):
    app, _id, reference, address = office_case
    raw = _mail(sender, address, f"回复：{reference}", "<other@meijiang-edu.example>")
    inspected = _inspect(app, tmp_path, raw)
    assert (inspected["action"], inspected["reason"]) == ("hold", "other_section")
    assert _ingest(app, raw).output.startswith(f"held: other_section {reference}")
    assert _reply_count(app) == 0


def test_genuine_signed_reply_files_a_draft_and_a_closed_case_does_not(
    office_case, tmp_path
):
    app, submission_id, reference, address = office_case
    genuine = _mail(
        "wang@meijiang-edu.example", address, f"回复：{reference}", "<a@x.example>"
    )
    assert _inspect(app, tmp_path, genuine)["action"] == "file_draft"
    assert _ingest(app, genuine).output.startswith(f"filed: reply_address {reference}")
    with app.app_context():
        draft = db.session.scalar(select(Reply))
        assert (draft.submission_id, draft.state) == (submission_id, ReplyState.DRAFT)
        replies.approve(db.session, draft, actor=staff_user(Role.LEAD))
        db.session.commit()
    late = _mail(
        "wang@meijiang-edu.example", address, f"回复：{reference}", "<b@x.example>"
    )
    inspected = _inspect(app, tmp_path, late)
    assert (inspected["action"], inspected["reason"]) == ("hold", "not_waiting")


def _csrf_token(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_lead_files_a_held_reply_with_one_click_and_nobody_else_can(office_case):
    app, submission_id, reference, _address = office_case
    _ingest(
        app,
        _mail(
            "office@meijiang-edu.example",
            "office@meijiang-edu.example",
            f"回复：{reference}",
            "<held@meijiang-edu.example>",
        ),
    )
    with app.app_context():
        held_id = db.session.scalar(select(InboundMessage.id))
        office_id, personnel_id = (
            db.session.scalar(select(Section.id).where(Section.name == name))
            for name in ("办公室", "人事股")
        )
        users = {
            role: staff_user(role, "办公室" if role is Role.SECTION else None)
            for role in Role
        }
    clicked = {"reference": reference, "section_id": str(office_id)}
    url = f"/staff/held/{held_id}/file"
    for role in (Role.SECTION, Role.ADMIN):
        other = app.test_client()
        login(other, users[role])
        token = _csrf_token(other.get("/staff/").get_data(as_text=True))
        refused = other.post(url, data={**clicked, "csrf_token": token})
        assert refused.status_code == 403
    lead = app.test_client()
    login(lead, users[Role.LEAD])
    assert lead.post(url, data=clicked).status_code == 400  # no CSRF token
    assert _reply_count(app) == 0
    pen = lead.get("/staff/held").get_data(as_text=True)
    assert "作为办公室的答复草稿" in pen
    token = _csrf_token(pen)
    # A button naming a section the submission does not wait for files nothing.
    lead.post(
        url, data={**clicked, "section_id": str(personnel_id), "csrf_token": token}
    )
    assert _reply_count(app) == 0
    lead.post(url, data={**clicked, "csrf_token": token})
    with app.app_context():
        draft = db.session.scalar(select(Reply))
        assert draft.submission_id == submission_id
        assert (draft.state, draft.channel) == (ReplyState.DRAFT, ReplyChannel.EMAIL)
        assert db.session.get(InboundMessage, held_id).state is InboundState.FILED
        event = db.session.scalar(
            select(Event).where(Event.action == AuditAction.REPLY_DRAFTED)
        )
        assert event.actor_id == users[Role.LEAD].id
        assert f"held mail {held_id}" in event.reason


# ---- 2. The form key is a second access code


FORM = {
    "kind": "opinion",
    "problem_id": "",
    "subject": "食堂价格",
    "body": "午餐涨价了。",
    "identity": "real_name",
    "name": "王小明",
    "phone": "13900000000",
    "idempotency_key": "security-form-key-000000001",
}


def _page(response):
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_old_demo_form_key_opens_no_demo_submission(app, client, session):
    demo.load(session)
    demo.load_published_replies(session)
    session.commit()
    demo_rows = session.scalars(select(Submission)).all()
    assert demo_rows
    assert all(s.form_key_hash is None for s in demo_rows)  # no key to replay
    html = _page(
        client.post(
            "/submit", data=dict(FORM, idempotency_key="demo-published-reply-1")
        )
    )
    reference, code = read_receipt(html)
    assert reference not in {s.reference for s in demo_rows}
    opened = tracking.find(session, code)
    assert opened is not None
    assert opened.id not in {s.id for s in demo_rows}


def test_a_used_form_key_gives_the_code_only_to_its_own_session(app, session):
    author, stranger = app.test_client(), app.test_client()
    first = read_receipt(_page(author.post("/submit", data=FORM)))
    again = _page(author.post("/submit", data=FORM))
    assert read_receipt(again) == first  # a refresh in the same browser
    other = _page(stranger.post("/submit", data=FORM))
    assert f'class="reference">{first[0]}<' in other
    assert first[1] not in other
    assert 'id="access-code"' not in other
    assert 'id="code-shown-before"' in other
    assert FORM["phone"] not in other
    assert len(session.scalars(select(Submission)).all()) == 1


def test_the_same_session_gets_no_code_a_day_later(app, session):
    author = app.test_client()
    reference, _code = read_receipt(_page(author.post("/submit", data=FORM)))
    session.execute(
        update(Submission).values(created_at=utcnow() - timedelta(hours=24, minutes=1))
    )
    session.commit()
    late = _page(author.post("/submit", data=FORM))
    assert 'id="access-code"' not in late
    assert f'class="reference">{reference}<' in late


def test_the_form_key_is_kept_only_as_a_keyed_hash_and_purged(client, session):
    _page(client.post("/submit", data=FORM))
    stored = session.scalar(select(Submission))
    key = FORM["idempotency_key"]
    assert stored.idempotency_key is None
    assert stored.form_key_hash is not None
    assert key not in stored.form_key_hash
    assert stored.form_key_hash != hashlib.sha256(key.encode()).hexdigest()  # keyed
    assert stored.receipt_nonce_hash is not None
    retention.purge(session, stored, utcnow())
    session.commit()
    assert (stored.form_key_hash, stored.receipt_nonce_hash) == (None, None)


# ---- 3. Admins read citizens' business

CITIZEN = "whistle.blower@citizen-mail.example"


def test_admins_see_how_mail_goes_never_what_or_to_whom(app, demo_loaded):
    with app.app_context():
        session = db.session
        report = submit(
            session,
            kind=SubmissionKind.MISCONDUCT,
            subject="举报某校长收受礼金",
            author=submissions.Author(name="王五", email=CITIZEN),
        ).submission
        opinion = submit(session, subject="食堂饭菜太咸").submission
        office = session.scalar(select(Section).where(Section.name == "办公室"))
        triage.route(session, opinion, office, actor=staff_user(Role.LEAD))
        receipt = session.scalar(
            select(OutboxMessage).where(OutboxMessage.recipient == CITIZEN)
        )
        receipt.state = OutboxState.FAILED
        receipt.last_error = (
            f"recipient_refused: {{'{CITIZEN}': (550, b'no mailbox for "
            f"{CITIZEN}, re {report.reference}')}}"
        )
        session.commit()
        reference = report.reference
        client = app.test_client()
        login(client, staff_user(Role.ADMIN))
        seen = client.get("/staff/outbox").get_data(as_text=True)
        login(client, staff_user(Role.LEAD))
        full = client.get("/staff/outbox").get_data(as_text=True)
    for private in (CITIZEN, "whistle.blower", reference, "举报某校长", "食堂饭菜太咸"):
        assert private not in seen
    for private in (CITIZEN, reference, "食堂饭菜太咸"):
        assert private in full  # the lead keeps the whole view
    # What delivery needs is all there: kind, domain, state and the refusal.
    assert "受理回执" in seen
    assert "citizen-mail.example" in seen
    assert "邮件服务器拒收此收件地址" in seen
    assert "no mailbox for" in seen


def from_demo(app):
    with app.app_context():
        demo.load(db.session)
        db.session.commit()


def _sink_mail(folder, name, headers):
    lines = [f"{key}: {value}" for key, value in headers.items()]
    (folder / name).write_text(
        "\n".join(["From: noreply@meijiang-edu.example", *lines, "", "正文", ""]),
        encoding="utf-8",
    )


def _listed(client):
    return client.get("/staff/mail").get_data(as_text=True)


def test_demo_mailbox_matches_exact_addresses_not_substrings(make_app, tmp_path):
    sink = tmp_path / "sink"
    sink.mkdir()
    _sink_mail(
        sink, "1.eml", {"To": "headoffice@meijiang-edu.example", "Subject": "给总办"}
    )
    _sink_mail(
        sink,
        "2.eml",
        {
            "To": "someone@example.org",
            "Cc": '"办公室" <OFFICE@meijiang-edu.example>',
            "Subject": "抄送办公室",
        },
    )
    app = make_app(MAIL_SINK_DIR=str(sink))
    with app.app_context():
        from_demo(app)
        client = app.test_client()
        login(client, staff_user(Role.SECTION, "办公室"))
        listing = _listed(client)
        assert client.get("/staff/mail/1.eml").status_code == 404
    assert "给总办" not in listing
    assert "抄送办公室" in listing


def test_receipts_with_access_codes_are_for_the_lead_alone(make_app, tmp_path):
    sink = tmp_path / "sink"
    sink.mkdir()
    app = make_app(MAIL_SINK_DIR=str(sink))
    from_demo(app)
    with app.app_context():
        session = db.session
        # Citizens who typed a section's and a staff account's address.
        for address in ("office@meijiang-edu.example", "admin@meijiang-edu.example"):
            submit(session, author=submissions.Author(email=address))
        session.commit()
        for n, row in enumerate(
            session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.template == Notification.RECEIPT
                )
            )
        ):
            headers = {
                "To": row.recipient,
                "Message-ID": row.message_id,
                "Subject": f"回执{n}",
            }
            _sink_mail(sink, f"r{n}.eml", headers)
        # The same addresses, other mail: each may read its own.
        _sink_mail(
            sink, "s.eml", {"To": "office@meijiang-edu.example", "Subject": "分办"}
        )
        _sink_mail(
            sink, "a.eml", {"To": "admin@meijiang-edu.example", "Subject": "通知"}
        )
        client = app.test_client()
        login(client, staff_user(Role.SECTION, "办公室"))
        section = _listed(client)
        login(client, staff_user(Role.ADMIN))
        admin = _listed(client)
        refused = client.get("/staff/mail/r1.eml").status_code
        login(client, staff_user(Role.LEAD))
        lead = _listed(client)
    assert "回执" not in section
    assert "分办" in section
    assert "回执" not in admin
    assert "通知" in admin
    assert "分办" not in admin  # a section's mailbox is not a staff account
    assert refused == 404
    assert "回执0" in lead
    assert "回执1" in lead


def test_changing_a_sections_address_tells_old_new_and_lead(app, demo_loaded):
    with app.app_context():
        session = db.session
        office = session.scalar(select(Section).where(Section.name == "办公室"))
        routing.save_section(
            session,
            office,
            name=office.name,
            email="office-new@meijiang-edu.example",
            reply_domains=office.reply_domains,
            kinds=office.kinds.split(),
            active=True,
            actor=staff_user(Role.ADMIN),
        )
        session.commit()
        sent = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.template == Notification.SECTION_ADDRESS_CHANGED
            )
        ).all()
    assert sorted(m.recipient for m in sent) == [
        "lead@meijiang-edu.example",
        "office-new@meijiang-edu.example",
        "office@meijiang-edu.example",
    ]
    assert all("office-new@meijiang-edu.example" in m.body_text for m in sent)


# ---- 4. Sign-in

LEAD = {"email": "lead@meijiang-edu.example", "password": "demo-lead-pass"}


def _from(client_address):
    return {"REMOTE_ADDR": client_address}


def _sign_in(client, where="10.0.0.1", **overrides):
    return client.post(
        "/auth/login", data={**LEAD, **overrides}, environ_base=_from(where)
    )


def test_wrong_codes_after_a_right_password_still_lock(app, demo_loaded):
    with app.app_context():
        user = staff_user(Role.LEAD)
        secret = user.totp_secret = pyotp.random_base32()
        db.session.commit()
    client = app.test_client()
    for _ in range(3):
        _sign_in(client, password="wrong password")
    assert _sign_in(client).status_code == 302  # on to the second factor
    for _ in range(2):
        client.post(
            "/auth/totp", data={"code": "000000"}, environ_base=_from("10.0.0.1")
        )
    right = client.post(
        "/auth/totp",
        data={"code": pyotp.TOTP(secret).now()},
        environ_base=_from("10.0.0.1"),
    )
    assert right.status_code == 429  # five failures: the password did not reset them
    assert client.get("/staff/").status_code == 302
    with app.app_context():
        assert staff_user(Role.LEAD).failed_logins == 5


def test_a_client_is_stopped_the_owner_only_at_the_account_limit(make_app):
    app = make_app(LOGIN_ACCOUNT_MAX_FAILURES=7)
    from_demo(app)
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(5):
        _sign_in(attacker, password="guess")
    assert _sign_in(attacker).status_code == 200  # even the right password
    assert _sign_in(owner, where="10.0.0.2").status_code == 302
    assert _sign_in(attacker).status_code == 200  # still stopped
    # The owner's sign-in cleared the account's count: seven more, from two
    # clients, lock it for everyone.
    for _ in range(5):
        _sign_in(attacker, where="10.0.0.3", password="guess")
    for _ in range(2):
        _sign_in(attacker, where="10.0.0.4", password="guess")
    assert _sign_in(app.test_client(), where="10.0.0.2").status_code == 200
    with app.app_context():
        assert staff_user(Role.LEAD).locked_until is not None


def test_unknown_wrong_and_locked_get_the_same_answer(app, demo_loaded):
    client = app.test_client()

    def page(email, password, where):
        response = _sign_in(client, where=where, email=email, password=password)
        return response.status_code, response.get_data(as_text=True).replace(
            email, "EMAIL"
        )

    unknown = page("nobody@meijiang-edu.example", "guess", "10.0.1.1")
    wrong = page(LEAD["email"], "guess", "10.0.1.2")
    for _ in range(5):
        _sign_in(client, where="10.0.1.3", password="guess")
    locked = page(LEAD["email"], LEAD["password"], "10.0.1.3")
    assert unknown == wrong == locked
    assert unknown[0] == 200
    assert "或尝试次数太多" in unknown[1]


def test_the_owner_is_mailed_on_every_lock(make_app):
    app = make_app(LOGIN_ACCOUNT_MAX_FAILURES=10)
    from_demo(app)
    client = app.test_client()
    for where in ("10.0.2.1", "10.0.2.2"):
        for _ in range(6):  # the sixth is refused, not counted, not mailed
            _sign_in(client, where=where, password="guess")
    with app.app_context():
        mails = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == Notification.SIGN_IN_LOCKED)
            .order_by(OutboxMessage.id)
        ).all()
        locks = db.session.scalars(
            select(Event.reason).where(Event.action == AuditAction.ACCOUNT_LOCKED)
        ).all()
    assert [m.recipient for m in mails] == [LEAD["email"]] * 2
    assert "其他设备仍可登录" in mails[0].body_text
    assert "任何人都不能登录" in mails[1].body_text
    assert locks == ["client", "account"]


def test_password_change_on_a_locked_account_is_a_message(app, demo_loaded):
    client = app.test_client()
    with app.app_context():
        login(client, staff_user(Role.LEAD))
    wrong = {"current": "guess", "new": "0123456789ab", "again": "0123456789ab"}
    for _ in range(5):
        client.post("/auth/password", data=wrong)
    response = client.post(
        "/auth/password", data={**wrong, "current": LEAD["password"]}
    )
    assert response.status_code == 429
    assert "尝试次数太多" in response.get_data(as_text=True)


def test_sign_in_counts_are_shared_through_real_redis(make_app):
    url = os.environ.get("FEEDBACK_TEST_REDIS_URL")
    if not url:
        pytest.skip("set FEEDBACK_TEST_REDIS_URL to a Redis server (.ci/run does)")
    settings = {"RATELIMIT_STORAGE_URI": url, "LOGIN_MAX_FAILURES": 2}
    # Two processes of the service, on one database and one Redis.
    first, second = make_app(**settings), make_app(**settings)
    from_demo(first)
    where = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.9"
    try:
        for _ in range(2):
            _sign_in(first.test_client(), where=where, password="guess")
        assert _sign_in(second.test_client(), where=where).status_code == 200
        assert _sign_in(second.test_client(), where="10.0.3.1").status_code == 302
    finally:
        with first.app_context():
            failures.forget(failures.Attempt(email=LEAD["email"], client=where))


def test_sign_in_counts_go_back_to_redis_once_it_answers(make_app, monkeypatch):
    """Counted in memory while the storage fails, then in the storage again."""
    url = os.environ.get("FEEDBACK_TEST_REDIS_URL")
    if not url:
        pytest.skip("set FEEDBACK_TEST_REDIS_URL to a Redis server (.ci/run does)")
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{CLOSED_PORT}/0")
    attempt = failures.Attempt(email=LEAD["email"], client="10.0.4.1")
    with app.app_context():
        failures.count(attempt)  # nothing listens there: counted in memory
        fallback = app.extensions["feedback.sign_in_failures"]
        assert type(fallback.storage).__name__ == "MemoryStorage"
        # Redis is back at the configured address, and the pause is over.
        app.config["RATELIMIT_STORAGE_URI"] = url
        later = time.monotonic() + failures.RETRY_SECONDS + 1
        monkeypatch.setattr(failures.time, "monotonic", lambda: later)
        try:
            failures.count(attempt)
            again = app.extensions["feedback.sign_in_failures"]
            assert type(again.storage).__name__ == "RedisStorage"
        finally:
            failures.forget(attempt)


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


# ---- 6. Malformed input gives 500s
# The walk over every route, converter and parameter is tests/test_hostile_input.py;
# here are the review's own URLs, each with the answer it must now get.

HUGE = "9223372036854775808"  # 2**63, one beyond a bigint
IGNORED = "有的筛选条件无法识别，已忽略"
OUT_OF_YEARS = "日期须在1900年至2100年之间"
UNREADABLE = "无法处理的控制字符"


@pytest.fixture
def hostile_desk(make_app):
    """The demo, one opinion routed to 办公室, and a client per role; (app, clients, id)."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    clients = {"visitor": app.test_client()}
    with app.app_context():
        demo.load(db.session)
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        routed = submit(db.session).submission
        triage.route(db.session, routed, office, actor=staff_user(Role.LEAD))
        db.session.commit()
        for who, user in (
            ("lead", staff_user(Role.LEAD)),
            ("admin", staff_user(Role.ADMIN)),
        ):
            clients[who] = app.test_client()
            login(clients[who], user)
        submission_id = routed.id
    return app, clients, submission_id


FINDING_6 = [
    # who, method, URL (SUB: the routed submission), form, status, text shown
    ("visitor", "GET", f"/problems/{HUGE}", None, 404, None),
    ("visitor", "GET", "/problems/-1", None, 404, None),
    ("visitor", "GET", f"/rounds/{HUGE}", None, 404, None),
    ("visitor", "GET", f"/rounds/{HUGE}/feed.atom", None, 404, None),
    ("visitor", "GET", f"/api/v1/problems/{HUGE}", None, 404, None),
    ("visitor", "GET", f"/api/v1/rounds/{HUGE}", None, 404, None),
    ("visitor", "POST", f"/track/attachments/{HUGE}", {}, 404, None),
    ("lead", "GET", f"/staff/submissions/{HUGE}", None, 404, None),
    ("lead", "POST", f"/staff/submissions/{HUGE}/route", {}, 404, None),
    # Filters: the bad one is named on the page and ignored; the list is
    # still shown, with 400 for a request not taken as sent.
    ("lead", "GET", "/staff/?received_from=0001-01-01", None, 400, OUT_OF_YEARS),
    ("lead", "GET", "/staff/?received_to=9999-12-31", None, 400, OUT_OF_YEARS),
    ("lead", "GET", f"/staff/audit?before={HUGE}", None, 400, IGNORED),
    ("admin", "GET", f"/staff/audit?before={HUGE}", None, 400, IGNORED),
    ("visitor", "GET", "/?q=" + "x" * 101, None, 400, IGNORED),
    ("lead", "GET", "/staff/board?q=" + "x" * 101, None, 400, IGNORED),
    ("visitor", "GET", "/replies?month=9999-12", None, 400, OUT_OF_YEARS),
    ("visitor", "GET", "/statistics?first=0001-01", None, 400, OUT_OF_YEARS),
    # Open311 answers in its own error format.
    (
        "visitor",
        "GET",
        "/open311/v2/requests.json?start_date=0001-01-01",
        None,
        400,
        OUT_OF_YEARS,
    ),
    (
        "visitor",
        "GET",
        "/open311/v2/requests.json?end_date=9999-12-31T23:59:59Z",
        None,
        400,
        OUT_OF_YEARS,
    ),
    # The offline entry form keeps what was typed and says why.
    (
        "lead",
        "POST",
        "/staff/submissions/new",
        {
            "channel": "phone",
            "kind": "opinion",
            "received_on": "9999-12-31",
            "subject": "电话反映",
            "body": "食堂太咸。",
        },
        200,  # shown again, not stored (a stored one redirects)
        OUT_OF_YEARS,
    ),
    # Unicode digits that pass str.isdigit() but not int().
    ("lead", "GET", "/staff/submissions/SUB?template=₀₁₂", None, 200, None),
    ("admin", "GET", "/staff/holidays?year=₀₁₂", None, 200, None),
    # NUL is refused before any view, in the query and in the path.
    ("visitor", "GET", "/?q=%00", None, 400, UNREADABLE),
    ("lead", "GET", "/staff/board?q=%00", None, 400, UNREADABLE),
    ("lead", "GET", "/staff/mail/a%00b", None, 400, UNREADABLE),
]


@pytest.mark.parametrize(
    ("who", "method", "url", "form", "status", "shown"),
    FINDING_6,
    ids=[f"{m} {u[:60]}" for _, m, u, *_ in FINDING_6],
)
def test_malformed_input_gets_a_4xx_or_a_named_refusal(
    hostile_desk, who, method, url, form, status, shown
):
    _app, clients, submission_id = hostile_desk
    url = url.replace("SUB", str(submission_id))
    client = clients[who]
    response = client.get(url) if method == "GET" else client.post(url, data=form)
    assert response.status_code == status
    if shown is not None:
        assert shown in response.get_data(as_text=True)


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


# ---- 8. The service as a mail cannon


def _citizen_text(payload):
    return {
        "subject": f"{payload[:60]} 点击 https://phish.example/领奖",
        "body": f"{payload}\n请回电 400-000-1234 领取奖金。",
        "name": "冒名者甲乙",
    }


def test_mail_to_a_citizen_at_intake_repeats_nothing_they_wrote(make_app):
    app = make_app(AUTO_ROUTE=True)
    payload = next(line for line in corpus("xss-payloads.txt") if "<" in line)
    written = _citizen_text(payload)
    with app.app_context():
        demo.load(db.session)
        problem = db.session.scalar(
            select(Problem).where(Problem.section_id.is_not(None))
        )
        submissions.submit(
            db.session,
            kind=SubmissionKind.OPINION,
            subject=written["subject"],
            body=written["body"],
            problem=problem,
            author=submissions.Author(name=written["name"], email="victim@example.org"),
        )
        db.session.commit()
        mails = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "victim@example.org")
        ).all()
        assert {m.template for m in mails} == {
            Notification.RECEIPT,
            Notification.AUTHOR_UPDATE,  # routed at once: 已受理
        }
        for mail in mails:
            for text in (mail.subject, mail.body_text, mail.body_html):
                assert "phish.example" not in text
                assert "400-000-1234" not in text
                assert written["name"] not in text
                assert payload not in text


def test_receipts_beyond_the_limit_are_suppressed_and_shown_to_the_lead(
    make_app, smtp_server
):
    controller, handler = smtp_server
    app = make_app(
        RECEIPT_RATE_LIMIT="2/hour",
        MAIL_SERVER=controller.hostname,
        MAIL_PORT=controller.port,
    )
    client = app.test_client()
    addresses = ["target@example.org", "Target@Example.org", "target@example.org"]
    for number, address in enumerate(addresses):
        html = _page(
            client.post(
                "/submit",
                data=dict(
                    FORM,
                    email=address,
                    phone="",
                    idempotency_key=f"cannon-form-key-{number:08d}",
                    send_again="1",  # past the question a repeated text gets
                ),
            )
        )
        assert read_receipt(html)  # the page shows the code, mailed or not
    other = _page(
        client.post(
            "/submit",
            data=dict(
                FORM,
                email="someone@example.org",
                idempotency_key="x" * 20,
                send_again="1",
            ),
        )
    )
    assert "回执也已发到您留下的邮箱" in other
    assert "回执也已发到您留下的邮箱" not in html  # the third was not mailed
    with app.app_context():
        states = db.session.scalars(
            select(OutboxMessage.state).order_by(OutboxMessage.id)
        ).all()
        assert states == [OutboxState.PENDING] * 2 + [
            OutboxState.SUPPRESSED,
            OutboxState.PENDING,
        ]
        held = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.state == OutboxState.SUPPRESSED)
        )
        assert held.body_text == held.body_html == outbox.REDACTED  # no code kept
        assert outbox.deliver_pending(db.session).sent == 3
        assert outbox.deliver_pending(db.session).sent == 0
        db.session.refresh(held)
        assert held.state is OutboxState.SUPPRESSED
        demo.load(db.session)
        db.session.commit()
        lead = staff_user(Role.LEAD)
    sent_to = [rcpt for _s, rcpts, _m in handler.messages for rcpt in rcpts]
    assert sorted(r.lower() for r in sent_to) == [
        "someone@example.org",
        "target@example.org",
        "target@example.org",
    ]
    with app.app_context():
        login(client, lead)
    page = client.get("/staff/outbox").get_data(as_text=True)
    assert "未发送（回执过多）" in page


def test_references_are_random_and_follow_no_ids(session):
    made = [submit(session).submission for _ in range(60)]
    session.commit()
    references = [s.reference for s in made]
    assert all(re.fullmatch(r"MJ\d{8}-\d{5}", r) for r in references)
    assert len(set(references)) == len(references)
    digits = [int(r[-5:]) for r in references]
    ids = [s.id for s in made]
    assert digits != ids
    steps = [b - a for a, b in zip(digits, digits[1:], strict=False)]
    assert steps.count(1) < 3  # consecutive submissions, numbers far apart
    assert digits != sorted(digits)


def test_a_reference_another_node_took_meanwhile_is_drawn_again(
    app, client, session, monkeypatch
):
    taken = submit(session).submission
    session.commit()
    taken_digits = int(taken.reference[-5:])
    # Another node drew the same number between this one's check and its
    # commit: the check sees it free once, and the first draw repeats it.
    draws = iter([taken_digits])
    real_draw = secrets.randbelow
    monkeypatch.setattr(
        submissions.secrets, "randbelow", lambda n: next(draws, None) or real_draw(n)
    )
    real_find = submissions.find_by_reference
    looked = []

    def find_once_blind(db_session, reference):
        looked.append(reference)
        return None if len(looked) == 1 else real_find(db_session, reference)

    monkeypatch.setattr(submissions, "find_by_reference", find_once_blind)
    page = client.get("/submit").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert key
    response = client.post(
        "/submit",
        data={
            "kind": "opinion",
            "subject": "同号",
            "body": "两台机器同时抽到同一个编号。",
            "identity": "anonymous",
            "idempotency_key": key.group(1),
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    reference, _code = read_receipt(response.get_data(as_text=True))
    assert looked[0] == taken.reference
    assert reference != taken.reference
