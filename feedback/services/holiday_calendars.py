"""Reading holiday calendars (.ics) into days off and make-up working days.

icalendar reads the file (escapes, folded lines, time zones) and
recurring-ical-events expands repeating events (RRULE, RDATE, EXDATE and
moved occurrences). The rules the holiday table needs are ours:

- Each day an event covers is a day off, named after its summary; a summary
  that says 补班, ends in 班 or says 调休上班 marks make-up working days.
- An event's days are its dates in the bureau's time zone: a timed event
  (UTC, TZID or floating) covers each local date from its start to just
  before its end, so 16:00 UTC on 30 September is 1 October in Shanghai.
- Repeating events are expanded from two years before today to two years
  after it. Deadlines set from now on fall at most a few months ahead, and
  none still open began more than two years ago; counting from a series'
  own first start would replay a yearly holiday begun in 1949 for every
  year since, and a weekly one for hundreds of days nobody looks up. The
  span reaches further to take in every dated (one-off) event of the file,
  back to the earliest and on to the latest, so that none is ever cut off;
  a repeat's first start or a moved repeat (RECURRENCE-ID) does not stretch it.
- A holiday's name is its summary on one line, cut to 100 characters.
- An event whose dates or repeat rule cannot be read is skipped, as one with
  a garbled start always was; a file that is not an iCalendar calendar, or
  whose events the libraries cannot take apart, raises :class:`CalendarError`.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar
from icalendar import Event

from feedback.services import DomainError
from feedback.services.deadlines import HolidayEntry

HORIZON = timedelta(days=731)  # two years ahead, a leap day included
HISTORY = timedelta(days=731)  # and two years back
# A day either side of the dated events, for starts given in other zones.
MARGIN = timedelta(days=1)
# What icalendar, recurring-ical-events and dateutil raise on malformed input.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError)


class CalendarError(DomainError):
    """The file is not an iCalendar calendar, or its events cannot be read."""


def read_ics(text: str, *, tz_name: str, today: date) -> list[HolidayEntry]:
    """Return the days off and make-up days that the calendar ``text`` gives.

    ``today``, in the bureau's zone ``tz_name``, sets how far repeating
    events are expanded.
    """
    zone = ZoneInfo(tz_name)
    return [
        entry
        for calendar in _calendars(text)
        for occurrence in _occurrences(calendar, today)
        for entry in _holidays(occurrence, zone)
    ]


class _Occurrence(NamedTuple):
    """What one event, or one repeat of it, says: its summary and its times."""

    summary: str
    start: date
    end: date


def _is_make_up_day(summary: str) -> bool:
    """Return whether an event's summary names make-up working days (补班)."""
    return "补班" in summary or "调休上班" in summary or summary.endswith("班")


def _calendars(text: str) -> list[Calendar]:
    """Parse ``text`` into its calendars, or say why it holds none."""
    try:
        components = Calendar.from_ical(text, multiple=True)
    except MALFORMED as exc:
        raise CalendarError(f"not an iCalendar file: {exc}") from exc
    if not components or any(c.name != "VCALENDAR" for c in components):
        raise CalendarError("not an iCalendar file: it has no VCALENDAR")
    return components


def _occurrences(calendar: Calendar, today: date) -> list[_Occurrence]:
    """Return the calendar's events, each repeat its own, over the span to read.

    Events whose dates cannot be read are left out, and so are repeating
    events whose rule or dates are broken.
    """
    calendar.subcomponents = [
        component
        for component in calendar.subcomponents
        if not isinstance(component, Event) or _readable(component)
    ]
    events = calendar.events
    if not events:
        return []
    first, last = _span_to_read(events, today)
    # Only the library's work is guarded: a slip in our own arithmetic must
    # not pass for a calendar that could not be read.
    try:
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
        return [
            _Occurrence(str(event.get("SUMMARY", "")), event.start, event.end)
            for event in query.between(first, last)
        ]
    except MALFORMED as exc:
        raise CalendarError(f"its events cannot be read: {exc}") from exc


def _span_to_read(events: list[Event], today: date) -> tuple[date, date]:
    """Return the days between which repeating events are expanded.

    Two years either side of today, stretched to the file's dated events.
    """
    starts = [_day(event.start) for event in events]
    dated = [_day(event.start) for event in events if not _repeats(event)]
    first = min([today - HISTORY, *(day - MARGIN for day in dated)])
    last = max(today + HORIZON, max(starts) + MARGIN)
    return first, last


def _repeats(event: Event) -> bool:
    """Return whether the event is a series, or a moved repeat of one."""
    return any(name in event for name in ("RRULE", "RDATE", "RECURRENCE-ID"))


def _readable(event: Event) -> bool:
    """Return whether the event's start and end can be read."""
    try:
        _ = event.start, event.end  # icalendar raises on a missing or bad value
    except ValueError:
        return False
    return True


def _holidays(occurrence: _Occurrence, zone: ZoneInfo) -> list[HolidayEntry]:
    """Return an entry for each day the occurrence covers in ``zone``."""
    # A holiday's name is one line, whatever breaks the summary holds.
    summary = " ".join(occurrence.summary.split())
    name, workday = summary[:100] or "holiday", _is_make_up_day(summary)
    first, last = _span(occurrence.start, occurrence.end, zone)
    days = max((last - first).days, 0) + 1
    return [HolidayEntry(first + timedelta(days=n), name, workday) for n in range(days)]


def _span(start: date, end: date, zone: ZoneInfo) -> tuple[date, date]:
    """Return the first and last day from ``start`` to just before ``end``."""
    if not isinstance(start, datetime):
        return start, end - timedelta(days=1)
    if end > start:
        end -= timedelta(microseconds=1)
    return _local_day(start, zone), _local_day(end, zone)


def _local_day(moment: date, zone: ZoneInfo) -> date:
    """Return the date of ``moment`` in ``zone``; a floating time is local already."""
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment.astimezone(zone).date()
    return _day(moment)


def _day(moment: date) -> date:
    """Return the date part of a date or a date-time, as written."""
    return moment.date() if isinstance(moment, datetime) else moment
