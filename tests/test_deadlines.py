"""Deadlines: calendar and working days in Asia/Shanghai, holidays, and the sweep."""

from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import pytest
from helpers import staff_user
from helpers import submit
from sqlalchemy import func
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import DeadlineAlert
from feedback.models import Holiday
from feedback.models import OutboxMessage
from feedback.models import Role
from feedback.models import Section
from feedback.models import SubmissionKind
from feedback.services import deadlines
from feedback.services import submissions
from feedback.services import triage

TZ = "Asia/Shanghai"


def test_receipt_day_is_not_counted():
    received = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert deadlines.due_date(received, 15, TZ) == date(2026, 3, 16)


def test_local_day_decides_not_utc_day():
    # 20:00 UTC on 1 March is already 2 March in Shanghai.
    late = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    assert deadlines.local_date(late, TZ) == date(2026, 3, 2)
    assert deadlines.due_date(late, 60, TZ) == date(2026, 5, 1)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 1)),  # across a month end
        (date(2028, 2, 28), 1, date(2028, 2, 29)),  # a leap day
        (date(2028, 2, 14), 15, date(2028, 2, 29)),
        (date(2027, 2, 14), 15, date(2027, 3, 1)),  # no 29 February in 2027
        (date(2026, 12, 25), 60, date(2027, 2, 23)),  # across a year end
    ],
)
def test_calendar_days(start, days, expected):
    assert deadlines.add_days(start, days) == expected


# 2026 National Day week, with its make-up working Sunday (调休).
GOLDEN_WEEK = {date(2026, 10, d): False for d in range(1, 8)} | {
    date(2026, 9, 27): True
}


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 working day = Monday
        (date(2026, 11, 27), 15, date(2026, 12, 18)),
        (date(2026, 9, 25), 1, date(2026, 9, 27)),  # the make-up Sunday is worked
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # the holiday week is skipped
        (date(2028, 2, 28), 1, date(2028, 2, 29)),  # Monday to Tuesday, 29 February
        (date(2026, 1, 30), 1, date(2026, 2, 2)),  # Friday, month end, to Monday
    ],
)
def test_working_days_skip_weekends_and_holidays(start, days, expected):
    assert (
        deadlines.add_days(start, days, mode="working", holidays=GOLDEN_WEEK)
        == expected
    )


def test_ics_calendar_reads_days_off_and_make_up_days():
    ics = (
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261001\r\n"
        "DTEND;VALUE=DATE:20261008\r\nSUMMARY:国庆节\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260927\r\nSUMMARY:国庆节补班\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nDTSTART:garbage\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    days = {item.day: item.is_workday for item in deadlines.read_ics(ics)}
    assert days == GOLDEN_WEEK


def test_working_day_mode_sets_due_dates(make_app):
    app = make_app(DEADLINE_MODE="working")
    with app.app_context():
        db.session.add_all(
            Holiday(day=d, name="假", is_workday=w) for d, w in GOLDEN_WEEK.items()
        )
        db.session.commit()
        receipt = submissions.submit(
            db.session,
            kind=SubmissionKind.OPINION,
            subject="s",
            body="b",
            author=submissions.Author(),
        )
        received = deadlines.local_date(receipt.submission.received_at, "Asia/Shanghai")
        assert receipt.submission.triage_due_on == deadlines.add_days(
            received, 15, mode="working", holidays=GOLDEN_WEEK
        )


def test_sweep_reminds_once_and_escalates_once(mail_app):
    app, _handler = mail_app
    runner = app.test_cli_runner()
    with app.app_context():
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        late = submit(db.session, subject="迟迟未答复").submission
        triage.route(db.session, late, office, actor=staff_user(Role.LEAD))
        report = submit(
            db.session, kind=SubmissionKind.MISCONDUCT, subject="举报"
        ).submission
        db.session.commit()
        due, triage_due = late.due_on, report.triage_due_on
        before = db.session.scalar(select(func.count()).select_from(OutboxMessage))

    def sweep_at(day):
        result = runner.invoke(
            args=["deadlines", "sweep", "--now", f"{day.isoformat()}T09:00:00"]
        )
        assert result.exit_code == 0, result.output
        return result.output.strip()

    # The 举报 waited past its 15-day triage limit: the lead hears of it once.
    assert sweep_at(due - timedelta(days=5)) == "reminders=0 escalations=1 closed=0"
    assert sweep_at(due - timedelta(days=2)) == "reminders=1 escalations=0 closed=0"
    assert sweep_at(due - timedelta(days=1)) == "reminders=0 escalations=0 closed=0"
    assert sweep_at(due + timedelta(days=1)) == "reminders=0 escalations=1 closed=0"
    assert (
        sweep_at(due + timedelta(days=1)) == "reminders=0 escalations=0 closed=0"
    )  # again: nothing
    with app.app_context():
        kinds = sorted(db.session.scalars(select(DeadlineAlert.kind)))
        assert kinds == ["reply_overdue", "reply_soon", "triage_overdue"]
        mails = db.session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id).offset(before)
        ).all()
        recipients = [m.recipient for m in mails]
        assert recipients.count("office@meijiang-edu.example") == 1  # the reminder
        assert recipients.count("lead@meijiang-edu.example") == 2  # two escalations
        assert all(
            "举报" not in m.subject for m in mails if m.recipient.startswith("office")
        )
    assert triage_due < due
