"""Intake over real HTTP against a live server: parallel double submissions, a corpus sample."""

import random
import re
import threading
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from helpers import corpus
from helpers import read_receipt
from helpers import runnable_markup
from sqlalchemy import func
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import Submission


class Browserless:
    """A plain HTTP client with its own cookies, like one person's browser."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar())
        )

    def get(self, path):
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def post(self, path, fields):
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.base + path, data=data, method="POST")
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def form(self):
        html = self.get("/submit")
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"', html
        ).group(1)
        key = re.search(
            r'name="idempotency_key" type="hidden" value="([^"]+)"', html
        ).group(1)
        return token, key


def _count(app):
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Submission))
        db.session.remove()
        return count


def test_twenty_parallel_double_submissions_make_twenty(live_server):
    before = _count(live_server.app)
    people = [Browserless(live_server.url) for _ in range(20)]
    forms = [person.form() for person in people]
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def press(person, token, key, number):
        status, html = person.post(
            "/submit",
            {
                "csrf_token": token,
                "idempotency_key": key,
                "kind": "opinion",
                "subject": f"并发提交 {number}",
                "body": "双击了提交按钮。",
                "identity": "anonymous",
            },
        )
        with lock:
            results.append((number, status, html))

    threads = [
        threading.Thread(target=press, args=(person, token, key, number))
        for number, (person, (token, key)) in enumerate(zip(people, forms, strict=True))
        for _twice in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for _n, status, _h in results] == [200] * 40
    assert _count(live_server.app) - before == 20
    receipts: dict[int, set] = {}
    for number, _status, html in results:
        receipts.setdefault(number, set()).add(read_receipt(html))
    assert all(
        len(pair) == 1 for pair in receipts.values()
    )  # both presses, one receipt


def test_corpus_sample_over_http_stays_inert(live_server):
    pool = corpus("xss-payloads.txt") + corpus("naughty-strings.txt")
    person = Browserless(live_server.url)
    for text in random.Random(7).sample(pool, 60):
        token, key = person.form()
        status, html = person.post(
            "/submit",
            {
                "csrf_token": token,
                "idempotency_key": key,
                "kind": "opinion",
                "subject": text[:100],
                "body": text,
                "identity": "anonymous",
            },
        )
        assert status in (200, 400), text
        assert runnable_markup(html) == [], text
        if status == 200:
            _reference, code = read_receipt(html)
            status, tracked = person.post("/track", {"csrf_token": token, "code": code})
            assert status == 200
            assert runnable_markup(tracked) == [], text
