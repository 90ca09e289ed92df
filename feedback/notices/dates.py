"""Dates as notices write them (2024年10月上旬, 12月22日, 2025-07-08), kept as precise as written."""

from __future__ import annotations

import re
from datetime import date

from feedback.notices.numerals import HEADING_DIGITS
from feedback.notices.numerals import parse_number

YEAR = r"(?:[0-9]{4}|[〇○零一二三四五六七八九]{4})"
_MD = rf"(?:[0-9]{{1,2}}|[{HEADING_DIGITS}]{{1,3}})"
_PART = r"(?:上旬|中旬|下旬|初|中|底|末|份)"
# One date, with its year: 2024年, 2024年10月上旬, 2024年12月22日.
_ONE = rf"({YEAR})\s*年\s*(?:({_MD})\s*月\s*(?:({_MD})\s*[日号]|{_PART})?)?"
DATE = re.compile(_ONE)
# A span from one date to another, whose year and month may be left out.
ONSITE = re.compile(
    _ONE + r"\s*(?:至|到|—+|－|-|~|～)\s*"
    rf"(?:({YEAR})\s*年)?\s*(?:({_MD})\s*月)?\s*(?:({_MD})\s*[日号]|{_PART})?"
)


# Dates are given as precisely as the notice states them: YYYY-MM-DD when a day
# is written, YYYY-MM when only a month (or a part of one, such as 上旬) is,
# and YYYY when only a year is. The seed's 2024年10月上旬至2024年12月上旬 is
# therefore 2024-10 to 2024-12: a 旬 is not a day, and picking one would
# invent a precision the notice does not have.


def _ymd(year: str | None, month: str | None, day: str | None) -> str | None:
    y = parse_number(year) if year else None
    m = parse_number(month) if month else None
    d = parse_number(day) if day else None
    if y is None or not 1900 <= y <= 2200:
        return None
    if m is None:
        return f"{y:04d}"
    if not 1 <= m <= 12:
        return None
    if d is None:
        return f"{y:04d}-{m:02d}"
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return f"{y:04d}-{m:02d}"


def date_before(
    sentence: str, keyword: str, *, skip: re.Match[str] | None = None
) -> str | None:
    """Return the date written closest before ``keyword`` (else just after it)."""
    found = re.search(keyword, sentence)
    if found is None:
        return None
    dates = _dates_in(sentence, skip)
    before = [(at, value) for at, value in dates if at < found.start()]
    if keyword != "反馈":
        # An on-site date must not be the feedback's date.
        feedback = sentence.find("反馈")
        before = [
            (at, value)
            for at, value in before
            if feedback < 0 or at > feedback or feedback > found.start()
        ]
    if before:
        return before[-1][1]
    after = [value for at, value in dates if at > found.start()]
    return after[0] if after and keyword == "反馈" else None


_MONTH_DAY = re.compile(rf"(?<![0-9年])({_MD})\s*月\s*({_MD})\s*[日号]")


def _dates_in(
    sentence: str, skip: re.Match[str] | None
) -> list[tuple[int, str | None]]:
    """Return (position, date) for each date; 12月22日 takes the year written before it."""
    dated = list(DATE.finditer(sentence))
    found = [(m.start(), _partial_date(m)) for m in dated if not _inside(m, skip)]
    for match in _MONTH_DAY.finditer(sentence):
        at = match.start()
        if _inside(match, skip) or any(d.start() <= at < d.end() for d in dated):
            continue
        year = next((d.group(1) for d in reversed(dated) if d.start() < at), None)
        if year is not None:
            found.append((at, _ymd(year, match.group(1), match.group(2))))
    return sorted(found, key=lambda item: item[0])


def _inside(match: re.Match[str], skip: re.Match[str] | None) -> bool:
    return skip is not None and skip.start() <= match.start() < skip.end()


def _partial_date(match: re.Match[str]) -> str | None:
    return _ymd(match.group(1), match.group(2), match.group(3))


def span_ends(match: re.Match[str]) -> tuple[str | None, str | None]:
    """Return the first and the last date of a span ``ONSITE`` found (the last may be None)."""
    y1, m1, d1, y2, m2, d2 = match.groups()
    start = _ymd(y1, m1, d1)
    if not (y2 or m2 or d2) and not re.search(_PART + "$", match.group(0)):
        return start, None
    end = _ymd(y2 or y1, m2 or (m1 if (d2 or not y2) else None), d2)
    if m2 is None and d2 is None and y2 is None:
        end = _ymd(y1, m1, None)  # "上旬至下旬" of one month
    return start, end


_NUMERIC_DATE = re.compile(
    r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})"
)


def iso_date(text: str) -> str | None:
    match = _NUMERIC_DATE.search(text)
    if match:
        return _ymd(*match.groups())
    match = DATE.search(text)
    if match and match.group(3):
        return _partial_date(match)
    return None


def sole_date(text: str) -> str | None:
    match = DATE.fullmatch(text.strip())
    if match and match.group(3):
        return _partial_date(match)
    return None
