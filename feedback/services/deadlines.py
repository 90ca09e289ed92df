"""Deadlines: calendar- or working-day arithmetic in the bureau's zone, and the sweep.

Limits count from the day after the starting moment (the day of receipt is
not counted). In working-day mode, Saturdays, Sundays and the holiday table's
days off are skipped, and its make-up working days (调休) count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from feedback.models import StaffUser
from feedback.db import utcnow

CALENDAR = "calendar"
WORKING = "working"


def local_date(moment: datetime, tz_name: str) -> date:
    """Return the calendar date of ``moment`` in the bureau's time zone."""
    return moment.astimezone(ZoneInfo(tz_name)).date()


def today() -> date:
    """Return today's date in the bureau's time zone."""
    return local_date(utcnow(), current_app.config["TIME_ZONE"])


def is_working_day(day: date, holidays: Mapping[date, bool]) -> bool:
    """Return whether ``day`` is worked; ``holidays`` maps days to "is a workday"."""
    if day in holidays:
        return holidays[day]
    return day.weekday() < 5


def add_days(
    start: date,
    days: int,
    *,
    mode: str = CALENDAR,
    holidays: Mapping[date, bool] | None = None,
) -> date:
    """Return the last day of a ``days``-day limit that starts the day after ``start``."""
    if mode == CALENDAR:
        return start + timedelta(days=days)
    holidays = holidays or {}
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            counted += 1
    return day


def due_date(
    start: datetime,
    days: int,
    tz_name: str,
    *,
    mode: str = CALENDAR,
    holidays: Mapping[date, bool] | None = None,
) -> date:
    """Return the due date of a limit of ``days`` from the moment ``start``."""
    return add_days(local_date(start, tz_name), days, mode=mode, holidays=holidays)


def holiday_table(session: Session) -> dict[date, bool]:
    """Return the holiday table as {day: is a make-up working day}."""
    from feedback.models import Holiday

    return {h.day: h.is_workday for h in session.scalars(select(Holiday))}


def due_for(
    session: Session, start: datetime | date, days: int, mode: str | None = None
) -> date:
    """Return a due date under the configured mode, holidays and time zone.

    ``mode`` overrides the setting for limits the law gives in working days.
    A ``date`` start counts from the day after it.
    """
    config = current_app.config
    mode = mode or config["DEADLINE_MODE"]
    if not isinstance(start, datetime):
        holidays = holiday_table(session) if mode == WORKING else None
        return add_days(start, days, mode=mode, holidays=holidays)
    holidays = holiday_table(session) if mode == WORKING else None
    return due_date(start, days, config["TIME_ZONE"], mode=mode, holidays=holidays)


@dataclass(frozen=True)
class IcsHoliday:
    """A day read from an .ics calendar."""

    day: date
    name: str
    is_workday: bool


def read_ics(text: str) -> list[IcsHoliday]:
    """Read all-day events from an .ics file: each day of each event is a day off.

    An event whose summary says 班 or 补班 (a make-up working day) marks its
    days as working days instead.
    """
    unfolded = text.replace("\r\n ", "").replace("\n ", "").replace("\r\n", "\n")
    found: list[IcsHoliday] = []
    for block in unfolded.split("BEGIN:VEVENT")[1:]:
        fields: dict[str, str] = {}
        for line in block.split("END:VEVENT")[0].splitlines():
            name, _, value = line.partition(":")
            fields[name.split(";")[0].upper()] = value.strip()
        try:
            first = datetime.strptime(fields["DTSTART"][:8], "%Y%m%d").date()  # noqa: DTZ007 - a date
            end = fields.get("DTEND")
            last = (
                datetime.strptime(end[:8], "%Y%m%d").date() - timedelta(days=1)  # noqa: DTZ007
                if end
                else first
            )
        except (KeyError, ValueError):
            continue
        summary = fields.get("SUMMARY", "").replace("\\,", ",")
        workday = "补班" in summary or summary.endswith("班") or "调休上班" in summary
        day = first
        while day <= max(first, last):
            found.append(IcsHoliday(day, summary[:100] or "holiday", workday))
            day += timedelta(days=1)
    return found


def _record_holiday(
    session: Session, holiday: object, day: date, actor: StaffUser | None, what: str
) -> None:
    from feedback.models import AuditAction
    from feedback.services import audit

    audit.record(
        session,
        AuditAction.HOLIDAY_SAVED,
        holiday,
        actor=actor,
        actor_label=audit.OPERATOR,
        reason=f"{day.isoformat()} {what}".strip(),
        object_id=day.toordinal(),
    )


def save_holidays(
    session: Session,
    days: list[IcsHoliday],
    *,
    actor: StaffUser | None = None,
    source: str = "",
) -> int:
    """Add or update days in the holiday table; return how many were saved."""
    from feedback.models import Holiday

    for item in days:
        holiday = session.get(Holiday, item.day) or Holiday(day=item.day)
        holiday.name, holiday.is_workday = item.name[:100], item.is_workday
        session.add(holiday)
        session.flush()
        kind = " (补班)" if item.is_workday else ""
        _record_holiday(
            session, holiday, item.day, actor, f"{item.name}{kind} {source}"
        )
    return len(days)


def remove_holiday(session: Session, day: date, *, actor: StaffUser) -> bool:
    """Remove a day from the holiday table; return whether it was there."""
    from feedback.models import Holiday

    holiday = session.get(Holiday, day)
    if holiday is None:
        return False
    session.delete(holiday)
    session.flush()
    _record_holiday(session, holiday, day, actor, "removed")
    return True
