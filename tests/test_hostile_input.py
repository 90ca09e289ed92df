"""Every route, converter and parameter of the app, fed hostile values: never a 5xx.

The walk reads the app's own URL map. For each rule it tries each converter
with values a database or a parser could choke on, and it sends every
parameter the rule's view can read (the fields of the forms its module
uses, found by scanning the module's source, and the literal names of its
``request.args``/``request.form`` reads) with each hostile value at once,
empty and repeated; as a visitor and as each role, by GET and POST (CSRF is
off in the test app), in process, on the database of this pass. It runs in
both passes (SQLite and PostgreSQL) and must finish in under a minute.

One value goes into every parameter of a request: NUL in any one of them is
refused at the door, which would hide what the others do to the view.
"""

from __future__ import annotations

import inspect
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import quote

import pytest
from flask import Flask
from helpers import staff_user
from helpers import submit
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.routing import AnyConverter
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Rule
from wtforms import Form

from feedback import demo
from feedback.extensions import db
from feedback.models import Attachment
from feedback.models import InboundMessage
from feedback.models import Inspection
from feedback.models import OutboxMessage
from feedback.models import Problem
from feedback.models import Reply
from feedback.models import Role
from feedback.models import Section
from feedback.services import triage
from feedback.signing import reply_token

HUGE = str(2**63)  # one beyond PostgreSQL's bigint and SQLite's INTEGER
# Written as they travel: %-encoded UTF-8, and WTF-8 for the lone surrogate
# (which no UTF-8 encoder writes, so the test client cannot be handed it).
HOSTILE_VALUES = [
    quote(HUGE),
    "-1",
    "%00",
    "%ED%A0%80",  # U+D800, half a surrogate pair
    "x" * 10240,
    quote("₀₁₂"),  # isdigit(), but int() refuses it
    quote("١٢"),  # Arabic-Indic digits, which int() takes
    "0001-01-01",
    "9999-12-31",
    "0001-01",  # a month field's edges
    "9999-12",
    "9999-12-31T23:59:59Z",  # Open311's W3C dates
]
# An integer part beyond range never matches its route, whoever asks: these
# are tried as a visitor and as the lead; text parts reach views, as everyone.
PATH_INTEGERS = [HUGE, str(2**64), "-1", quote("₀₁₂")]
INTEGERS_AS = ("visitor", "lead")
PATH_TEXTS = [
    "%00",
    "%ED%A0%80",
    "x" * 10240,
    quote("₀₁₂"),
    "0001-01-01",
    "9999-12-31",
    quote("../../etc/passwd", safe=""),
]
METHODS = ("GET", "POST")
# The readiness probe says 503 while the schema is behind (a test database
# built by create_all has no revision): that is its answer, not a failure.
NOT_READY = ("health.readiness", 503)
# Reads of raw parameters by literal name, beside the forms.
_RAW_READ = re.compile(r"request\.(?:args|form|values)(?:\.get\(|\[)\s*\"([^\"]+)\"")
_FORM_NAME = re.compile(r"\b([A-Z]\w*Form)\b")


def form_classes() -> dict[str, type[Form]]:
    """Every WTForms class the app's modules define, by name."""
    found: dict[str, type[Form]] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("feedback.") or module is None:
            continue
        for attr, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Form)
                and value.__module__.startswith("feedback.")
            ):
                found[attr] = value
    return found


def field_names(form_class: type[Form], prefixes: list[str]) -> set[str]:
    """The names a form's fields carry in a request, under each of ``prefixes``."""
    names = set()
    for prefix in prefixes:
        form = form_class(prefix=prefix, meta={"csrf": False})
        names.update(field.name for field in form)
    return names


def parameters(app: Flask, rule: Rule, ids: list[str]) -> list[str]:
    """Every parameter the view of ``rule`` can read, from its module's source."""
    view = inspect.unwrap(app.view_functions[rule.endpoint])
    module = inspect.getmodule(view)
    source = inspect.getsource(module) if module else ""
    classes = form_classes()
    names = set(_RAW_READ.findall(source))
    for form_name in set(_FORM_NAME.findall(source)) & set(classes):
        form_class = classes[form_name]
        base = getattr(form_class, "PREFIX", "")
        # A form of one row of a page is named after the row: PREFIX<id>-…
        prefixes = [base] + [f"{base}{i}" for i in ids] if base else [""]
        names |= field_names(form_class, prefixes)
    return sorted(names)


