"""Deadlines: day arithmetic in the bureau's zone, due dates, and the holiday table.

Limits count from the day after the starting moment (the day of receipt is
not counted). In working-day mode, Saturdays, Sundays and the holiday table's
days off are skipped, and its make-up working days (调休) count. Reminding and
escalating when a date passes is the sweep's business (``services.sweep``);
reading holiday calendars is ``services.holiday_calendars``'.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from feedback.config import enum_setting
from feedback.db import DbSession
from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import Holiday
from feedback.models import StaffUser
from feedback.services import audit
from feedback.services import DomainError


class DeadlineMode(enum.StrEnum):
    """How a limit in days is counted: the ``DEADLINE_MODE`` setting."""

    CALENDAR = "calendar"  # every day counts
    WORKING = "working"  # Monday to Friday, less days off, plus make-up days


def read_mode(setting: object) -> DeadlineMode:
    """Return the ``DEADLINE_MODE`` setting as a mode; refuse one it cannot be."""
    return enum_setting(DeadlineMode, "DEADLINE_MODE", setting)


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
    mode: DeadlineMode = DeadlineMode.CALENDAR,
    holidays: Mapping[date, bool] | None = None,
) -> date:
    """Return the last day of a ``days``-day limit that starts the day after ``start``."""
    if mode == DeadlineMode.CALENDAR:
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
    mode: DeadlineMode = DeadlineMode.CALENDAR,
    holidays: Mapping[date, bool] | None = None,
) -> date:
    """Return the due date of a limit of ``days`` from the moment ``start``."""
    return add_days(local_date(start, tz_name), days, mode=mode, holidays=holidays)


def due_for(
    session: DbSession,
    start: datetime | date,
    days: int,
    mode: DeadlineMode | None = None,
) -> date:
    """Return a due date under the configured mode, holidays and time zone.

    ``mode`` overrides the setting for limits the law gives in working days.
    A ``date`` start counts from the day after it.
    """
    config = current_app.config
    mode = mode or config["DEADLINE_MODE"]
    holidays = holiday_table(session) if mode == DeadlineMode.WORKING else None
    if isinstance(start, datetime):
        return due_date(start, days, config["TIME_ZONE"], mode=mode, holidays=holidays)
    return add_days(start, days, mode=mode, holidays=holidays)


def holiday_table(session: DbSession) -> dict[date, bool]:
    """Return the holiday table as {day: is a make-up working day}."""
    return {h.day: h.is_workday for h in session.scalars(select(Holiday))}


@dataclass(frozen=True)
class HolidayEntry:
    """A day for the holiday table: typed in, or read from an .ics calendar."""

    day: date
    name: str
    is_workday: bool


class HolidayError(DomainError):
    """The holiday table does not hold the day."""


def save_holidays(
    session: DbSession,
    days: Iterable[HolidayEntry],
    *,
    actor: StaffUser | None = None,
    source: str = "",
) -> int:
    """Add or update days in the holiday table; return how many were saved.

    Each entry is audited, a day given twice included (the last one stays).
    """
    entries = list(days)
    if not entries:
        return 0
    # One query for the rows already there: a range, not a list of days, so
    # that a calendar with thousands of days stays within the drivers'
    # limit on parameters.
    first, last = min(e.day for e in entries), max(e.day for e in entries)
    rows = {
        holiday.day: holiday
        for holiday in session.scalars(
            select(Holiday).where(Holiday.day.between(first, last))
        )
    }
    for entry in entries:
        holiday = rows.get(entry.day)
        if holiday is None:
            holiday = rows[entry.day] = Holiday(day=entry.day)
            session.add(holiday)
        holiday.name, holiday.is_workday = entry.name[:100], entry.is_workday
        kind = " (补班)" if entry.is_workday else ""
        _record_holiday(
            session, holiday, entry.day, actor, f"{entry.name}{kind} {source}"
        )
    session.flush()
    return len(entries)


def remove_holiday(session: DbSession, day: date, *, actor: StaffUser) -> None:
    """Remove a day from the holiday table; refuse a day it does not hold."""
    holiday = session.get(Holiday, day)
    if holiday is None:
        raise HolidayError(_("没有这一天。"))
    session.delete(holiday)
    session.flush()
    _record_holiday(session, holiday, day, actor, "removed")


def _record_holiday(
    session: DbSession,
    holiday: Holiday,
    day: date,
    actor: StaffUser | None,
    what: str,
) -> None:
    audit.record(
        session,
        AuditAction.HOLIDAY_SAVED,
        holiday,
        actor=actor,
        actor_label=audit.OPERATOR,
        reason=f"{day.isoformat()} {what}".strip(),
        object_id=day.toordinal(),
    )
