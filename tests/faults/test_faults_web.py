"""The web under gunicorn: a line break typed in a subject, Redis stopped, PostgreSQL restarted."""

import time

from helpers import SECTION_LOGIN
from helpers import wait_until

TYPED = "学校门口的路灯坏了很久，晚上接孩子很不安全。"
RECEIVED = "已收到您的意见"


def _form(token, **fields):
    return {
        "csrf_token": token,
        "kind": "opinion",
        "subject": "路灯坏了",
        "body": TYPED,
        "identity": "anonymous",
        **fields,
    }


def _submissions(web):
    return web.site.rows("SELECT count(*) AS n FROM submissions")[0]["n"]


def test_a_line_break_typed_in_a_subject_is_refused_with_a_message(web):
    client = web.client()
    before = _submissions(web)

    answer = client.request("/submit", _form(client.token("/submit"), subject="a\r\nb"))

    assert answer.status == 400, answer.text[:500]
    assert 'id="subject-error"' in answer.text  # said beside the field
    assert TYPED in answer.text  # and nothing typed is lost
    assert _submissions(web) == before


def test_with_redis_stopped_submitting_and_signing_in_still_work(web, redis_server):
    client = web.client()
    counted = client.request("/submit", _form(client.token("/submit")))
    assert counted.status == 200
    assert RECEIVED in counted.text
    assert redis_server.keys(), "the web does not count its limits in this Redis"

    redis_server.stop()
    try:
        again = client.request("/submit", _form(client.token("/submit")))
        staff = web.client()
        signed_in = staff.request(
            "/auth/login",
            {
                "csrf_token": staff.token("/auth/login"),
                "email": SECTION_LOGIN.email,
                "password": SECTION_LOGIN.password,
            },
        )
        desk = staff.request("/staff/")
    finally:
        redis_server.start()

    assert again.status == 200, again.text[:500]
    assert RECEIVED in again.text
    assert signed_in.status == 302, signed_in.text[:500]
    assert desk.status == 200, desk.text[:500]


def test_a_database_restart_leaves_the_worker_running_and_the_web_saying_503(
    web, cluster, smtp_sink, processes
):
    sink = smtp_sink().start()
    site = web.site.run_by(processes)  # the worker ends with this test
    worker = site.spawn_flask(["outbox", "work"], site.env(MAIL_PORT=sink.port))
    client = web.client()
    token = client.token("/submit")  # the form was open before the outage
    wait_until(lambda: "Delivering" in processes.output(worker), 20, "the worker runs")

    cluster.stop()
    try:
        home = client.request("/")
        posted = client.request("/submit", _form(token, subject="停电时写的"))
        time.sleep(2)  # several of the worker's passes meet the outage
        running_in_outage = worker.poll() is None
    finally:
        cluster.start()

    assert home.status == 503, home.text[:500]
    assert "Retry-After" in home.headers
    assert posted.status == 503, posted.text[:500]
    assert TYPED in posted.text  # the form comes back with what was typed
    assert running_in_outage, processes.output(worker)
    wait_until(lambda: client.request("/").status == 200, 20, "the web answers again")
    after = client.request(
        "/submit",
        _form(
            client.token("/submit"),
            identity="real_name",
            name="李四",
            email="after.restart@example.com",
        ),
    )
    assert after.status == 200, after.text[:500]
    assert RECEIVED in after.text
    wait_until(
        lambda: any("after.restart@example.com" in r["to"] for r in sink.accepted()),
        20,
        "the worker delivers the receipt queued after the restart",
    )
    assert worker.poll() is None, processes.output(worker)
    assert processes.stop(worker) == 0, processes.output(worker)
