"""Shared test code: settings, databases, data builders, page checks and browser steps.

Test modules import from here, never from ``conftest`` or from each other;
``conftest.py`` keeps only fixtures and hooks.
"""

from __future__ import annotations

import ast
import email
import email.policy
import html as html_module
import io
import os
import random
import re
import socket
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import UTC
from html.parser import HTMLParser
from pathlib import Path
from time import monotonic
from time import sleep
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from jinja2 import FileSystemBytecodeCache
from playwright.sync_api import Browser
from playwright.sync_api import BrowserContext
from playwright.sync_api import expect
from playwright.sync_api import Page
from sqlalchemy import create_engine
from sqlalchemy import func
from sqlalchemy import make_url
from sqlalchemy import MetaData
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.orm import Session

from feedback import database_uri
from feedback import demo
from feedback import PROJECT_ROOT
from feedback.extensions import db
from feedback.models import Aspect
from feedback.models import Channel
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import Rating
from feedback.models import Role
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import accounts
from feedback.services import submissions

# ---- settings and databases --------------------------------------------------

SHARED = PROJECT_ROOT.parent / "shared"
# Set by .ci/run for the second pass over the suite.
CONFIGURED_DATABASE_URL = os.environ.get("FEEDBACK_TEST_DATABASE_URL", "")
# pytest-xdist names each worker (gw0, gw1…); each gets a database of its own.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_database_url(url: str, worker: str) -> str:
    """Return ``url`` with its database name suffixed by ``worker`` (if any)."""
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(
        hide_password=False
    )


TEST_DATABASE_URL = worker_database_url(CONFIGURED_DATABASE_URL, WORKER)


def create_worker_database() -> None:
    """Create this worker's PostgreSQL database from the configured one, if missing."""
    if TEST_DATABASE_URL == CONFIGURED_DATABASE_URL:
        return
    name = make_url(TEST_DATABASE_URL).database or ""
    if not re.fullmatch(r"\w+", name):
        raise ValueError(f"cannot name a database {name!r}")
    engine = create_engine(
        database_uri(CONFIGURED_DATABASE_URL, PROJECT_ROOT),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": name},
            )
            if not exists:
                # template0, as .ci/run makes the first: nobody else is ever
                # connected to it, so workers can copy it at the same time.
                connection.exec_driver_sql(
                    f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"
                )
    finally:
        engine.dispose()


