"""Fixtures of the fault suite: real parts, each a process of its own, that tests break on purpose.

A PostgreSQL cluster of its own (``faults``, port 5433) that tests stop and
start with pg_ctlcluster, a Redis of its own (port 6391), SMTP sinks
(smtp_sink.py), ``flask`` commands and gunicorn. ``pytest tests/faults`` runs
it, as root (.ci/run does, after making the cluster); the ordinary runs never
collect this folder (``norecursedirs`` in .pytest.ini).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
import redis
from flask_migrate import upgrade
from helpers import base_config
from helpers import CLOSED_PORT
from helpers import free_port
from helpers import wait_until
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import create_engine
from sqlalchemy import Engine
from sqlalchemy import make_url
from sqlalchemy import text
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import Session

from feedback import create_app
from feedback import database_uri
from feedback import demo
from feedback import PROJECT_ROOT
from feedback.extensions import db
from feedback.models import Channel
from feedback.models import SubmissionKind
from feedback.services import submissions

HERE = Path(__file__).parent
# .ci/run makes this role and database on the faults cluster.
FAULTS_URL = os.environ.get(
    "FEEDBACK_FAULTS_DATABASE_URL",
    "postgresql://feedback_faults:feedback_faults@127.0.0.1:5433/feedback_faults",
)
REDIS_PORT = int(os.environ.get("FEEDBACK_FAULTS_REDIS_PORT", "6391"))
CLUSTER = "faults"
TEMPLATE = "feedback_faults_template"
SECRET_KEY = "fault-suite-secret"  # noqa: S105 - a test key
# What every process of the suite runs with: short waits, so that a fault and
# its recovery fit in seconds, and cheap password hashes for the demo logins.
SETTINGS: dict[str, object] = {
    "SECRET_KEY": SECRET_KEY,
    "PUBLIC_URL": "http://feedback.test",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": CLOSED_PORT,
    "MAIL_TIMEOUT": 5,
    "OUTBOX_POLL_SECONDS": 0.2,
    "OUTBOX_RETRY_BASE_SECONDS": 1,
    "OUTBOX_RETRY_MAX_SECONDS": 2,
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 1024,
    "ARGON2_PARALLELISM": 1,
    "RATELIMIT_ENABLED": False,
}


def tool(name: str) -> str:
    """Return the path of the program ``name``, or skip saying which package has it."""
    found = shutil.which(name)
    if found is None:
        package = "redis-server" if name == "redis-server" else "postgresql-common"
        pytest.skip(f"{name} is missing (Debian's {package}; .ci/run installs it)")
    return found


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session", autouse=True)
def _as_root() -> None:
    if os.geteuid() != 0:
        pytest.skip(
            "the fault suite stops and starts a PostgreSQL cluster with "
            "pg_ctlcluster: run it as root (.ci/run does)"
        )


# ---- PostgreSQL --------------------------------------------------------------


@dataclass
class Cluster:
    """The ``faults`` cluster, which only this suite uses and may stop."""

    version: str
    port: int

    def _ctl(self, action: str) -> None:
        subprocess.run(
            [tool("pg_ctlcluster"), "--mode", "fast", self.version, CLUSTER, action],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop(self) -> None:
        self._ctl("stop")

    def start(self) -> None:
        self._ctl("start")
        wait_until(
            lambda: _listening(self.port), 30, "the faults cluster accepts connections"
        )


def _admin_engine() -> Engine:
    return create_engine(
        database_uri(FAULTS_URL, PROJECT_ROOT), isolation_level="AUTOCOMMIT"
    )


def _drop_copies() -> None:
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            names = connection.scalars(
                text(
                    "SELECT datname FROM pg_database "
                    "WHERE datname LIKE 'feedback\\_faults\\_%'"
                )
            ).all()
            for name in names:
                connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """The faults cluster, started, with the suite's copies of the demo dropped."""
    tool("pg_ctlcluster")
    listing = subprocess.run(
        [tool("pg_lsclusters"), "-h"], capture_output=True, text=True, check=True
    ).stdout
    found = [line.split() for line in listing.splitlines()]
    found = [fields for fields in found if fields[1:2] == [CLUSTER]]
    if not found:
        pytest.skip(
            "no PostgreSQL cluster named faults: .ci/run makes it "
            "(pg_createcluster VERSION faults --port 5433)"
        )
    version, _name, port, status = found[0][:4]
    cluster = Cluster(version, int(port))
    if status != "online":
        cluster.start()
    try:
        _drop_copies()
    except Exception as exc:  # noqa: BLE001 - any reason means: not set up
        where = make_url(FAULTS_URL)  # shown without its password
        pytest.skip(f"cannot use {where} (.ci/run makes that role): {exc}")
    yield cluster
    if not _listening(cluster.port):
        cluster.start()  # a test that failed half-way left it stopped
    _drop_copies()


