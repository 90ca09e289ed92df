"""The admin's routing table and holiday page, and the retention purge."""

import io
import re
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from html.parser import HTMLParser

import pytest
from helpers import login
from helpers import staff_user
from helpers import submit
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import Event
from feedback.models import Holiday
from feedback.models import OutboxMessage
from feedback.models import Rating
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import attachments
from feedback.services import deadlines
from feedback.services import submissions
from feedback.services import triage

ICS = (
    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20271001\r\n"
    "DTEND;VALUE=DATE:20271004\r\nSUMMARY:国庆节\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270926\r\nSUMMARY:国庆节补班\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _admin(app):
    client = app.test_client()
    with app.app_context():
        login(client, staff_user(Role.ADMIN))
    return client


def _days(app):
    with app.app_context():
        return {
            h.day: (h.name, h.is_workday)
            for h in db.session.scalars(select(Holiday).order_by(Holiday.day))
        }


def test_admin_adds_imports_and_removes_days(app, demo_loaded):
    client = _admin(app)
    client.post(
        "/staff/holidays",
        data={"day-day": "2027-01-01", "day-name": "元旦<script>"},
    )
    client.post(
        "/staff/holidays/import",
        data={"ics-calendar": (io.BytesIO(ICS.encode()), "holidays.ics")},
        content_type="multipart/form-data",
    )
    days = _days(app)
    assert days[date(2027, 1, 1)] == ("元旦<script>", False)
    assert [d for d in days if d.month == 10] == [
        date(2027, 10, 1),
        date(2027, 10, 2),
        date(2027, 10, 3),
    ]
    assert days[date(2027, 9, 26)][1] is True  # the make-up working day
    page = client.get("/staff/holidays?year=2027").get_data(as_text=True)
    assert "元旦&lt;script&gt;" in page
    assert "<script>" not in page.split("<main", 1)[1]
    client.post("/staff/holidays/2027-10-02/remove")
    assert date(2027, 10, 2) not in _days(app)
    with app.app_context():
        reasons = db.session.scalars(select(Event.reason)).all()
        assert any("2027-10-02 removed" in (r or "") for r in reasons)


def test_bad_holiday_input_gets_a_message(app, demo_loaded):
    client = _admin(app)
    bad_date = client.post("/staff/holidays", data={"day-day": "2027-02-30"})
    assert bad_date.status_code == 400
    not_ics = client.post(
        "/staff/holidays/import",
        data={"ics-calendar": (io.BytesIO(b"\x00\xffnot a calendar"), "x.ics")},
        content_type="multipart/form-data",
    )
    assert not_ics.status_code == 400
    assert ".ics" in not_ics.get_data(as_text=True)
    assert client.post("/staff/holidays/not-a-day/remove").status_code == 302
    assert _days(app) == {}


def test_removing_a_day_not_in_the_table_says_so(app, demo_loaded):
    client = _admin(app)
    page = client.post("/staff/holidays/2027-10-02/remove", follow_redirects=True)
    assert "没有这一天。" in page.get_data(as_text=True)
    client.set_cookie("lang", "en")
    page = client.post("/staff/holidays/2027-10-02/remove", follow_redirects=True)
    assert "That day is not in the table." in page.get_data(as_text=True)
    with app.app_context():
        with pytest.raises(deadlines.HolidayError):
            deadlines.remove_holiday(
                db.session, date(2027, 10, 2), actor=staff_user(Role.ADMIN)
            )
        holiday_events = select(Event).where(Event.object_type == "holiday")
        assert db.session.scalars(holiday_events).all() == []


def test_saving_days_updates_those_there_and_audits_each(app):
    entry = deadlines.HolidayEntry
    with app.app_context():
        deadlines.save_holidays(db.session, [entry(date(2027, 1, 1), "元旦", False)])
        db.session.commit()
        saved = deadlines.save_holidays(
            db.session,
            [
                entry(date(2027, 1, 1), "新年", False),
                entry(date(2027, 2, 6), "春节", False),
                entry(date(2027, 2, 6), "春节补班", True),  # the last one stays
            ],
            source="x.ics",
        )
        db.session.commit()
        reasons = db.session.scalars(select(Event.reason).order_by(Event.id)).all()
    assert saved == 3
    assert _days(app) == {
        date(2027, 1, 1): ("新年", False),
        date(2027, 2, 6): ("春节补班", True),
    }
    assert reasons == [
        "2027-01-01 元旦",
        "2027-01-01 新年 x.ics",
        "2027-02-06 春节 x.ics",
        "2027-02-06 春节补班 (补班) x.ics",
    ]


REPEATING_ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//holidays//ZH\r\n"
    "BEGIN:VEVENT\r\nUID:new-year\r\nDTSTART;VALUE=DATE:20270101\r\n"
    "RRULE:FREQ=YEARLY\r\nSUMMARY:元旦\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
MALFORMED_ICS = [
    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20271001\r\n",
    "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20271001\r\nEND:VEVENT\r\n",
]


def test_admin_imports_a_repeating_holiday(app, demo_loaded):
    response = _admin(app).post(
        "/staff/holidays/import",
        data={"ics-calendar": (io.BytesIO(REPEATING_ICS.encode()), "yearly.ics")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    days = _days(app)
    assert days[date(2027, 1, 1)] == ("元旦", False)
    assert days[date(2028, 1, 1)] == ("元旦", False)


@pytest.mark.parametrize("text", MALFORMED_ICS)
def test_malformed_calendar_upload_gets_a_message(app, demo_loaded, text):
    response = _admin(app).post(
        "/staff/holidays/import",
        data={"ics-calendar": (io.BytesIO(text.encode()), "broken.ics")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "没有读到节假日" in response.get_data(as_text=True)
    assert _days(app) == {}


def test_import_holidays_command_reads_a_repeating_holiday(app, tmp_path):
    calendar = tmp_path / "yearly.ics"
    calendar.write_text(REPEATING_ICS, encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["deadlines", "import-holidays", str(calendar)]
    )
    assert result.exit_code == 0, result.output
    days = _days(app)
    assert result.output == f"{len(days)} days in the holiday table\n"
    assert {date(2027, 1, 1), date(2028, 1, 1)} <= set(days)


@pytest.mark.parametrize("text", MALFORMED_ICS)
def test_import_holidays_command_refuses_a_malformed_calendar(app, tmp_path, text):
    calendar = tmp_path / "broken.ics"
    calendar.write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["deadlines", "import-holidays", str(calendar)]
    )
    assert result.exit_code == 1
    assert f"Error: {calendar}: not an iCalendar file" in result.output
    assert "Traceback" not in result.output
    assert _days(app) == {}


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _finished(app, *, closed_at, name="孙八"):
    with app.app_context():
        receipt = submissions.submit(
            db.session,
            kind=SubmissionKind.COMPLAINT,
            subject=f"{name}反映食堂问题",
            body=f"我是{name}，电话13912345678，邮箱sun@example.com。",
            author=submissions.Author(
                name=name, phone="13912345678", email="sun@example.com"
            ),
            uploads=[attachments.Upload("证明.pdf", PDF)],
        )
        submission = receipt.submission
        submission.state = SubmissionState.CLOSED
        submission.closed_at = closed_at
        submission.rating = Rating.DISSATISFIED
        submission.rating_reason = f"{name}不满意，请回电13912345678"
        db.session.commit()
        path = attachments.path_of(submission.attachments[0])
        return submission.id, path


def test_retention_purge_keeps_the_anonymised_record(app, demo_loaded):
    now = datetime(2030, 6, 1, 12, tzinfo=UTC)
    years = app.config["RETENTION_YEARS"]
    old_id, old_file = _finished(
        app, closed_at=now.replace(year=2030 - years) - timedelta(days=1)
    )
    young_id, young_file = _finished(
        app, closed_at=now.replace(year=2030 - years) + timedelta(days=1), name="周九"
    )
    with app.app_context():
        open_one = submit(db.session).submission
        db.session.commit()
        open_id = open_one.id
    runner = app.test_cli_runner()
    dry = runner.invoke(
        args=["retention", "purge", "--dry-run", "--now", now.isoformat()]
    )
    assert dry.output.strip() == "would purge: submissions=1 files=1"
    with app.app_context():
        assert db.session.get(Submission, old_id).author_name == "孙八"
    result = runner.invoke(args=["retention", "purge", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "purged: submissions=1 files=1"
    with app.app_context():
        old = db.session.get(Submission, old_id)
        assert (old.author_name, old.author_phone, old.author_email) == (
            None,
            None,
            None,
        )
        for text in (old.subject, old.body, old.rating_reason):
            assert "孙八" not in text
            assert "13912345678" not in text
            assert "sun@example.com" not in text
        # What the statistics count stays.
        assert old.kind is SubmissionKind.COMPLAINT
        assert old.state is SubmissionState.CLOSED
        assert old.rating is Rating.DISSATISFIED
        assert old.purged_at is not None
        assert not db.session.scalars(
            select(Attachment).where(Attachment.submission_id == old_id)
        ).all()
        mails = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.submission_id == old_id)
        ).all()
        assert all("sun@example.com" not in m.recipient for m in mails)
        young = db.session.get(Submission, young_id)
        assert young.author_name == "周九"
        assert db.session.get(Submission, open_id).purged_at is None
    assert not old_file.exists()
    assert young_file.exists()
    again = runner.invoke(args=["retention", "purge", "--now", now.isoformat()])
    assert again.output.strip() == "purged: submissions=0 files=0"


def test_refused_submissions_are_purged_by_their_decision_date(app, demo_loaded):
    now = datetime(2030, 6, 1, tzinfo=UTC)
    with app.app_context():
        refused = submit(
            db.session,
            author=submissions.Author(name="吴十", email="wu@example.com"),
        ).submission
        triage.refuse(
            db.session, refused, "不属于受理范围", actor=staff_user(Role.LEAD)
        )
        refused.decided_at = datetime(2025, 1, 1, tzinfo=UTC)
        db.session.commit()
        refused_id = refused.id
    app.test_cli_runner().invoke(args=["retention", "purge", "--now", now.isoformat()])
    with app.app_context():
        assert db.session.get(Submission, refused_id).author_email is None


class _RowInputs(HTMLParser):
    """The inputs of each routing-table form, by the form's field prefix."""

    def __init__(self):
        super().__init__()
        self.rows = {}

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        name = found.get("name") or ""
        if tag != "input" or not re.fullmatch(r"(s\d+|new)-\w+", name):
            return
        prefix, field = name.split("-", 1)
        row = self.rows.setdefault(prefix, {"values": {}, "checked": set()})
        if found.get("type") == "checkbox":
            if "checked" in found:
                row["checked"].add((field, found.get("value")))
        elif field != "csrf_token":
            row["values"][field] = found.get("value", "")


def _section_rows(page):
    parser = _RowInputs()
    parser.feed(page)
    return parser.rows


def test_a_refused_section_edit_keeps_what_was_typed_and_the_other_rows(
    app, demo_loaded
):
    client = _admin(app)
    with app.app_context():
        ids = {s.name: s.id for s in db.session.scalars(select(Section)).all()}
    office, finance = ids["办公室"], ids["计划财务股"]
    before = _section_rows(client.get("/staff/sections").get_data(as_text=True))
    refused = client.post(
        f"/staff/sections/{finance}",
        data={
            f"s{finance}-name": "办公室",  # another section's name
            f"s{finance}-email": "money@meijiang-edu.example",
            f"s{finance}-reply_domains": "163.com",
            f"s{finance}-kinds": "complaint",
        },
    )
    assert refused.status_code == 400
    after = _section_rows(refused.get_data(as_text=True))
    assert set(after) == set(before) == {f"s{i}" for i in ids.values()} | {"new"}
    # Every other row is as the routing table holds it; the new one is blank.
    for prefix, row in before.items():
        if prefix != f"s{finance}":
            assert after[prefix] == row
    assert after[f"s{office}"]["values"]["name"] == "办公室"
    assert ("active", "y") in after[f"s{office}"]["checked"]
    # The refused row shows what was typed, the rule's message beside the name.
    assert after[f"s{finance}"] == {
        "values": {
            "name": "办公室",
            "email": "money@meijiang-edu.example",
            "reply_domains": "163.com",
        },
        "checked": {("kinds", "complaint")},  # and no longer active
    }
    page = refused.get_data(as_text=True)
    error = page.split(f'id="s{finance}-name-error"', 1)[1].split("</p>", 1)[0]
    assert "已有名为“办公室”的股室。" in error
    with app.app_context():
        kept = db.session.get(Section, finance)
        assert (kept.name, kept.active) == ("计划财务股", True)