def shared_path(*parts: str) -> Path:
    """Return a path under ../shared/, or skip the test where a clone lacks it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads the shared corpus (CI has it)")
    return path


def corpus(name: str) -> list[str]:
    """Return the lines of a bad-input corpus file, comments left out."""
    text_ = shared_path("corpora", "bad-input", name).read_text(encoding="utf-8")
    return [line for line in text_.splitlines() if line and not line.startswith("#")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _closed_port() -> tuple[socket.socket, int]:
    # Bound but never listening: connecting is refused at once, and no other
    # test, worker or program can take the port while this process lives.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


_CLOSED_SOCKET, CLOSED_PORT = _closed_port()


def base_config(
    tmp_path: Path, database_url: str, **overrides: object
) -> dict[str, object]:
    """Return the settings of a test app, with ``overrides``.

    ``database_url`` is the ``database_url`` fixture's value: this pass's
    PostgreSQL database, or "" for a SQLite file in ``tmp_path``. Taking it
    from the fixture keeps the rule of the PostgreSQL pass true: a test runs
    there if, and only if, it asks for that fixture.
    """
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'test.sqlite'}",
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_URL": "http://feedback.test",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": CLOSED_PORT,  # nothing listens: sends are deferred
        "MAIL_SUPPRESS_SEND": False,
        "OUTBOX_RETRY_BASE_SECONDS": 60,
        "ARGON2_TIME_COST": 1,  # production cost is measured in bench/, not here
        "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_PARALLELISM": 1,
        "RATELIMIT_ENABLED": False,  # test_rate_limits turns it on
        "ATTACHMENT_DIR": str(tmp_path / "attachments"),
    }
    config.update(overrides)
    return config


# Compiled templates, kept on disk (in Jinja's folder for this user under
# the system's temporary directory), so that each test's new app, every
# worker and the next run skip compiling: about 0.6 s for all of them. Jinja
# keys an entry by the template's name and path and checks its source and
# the Python version, so an edited template, or another checkout's, is
# compiled afresh.
TEMPLATES = FileSystemBytecodeCache()


def share_compiled_templates(app: Flask) -> Flask:
    """Let ``app`` reuse the templates other apps of this run compiled."""
    app.jinja_env.bytecode_cache = TEMPLATES
    return app


def reset_schema() -> None:
    """Drop every table in the database, so that it starts empty.

    Every table found, not only the models': Alembic's, and any a local
    database kept from another branch, which would otherwise never match
    the models or hold a foreign key to one of their tables.
    """
    found = MetaData()
    found.reflect(bind=db.engine)
    found.drop_all(bind=db.engine)


_COLUMNS_SQL = {
    "postgresql": "SELECT table_name, column_name FROM information_schema.columns "
    "WHERE table_schema = current_schema()",
    "sqlite": "SELECT m.name, p.name FROM sqlite_master AS m "
    "JOIN pragma_table_info(m.name) AS p WHERE m.type = 'table' "
    "AND m.name NOT LIKE 'sqlite_%'",
}


def empty_schema() -> None:
    """Leave the models' tables in the database, empty, their ids counting from 1.

    Dropping and creating every table costs about half a second on
    PostgreSQL; when the tables already match the models (the usual case
    between two tests, or when a test builds a second app or puts copied
    rows back) deleting their rows does the same in a hundredth, on either
    database. Anything else (no tables, Alembic's, an older shape) is rebuilt.
    """
    dialect = db.engine.dialect.name
    wanted = {
        (table.name, column.name)
        for table in db.metadata.tables.values()
        for column in table.columns
    }
    with db.engine.begin() as connection:
        found = {
            tuple(row) for row in connection.exec_driver_sql(_COLUMNS_SQL[dialect])
        }
        if found == wanted:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
            # SQLite numbers a new row max(id) + 1, so its ids restart by
            # themselves: no model asks for AUTOINCREMENT, which would count on.
            if dialect == "postgresql":
                connection.exec_driver_sql(
                    "SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S' "
                    "AND relnamespace = current_schema()::regnamespace"
                )
            return
    if found:
        reset_schema()
    db.create_all()  # fast; test_migrations runs the real migrations


Rows = dict[str, list[dict[str, object]]]


def copy_rows() -> Rows:
    """Return every row of every table, to put back later with put_rows."""
    with db.engine.connect() as connection:
        return {
            table.name: [
                dict(row._mapping) for row in connection.execute(select(table))
            ]
            for table in db.metadata.sorted_tables
        }


def put_rows(rows: Rows) -> None:
    """Make the tables hold exactly ``rows``, as copied; ids go on from there.

    Cheaper than building the same data again through the services, which a
    few fixtures (the statistics seed) would otherwise do for every test.
    """
    empty_schema()
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            if rows[table.name]:
                connection.execute(table.insert(), rows[table.name])
        if db.engine.dialect.name != "postgresql":
            return
        for table in db.metadata.sorted_tables:
            if "id" in table.c and table.c.id.autoincrement is not False:
                next_id = func.coalesce(func.max(table.c.id), 0) + 1
                sequence = func.pg_get_serial_sequence(table.name, "id")
                connection.execute(select(func.setval(sequence, next_id, False)))


# ---- processes ---------------------------------------------------------------


def wait_until(check: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``check`` until it is true, or fail saying ``what`` never happened."""
    deadline = monotonic() + timeout
    while not check():
        if monotonic() > deadline:
            pytest.fail(f"not within {timeout:g} s: {what}")
        sleep(0.1)


# ---- data --------------------------------------------------------------------


def submit(
    session: Session,
    *,
    kind: SubmissionKind = SubmissionKind.OPINION,
    subject: str = "操场开放时间",
    body: str = "希望周末开放学校操场。",
    problem: Problem | None = None,
    author: submissions.Author | None = None,
    form_key: str | None = None,
    receipt_nonce: str | None = None,
) -> submissions.Receipt:
    """Hand in a submission through the service, with plain defaults."""
    return submissions.submit(
        session,
        kind=kind,
        subject=subject,
        body=body,
        problem=problem,
        author=author or submissions.Author(),
        form_key=form_key,
        receipt_nonce=receipt_nonce,
    )


def staff_user(role: Role, section_name: str | None = None) -> StaffUser:
    """Return the demo account for ``role`` (and section)."""
    for entry in demo.LOGINS:
        if entry.role is role and (
            section_name is None or entry.section == section_name
        ):
            user = accounts.find_by_email(db.session, entry.email)
            assert user is not None
            return user
    raise LookupError(role)


# The statistics seed: the bureau's zone, its "today", and what the seed writes.
TZ_NAME = "Asia/Shanghai"
TZ = ZoneInfo(TZ_NAME)
TODAY = date(2025, 10, 15)
MISCONDUCT_SUBJECT = "反映某校长违规收费"
REASONS = [None, "", "   ", "答复很及时", "<script>alert(1)</script>没有解决"]


def local(moment: datetime) -> date:
    return moment.astimezone(TZ).date()


def at_local(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(UTC)


def seed_submissions(session: Session) -> dict[str, object]:
    """About 200 submissions of every state, kind and channel over nine months.

    Times fall near local midnight on purpose, so that a count in UTC instead
    of the bureau's zone would differ.
    """
    rng = random.Random(9)
    sections = list(session.scalars(select(Section).order_by(Section.id)))
    other_round = Inspection(name="第二轮巡察")
    aspect = Aspect(inspection=other_round, number=1, title="另一方面")
    session.add_all(
        [
            other_round,
            aspect,
            Problem(aspect=aspect, number=1, title="食堂管理", section=sections[0]),
            Problem(aspect=aspect, number=2, title="校服采购", section=sections[1]),
        ]
    )
    session.flush()
    problems = list(session.scalars(select(Problem).order_by(Problem.id)))
    fates = [
        "received",
        "spam",
        "not_accepted",
        "duplicate",
        "routed_pending",
        "routed_late",
        "replied",
        "closed",
        "reopened",
    ]
    for n in range(200):
        kind = list(SubmissionKind)[n % 4]
        fate = fates[(n // 4 + n) % len(fates)]
        problem = rng.choice([*problems, None, None])
        item = submit(
            session,
            kind=kind,
            subject=MISCONDUCT_SUBJECT if kind is SubmissionKind.MISCONDUCT else "意见",
            problem=problem,
        ).submission
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 273))
        item.received_at = at_local(
            day, rng.choice([0, 7, 12, 23]), rng.choice([0, 29, 59])
        )
        item.channel = list(Channel)[rng.randrange(len(Channel))]
        item.state = {
            "received": SubmissionState.RECEIVED,
            "spam": SubmissionState.SPAM,
            "not_accepted": SubmissionState.NOT_ACCEPTED,
            "duplicate": SubmissionState.DUPLICATE,
            "routed_pending": SubmissionState.ROUTED,
            "routed_late": SubmissionState.ROUTED,
            "replied": SubmissionState.REPLIED,
            "closed": SubmissionState.CLOSED,
            "reopened": SubmissionState.ROUTED,
        }[fate]
        if fate in {"received", "spam", "not_accepted", "duplicate"}:
            continue
        # A 举报 is never routed in practice, but a section and a problem set
        # on one here must still not leak into any public figure.
        item.section = rng.choice(sections)
        if kind is SubmissionKind.MISCONDUCT and n % 3 == 0:
            item.accepted_at = None  # the lead answered it directly
        else:
            item.accepted_at = item.received_at + timedelta(hours=rng.randrange(1, 200))
        start = item.accepted_at or item.received_at
        item.due_on = local(start) + timedelta(days=60 + rng.choice([0, 0, 30]))
        if fate == "routed_pending":
            item.due_on = TODAY + timedelta(days=rng.randrange(0, 40))
            continue
        if fate == "routed_late":
            item.due_on = TODAY - timedelta(days=rng.randrange(1, 40))
            continue
        if n % 5 == 0:  # the last minutes of the due date, or just after it
            item.replied_at = at_local(item.due_on, 23, 59)
        elif n % 5 == 1:
            item.replied_at = at_local(item.due_on + timedelta(days=1), 0, 1)
        else:
            item.replied_at = start + timedelta(hours=rng.randrange(2, 2400))
        if fate in {"closed", "reopened"}:
            item.rating = rng.choice(list(Rating))
            item.rating_reason = rng.choice(REASONS)
            item.rated_at = item.replied_at + timedelta(days=1, minutes=n)
            item.closed_at = item.rated_at
    session.commit()
    round_problems = {
        p.id for p in problems if p.aspect.inspection_id == other_round.id
    }
    return {"round_id": other_round.id, "round_problems": round_problems}


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx(blocks: list[str], *, numbering: str | None = None, seed: int = 0) -> bytes:
    """Build a minimal .docx; runs are split at random, as Word does."""
    rnd = random.Random(seed)
    body = []
    for block in blocks:
        if block.startswith("<w:"):
            body.append(block)
            continue
        runs, i = [], 0
        while i < len(block):
            j = min(len(block), i + rnd.randint(1, 9))
            runs.append(block[i:j])
            i = j
        body.append(
            "<w:p>"
            + "".join(
                f'<w:r><w:t xml:space="preserve">{html_module.escape(r)}</w:t></w:r>'
                for r in runs
            )
            + "</w:p>"
        )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W}"><w:body>{"".join(body)}</w:body></w:document>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", document)
        if numbering:
            archive.writestr("word/numbering.xml", numbering)
    return buffer.getvalue()


