"""Naughty strings and XSS payloads from ../shared/corpora: never a 500, kept exactly, escaped."""

import random

import pytest
from conftest import login
from conftest import read_receipt
from conftest import runnable_markup
from conftest import shared_path
from conftest import staff_user
from markupsafe import escape
from sqlalchemy import select

from feedback.models import OutboxMessage
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.services import triage


def _lines(name):
    text = shared_path("corpora", "bad-input", name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _submit(client, text, key):
    return client.post(
        "/submit",
        data={
            "kind": "opinion",
            "subject": text[:100],
            "body": text,
            "identity": "anonymous",
            "idempotency_key": key,
        },
    )


def test_naughty_strings_are_kept_or_clearly_refused(client, session):
    accepted = refused = 0
    for number, text in enumerate(_lines("naughty-strings.txt")):
        response = _submit(client, text, f"n{number}")
        assert response.status_code in (200, 400), text
        html = response.get_data(as_text=True)
        if response.status_code == 400:
            assert 'class="error"' in html, text  # a message says what is wrong
            refused += 1
            continue
        accepted += 1
        _reference, code = read_receipt(html)
        stored = session.scalar(select(Submission).order_by(Submission.id.desc()))
        assert stored.body == text
        tracked = client.post("/track", data={"code": code}).get_data(as_text=True)
        assert str(escape(text)).replace("\n", "<br>\n") in tracked or "http" in text
    assert accepted > 400
    assert refused < 60


def test_xss_payloads_never_reach_a_page_or_mail_unescaped(
    client, session, demo_loaded
):
    payloads = _lines("xss-payloads.txt")
    sample = random.Random(2026).sample(payloads, 150)
    office = session.scalar(select(Section).where(Section.name == "办公室"))
    lead = staff_user(Role.LEAD)
    login(client, lead)
    for number, payload in enumerate(sample):
        response = _submit(client, payload, f"x{number}")
        if response.status_code == 400:
            continue
        assert response.status_code == 200
        _reference, code = read_receipt(response.get_data(as_text=True))
        submission = session.scalar(select(Submission).order_by(Submission.id.desc()))
        triage.route(session, submission, office, actor=lead)
        session.commit()
        pages = [
            client.post("/track", data={"code": code}).get_data(as_text=True),
            client.get(f"/staff/submissions/{submission.id}").get_data(as_text=True),
            client.get("/staff/").get_data(as_text=True),
        ]
        mail = session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        for html in [*pages, mail.body_html]:
            assert not runnable_markup(html), payload


@pytest.mark.parametrize("text", ["a\x00b", "控制\x07字符"])
def test_control_characters_are_refused_with_a_message(client, session, text):
    response = _submit(client, text, "c")
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)
    assert session.scalar(select(Submission)) is None
