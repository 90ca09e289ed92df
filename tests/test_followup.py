"""After routing: questions to the author, ratings and closing, reopening, and 举报 notices."""

import json
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import pytest
from helpers import login
from helpers import read_receipt
from helpers import staff_user
from markupsafe import escape
from sqlalchemy import select

from feedback import demo
from feedback.db import utcnow
from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import DeadlineAlert
from feedback.models import Event
from feedback.models import OutboxMessage
from feedback.models import Rating
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import deadlines
from feedback.services import questions
from feedback.services import queues
from feedback.services import replies
from feedback.services import triage
from feedback.signing import reply_token

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def local_today() -> date:
    return deadlines.local_date(utcnow(), "Asia/Shanghai")


def _submit(client, kind="complaint", key="followup-form-key-0001"):
    response = client.post(
        "/submit",
        data={
            "kind": kind,
            "subject": "食堂价格",
            "body": "学校食堂饭菜价格偏高。",
            "identity": "real_name",
            "name": "钱七",
            "email": "qianqi@example.com",
            "idempotency_key": key,
        },
    )
    return read_receipt(response.get_data(as_text=True))[1]


@pytest.fixture
def routed(app, client, demo_loaded):
    """A real-name complaint routed to 办公室; returns (id, access code)."""
    code = _submit(client)
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        triage.route(db.session, submission, office, actor=staff_user(Role.LEAD))
        db.session.commit()
        return submission.id, code


def _mails(app, recipient):
    with app.app_context():
        return [
            m.body_text
            for m in db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == recipient)
                .order_by(OutboxMessage.id)
            )
        ]


def _get(app, submission_id):
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        db.session.expunge(submission)
        return submission


def _track(app, code):
    return app.test_client().post("/track", data={"code": code}).get_data(as_text=True)


def _ask_as(app, submission_id, role, section=None, question="请补充就餐日期。"):
    client = app.test_client()
    with app.app_context():
        login(client, staff_user(role, section))
    return client.post(
        f"/staff/submissions/{submission_id}/ask",
        data={"ask-question": question},
        follow_redirects=True,
    )


def _age_question(app, submission_id, days):
    """Move the open question ``days`` into the past, as if asked then."""
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        request = questions.open_request(submission)
        request.asked_at = request.asked_at - timedelta(days=days)
        db.session.commit()


def test_section_asks_and_the_author_answers_with_a_file(app, routed):
    submission_id, code = routed
    due = _get(app, submission_id).due_on
    page = _ask_as(app, submission_id, Role.SECTION, "办公室")
    assert "问题已发给群众" in page.get_data(as_text=True)
    assert _get(app, submission_id).info_pending
    assert any("请补充就餐日期" in m for m in _mails(app, "qianqi@example.com"))
    tracked = _track(app, code)
    assert "请补充就餐日期" in tracked
    assert 'action="/track/answer"' in tracked

    _age_question(app, submission_id, 4)
    answered = app.test_client().post(
        "/track/answer",
        data={
            "code": code,
            "answer": "是十月八日中午。<b>收据</b>见附件。",
            "attachments": [(__import__("io").BytesIO(PDF), "收据.pdf")],
        },
        content_type="multipart/form-data",
    )
    text = answered.get_data(as_text=True)
    assert answered.status_code == 200
    assert "已收到您的补充材料" in text
    assert "&lt;b&gt;收据&lt;/b&gt;" in text  # escaped, stored as typed
    submission = _get(app, submission_id)
    assert not submission.info_pending
    assert submission.due_on == due + timedelta(days=4)  # the clock stood still
    with app.app_context():
        files = db.session.scalars(
            select(Attachment).where(Attachment.submission_id == submission_id)
        ).all()
        assert [f.filename for f in files] == ["收据.pdf"]
        assert files[0].info_request_id is not None
        stored = questions.open_request(db.session.get(Submission, submission_id))
        assert stored is None
    office_mail = _mails(app, "office@meijiang-edu.example")
    assert any("<b>收据</b>" in m and "十月八日" in m for m in office_mail)
    # A second answer with no open question is refused, clearly.
    again = app.test_client().post("/track/answer", data={"code": code, "answer": "x"})
    assert again.status_code == 400
    assert (
        "现在没有需要您回答的问题，可能已经回答过了。请刷新页面查看。"
        in again.get_data(as_text=True)
    )


