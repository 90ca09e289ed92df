"""Routing: the lead decides, the problem's section is suggested, 举报 stays with the lead."""

import pytest
from helpers import login
from helpers import staff_user
from helpers import submit
from sqlalchemy import select

from feedback import demo
from feedback.extensions import db
from feedback.models import OutboxMessage
from feedback.models import Problem
from feedback.models import Role
from feedback.models import Section
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import NotAllowed
from feedback.services import triage


def _problem(session, code="3.3"):
    aspect_no, number = map(int, code.split("."))
    return next(
        p
        for p in session.scalars(select(Problem))
        if p.aspect.number == aspect_no and p.number == number
    )


def test_problem_section_is_suggested(session, demo_loaded):
    problem = _problem(session)
    receipt = submit(session, problem=problem)
    assert triage.suggest_section(receipt.submission) is problem.section


def test_route_queues_mail_in_same_transaction(session, demo_loaded):
    lead = staff_user(Role.LEAD)
    receipt = submit(session)
    section = session.scalar(select(Section).where(Section.name == "办公室"))
    triage.route(session, receipt.submission, section, actor=lead)
    session.rollback()
    assert session.scalar(select(OutboxMessage)) is None  # nothing escapes a rollback

    receipt = submit(session)
    section = session.scalar(select(Section).where(Section.name == "办公室"))
    triage.route(session, receipt.submission, section, actor=staff_user(Role.LEAD))
    session.commit()
    message = session.scalar(select(OutboxMessage))
    assert message.recipient == section.email
    assert receipt.submission.reference in message.subject
    assert receipt.submission.state is SubmissionState.ROUTED
    assert receipt.submission.due_on is not None
    assert message.reply_to.startswith(f"reply+{receipt.submission.id}-")
    assert "/section/reply/" in message.body_text


def test_misconduct_report_cannot_be_routed(session, demo_loaded):
    receipt = submit(session, kind=SubmissionKind.MISCONDUCT, problem=_problem(session))
    assert triage.suggest_section(receipt.submission) is None
    section = session.scalar(select(Section))
    with pytest.raises(NotAllowed):
        triage.route(session, receipt.submission, section, actor=staff_user(Role.LEAD))


def test_everything_waits_for_the_lead_by_default(session, demo_loaded):
    receipt = submit(session, problem=_problem(session))
    assert receipt.submission.state is SubmissionState.RECEIVED
    assert session.scalar(select(OutboxMessage)) is None


@pytest.mark.parametrize(
    ("kind", "routed"),
    [(SubmissionKind.OPINION, True), (SubmissionKind.MISCONDUCT, False)],
)
def test_auto_routing_setting(make_app, kind, routed):
    app = make_app(AUTO_ROUTE=True)
    with app.app_context():
        demo.load(db.session)
        receipt = submit(db.session, kind=kind, problem=_problem(db.session))
        db.session.commit()
        submission = receipt.submission
        assert (submission.state is SubmissionState.ROUTED) is routed
        assert (submission.section is not None) is routed
        assert (db.session.scalar(select(OutboxMessage)) is not None) is routed


def test_lead_routes_through_the_page(client, session, demo_loaded):
    receipt = submit(session, problem=_problem(session))
    session.commit()
    login(client, staff_user(Role.LEAD))
    page = client.get(f"/staff/submissions/{receipt.submission.id}")
    html = page.get_data(as_text=True)
    suggested = receipt.submission.problem.section
    assert f'<option selected value="{suggested.id}">' in html
    response = client.post(
        f"/staff/submissions/{receipt.submission.id}/route",
        data={"section_id": str(suggested.id)},
        follow_redirects=True,
    )
    assert "已转办给" in response.get_data(as_text=True)
    session.refresh(receipt.submission)
    assert receipt.submission.section is suggested