# ---- databases holding the demo ----------------------------------------------


def _load_demo(url: str, folder: Path) -> None:
    """Migrate ``url`` to the head and load the demo into it."""
    app = create_app(base_config(folder, url, **SETTINGS))
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        demo.load(db.session)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


class Databases:
    """Fresh copies of one demo-loaded database per kind, built once a session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = itertools.count(1)
        self.templates: set[str] = set()

    def new(self, kind: str, cluster: Cluster | None) -> str:
        number = next(self.count)
        if kind == "sqlite":
            template = self.folder / "template.sqlite"
            if kind not in self.templates:
                _load_demo(f"sqlite:///{template}", self.folder)
                self.templates.add(kind)
            copy = self.folder / f"copy-{number}.sqlite"
            shutil.copyfile(template, copy)
            return f"sqlite:///{copy}"
        assert cluster is not None
        engine = _admin_engine()
        try:
            with engine.connect() as connection:
                if kind not in self.templates:
                    connection.exec_driver_sql(
                        f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"
                    )
                    connection.exec_driver_sql(
                        f"CREATE DATABASE {TEMPLATE} ENCODING 'UTF8' TEMPLATE template0"
                    )
                    _load_demo(_named(TEMPLATE), self.folder)
                    self.templates.add(kind)
                name = f"feedback_faults_{number}"
                connection.exec_driver_sql(
                    f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"
                )
        finally:
            engine.dispose()
        return _named(name)


def _named(name: str) -> str:
    return make_url(FAULTS_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Databases:
    return Databases(tmp_path_factory.mktemp("databases"))


# ---- processes ---------------------------------------------------------------


class Processes:
    """Processes a test started; whatever still runs is killed after it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []
        self.logs: dict[int, Path] = {}

    def spawn(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start ``args`` in the project root; its output goes to a file."""
        log = self.folder / f"process-{len(self.started) + 1}.log"
        # Appending: gunicorn reopens /dev/stdout for its own lines, and
        # without O_APPEND the two file offsets would write over each other.
        with log.open("ab") as output:
            process = subprocess.Popen(
                args,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.logs[process.pid] = log
        self.started.append(process)
        return process

    def output(self, process: subprocess.Popen[bytes]) -> str:
        """What a spawned process has written so far."""
        return self.logs[process.pid].read_text(errors="replace")

    @staticmethod
    def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> int:
        """SIGTERM ``process`` and return its exit status."""
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=timeout)

    def stop_all(self) -> None:
        """SIGTERM what still runs, then SIGKILL what has not ended in 10 s.

        A gunicorn killed outright would leave its workers behind it.
        """
        running = [process for process in self.started if process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    yield started
    started.stop_all()


class Site:
    """The service on one fresh database: its commands, its queue, its data."""

    def __init__(self, url: str, folder: Path, processes: Processes) -> None:
        self.url = url
        self.kind = make_url(url).get_backend_name()
        self.folder = folder
        self.processes = processes

    def run_by(self, processes: Processes) -> Site:
        """The same site, its processes started and cleaned up by ``processes``."""
        return Site(self.url, self.folder, processes)

    def env(self, **settings: object) -> dict[str, str]:
        """The environment of a process of this site, with ``settings``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACK_")}
        values = {
            **SETTINGS,
            "DATABASE_URL": self.url,
            "ATTACHMENT_DIR": str(self.folder / "attachments"),
            **settings,
        }
        env.update({f"FEEDBACK_{k}": json.dumps(v) for k, v in values.items()})
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def node_env(
        self, name: str, keys: dict[str, str], **settings: object
    ) -> dict[str, str]:
        """The environment of a process of node ``name`` of several serving this site.

        The node has an instance folder of its own, empty but for the
        config.py that holds ``keys``, as each machine's would; the
        environment names no key. Nothing is shared on disk: attachments
        go to the default folder in that instance folder, unless
        ``ATTACHMENT_STORAGE`` is "database", which every node reads.
        """
        instance = self.folder / f"instance-{name}"
        instance.mkdir(exist_ok=True)
        lines = [f"{key} = {value!r}\n" for key, value in keys.items()]
        (instance / "config.py").write_text("".join(lines))
        env = self.env(**settings)
        del env["FEEDBACK_SECRET_KEY"]
        del env["FEEDBACK_ATTACHMENT_DIR"]
        env["FEEDBACK_INSTANCE_PATH"] = str(instance)
        return env

    def flask(
        self, args: list[str], env: dict[str, str], stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run one ``flask --app app`` command to its end."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=PROJECT_ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            timeout=60,
            check=False,
        )
        return subprocess.CompletedProcess(
            done.args,
            done.returncode,
            done.stdout.decode(errors="replace"),
            done.stderr.decode(errors="replace"),
        )

    def spawn_flask(
        self, args: list[str], env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        return self.processes.spawn(
            [sys.executable, "-m", "flask", "--app", "app", *args], env
        )

    def engine(self) -> Engine:
        return create_engine(database_uri(self.url, PROJECT_ROOT))

    def rows(self, sql: str, **params: object) -> list[dict[str, object]]:
        """Read rows straight from the database, past every layer of the app."""
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return [
                    dict(row._mapping) for row in connection.execute(text(sql), params)
                ]
        finally:
            engine.dispose()

    def outbox(self) -> list[dict[str, object]]:
        return self.rows(
            "SELECT id, state, template, recipient, subject, message_id, attempts,"
            " last_error FROM outbox_messages ORDER BY id"
        )

    @contextlib.contextmanager
    def session(self) -> Iterator[scoped_session[Session]]:
        """The app's session in this process, committed at the end."""
        app = create_app(base_config(self.folder, self.url, **SETTINGS))
        with app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()
                db.engine.dispose()

    def serve(self, env: dict[str, str], workers: int = 2) -> Web:
        """Start gunicorn as deployed (deploy/gunicorn.conf.py) on a free port; not waited for."""
        port = free_port()
        env = {
            **env,
            "WEB_CONCURRENCY": str(workers),
            "FEEDBACK_BIND": f"127.0.0.1:{port}",
        }
        process = self.processes.spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py"),
                # Tests stop it at once; several run side by side.
                "--graceful-timeout",
                "3",
                "--no-control-socket",
                "app:app",
            ],
            env,
        )
        return Web(self, f"http://127.0.0.1:{port}", port, process)

    def submit(self, recipients: list[str], subject: str = "操场开放时间") -> list[int]:
        """Hand in one signed submission per address (each queues a receipt); return their ids."""
        with self.session() as session:
            receipts = [
                submissions.submit(
                    session,
                    kind=SubmissionKind.OPINION,
                    subject=subject,
                    body="希望周末开放学校操场。",
                    author=submissions.Author(name="张三", email=address),
                    channel=Channel.WEB,
                )
                for address in recipients
            ]
            return [receipt.submission.id for receipt in receipts]


