"""Deadline arithmetic: calendar days in Asia/Shanghai, the day of receipt not counted."""

from datetime import date
from datetime import datetime
from datetime import UTC

from feedback.services import deadlines

TZ = "Asia/Shanghai"


def test_receipt_day_is_not_counted():
    received = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert deadlines.due_date(received, 15, TZ) == date(2026, 3, 16)


def test_local_day_decides_not_utc_day():
    # 20:00 UTC on 1 March is already 2 March in Shanghai.
    late = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    assert deadlines.local_date(late, TZ) == date(2026, 3, 2)
    assert deadlines.due_date(late, 60, TZ) == date(2026, 5, 1)