# ---- mail --------------------------------------------------------------------


class CollectingHandler:
    """Keeps every message the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def mailed_letter(subject: str, sender: str, message_id: str) -> bytes:
    """A citizen's mail to the public address, its subject one RFC 2047 word.

    Written by hand: Python's own header classes would fold a line break
    into two words instead of carrying it inside the encoded text.
    """
    word = "=?utf-8?q?" + "".join(f"={byte:02X}" for byte in subject.encode()) + "?="
    head = (
        f"From: Citizen <{sender}>\r\n"
        "To: supervision@meijiang-edu.example\r\n"
        f"Subject: {word}\r\n"
        f"Message-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return (head + "学校食堂的饭菜太咸了，希望改进。\r\n").encode()


# ---- pages -------------------------------------------------------------------


def login(client, user: StaffUser) -> None:
    """Sign ``user`` in on ``client`` without going through the form."""
    with client.session_transaction() as flask_session:
        flask_session["user_id"] = user.id
        flask_session["v"] = user.session_version


# The lead's status form, filled in: the problem becomes 正在整改 (ongoing).
STATUS_FORM = {
    "status-word": "正在整改",
    "status-reason": "审计发现新问题",
    "status-effective_on": "2026-11-20",
}


def open_reply_link(app: Flask, link: str) -> tuple[str, str]:
    """Open a section's e-mailed reply link in process, as a browser would.

    Returns the path it redirects to (the page without the token) and the
    ``Cookie`` header that opens that page.
    """
    with app.test_request_context(link):
        response = app.full_dispatch_request()
    assert response.status_code == 303, link
    cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    return response.headers["Location"], cookie


def read_receipt(html: str) -> tuple[str, str]:
    """Return the reference number and the access code shown on a receipt page."""
    reference = re.search(r'class="reference">([^<]+)<', html)
    code = re.search(r'id="access-code">(.*?)</dd>', html, re.S)
    assert reference is not None, "no reference on the page"
    assert code is not None, "no access code on the page"
    return reference.group(1), re.sub(r"<[^>]+>", "", code.group(1))


class _ActiveMarkup(HTMLParser):
    """Collects anything in a page that a browser could run."""

    RUNNABLE_TAGS = frozenset(
        {
            "script",
            "iframe",
            "object",
            "embed",
            "svg",
            "math",
            "base",
            "meta",
            "link",
            "style",
        }
    )
    URL_ATTRIBUTES = frozenset(
        {"href", "src", "action", "formaction", "xlink:href", "data"}
    )

    def __init__(self, allowed_tags):
        super().__init__(convert_charrefs=True)
        self.allowed_tags = allowed_tags
        self.found = []

    def handle_starttag(self, tag, attrs):
        ours = tag == "script" and dict(attrs).get("src", "").startswith("/static/js/")
        if tag in self.RUNNABLE_TAGS and tag not in self.allowed_tags and not ours:
            self.found.append(tag)
        for name, value in attrs:
            scheme = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            elif name in self.URL_ATTRIBUTES and scheme.startswith(
                ("javascript:", "vbscript:", "data:")
            ):
                self.found.append(f"{tag}[{name}={value}]")


def runnable_markup(html: str) -> list[str]:
    """Return what in ``html`` a browser could run, beyond our own page head."""
    parser = _ActiveMarkup(allowed_tags={"meta", "link"})  # the page head's own
    parser.feed(html)
    return parser.found


# ---- source code -------------------------------------------------------------


class Import(NamedTuple):
    """One name an import statement brings in.

    ``import a.b`` is ("a.b", None); ``from a import b`` is ("a", "b"); a
    relative import keeps its leading dots (``from . import b`` is (".", "b")).
    """

    module: str
    name: str | None
    line: int


def _type_checking(test: ast.expr) -> bool:
    """Whether ``test`` is ``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def imported_modules(path: Path, *, skip_type_checking: bool = False) -> list[Import]:
    """Return every import in the Python file at ``path``, in the order written.

    With ``skip_type_checking``, leave out those in the body of an
    ``if TYPE_CHECKING:`` block, which never run; its ``else`` branch does.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if skip_type_checking:
        skipped = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and _type_checking(block.test)
            for statement in block.body
            for node in ast.walk(statement)
        }
    found: list[Import] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [Import(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
    return sorted(found, key=lambda found_import: found_import.line)


# ---- browsers ----------------------------------------------------------------

# Debian's Chromium driven by pytest-playwright, against a live server.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Screenshots and other artefacts that CI keeps (ignored by git).
ARTIFACTS = PROJECT_ROOT / "test-results"
SCREENSHOTS = ARTIFACTS / "screenshots"


@dataclass
class LiveServer:
    """The app with the demo loaded, served on 127.0.0.1 for a real browser."""

    app: Flask
    url: str


AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
LOGINS = {entry.role: entry for entry in demo.LOGINS}
SECTION_LOGIN = next(entry for entry in demo.LOGINS if entry.section == "办公室")
# Interface combinations: (language cookie, care mode).
COMBOS = [
    ("zh-Hans", False),
    ("zh-Hans", True),
    ("zh-Hant", False),
    ("zh-Hant", True),
    ("en", False),
]
COMBO_IDS = [f"{lang}-{'care' if care else 'normal'}" for lang, care in COMBOS]


def browser_context(
    browser: Browser,
    server: LiveServer,
    lang: str,
    care: bool,
    width: int = 1280,
    *,
    axe: bool = False,
) -> BrowserContext:
    """Open a context with the reader's language and care mode already chosen.

    With ``axe``, every page of the context loads axe-core as it opens: sent
    to the browser once, instead of half a megabyte for each page audited.
    """
    context = browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": 900}
    )
    if axe:
        context.add_init_script(AXE.axe_script)
    context.add_cookies(
        [
            {"name": "lang", "value": lang, "url": server.url},
            {"name": "care", "value": "1" if care else "0", "url": server.url},
        ]
    )
    return context


def sign_in(page: Page, server: LiveServer, role: Role) -> None:
    """Sign in through the form as the demo account of ``role``."""
    entry = SECTION_LOGIN if role is Role.SECTION else LOGINS[role]
    page.goto(f"{server.url}/auth/login")
    page.locator("#email").fill(entry.email)
    page.locator("#password").fill(entry.password)
    page.locator("#password").press("Enter")
    expect(page).to_have_url(re.compile(r"/staff/$"))


def axe_violations(page: Page, label: str) -> list[str]:
    """Run axe (WCAG 2.1 AA) on the page; one line per violation found."""
    if not page.evaluate("typeof axe === 'object'"):
        page.evaluate(AXE.axe_script)
    results = page.evaluate("(options) => axe.run(document, options)", AXE_OPTIONS)
    return [
        f"{label}: {v['id']} ({v['impact']}) at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
    ]


def shoot(page: Page, name: str) -> None:
    """Keep a full-page screenshot under test-results/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
