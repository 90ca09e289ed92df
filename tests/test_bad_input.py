"""The shared corpora through every field: never a 500, kept exactly, never runnable.

The whole of both corpora goes through the form handling and the pages in
process (test client); test_intake_http sends a sample over real HTTP and
test_browser_bad_input a few dozen through Chromium.
"""

import random

import pytest
from helpers import login
from helpers import read_receipt
from helpers import runnable_markup
from helpers import shared_path
from helpers import staff_user
from helpers import TEST_DATABASE_URL
from markupsafe import escape
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import OutboxMessage
from feedback.models import Reply
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.services import triage
from feedback.signing import reply_token


def corpus(name):
    text = shared_path("corpora", "bad-input", name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _submit(client, key, **fields):
    data = {
        "kind": "opinion",
        "subject": "标题",
        "body": "内容",
        "identity": "anonymous",
        "idempotency_key": f"corpus-form-key-{key:06d}",
    }
    data.update(fields)
    return client.post("/submit", data=data)


def _latest_in(session, model):
    return session.scalar(select(model).order_by(model.id.desc()).limit(1))


def _latest(app, model):
    """Read the newest row in a context of its own, as a fresh request would."""
    with app.app_context():
        row = _latest_in(db.session, model)
        db.session.expunge_all()
        return row


def _refused_with_a_message(response, text):
    assert response.status_code in (200, 400), repr(text)
    if response.status_code == 400:
        assert 'class="error' in response.get_data(as_text=True), repr(text)
        return True
    return False


def test_naughty_strings_through_every_citizen_field(app, client):
    kept = 0
    for number, text in enumerate(corpus("naughty-strings.txt")):
        response = _submit(
            client,
            number,
            subject=text[:100],
            body=text,
            identity="real_name",
            name=text[:100],
            phone=text[:40],
            email="citizen@example.com",
        )
        if _refused_with_a_message(response, text):
            continue
        html = response.get_data(as_text=True)
        assert runnable_markup(html) == [], repr(text)
        stored = _latest(app, Submission)
        assert (stored.subject, stored.body) == (text[:100], text)
        assert (stored.author_name, stored.author_phone) == (
            text[:100].strip(),
            text[:40].strip() or None,
        )
        _reference, code = read_receipt(html)
        tracked = client.post("/track", data={"code": code}).get_data(as_text=True)
        assert str(escape(text[:100])) in tracked, repr(text)
        assert runnable_markup(tracked) == [], repr(text)
        kept += 1
    assert kept > 400


def test_naughty_strings_as_email_and_access_code(client):
    for number, text in enumerate(corpus("naughty-strings.txt")):
        response = _submit(
            client, 10_000 + number, identity="real_name", name="张三", email=text
        )
        _refused_with_a_message(response, text)
        tracked = client.post("/track", data={"code": text})
        assert tracked.status_code in (200, 400), repr(text)
        assert runnable_markup(tracked.get_data(as_text=True)) == []


def test_naughty_strings_as_a_sections_reply(app, client, demo_loaded):
    _submit(client, 1)
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        triage.route(db.session, submission, office, actor=staff_user(Role.LEAD))
        db.session.commit()
        link = f"/section/reply/{reply_token(submission.id, office.id)}"
    for text in corpus("naughty-strings.txt"):
        response = client.post(link, data={"body": text})
        if _refused_with_a_message(response, text):
            continue
        assert runnable_markup(response.get_data(as_text=True)) == [], repr(text)
        assert _latest(app, Reply).body == text


def test_whole_xss_corpus_through_subject_and_text(app, client):
    payloads = corpus("xss-payloads.txt")
    if TEST_DATABASE_URL:
        # The PostgreSQL pass stores a sample; the SQLite pass takes all of it.
        payloads = random.Random(11).sample(payloads, 500)
    for number, payload in enumerate(payloads):
        response = _submit(client, 20_000 + number, subject=payload[:100], body=payload)
        if _refused_with_a_message(response, payload):
            continue
        html = response.get_data(as_text=True)
        assert runnable_markup(html) == [], payload
        stored = _latest(app, Submission)
        assert (stored.subject, stored.body) == (payload[:100], payload)
        _reference, code = read_receipt(html)
        tracked = client.post("/track", data={"code": code}).get_data(as_text=True)
        assert runnable_markup(tracked) == [], payload


def test_xss_sample_on_staff_pages_and_in_mail(app, client, demo_loaded):
    payloads = random.Random(2026).sample(corpus("xss-payloads.txt"), 300)
    with app.app_context():
        login(client, staff_user(Role.LEAD))
    for number, payload in enumerate(payloads):
        if (
            _submit(
                client, 30_000 + number, subject=payload[:100], body=payload
            ).status_code
            != 200
        ):
            continue
        with app.app_context():
            submission = _latest_in(db.session, Submission)
            office = db.session.scalar(select(Section).where(Section.name == "办公室"))
            triage.route(db.session, submission, office, actor=staff_user(Role.LEAD))
            db.session.commit()
            mail = _latest_in(db.session, OutboxMessage)
            link = f"/section/reply/{reply_token(submission.id, office.id)}"
            submission_id, mail_html, mail_text = (
                submission.id,
                mail.body_html,
                mail.body_text,
            )
        for html in (
            client.get(f"/staff/submissions/{submission_id}").get_data(as_text=True),
            client.get(link).get_data(as_text=True),
            mail_html,
        ):
            assert runnable_markup(html) == [], payload
        assert payload in mail_text  # the plain part carries it as written
    assert runnable_markup(client.get("/staff/").get_data(as_text=True)) == []


@pytest.mark.parametrize("text", ["a\x00b", "控制\x07字符"])
def test_control_characters_are_refused_with_a_message(app, client, text):
    response = _submit(client, 1, body=text)
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)
    assert _latest(app, Submission) is None
