"""Cron on two machines: the same scheduled command started twice at once does its work once."""

import os
from collections import Counter
from datetime import datetime
from datetime import timedelta
from datetime import UTC

from helpers import wait_until
from sqlalchemy import select
from sqlalchemy import text

from feedback.demo import LOGINS
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import locks
from feedback.services import triage


def _waiting(engine, lock):
    """How many processes wait for ``lock`` on the site's database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND NOT granted AND database ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
    inode = os.stat(locks.lock_file(engine, lock)).st_ino
    with open("/proc/locks", encoding="ascii") as table:
        return sum(1 for line in table if "->" in line and f":{inode} " in line)


def _race(site, processes, lock, args):
    """Start ``args`` twice while the test holds ``lock``, let go, return both outputs.

    Both copies are up and waiting before either may start its work, so
    they are as much at once as two machines' cron can be.
    """
    engine = site.engine()
    try:
        with locks.exclusive(engine, lock, wait=False):
            copies = [site.spawn_flask(args, site.env()) for _ in range(2)]
            wait_until(
                lambda: _waiting(engine, lock) == 2, 30, "both copies wait for the lock"
            )
    finally:
        engine.dispose()
    codes = [copy.wait(timeout=30) for copy in copies]
    outputs = sorted(processes.output(copy).strip() for copy in copies)
    assert codes == [0, 0], outputs
    return outputs


def test_two_sweeps_at_once_send_each_alert_once(pg_site, processes):
    site = pg_site
    ids = site.submit([f"author.{n}@example.com" for n in range(6)])
    with site.session() as session:
        desk = session.scalars(select(Section).order_by(Section.id)).first()
        for submission_id in ids[:3]:
            triage.route(
                session, session.get(Submission, submission_id), desk, actor=None
            )
        due = session.get(Submission, ids[0]).due_on
    queued = len(site.outbox())
    # The day before the replies are due: three reminders to the section, and
    # three escalations of the submissions left waiting past their triage date.
    now = f"{due - timedelta(days=1)}T09:00:00"

    outputs = _race(
        site, processes, "deadlines-sweep", ["deadlines", "sweep", "--now", now]
    )

    assert outputs == [
        "reminders=0 escalations=0 closed=0",
        "reminders=3 escalations=3 closed=0",
    ]
    alerts = site.rows("SELECT submission_id, kind FROM deadline_alerts")
    assert Counter(row["kind"] for row in alerts) == {
        "reply_soon": 3,
        "triage_overdue": 3,
    }
    leads = sum(1 for login in LOGINS if login.role is Role.LEAD)
    mail = Counter(row["template"] for row in site.outbox()[queued:])
    assert mail == {"deadline_reminder": 3, "deadline_escalation": 3 * leads}


def test_two_purges_at_once_purge_each_submission_once(pg_site, processes):
    site = pg_site
    ids = site.submit([f"author.{n}@example.com" for n in range(3)])
    long_ago = datetime.now(UTC) - timedelta(days=5 * 366)
    with site.session() as session:
        for submission_id in ids:
            submission = session.get(Submission, submission_id)
            submission.state = SubmissionState.CLOSED
            submission.closed_at = long_ago

    outputs = _race(site, processes, "retention-purge", ["retention", "purge"])

    assert outputs == ["purged: submissions=0 files=0", "purged: submissions=3 files=0"]
    purged = site.rows("SELECT count(*) AS n FROM events WHERE action = 'purged'")
    assert purged == [{"n": 3}]