@pytest.fixture(params=["postgresql", "sqlite"])
def site(request, databases, processes, tmp_path) -> Site:
    """The service on a fresh demo database, on PostgreSQL and on SQLite."""
    cluster = (
        request.getfixturevalue("cluster") if request.param == "postgresql" else None
    )
    return Site(databases.new(request.param, cluster), tmp_path, processes)


@pytest.fixture
def pg_site(databases, processes, tmp_path, cluster) -> Site:
    """The service on a fresh demo database on the faults cluster."""
    return Site(databases.new("postgresql", cluster), tmp_path, processes)


# ---- SMTP --------------------------------------------------------------------


class SmtpSink:
    """smtp_sink.py in a process of its own, on a port and log kept across restarts."""

    def __init__(self, folder: Path, options: tuple[str, ...]) -> None:
        self.port = free_port()
        self.log = folder / f"sink-{self.port}.jsonl"
        self.log.touch()
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> SmtpSink:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "smtp_sink.py"), str(self.port), str(self.log)]
            + list(self.options),
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: _listening(self.port), 15, "the SMTP sink listens")
        return self

    def kill(self) -> None:
        """Take the relay away at once, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def accepted(self) -> list[dict[str, object]]:
        """Every message the sink has accepted, in order, across its restarts."""
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line]

    def message_ids(self) -> list[str]:
        return [str(record["message_id"]) for record in self.accepted()]


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[Callable[..., SmtpSink]]:
    """Make a sink with smtp_sink.py's options (not started yet)."""
    made: list[SmtpSink] = []

    def make(*options: str) -> SmtpSink:
        sink = SmtpSink(tmp_path, options)
        made.append(sink)
        return sink

    yield make
    for sink in made:
        sink.kill()


# ---- Redis -------------------------------------------------------------------


