"""Two app nodes on one PostgreSQL and Redis: sessions, codes, limits and mail work across them.

Each node is a gunicorn started from deploy/gunicorn.conf.py with an instance
folder of its own, whose config.py holds the keys, as each machine's would.
Run with ``-s`` to see the figures measured.
"""

import json
import re
import secrets
import time
from collections import Counter

import pytest
from helpers import LOGINS
from helpers import wait_until

from feedback.models import Role

LEAD = LOGINS[Role.LEAD]
RECEIVED = "已收到您的意见"
REFUSED = "提交太频繁"
SUBMIT_LIMIT = 3
QUEUED = 200
FIGURES: dict[str, object] = {}


def _keys():
    return {"SECRET_KEY": secrets.token_hex(32), "CODE_HMAC_KEY": secrets.token_hex(32)}


@pytest.fixture(scope="module")
def settings(redis_server):
    """What every node runs with besides the keys."""
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{redis_server.port}/0",
        # Counts of an earlier run, kept for an hour, must not count here.
        "RATELIMIT_KEY_PREFIX": f"two-nodes-{secrets.token_hex(4)}",
        "SUBMIT_RATE_LIMIT": f"{SUBMIT_LIMIT}/hour",
        # Each client is told apart by X-Forwarded-For, as behind nginx.
        "PROXY_FIX_X_FOR": 1,
        # Nothing shared on disk: files live in the database.
        "ATTACHMENT_STORAGE": "database",
    }


@pytest.fixture(scope="module")
def keys():
    """The keys every node's instance/config.py holds: the same on each."""
    return _keys()


@pytest.fixture(scope="module")
def nodes(module_site, keys, settings):
    """Nodes A and B, started together."""
    started = time.monotonic()
    a = module_site.serve(module_site.node_env("a", keys, **settings))
    b = module_site.serve(module_site.node_env("b", keys, **settings))
    a.wait()
    b.wait()
    FIGURES["start both nodes until each answers, s"] = round(
        time.monotonic() - started, 1
    )
    yield a, b
    FIGURES["requests served by A"] = _served(a)
    FIGURES["requests served by B"] = _served(b)
    print("\ntwo nodes:", json.dumps(FIGURES, ensure_ascii=False))


def _served(web):
    """How many requests a node's app logged: one JSON line each, by route rule."""
    lines = [line for line in web.output().splitlines() if line.startswith("{")]
    return sum("rule" in json.loads(line) for line in lines)


def _form(token, **fields):
    return {
        "csrf_token": token,
        "kind": "opinion",
        "subject": "两台机器",
        "body": "希望学校食堂公布每周菜单。",
        "identity": "anonymous",
        **fields,
    }


def _submissions(site):
    return site.rows("SELECT count(*) AS n FROM submissions")[0]["n"]


def _sign_in(client):
    """Sign the lead in on the client's node, with that node's form."""
    fields = {"email": LEAD.email, "password": LEAD.password}
    fields["csrf_token"] = client.token("/auth/login")
    signed_in = client.request("/auth/login", fields)
    assert signed_in.status == 302, signed_in.text[:500]


def test_a_csrf_token_and_a_staff_session_from_node_a_work_on_node_b(nodes):
    a, b = nodes
    on_a = a.client("203.0.113.10")
    _sign_in(on_a)
    on_b = on_a.on(b.base)  # the balancer sends the next request to B

    desk = on_b.request("/staff/")
    token = on_a.token("/staff/")  # a form drawn by A…
    kept = on_a.twin(a.base)  # (a copy of the session cookie, for later)
    signed_out = on_b.request("/auth/logout", {"csrf_token": token})  # …sent to B

    assert desk.status == 200, desk.text[:500]
    assert LEAD.email in desk.text
    assert signed_out.status == 302, signed_out.text[:500]  # not 400: token taken
    # Signing out on B ended the session on A too: it is kept in the database.
    ended = kept.request("/staff/")
    assert ended.status == 302
    assert "/auth/login" in ended.headers["Location"]


def test_a_node_with_another_secret_key_refuses_the_session(
    nodes, module_site, keys, settings
):
    a, _b = nodes
    started = time.monotonic()
    other = {**keys, "SECRET_KEY": _keys()["SECRET_KEY"]}
    c = module_site.serve(module_site.node_env("c", other, **settings), workers=1)
    on_a = a.client("203.0.113.11")
    _sign_in(on_a)
    c.wait()

    desk = on_a.twin(c.base).request("/staff/")

    assert desk.status == 302, desk.text[:500]
    assert "/auth/login" in desk.headers["Location"]
    assert on_a.request("/staff/").status == 200  # the session itself is good
    FIGURES["node C (other key) check, s"] = round(time.monotonic() - started, 1)


