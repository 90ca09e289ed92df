"""Deadline arithmetic in the bureau's time zone (calendar days, receipt day not counted)."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo


def local_date(moment: datetime, tz_name: str) -> date:
    """Return the calendar date of ``moment`` in the bureau's time zone."""
    return moment.astimezone(ZoneInfo(tz_name)).date()


def due_date(start: datetime, days: int, tz_name: str) -> date:
    """Return the last day of a ``days``-day limit that starts the day after ``start``.

    The day of receipt is not counted, so 15 days from a submission received
    on 1 March end on 16 March.
    """
    return local_date(start, tz_name) + timedelta(days=days)
