"""Each finding of the security review, attacked again: it must hold."""

import hashlib
import re
from datetime import timedelta

from helpers import corpus
from helpers import login
from helpers import read_receipt
from helpers import staff_user
from helpers import submit
from sqlalchemy import select
from sqlalchemy import update

from feedback import demo
from feedback.db import utcnow
from feedback.extensions import db
from feedback.models import Notification
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Problem
from feedback.models import Role
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import outbox
from feedback.services import retention
from feedback.services import submissions
from feedback.services import tracking

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
                ),
            )
        )
        assert read_receipt(html)  # the page shows the code, mailed or not
    other = _page(
        client.post(
            "/submit",
            data=dict(FORM, email="someone@example.org", idempotency_key="x" * 20),
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