@dataclass
class Walk:
    app: Flask
    clients: dict[str, object]
    accounts: dict[str, tuple[int, int]]
    ids: dict[str, str]
    token: str
    requests: int = 0
    staff_pages_shown: Counter[str] = field(default_factory=Counter)

    def sign_in(self, who: str) -> None:
        """Sign ``who`` in again: a POST of the walk may have signed it out."""
        if who in self.accounts:
            user_id, version = self.accounts[who]
            with self.clients[who].session_transaction() as flask_session:
                flask_session.clear()
                flask_session["user_id"] = user_id
                flask_session["v"] = version

    def valid(self, rule: Rule, name: str) -> str:
        """A value of a path part that reaches the view."""
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)[0]
        if isinstance(converter, IntegerConverter):
            key = f"{rule.endpoint.split('.')[-1]}:{name}"
            return self.ids.get(key, self.ids.get(name, "1"))
        return {"token": self.token, "day": "2025-10-01"}.get(name, "x")

    def paths(self, rule: Rule, who: str) -> Iterator[tuple[str, list[str]]]:
        """The rule's URL with valid parts, then with each part made hostile."""
        plain = {name: self.valid(rule, name) for name in rule._converters}
        yield self.build(rule, plain), list(plain.values())
        for name in rule._converters:
            converter = rule._converters[name]
            if isinstance(converter, AnyConverter):
                continue
            if isinstance(converter, IntegerConverter):
                bad = PATH_INTEGERS if who in INTEGERS_AS else []
            else:
                bad = PATH_TEXTS
            for value in bad:
                yield self.build(rule, {**plain, name: value}), []

    @staticmethod
    def build(rule: Rule, values: dict[str, str]) -> str:
        path = rule.rule
        for name, value in values.items():
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", lambda _m, v=value: v, path)
        return path

    def send(self, who: str, method: str, url: str, body: str = "") -> int:
        client = self.clients[who]
        self.requests += 1

        try:
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(
                    url,
                    data=body,
                    content_type="application/x-www-form-urlencoded",
                )
        except Exception:  # noqa: BLE001 - an exception that escapes is a 5xx too
            return 599
        # A file served from disk stays open until its response is closed.
        response.close()
        if response.status_code == 200 and url.startswith("/staff/"):
            self.staff_pages_shown[who] += 1
        return response.status_code


def _query(names: list[str], value: str) -> str:
    return "&".join(f"{quote(n)}={value}" for n in names)


@pytest.fixture
def walk(make_app) -> Walk:
    # A 500 is answered by the app's own handler, as in production, rather
    # than raised into the test.
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        session = db.session
        demo.load(session)
        demo.load_published_replies(session)
        office = session.scalar(select(Section).where(Section.name == "办公室"))
        routed = submit(session).submission
        triage.route(session, routed, office, actor=staff_user(Role.LEAD))
        session.commit()

        def first(model) -> str:
            return str(session.scalar(select(func.min(model.id))) or 1)

        ids = {
            "submission_id": str(routed.id),
            "problem_id": first(Problem),
            "round_id": first(Inspection),
            "attachment_id": first(Attachment),
            "reply_id": first(Reply),
            "section_id": first(Section),
            "held_message:message_id": first(InboundMessage),
            "file_held:message_id": first(InboundMessage),
            "discard_held:message_id": first(InboundMessage),
            "message_id": first(OutboxMessage),
        }
        token = reply_token(routed.id, routed.section_id)
        people = {
            "admin": staff_user(Role.ADMIN),
            "lead": staff_user(Role.LEAD),
            "office": staff_user(Role.SECTION, "办公室"),
            "personnel": staff_user(Role.SECTION, "人事股"),
        }
        accounts = {who: (u.id, u.session_version) for who, u in people.items()}
    clients = {who: app.test_client() for who in ("visitor", *accounts)}
    return Walk(app, clients, accounts, ids, token)


def test_no_route_answers_hostile_input_with_a_5xx(walk):
    app = walk.app
    failures: list[str] = []
    started = time.monotonic()
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint not in ("static", "auth.logout")
    ]
    with app.test_request_context():
        table = [
            parameters(app, rule, sorted(set(walk.ids.values()))) for rule in rules
        ]
    for rule, names in zip(rules, table, strict=True):
        methods = [m for m in METHODS if m in rule.methods]
        for method in methods:
            for who in walk.clients:
                walk.sign_in(who)
                urls = list(walk.paths(rule, who))
                for url, _ in urls:
                    status = walk.send(who, method, url)
                    if status >= 500 and (rule.endpoint, status) != NOT_READY:
                        failures.append(f"{status} {who} {method} {url[:200]}")
                base = urls[0][0]
                if not names:
                    continue
                variants = [_query(names, v) for v in HOSTILE_VALUES]
                variants.append(_query(names, ""))  # every parameter empty
                variants.append(_query(names + names, "1"))  # each one twice
                for query in variants:
                    if method == "GET":
                        status = walk.send(who, method, f"{base}?{query}")
                    else:
                        status = walk.send(who, method, base, query)
                    if status >= 500:
                        failures.append(f"{status} {who} {method} {base} {query[:200]}")
    took = time.monotonic() - started
    print(f"hostile walk: {walk.requests} requests in {took:.1f} s")
    # Each role was really signed in: the back office showed it its pages.
    assert set(walk.staff_pages_shown) == set(walk.accounts), walk.staff_pages_shown
    assert not failures, "\n".join(failures)