def test_clock_keeps_running_when_the_setting_says_so(make_app, tmp_path):
    app = make_app(INFO_REQUEST_PAUSES_CLOCK=False)

    with app.app_context():
        demo.load(db.session)
        db.session.commit()
    code = _submit(app.test_client())
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        triage.route(db.session, submission, office, actor=staff_user(Role.LEAD))
        db.session.commit()
        submission_id, due = submission.id, submission.due_on
    _ask_as(app, submission_id, Role.LEAD)
    _age_question(app, submission_id, 4)
    app.test_client().post("/track/answer", data={"code": code, "answer": "日期"})
    assert _get(app, submission_id).due_on == due


def test_another_section_cannot_ask_and_one_question_at_a_time(app, routed):
    submission_id, _code = routed
    assert _ask_as(app, submission_id, Role.SECTION, "人事股").status_code == 404
    _ask_as(app, submission_id, Role.LEAD)
    second = _ask_as(app, submission_id, Role.LEAD, question="还有吗？")
    assert "群众还没有回答上一个问题，请等回答后再问。" in second.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.get(Submission, submission_id).info_requests) == 1


def test_sweep_waits_while_the_author_is_asked(app, routed):
    submission_id, _code = routed
    _ask_as(app, submission_id, Role.LEAD)
    due = _get(app, submission_id).due_on
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["deadlines", "sweep", "--now", f"{due + timedelta(days=3)}T09:00:00"]
    )
    assert result.output.strip() == "reminders=0 escalations=0 closed=0"


def _reply_and_approve(app, submission_id):
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        draft = replies.draft(
            db.session,
            submission,
            submission.section,
            "已调整价格。",
            channel=ReplyChannel.WEB,
            author_label="office",
        )
        replies.approve(db.session, draft, actor=staff_user(Role.LEAD))
        db.session.commit()