def test_a_submission_made_on_node_a_is_tracked_on_node_b(nodes):
    a, b = nodes
    on_a = a.client("203.0.113.20")
    receipt = on_a.request("/submit", _form(on_a.token("/submit")))
    assert receipt.status == 200, receipt.text[:500]
    assert RECEIVED in receipt.text
    reference, code = _receipt(receipt)

    on_b = b.client("203.0.113.21")  # another browser, say the author's phone
    tracked = on_b.request("/track", {"csrf_token": on_b.token("/track"), "code": code})

    assert tracked.status == 200, tracked.text[:500]
    assert reference in tracked.text
    assert "希望学校食堂公布每周菜单。" in tracked.text


def _receipt(answer):
    """Return (reference, access code) from a receipt page."""
    shown = re.search(r'id="access-code">(.*?)</dd>', answer.text)
    reference = re.search(r'class="reference">([^<]+)<', answer.text)
    assert shown, answer.text[:500]
    assert reference, answer.text[:500]
    return reference.group(1), re.sub(r"<[^>]+>", "", shown.group(1))


def test_a_file_uploaded_through_node_a_downloads_through_node_b(nodes, module_site):
    a, b = nodes
    # A photo of more than two database chunks (256 KB each).
    photo = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(600 * 1024)
    on_a = a.client("203.0.113.40")
    receipt = on_a.request(
        "/submit",
        _form(on_a.token("/submit")),
        files=[("attachments", "照片.png", photo)],
    )
    assert receipt.status == 200, receipt.text[:500]
    _reference, code = _receipt(receipt)
    (stored,) = module_site.rows(
        "SELECT a.id, a.stored_in, count(c.seq) AS chunks FROM attachments a"
        " JOIN attachment_chunks c ON c.attachment_id = a.id"
        " GROUP BY a.id, a.stored_in ORDER BY a.id DESC LIMIT 1"
    )

    on_b = b.client("203.0.113.41")  # the author, later, through the other node
    fields = {"csrf_token": on_b.token("/track"), "code": code}
    download = on_b.request(f"/track/attachments/{stored['id']}", fields)

    assert (stored["stored_in"], stored["chunks"]) == ("database", 3)
    assert download.status == 200, download.text[:500]
    assert download.content == photo
    assert download.headers["Content-Length"] == str(len(photo))
    # Neither node's own instance folder holds a file.
    for name in ("a", "b"):
        folder = module_site.folder / f"instance-{name}" / "attachments"
        assert not folder.exists() or not any(folder.iterdir())


def test_the_submit_limit_counts_across_both_nodes(nodes, module_site):
    a, b = nodes
    before = _submissions(module_site)
    citizen = a.client("203.0.113.30")
    answers = []
    for number in range(SUBMIT_LIMIT + 2):  # A, B, A, then B and A refused
        node = citizen.on((a, b)[number % 2].base)
        answers.append(node.request("/submit", _form(node.token("/submit"))))

    statuses = [answer.status for answer in answers]
    assert statuses == [200] * SUBMIT_LIMIT + [429, 429], statuses
    assert all(RECEIVED in answer.text for answer in answers[:SUBMIT_LIMIT])
    assert all(REFUSED in answer.text for answer in answers[SUBMIT_LIMIT:])
    assert _submissions(module_site) == before + SUBMIT_LIMIT


def test_two_outbox_workers_deliver_each_message_once(
    nodes, module_site, keys, settings, smtp_sink, processes
):
    site = module_site.run_by(processes)  # the workers end with this test
    sink = smtp_sink().start()
    workers = [
        site.spawn_flask(
            ["outbox", "work"],
            site.node_env(
                name, keys, **settings, MAIL_PORT=sink.port, OUTBOX_BATCH_SIZE=20
            ),
        )
        for name in ("a", "b")
    ]
    wait_until(
        lambda: all("Delivering" in processes.output(w) for w in workers),
        20,
        "both workers run",
    )
    started = time.monotonic()
    site.submit([f"reader.{n}@example.com" for n in range(QUEUED)])
    queued = time.monotonic()
    wait_until(
        lambda: all(row["state"] == "sent" for row in site.outbox()),
        60,
        "the queue drains",
    )
    drained = time.monotonic()
    rows = site.outbox()
    ids = sink.message_ids()
    repeated = len(ids) - len(set(ids))
    assert repeated == 0, Counter(ids).most_common(3)
    assert sorted(ids) == sorted(str(row["message_id"]) for row in rows)
    assert len(rows) >= QUEUED
    by_worker = [
        sum(int(n) for n in re.findall(r"^sent=(\d+)", processes.output(w), re.M))
        for w in workers
    ]
    assert sum(by_worker) == len(rows), by_worker
    assert all(by_worker), f"one worker sent everything: {by_worker}"
    for worker in workers:
        assert processes.stop(worker) == 0, processes.output(worker)
    FIGURES["outbox messages"] = len(rows)
    FIGURES["sent by worker A, B"] = by_worker
    FIGURES["queue them, s"] = round(queued - started, 1)
    FIGURES["outbox drain after the commit, s"] = round(drained - queued, 1)
    FIGURES["duplicates"] = repeated
