"""Mail keeps flowing past a bad subject, a relay that is down, refuses or is slow, and a killed worker."""

from collections import Counter

from helpers import mailed_letter
from helpers import wait_until

LINE_BREAK_SUBJECT = "关于食堂\r\n的问题"


def _sent_everything(site):
    rows = site.outbox()
    return rows and all(row["state"] == "sent" for row in rows)


def _delivered_once_each(site, sink):
    """Every queued message reached the sink, each Message-ID exactly once."""
    queued = sorted(str(row["message_id"]) for row in site.outbox())
    assert sorted(sink.message_ids()) == queued


def test_a_line_break_in_a_mailed_subject_is_folded_and_the_mail_behind_it_flows(
    pg_site, smtp_sink
):
    site = pg_site
    sink = smtp_sink().start()
    env = site.env(MAIL_PORT=sink.port, AUTO_ROUTE=True)
    letter = mailed_letter(
        LINE_BREAK_SUBJECT, "citizen@example.com", "<crlf@example.com>"
    )
    ingested = site.flask(["mail", "ingest"], env, stdin=letter)
    assert ingested.returncode == 0, ingested.stderr
    filed = site.rows("SELECT subject, state FROM submissions")
    # The citizen's text is kept as decoded; only headers are folded.
    assert filed == [{"subject": LINE_BREAK_SUBJECT, "state": "routed"}]
    site.submit(["behind.1@example.com", "behind.2@example.com"])

    sent = site.flask(["outbox", "send"], env)

    assert sent.returncode == 0, sent.stderr
    assert "failed=0" in sent.stdout
    assert _sent_everything(site)
    _delivered_once_each(site, sink)
    subjects = [str(record["subject"]) for record in sink.accepted()]
    assert not [s for s in subjects if "\r" in s or "\n" in s]
    routed = [s for s in subjects if "关于食堂" in s]
    assert routed, subjects
    assert all("的问题" in s for s in routed)
    assert {"behind.1@example.com", "behind.2@example.com"} <= {
        address for record in sink.accepted() for address in record["to"]
    }


def test_mail_queued_while_the_relay_is_down_goes_once_it_is_back(
    pg_site, smtp_sink, processes
):
    site = pg_site
    sink = smtp_sink().start()
    site.submit(["first@example.com"])
    worker = site.spawn_flask(["outbox", "work"], site.env(MAIL_PORT=sink.port))
    wait_until(lambda: sink.accepted(), 20, "the first message reaches the sink")
    sink.kill()
    site.submit([f"waiting.{n}@example.com" for n in range(4)])
    wait_until(
        lambda: all(row["attempts"] >= 2 for row in site.outbox()[1:]),
        20,
        "two passes fail on the closed port",
    )
    assert not [row for row in site.outbox() if row["state"] == "failed"]

    sink.start()

    wait_until(lambda: _sent_everything(site), 20, "the queue drains")
    _delivered_once_each(site, sink)
    assert worker.poll() is None, processes.output(worker)
    assert processes.stop(worker) == 0


def test_a_temporary_refusal_is_retried_and_a_permanent_one_fails_at_once(
    pg_site, smtp_sink
):
    site = pg_site
    sink = smtp_sink("--tempfail-once", "--reject", "nobody@example.com").start()
    site.submit(["one@example.com", "nobody@example.com", "two@example.com"])
    env = site.env(MAIL_PORT=sink.port)

    first = site.flask(["outbox", "send"], env)

    assert first.returncode == 0, first.stderr
    assert "failed=1" in first.stdout
    states = {row["recipient"]: row for row in site.outbox()}
    refused = states.pop("nobody@example.com")
    assert refused["state"] == "failed"
    assert "550" in str(refused["last_error"])
    assert "nobody@example.com" not in str(refused["last_error"])  # redacted
    assert {row["state"] for row in states.values()} == {"pending"}
    assert all("451" in str(row["last_error"]) for row in states.values())

    def drained():
        again = site.flask(["outbox", "send"], env)
        assert again.returncode == 0, again.stderr
        return all(row["state"] == "sent" for row in site.outbox() if row != refused)

    wait_until(drained, 30, "the deferred messages go on a later pass")
    delivered = Counter(a for record in sink.accepted() for a in record["to"])
    assert delivered == {"one@example.com": 1, "two@example.com": 1}


def test_a_worker_killed_mid_pass_loses_nothing_and_repeats_at_most_one(
    site, smtp_sink, processes
):
    # The sink logs a message, then makes the worker wait for the 250: a kill
    # in that wait is the one window the outbox cannot close. The rest takes
    # longer than a lease, so a worker that sends on after losing its lease
    # would send what another has claimed since.
    sink = smtp_sink("--delay", "0.3").start()
    site.submit([f"reader.{n}@example.com" for n in range(12)])
    env = site.env(MAIL_PORT=sink.port, OUTBOX_LEASE_SECONDS=2)
    # SQLite runs one worker at a time; PostgreSQL any number.
    count = 2 if site.kind == "postgresql" else 1
    workers = [site.spawn_flask(["outbox", "work"], env) for _ in range(count)]
    wait_until(lambda: len(sink.accepted()) >= 3, 30, "three messages are sent")

    workers[0].kill()
    workers[0].wait(timeout=10)
    # As a process manager would, start another in its place.
    workers.append(site.spawn_flask(["outbox", "work"], env))

    wait_until(lambda: _sent_everything(site), 30, "the queue drains")
    ids = sink.message_ids()
    assert set(ids) == {str(row["message_id"]) for row in site.outbox()}
    repeated = len(ids) - len(set(ids))
    assert repeated <= 1, Counter(ids).most_common(3)
    for worker in workers[1:]:
        assert processes.stop(worker) == 0, processes.output(worker)