@dataclass
class RedisServer:
    """The suite's own redis-server, which a test may shut down."""

    port: int

    def _client(self) -> redis.Redis:
        # redis-py retries a refused connection for seconds by default.
        return redis.Redis(
            port=self.port, socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )

    def running(self) -> bool:
        try:
            return bool(self._client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        subprocess.run(
            [
                tool("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
            ],
            check=True,
            capture_output=True,
        )
        wait_until(self.running, 10, "redis-server answers")

    def stop(self) -> None:
        # It closes the connection as it goes.
        with contextlib.suppress(redis.ConnectionError):
            self._client().shutdown(nosave=True)
        wait_until(lambda: not self.running(), 10, "redis-server is gone")

    def keys(self) -> list[bytes]:
        return list(self._client().keys("*"))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """The suite's Redis, started if .ci/run has not; left as it was found."""
    tool("redis-server")
    server = RedisServer(REDIS_PORT)
    found_running = server.running()
    if not found_running:
        server.start()
    yield server
    if not found_running and server.running():
        server.stop()


# ---- the web, under gunicorn -------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: Message
    text: str
    content: bytes = b""  # the body as sent (a download's bytes)


def _multipart(
    fields: dict[str, str], files: list[tuple[str, str, bytes]], boundary: str
) -> bytes:
    """Encode a form with files as a browser does (multipart/form-data)."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode()
        + b"\r\n"
        for name, value in fields.items()
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + data
        + b"\r\n"
        for name, filename, data in files
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Client:
    """A browser without JavaScript: cookies kept, redirects not followed.

    ``forwarded_for`` is the address a proxy in front would report for it
    (X-Forwarded-For), which the app trusts with ``PROXY_FIX_X_FOR`` set.
    """

    def __init__(
        self,
        base: str,
        forwarded_for: str | None = None,
        cookies: http.cookiejar.CookieJar | None = None,
    ) -> None:
        self.base = base
        self.forwarded_for = forwarded_for
        self.cookies = cookies if cookies is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect
        )

    def on(self, base: str) -> Client:
        """The same browser, its requests sent to another node (cookies shared)."""
        return Client(base, self.forwarded_for, self.cookies)

    def twin(self, base: str) -> Client:
        """Another browser holding a copy of these cookies, on ``base``."""
        copied = http.cookiejar.CookieJar()
        for cookie in self.cookies:
            copied.set_cookie(cookie)
        return Client(base, self.forwarded_for, copied)

    def request(
        self,
        path: str,
        data: dict[str, str] | None = None,
        files: list[tuple[str, str, bytes]] | None = None,
    ) -> Answer:
        """GET, or POST ``data`` (with ``files``: field, file name, bytes)."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        if files:
            boundary = secrets.token_hex(16)
            request.data = _multipart(data or {}, files, boundary)
            request.add_header(
                "Content-Type", f"multipart/form-data; boundary={boundary}"
            )
        if self.forwarded_for is not None:
            request.add_header("X-Forwarded-For", self.forwarded_for)
        try:
            response = self.opener.open(request, timeout=15)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            content = response.read()
            return Answer(
                response.status,
                response.headers,
                content.decode(errors="replace"),
                content,
            )

    def token(self, path: str) -> str:
        """Open the form at ``path`` and return its CSRF token."""
        page = self.request(path)
        assert page.status == 200, page.text[:500]
        found = re.search(
            r'<input[^>]* name="csrf_token"[^>]* value="([^"]+)"', page.text
        )
        assert found, f"no CSRF token on {path}"
        return found.group(1)


@dataclass
class Web:
    """gunicorn serving a site (Site.serve), and what it needs."""

    site: Site
    base: str
    port: int
    process: subprocess.Popen[bytes]

    def ready(self) -> bool:
        """Whether a worker answers; fails with its output if it has ended instead."""
        ended = self.process.poll() is not None
        assert not ended, self.site.processes.output(self.process)
        return _listening(self.port) and self.client().request("/healthz").status == 200

    def wait(self) -> Web:
        wait_until(self.ready, 30, f"gunicorn answers on {self.port}")
        return self

    def client(self, forwarded_for: str | None = None) -> Client:
        return Client(self.base, forwarded_for)

    def output(self) -> str:
        return self.site.processes.output(self.process)


@pytest.fixture(scope="module")
def module_site(
    tmp_path_factory: pytest.TempPathFactory, databases, cluster
) -> Iterator[Site]:
    """A fresh demo database on the faults cluster for all of a module's tests.

    What its processes started is stopped after the module's last test.
    """
    folder = tmp_path_factory.mktemp("site")
    processes = Processes(folder)
    try:
        yield Site(databases.new("postgresql", cluster), folder, processes)
    finally:
        processes.stop_all()


@pytest.fixture(scope="module")
def web(module_site: Site, redis_server: RedisServer) -> Web:
    """Two gunicorn workers on the faults cluster, rate limits counted in Redis."""
    env = module_site.env(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis_server.port}/0",
        AUTO_ROUTE=True,
    )
    return module_site.serve(env).wait()
