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

from feedback import create_app
from feedback.extensions import db
from feedback.models import DeadlineAlert
from feedback.models import Holiday
from feedback.models import OutboxMessage
from feedback.models import Role
from feedback.models import Section
from feedback.models import SubmissionKind
from feedback.services import deadlines
from feedback.services import holiday_calendars
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
        deadlines.add_days(
            start, days, mode=deadlines.DeadlineMode.WORKING, holidays=GOLDEN_WEEK
        )
        == expected
    )


TODAY = date(2026, 12, 6)


def _ics(*lines):
    """Return a calendar holding ``lines``, with the line ends .ics files use."""
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//holidays//ZH", *lines]
    return "\r\n".join([*body, "END:VCALENDAR", ""])


def _event(*lines):
    return ["BEGIN:VEVENT", *lines, "END:VEVENT"]


def _read(text, today=TODAY):
    return holiday_calendars.read_ics(text, tz_name=TZ, today=today)


def test_ics_calendar_reads_days_off_and_make_up_days():
    ics = (
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261001\r\n"
        "DTEND;VALUE=DATE:20261008\r\nSUMMARY:国庆节\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260927\r\nSUMMARY:国庆节补班\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nDTSTART:garbage\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    days = {item.day: item.is_workday for item in _read(ics)}
    assert days == GOLDEN_WEEK


def test_ics_events_whose_dates_cannot_be_read_are_skipped():
    text = _ics(
        *_event("UID:kept", "DTSTART;VALUE=DATE:20270101", "SUMMARY:元旦"),
        *_event("UID:no-start", "SUMMARY:没有日期"),
        *_event("UID:time", "DTSTART:120000", "SUMMARY:只有时间"),
        *_event("UID:end", "DTSTART;VALUE=DATE:20270102", "DTEND:someday"),
        *_event("UID:rule", "DTSTART;VALUE=DATE:20270103", "RRULE:FREQ=SOMETIMES"),
        *_event("UID:exdate", "DTSTART;VALUE=DATE:20270104", "EXDATE:never"),
    )
    assert [(d.day, d.name) for d in _read(text)] == [(date(2027, 1, 1), "元旦")]


def test_ics_escapes_and_folded_lines():
    text = _ics(
        *_event(
            "UID:escapes",
            "DTSTART;VALUE=DATE:20270101",
            "SUMMARY:元旦\\, 新年\\; 放假\\n一天 \\\\ 全区",
        ),
        # Folded as a client folds at 75 octets: a line break and one blank,
        # inside the property name and the value alike.
        "BEGIN:VEVENT",
        "UID:folded",
        "DTSTART;VALUE=DA",
        " TE:20270405",
        "SUMM",
        "\tARY:清明节",
        " 放假",
        "END:VEVENT",
    )
    names = {d.day: d.name for d in _read(text)}
    assert names == {
        date(2027, 1, 1): "元旦, 新年; 放假 一天 \\ 全区",  # a name is one line
        date(2027, 4, 5): "清明节放假",
    }


def test_ics_event_days_are_its_dates_in_the_bureau_zone():
    text = _ics(
        # Outlook's way: a zone named in the file and defined there.
        "BEGIN:VTIMEZONE",
        "TZID:Bureau Standard Time",
        "BEGIN:STANDARD",
        "DTSTART:16010101T000000",
        "TZOFFSETFROM:+0800",
        "TZOFFSETTO:+0800",
        "END:STANDARD",
        "END:VTIMEZONE",
        *_event(
            "UID:may",
            "DTSTART;TZID=Bureau Standard Time:20270501T000000",
            "DTEND;TZID=Bureau Standard Time:20270504T000000",
            "SUMMARY:劳动节",
        ),
        # 17:00 UTC on 30 September to 15:00 UTC on 1 October is 1 October in
        # Shanghai, from 01:00 to 23:00: the UTC date is not a day off.
        *_event(
            "UID:utc",
            "DTSTART:20270930T170000Z",
            "DTEND:20271001T150000Z",
            "SUMMARY:国庆节",
        ),
        # Noon in New York on New Year's Eve is New Year's Day in Shanghai.
        *_event(
            "UID:tzid", "DTSTART;TZID=America/New_York:20261231T120000", "SUMMARY:元旦"
        ),
        # A floating time is read as the bureau's own.
        *_event(
            "UID:floating",
            "DTSTART:20270210T230000",
            "DTEND:20270211T010000",
            "SUMMARY:春节",
        ),
    )
    assert sorted((d.day, d.name) for d in _read(text)) == [
        (date(2027, 1, 1), "元旦"),
        (date(2027, 2, 10), "春节"),
        (date(2027, 2, 11), "春节"),
        (date(2027, 5, 1), "劳动节"),
        (date(2027, 5, 2), "劳动节"),
        (date(2027, 5, 3), "劳动节"),
        (date(2027, 10, 1), "国庆节"),
    ]


def test_ics_repeating_events_are_expanded_two_years_either_side():
    text = _ics(
        *_event(
            "UID:new-year",
            "DTSTART;VALUE=DATE:20200101",
            "RRULE:FREQ=YEARLY",
            "EXDATE;VALUE=DATE:20260101",
            "SUMMARY:元旦",
        ),
        *_event(
            "UID:national-day",
            "DTSTART;VALUE=DATE:20261001",
            "DTEND;VALUE=DATE:20261004",
            "RRULE:FREQ=YEARLY;COUNT=2",
            "RDATE;VALUE=DATE:20300101",
            "SUMMARY:国庆节",
        ),
    )
    days = _read(text)  # 6 December 2026: from 6 December 2024 to 6 December 2028
    assert sorted(d.day for d in days if d.name == "元旦") == [
        date(year, 1, 1) for year in (2025, 2027, 2028)
    ]
    assert sorted(d.day for d in days if d.name == "国庆节") == [
        date(year, 10, day) for year in (2026, 2027) for day in (1, 2, 3)
    ]
    later = {d.day for d in _read(text, today=date(2027, 12, 6))}
    assert date(2029, 1, 1) in later
    assert date(2030, 1, 1) not in later


def test_ics_dated_events_beyond_the_horizon_are_kept():
    text = _ics(
        *_event("UID:far", "DTSTART;VALUE=DATE:20310101", "SUMMARY:元旦"),
        *_event(
            "UID:may",
            "DTSTART;VALUE=DATE:20260501",
            "RRULE:FREQ=YEARLY",
            "SUMMARY:劳动节",
        ),
    )
    days = {d.day for d in _read(text)}
    assert date(2031, 1, 1) in days
    # Repeats run on as far as the calendar's own dates go.
    assert {date(year, 5, 1) for year in range(2026, 2031)} <= days
    assert date(2031, 5, 1) not in days


def test_ics_an_old_series_is_not_replayed_from_its_first_year():
    national_day = _event(
        "UID:national-day",
        "DTSTART;VALUE=DATE:19491001",
        "RRULE:FREQ=YEARLY",
        "SUMMARY:国庆节",
    )
    # A repeat moved long ago does not stretch the span back to its year.
    moved = _event(
        "UID:national-day",
        "RECURRENCE-ID;VALUE=DATE:19901001",
        "DTSTART;VALUE=DATE:19901002",
        "SUMMARY:国庆节",
    )
    days = sorted(d.day for d in _read(_ics(*national_day, *moved)))
    assert days == [date(year, 10, 1) for year in (2025, 2026, 2027, 2028)]
    # A dated event older than two years is kept, and the series is read
    # back to it.
    old = _event("UID:old", "DTSTART;VALUE=DATE:20220101", "SUMMARY:元旦")
    days = sorted(d.day for d in _read(_ics(*national_day, *old)))
    assert days == [date(2022, 1, 1)] + [
        date(year, 10, 1) for year in range(2022, 2029)
    ]


@pytest.mark.parametrize(
    ("summary", "is_workday"),
    [
        ("国庆节补班", True),
        ("春节调休上班日", True),
        ("上班", True),
        ("国庆节", False),
        ("班级开放日", False),
    ],
)
def test_ics_make_up_working_days(summary, is_workday):
    text = _ics(*_event("DTSTART;VALUE=DATE:20270926", f"SUMMARY:{summary}"))
    assert _read(text) == [
        deadlines.HolidayEntry(date(2027, 9, 26), summary, is_workday)
    ]


def test_ics_name_is_kept_to_100_characters():
    long = "国庆节" * 40
    named, unnamed = _read(
        _ics(
            *_event("UID:long", "DTSTART;VALUE=DATE:20271001", f"SUMMARY:{long}"),
            *_event("UID:unnamed", "DTSTART;VALUE=DATE:20271002"),
        )
    )
    assert named.name == long[:100]
    assert unnamed.name == "holiday"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00\xffnot a calendar",
        "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nEND:VEVENT\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\n",
        "BEGIN:VCALENDAR\r\nthis line has no colon\r\nEND:VCALENDAR\r\n",
    ],
)
def test_malformed_calendar_is_a_clear_error(text):
    with pytest.raises(holiday_calendars.CalendarError, match="not an iCalendar file"):
        _read(text)


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
            received, 15, mode=deadlines.DeadlineMode.WORKING, holidays=GOLDEN_WEEK
        )


def test_deadline_mode_setting_is_read_once_at_start_up(make_app):
    assert make_app().config["DEADLINE_MODE"] is deadlines.DeadlineMode.CALENDAR
    app = make_app(DEADLINE_MODE="working")
    assert app.config["DEADLINE_MODE"] is deadlines.DeadlineMode.WORKING


@pytest.mark.parametrize("setting", ["weekdays", "Working", "", None])
def test_unknown_deadline_mode_refuses_to_start(tmp_path, setting):
    with pytest.raises(RuntimeError, match="DEADLINE_MODE must be 'calendar' or"):
        create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
                "DEADLINE_MODE": setting,
            }
        )


def test_deadline_mode_comes_from_the_environment_as_a_plain_word(
    monkeypatch, tmp_path
):
    monkeypatch.setattr("feedback.PROJECT_ROOT", tmp_path)
    monkeypatch.setenv("FEEDBACK_SECRET_KEY", "from-env")
    monkeypatch.setenv("FEEDBACK_DATABASE_URL", f"sqlite:///{tmp_path / 'e.sqlite'}")
    monkeypatch.setenv("FEEDBACK_DEADLINE_MODE", "working")
    assert create_app().config["DEADLINE_MODE"] is deadlines.DeadlineMode.WORKING


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
