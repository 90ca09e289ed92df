"""Who may open what: sections see only their own, 举报 only the lead, admins no content."""

import pytest
from helpers import login
from helpers import staff_user
from helpers import submit
from sqlalchemy import select

from feedback.models import Role
from feedback.models import Section
from feedback.models import SubmissionKind
from feedback.services import triage


@pytest.fixture
def routed(session, demo_loaded):
    """An opinion routed to 办公室 and a misconduct report, both committed."""
    lead = staff_user(Role.LEAD)
    office = session.scalar(select(Section).where(Section.name == "办公室"))
    opinion = submit(session, subject="给办公室的意见").submission
    triage.route(session, opinion, office, actor=lead)
    report = submit(
        session, kind=SubmissionKind.MISCONDUCT, subject="举报某干部"
    ).submission
    session.commit()
    return opinion, report


@pytest.mark.parametrize(
    ("role", "section", "opinion_status", "report_status"),
    [
        (Role.LEAD, None, 200, 200),
        (Role.SECTION, "办公室", 200, 404),
        (Role.SECTION, "人事股", 404, 404),
        (Role.ADMIN, None, 404, 404),
    ],
)
def test_submission_page_by_role(
    client, routed, role, section, opinion_status, report_status
):
    opinion, report = routed
    login(client, staff_user(role, section))
    assert client.get(f"/staff/submissions/{opinion.id}").status_code == opinion_status
    assert client.get(f"/staff/submissions/{report.id}").status_code == report_status


@pytest.mark.parametrize(("section", "sees"), [("办公室", True), ("人事股", False)])
def test_section_queue_lists_only_its_own(client, routed, section, sees):
    login(client, staff_user(Role.SECTION, section))
    html = client.get("/staff/").get_data(as_text=True)
    assert ("给办公室的意见" in html) is sees
    assert "举报某干部" not in html


def test_lead_queue_shows_misconduct_report(client, routed):
    login(client, staff_user(Role.LEAD))
    assert "举报某干部" in client.get("/staff/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/staff/"),
        ("get", "/staff/outbox"),
        ("post", "/staff/submissions/1/route"),
        ("post", "/staff/replies/1/approve"),
    ],
)
def test_back_office_needs_sign_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.SECTION, Role.ADMIN])
def test_only_the_lead_routes(client, routed, role):
    _opinion, report = routed
    login(client, staff_user(role, "办公室" if role is Role.SECTION else None))
    response = client.post(
        f"/staff/submissions/{report.id}/route", data={"section_id": "1"}
    )
    assert response.status_code == 403


def test_login_and_logout_end_the_session(client, demo_loaded):
    response = client.post(
        "/auth/login",
        data={"email": "LEAD@meijiang-edu.example", "password": "demo-lead-pass"},
    )
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200
    client.post("/auth/logout")
    assert client.get("/staff/").status_code == 302


def test_wrong_password_is_refused(client, demo_loaded):
    response = client.post(
        "/auth/login", data={"email": "lead@meijiang-edu.example", "password": "nope"}
    )
    assert response.status_code == 200
    assert "不正确" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_logout_elsewhere_ends_old_sessions(app, demo_loaded):
    first, second = app.test_client(), app.test_client()
    for browser in (first, second):
        browser.post(
            "/auth/login",
            data={"email": "lead@meijiang-edu.example", "password": "demo-lead-pass"},
        )
    first.post("/auth/logout")
    assert second.get("/staff/").status_code == 302
