"""Submitting through the form, the receipt, and tracking by posted access code."""

import re

import pytest
from helpers import read_receipt
from sqlalchemy import select

from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import submissions

FORM = {
    "kind": "suggestion",
    "problem_id": "",
    "subject": "建议公开食堂账目",
    "body": "希望每学期公布一次食堂收支。\n第二行。",
    "identity": "anonymous",
    "idempotency_key": "form-key-0123456789",
}


def _receipt(response):
    return read_receipt(response.get_data(as_text=True))


def test_anonymous_submission_gets_reference_and_code(client, session):
    response = client.post("/submit", data=FORM)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    reference, code = _receipt(response)
    stored = session.scalar(select(Submission))
    assert stored.reference == reference
    assert stored.state is SubmissionState.RECEIVED
    assert stored.kind is SubmissionKind.SUGGESTION
    assert stored.anonymous
    assert stored.author_name is None
    assert stored.body == FORM["body"]  # stored exactly as typed
    assert code.replace("-", "") not in stored.access_code_hash
    assert stored.triage_due_on is not None
    assert session.scalar(select(Event.action)) is AuditAction.SUBMITTED
    assert "查询码只显示这一次" in response.get_data(as_text=True)


def test_real_name_needs_phone_or_email(client, session):
    data = dict(FORM, identity="real_name", name="张三")
    response = client.post("/submit", data=data)
    assert response.status_code == 400
    assert "至少一项" in response.get_data(as_text=True)
    assert session.scalar(select(Submission)) is None
    data["phone"] = "13800000000"
    assert client.post("/submit", data=data).status_code == 200
    stored = session.scalar(select(Submission))
    assert not stored.anonymous
    assert stored.author_phone == "13800000000"


def test_missing_fields_are_reported_next_to_them(client):
    response = client.post("/submit", data=dict(FORM, subject="", body=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'aria-describedby="[^"]*subject-error"', html)
    assert "请填写标题" in html
    assert "请填写内容" in html


def test_same_form_twice_creates_one_submission_and_shows_the_same_receipt(
    client, session
):
    first = client.post("/submit", data=FORM)
    again = client.post("/submit", data=FORM)
    assert again.status_code == 200
    assert read_receipt(again.get_data(as_text=True)) == read_receipt(
        first.get_data(as_text=True)
    )
    assert "已经提交过" in again.get_data(as_text=True)
    assert len(session.scalars(select(Submission)).all()) == 1


def test_a_reference_is_found_as_typed_and_an_unknown_one_refused(client, session):
    reference, _code = _receipt(client.post("/submit", data=FORM))
    found = submissions.by_reference(session, f" {reference} ")
    assert found.reference == reference
    assert submissions.find_by_reference(session, "MJ00000000-00000") is None
    with pytest.raises(submissions.SubmissionError, match="没有这个编号"):
        submissions.by_reference(session, "MJ00000000-00000")


def test_different_forms_get_different_codes(client, session):
    first = read_receipt(client.post("/submit", data=FORM).get_data(as_text=True))
    # The same text again from the same session is filed only when asked for.
    other = dict(FORM, idempotency_key="another-form-key-98765", send_again="1")
    second = read_receipt(client.post("/submit", data=other).get_data(as_text=True))
    assert first != second
    assert len(session.scalars(select(Submission)).all()) == 2


def test_problem_is_prefilled_from_the_problem_page(client, demo_loaded):
    html = client.get("/submit?problem=3").get_data(as_text=True)
    assert '<option lang="zh-Hans" selected value="3">' in html


def test_tracking_by_posted_code(client):
    _reference, code = _receipt(client.post("/submit", data=FORM))
    page = client.post("/track", data={"code": code.lower().replace("-", " ")})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "待分办" in html
    assert "希望每学期公布一次食堂收支。<br>" in html


def test_tracking_with_a_wrong_code_says_so(client):
    page = client.post("/track", data={"code": "AAAA-BBBB-CCCC-DDDD-EEEE"})
    assert page.status_code == 400
    assert "没有找到" in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/track?code=AAAA", "/track/AAAA"])
def test_code_is_never_read_from_a_url(client, path):
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert "没有找到" not in response.get_data(as_text=True)
