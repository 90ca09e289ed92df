"""Cron's commands take turns under a named lock and exit 75 while the database is away.

Two real processes racing on one PostgreSQL run in the fault suite
(tests/faults/test_scheduled.py); here the lock is held by the test itself.
"""

import threading

import pytest
from helpers import base_config
from helpers import CLOSED_PORT
from helpers import share_compiled_templates
from sqlalchemy import make_url

from feedback import create_app
from feedback.extensions import db
from feedback.services import locks

CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//holidays//ZH\r\n"
    "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261001\r\nSUMMARY:国庆节\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


@pytest.mark.parametrize(
    ("lock", "args", "exit_code"),
    [
        ("deadlines-sweep", ["deadlines", "sweep"], 0),
        ("retention-purge", ["retention", "purge"], 0),
        # No IMAP host is set: it gives up for now (75), once it has the lock.
        ("mail-fetch", ["mail", "fetch"], 75),
    ],
)
def test_a_scheduled_command_waits_for_the_copy_holding_its_lock(
    app, lock, args, exit_code
):
    runner = app.test_cli_runner()
    results = []
    with app.app_context():
        with locks.exclusive(db.engine, lock, wait=False):
            second = threading.Thread(
                target=lambda: results.append(runner.invoke(args=args))
            )
            second.start()
            second.join(timeout=1)
            assert second.is_alive(), "it ran while another copy held the lock"
        second.join(timeout=30)
    assert not second.is_alive()
    assert results[0].exit_code == exit_code, results[0].output
    assert "Traceback" not in results[0].output


@pytest.mark.parametrize(
    "args",
    [
        ["deadlines", "sweep"],
        ["retention", "purge"],
        ["deadlines", "import-holidays", "CALENDAR"],
    ],
)
def test_a_scheduled_command_exits_75_while_the_database_is_unreachable(tmp_path, args):
    calendar = tmp_path / "holidays.ics"
    calendar.write_text(CALENDAR, encoding="utf-8")
    args = [str(calendar) if arg == "CALENDAR" else arg for arg in args]
    nowhere = f"postgresql://feedback:feedback@127.0.0.1:{CLOSED_PORT}/feedback"
    app = share_compiled_templates(create_app(base_config(tmp_path, nowhere)))
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 75, result.output
    assert result.stderr.startswith("temporary failure, try again later: ")
    assert "Traceback" not in result.output


def test_a_database_that_refuses_for_good_is_a_fault_not_an_outage(
    tmp_path, database_url
):
    # Exit 75 would count as success under the timers (SuccessExitStatus=75),
    # hiding a never-migrated database or a wrong password behind "try later".
    if not database_url:
        url = f"sqlite:///{tmp_path / 'no-tables.sqlite'}"
    else:
        url = (
            make_url(database_url)
            .set(password="not-the-password")
            .render_as_string(hide_password=False)
        )
    app = share_compiled_templates(create_app(base_config(tmp_path, url)))
    result = app.test_cli_runner().invoke(args=["deadlines", "sweep"])
    assert result.exit_code == 1, result.output
    assert "temporary failure" not in result.output
