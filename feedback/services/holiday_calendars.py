"""Reading holiday calendars (.ics) into days off and make-up working days.

icalendar reads the file (escapes, folded lines, time zones) and
recurring-ical-events expands repeating events (RRULE, RDATE, EXDATE and
moved occurrences). The rules the holiday table needs are ours:

- Each day an event covers is a day off, named after its summary; a summary
  that says 补班, ends in 班 or says 调休上班 marks make-up working days.
- An event's days are its dates in the bureau's time zone: a timed event
  (UTC, TZID or floating) covers each local date from its start to just
  before its end, so 16:00 UTC on 30 September is 1 October in Shanghai.
- Repeating events are expanded up to two years after today, the span
  within which deadlines set from now on can fall (at most a few months
  ahead); a horizon counted from the calendar's first event would stop a
  yearly holiday begun long ago before it reached today. A calendar whose
  own events reach further is read to its last event, so no dated event in
  the file is ever cut off.
- A holiday's name is its summary on one line, cut to 100 characters.
- An event whose dates or repeat rule cannot be read is skipped, as one with
  a garbled start always was; a file that is not an iCalendar calendar, or
  whose events the libraries cannot take apart, raises :class:`CalendarError`.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar
from icalendar import Event

from feedback.services import DomainError
from feedback.services.deadlines import IcsHoliday

HORIZON = timedelta(days=731)  # two years, a leap day included
# A day either side of the dated events, for starts given in other zones.
MARGIN = timedelta(days=1)
# What icalendar, recurring-ical-events and dateutil raise on malformed input.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError)


class CalendarError(DomainError):
    """The file is not an iCalendar calendar, or its events cannot be read."""


def read_ics(text: str, *, tz_name: str, today: date) -> list[IcsHoliday]:
    """Return the days off and make-up days that the calendar ``text`` gives.

    ``today``, in the bureau's zone ``tz_name``, sets how far repeating
    events are expanded.
    """
    zone = ZoneInfo(tz_name)
    found: list[IcsHoliday] = []
    for calendar in _calendars(text):
        try:
            for occurrence in _occurrences(calendar, today):
                found.extend(_holidays(occurrence, zone))
        except MALFORMED as exc:
            raise CalendarError(f"its events cannot be read: {exc}") from exc
    return found


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


def _occurrences(calendar: Calendar, today: date) -> list[Event]:
    """Return the calendar's events, each repeat its own, up to the horizon.

    Events whose dates cannot be read are left out, and so are repeating
    events whose rule or dates are broken.
    """
    calendar.subcomponents = [
        component
        for component in calendar.subcomponents
        if not isinstance(component, Event) or _readable(component)
    ]
    starts = [_day(event.start) for event in calendar.events]
    if not starts:
        return []
    query = recurring_ical_events.of(calendar, skip_bad_series=True)
    stop = max(today + HORIZON, max(starts) + MARGIN)
    return list(query.between(min(starts) - MARGIN, stop))


def _readable(event: Event) -> bool:
    """Return whether the event's start and end can be read."""
    try:
        _ = event.start, event.end  # icalendar raises on a missing or bad value
    except ValueError:
        return False
    return True


def _holidays(occurrence: Event, zone: ZoneInfo) -> list[IcsHoliday]:
    """Return an entry for each day the occurrence covers in ``zone``."""
    # A holiday's name is one line, whatever breaks the summary holds.
    summary = " ".join(str(occurrence.get("SUMMARY", "")).split())
    name, workday = summary[:100] or "holiday", _is_make_up_day(summary)
    first, last = _span(occurrence.start, occurrence.end, zone)
    days = max((last - first).days, 0) + 1
    return [IcsHoliday(first + timedelta(days=n), name, workday) for n in range(days)]


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