def test_satisfied_rating_closes_and_explains_review(app, routed):
    submission_id, code = routed
    _reply_and_approve(app, submission_id)
    assert 'action="/track/rate"' in _track(app, code)
    page = app.test_client().post(
        "/track/rate", data={"code": code, "rating": "basically_satisfied"}
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "此件已办结" in text
    assert "30日内" in text
    assert app.config["REVIEW_BODY"] in text
    submission = _get(app, submission_id)
    assert submission.state is SubmissionState.CLOSED
    assert submission.rating is Rating.BASICALLY_SATISFIED
    assert submission.closed_at is not None
    # Rated once: the form is gone, and a second rating is refused.
    assert 'action="/track/rate"' not in _track(app, code)
    again = app.test_client().post(
        "/track/rate", data={"code": code, "rating": "satisfied"}
    )
    assert again.status_code == 400
    assert _get(app, submission_id).rating is Rating.BASICALLY_SATISFIED


def test_dissatisfied_goes_before_the_lead_who_reopens(app, routed):
    submission_id, code = routed
    _reply_and_approve(app, submission_id)
    no_reason = app.test_client().post(
        "/track/rate", data={"code": code, "rating": "dissatisfied"}
    )
    assert no_reason.status_code == 400
    assert _get(app, submission_id).state is SubmissionState.REPLIED
    app.test_client().post(
        "/track/rate",
        data={"code": code, "rating": "dissatisfied", "reason": "价格没有变"},
    )
    assert any("价格没有变" in m for m in _mails(app, "lead@meijiang-edu.example"))
    today = local_today()
    with app.app_context():
        waiting = queues.page(
            db.session, "dissatisfied", queues.Filters(), today=today, soon_days=3
        )
        assert [s.id for s in waiting.items] == [submission_id]
    lead = app.test_client()
    with app.app_context():
        login(lead, staff_user(Role.LEAD))
    desk = lead.get("/staff/?queue=dissatisfied").get_data(as_text=True)
    assert "群众不满意（1）" in desk
    before = len(_mails(app, "office@meijiang-edu.example"))
    lead.post(
        f"/staff/submissions/{submission_id}/reopen",
        data={"reopen-reason": "请核实价格"},
    )
    submission = _get(app, submission_id)
    assert submission.state is SubmissionState.ROUTED
    assert submission.reopened_at is not None
    assert submission.due_on > today
    assert len(_mails(app, "office@meijiang-edu.example")) == before + 1
    assert "重新办理" in _track(app, code)
    with app.app_context():
        waiting = queues.page(
            db.session, "dissatisfied", queues.Filters(), today=today, soon_days=3
        )
        assert waiting.items == []


def test_lead_may_keep_a_dissatisfied_one_closed(app, routed):
    submission_id, code = routed
    _reply_and_approve(app, submission_id)
    app.test_client().post(
        "/track/rate", data={"code": code, "rating": "dissatisfied", "reason": "慢"}
    )
    lead = app.test_client()
    with app.app_context():
        login(lead, staff_user(Role.LEAD))
    lead.post(
        f"/staff/submissions/{submission_id}/keep-closed",
        data={"keep-reason": "已按政策答复"},
    )
    submission = _get(app, submission_id)
    assert submission.state is SubmissionState.CLOSED
    assert submission.rating_reviewed_at is not None
    with app.app_context():
        reasons = db.session.scalars(
            select(Event.reason).where(Event.submission_id == submission_id)
        ).all()
        assert "已按政策答复" in reasons


def test_unrated_replies_close_after_the_window(app, routed):
    submission_id, _code = routed
    _reply_and_approve(app, submission_id)
    replied = _get(app, submission_id).replied_at
    window = app.config["RATING_WINDOW_DAYS"]
    runner = app.test_cli_runner()

    def sweep(moment: datetime) -> str:
        now = moment.astimezone(UTC).isoformat()
        return runner.invoke(args=["deadlines", "sweep", "--now", now]).output

    assert "closed=0" in sweep(replied + timedelta(days=window - 1))
    assert "closed=1" in sweep(replied + timedelta(days=window + 1))
    assert _get(app, submission_id).state is SubmissionState.CLOSED
    assert _get(app, submission_id).rating is None


def test_real_name_report_is_accepted_and_told_its_result(app, client, demo_loaded):
    code = _submit(client, kind="misconduct", key="followup-report-key-01")
    with app.app_context():
        report = db.session.scalar(select(Submission))
        received = deadlines.local_date(report.received_at, "Asia/Shanghai")
        holidays = deadlines.holiday_table(db.session)
        assert report.triage_due_on == deadlines.add_days(
            received, 15, mode="working", holidays=holidays
        )
        report_id = report.id
    section = app.test_client()
    with app.app_context():
        login(section, staff_user(Role.SECTION, "办公室"))
    assert section.get(f"/staff/submissions/{report_id}").status_code == 404
    lead = app.test_client()
    with app.app_context():
        login(lead, staff_user(Role.LEAD))
    page = lead.get(f"/staff/submissions/{report_id}").get_data(as_text=True)
    assert "受理并告知举报人" in page
    lead.post(f"/staff/submissions/{report_id}/accept")
    report = _get(app, report_id)
    assert report.state is SubmissionState.ROUTED
    assert report.section_id is None
    told = _mails(app, "qianqi@example.com")
    assert any("举报已受理" in m and "15个工作日" in m for m in told)

    future = lead.post(
        f"/staff/submissions/{report_id}/conclude",
        data={
            "conclude-concluded_on": (local_today() + timedelta(days=9)).isoformat(),
            "conclude-result": "经查属实，已给予处分。",
        },
        follow_redirects=True,
    )
    assert "办结日期不能晚于今天。" in future.get_data(as_text=True)
    concluded_on = local_today() - timedelta(days=2)
    lead.post(
        f"/staff/submissions/{report_id}/conclude",
        data={
            "conclude-concluded_on": concluded_on.isoformat(),
            "conclude-result": "经查属实，已给予处分。",
        },
    )
    report = _get(app, report_id)
    assert report.state is SubmissionState.REPLIED
    assert report.concluded_on == concluded_on
    with app.app_context():
        holidays = deadlines.holiday_table(db.session)
    assert report.result_due_on == deadlines.add_days(
        concluded_on, 15, mode="working", holidays=holidays
    )
    assert any("已给予处分" in m for m in _mails(app, "qianqi@example.com"))
    assert "已给予处分" in _track(app, code)


def test_lead_is_reminded_before_a_report_notice_is_due(app, client, demo_loaded):
    _submit(client, kind="misconduct", key="followup-report-key-02")
    with app.app_context():
        due = db.session.scalar(select(Submission)).triage_due_on
    runner = app.test_cli_runner()
    day = due - timedelta(days=1)
    first = runner.invoke(args=["deadlines", "sweep", "--now", f"{day}T09:00:00"])
    second = runner.invoke(args=["deadlines", "sweep", "--now", f"{day}T10:00:00"])
    assert first.output.strip() == "reminders=1 escalations=0 closed=0"
    assert second.output.strip() == "reminders=0 escalations=0 closed=0"
    with app.app_context():
        kinds = db.session.scalars(select(DeadlineAlert.kind)).all()
        assert kinds == ["misconduct_soon"]
    assert any("即将到期" in m for m in _mails(app, "lead@meijiang-edu.example"))


def test_sections_start_replies_from_templates(app, routed):
    submission_id, _code = routed
    section = app.test_client()
    with app.app_context():
        login(section, staff_user(Role.SECTION, "办公室"))
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        token = reply_token(submission_id, office.id)
    first = app.config["REPLY_TEMPLATES"][0].text
    opened = section.get(f"/section/reply/{token}", follow_redirects=True)
    for base in (f"/staff/submissions/{submission_id}", opened.request.path):
        page = section.get(base).get_data(as_text=True)
        assert f'href="{base}?template=0#body"' in page
        chosen = section.get(f"{base}?template=0").get_data(as_text=True)
        assert escape(first) in chosen
        assert escape(first) not in section.get(f"{base}?template=99").get_data(
            as_text=True
        )


def test_events_keep_what_changed(app, routed):
    submission_id, _code = routed
    lead = app.test_client()
    with app.app_context():
        login(lead, staff_user(Role.LEAD))
        due = db.session.get(Submission, submission_id).due_on
    lead.post(
        f"/staff/submissions/{submission_id}/extend",
        data={"extend-days": "5", "extend-reason": "需要调查"},
    )
    with app.app_context():
        events = {
            e.action.value: e
            for e in db.session.scalars(
                select(Event).where(Event.submission_id == submission_id)
            )
        }
        routed_event = events["routed"]
        assert json.loads(routed_event.before)["state"] == "received"
        assert json.loads(routed_event.after)["state"] == "routed"
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        assert json.loads(routed_event.after)["section"] == office.id
        extended = events["extended"]
        assert json.loads(extended.before) == {
            "due_on": due.isoformat(),
            "extended_days": None,
        }
        assert json.loads(extended.after) == {
            "due_on": (due + timedelta(days=5)).isoformat(),
            "extended_days": 5,
        }
    page = lead.get("/staff/audit").get_data(as_text=True)
    assert "extended_days" in page
