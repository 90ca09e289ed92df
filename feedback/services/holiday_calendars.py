"""Reading holiday calendars (.ics) into days off and make-up working days."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from feedback.services.deadlines import IcsHoliday


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
