"""Load the service as it runs for real (gunicorn, deploy/gunicorn.conf.py) and print the figures for sizing.

Run: .venv/bin/python bench/http_load.py [--workers N] [--seconds S | --requests N] [--concurrency C]
Set FEEDBACK_BENCH_DATABASE_URL to measure on PostgreSQL instead of SQLite.

A scratch database gets the demo; gunicorn is started from the checkout with
``deploy/gunicorn.conf.py`` (``--workers`` sets WEB_CONCURRENCY, FEEDBACK_BIND a
free port), rate limits off, the mail going to a local aiosmtpd sink through a
real ``flask outbox work`` process, as in production. The demo logins are
hashed at a cheap argon2 cost (ARGON2_* set low, as the tests do), so that
the lead signing in measures the desk, not the password hash
(``bench/journey.py`` times the production cost).

``--concurrency`` threads, each a citizen or the lead with its own cookies,
then run a mix for ``--seconds`` (or until ``--requests``), after a warm-up
that is not counted: reading (the board, a problem page, the statistics, the
published replies), submitting (GET /submit for the form's token, then
POST /submit; one in five with a 1 MB PNG, one in five signed with an e-mail
address, which queues a receipt mail), tracking (GET /track, then POST /track
with the access code of a receipt) and the lead's desk (/staff/ and one
submission, signed in). Printed: per kind of request its count, rate, median
and 95th percentile, and errors by status (anything but 2xx and 3xx); the
total rate, the submissions stored a second, the CPU time the workers spent
per request, and the workers' peak resident memory (VmHWM, sampled from
/proc, since a worker is replaced after about 1,000 requests).

The clients run on the same machine and take their share of its cores:
the figures are a floor for a machine that serves only the service.
"""

from __future__ import annotations

import bench_paths  # noqa: F401 - first: before anything imports http

# isort: split
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
import argparse  # noqa: E402
import http.client  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402
from collections import Counter  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from dataclasses import field  # noqa: E402
from http.cookies import SimpleCookie  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from flask import Flask  # noqa: E402
from outbox import Sink  # noqa: E402
from outbox import start_sink  # noqa: E402
from outbox import worker as outbox_worker  # noqa: E402
from scratch import discard_database  # noqa: E402
from scratch import scratch_app  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy import select  # noqa: E402

from feedback import demo  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.models import Role  # noqa: E402
from feedback.models import Submission  # noqa: E402

GUNICORN = Path(sys.executable).with_name("gunicorn")
CHEAP_ARGON2 = {
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 1024,
    "ARGON2_PARALLELISM": 1,
}
LEAD = next(login for login in demo.LOGINS if login.role is Role.LEAD)
TICK = os.sysconf("SC_CLK_TCK")

# How often a visit is of each kind: mostly reading, as on a public site.
VISITS = {
    "board": 25,
    "problem": 20,
    "statistics": 10,
    "replies": 15,
    "submit": 12,
    "track": 10,
    "desk": 8,
}
ATTACHED = 0.2  # of submissions, with a 1 MB file
SIGNED = 0.2  # of submissions, signed with an e-mail address (a receipt mail)

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FORM_KEY = re.compile(r'name="idempotency_key"[^>]*value="([^"]*)"')
ACCESS_CODE = re.compile(r'id="access-code">(.*?)</dd>', re.S)
PROBLEM_LINK = re.compile(r'href="/problems/(\d+)"')
DESK_LINK = re.compile(r'href="/staff/submissions/(\d+)')


def png(megabytes: float = 1.0) -> bytes:
    """Return a valid PNG of noise, about ``megabytes`` in size (noise does not compress)."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    noise = random.Random(15).randbytes(side * side * 3)  # noqa: S311 - noise, not a secret
    rows = b"".join(
        b"\x00" + noise[row * side * 3 : (row + 1) * side * 3] for row in range(side)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )


def multipart(
    fields: dict[str, str], files: list[tuple[str, str, str, bytes]]
) -> tuple[bytes, str]:
    """Encode a form with files (name, filename, type, data); return the body and its type."""
    boundary = "bench-http-boundary-7d1e"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        f"{value}\r\n".encode()
        for name, value in fields.items()
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
        + data
        + b"\r\n"
        for name, filename, kind, data in files
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


@dataclass
class Shared:
    """What the clients share: the clock, the stop signal, what they learnt."""

    measure_from: float
    stop: threading.Event = field(default_factory=threading.Event)
    tickets: itertools.count[int] = field(default_factory=itertools.count)
    limit: int | None = None
    problems: list[int] = field(default_factory=list)
    codes: list[str] = field(
        default_factory=list
    )  # appended by one thread at a time under the GIL


class Client:
    """One visitor: a keep-alive connection (reopened when the server closes it) and cookies."""

    def __init__(self, port: int, shared: Shared, seed: int) -> None:
        self.port = port
        self.shared = shared
        self.random = random.Random(seed)  # noqa: S311 - a load mix, not a secret
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}
        self.signed_in = False
        self.taken: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, Counter[str]] = defaultdict(Counter)

    def send(
        self,
        kind: str,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> tuple[int, str]:
        """Make one request, time it and count its outcome; return the status and text."""
        headers = {"Accept-Language": "zh-CN"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            status, text = 0, type(exc).__name__
        else:
            status = response.status
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
        if started >= self.shared.measure_from:
            self.taken[kind].append((time.perf_counter() - started) * 1000)
            if not 200 <= status < 400:
                self.errors[kind][str(status or text)] += 1
        return status, text

    def form(self, kind: str, path: str) -> tuple[str, str]:
        """GET a form; return its CSRF token and the page."""
        _status, page = self.send(kind, "GET", path)
        token = CSRF.search(page)
        return (token.group(1) if token else ""), page

    def database_seconds(self, since: dict[int, int]) -> float:
        """The CPU time the database's backends used after ``since`` (a copy of ``backends``)."""
        self.sample()
        used = sum(ticks - since.get(pid, 0) for pid, ticks in self.backends.items())
        return used / TICK

    def run(self) -> None:
        visits = list(VISITS)
        weights = list(VISITS.values())
        while not self.shared.stop.is_set():
            if self.shared.limit is not None and (
                next(self.shared.tickets) >= self.shared.limit
            ):
                return
            visit = self.random.choices(visits, weights)[0]
            if visit in ("track", "desk") and not self.shared.codes:
                visit = "submit"  # nothing to track nor triage yet
            getattr(self, visit)()

    def board(self) -> None:
        _status, page = self.send("GET /", "GET", "/")
        if not self.shared.problems:
            self.shared.problems.extend(int(x) for x in set(PROBLEM_LINK.findall(page)))

    def problem(self) -> None:
        if not self.shared.problems:
            self.board()
            return
        number = self.random.choice(self.shared.problems)
        self.send("GET /problems/<id>", "GET", f"/problems/{number}")

    def statistics(self) -> None:
        self.send("GET /statistics", "GET", "/statistics")

    def replies(self) -> None:
        self.send("GET /replies", "GET", "/replies")

    def submit(self) -> None:
        token, page = self.form("GET /submit", "/submit")
        key = FORM_KEY.search(page)
        n = self.random.randrange(10**9)
        fields = {
            "csrf_token": token,
            "idempotency_key": key.group(1) if key else "",
            "kind": self.random.choice(("opinion", "suggestion", "complaint")),
            "subject": f"关于整改进展的意见 {n}",
            "body": "希望公开整改进展，并说明下一步的安排。"
            * self.random.randint(2, 30),
            "identity": "anonymous",
        }
        if self.random.random() < SIGNED:
            fields |= {
                "identity": "real_name",
                "name": "王老师",
                "email": f"citizen{n}@example.org",
            }
        if self.random.random() < ATTACHED:
            body, content_type = multipart(
                fields, [("attachments", "photo.png", "image/png", ATTACHMENT)]
            )
            kind = "POST /submit, 1 MB PNG"
        else:
            body, content_type = multipart(fields, [])
            kind = "POST /submit"
        status, receipt = self.send(kind, "POST", "/submit", body, content_type)
        code = ACCESS_CODE.search(receipt)
        if status == 200 and code:
            self.shared.codes.append(re.sub(r"<[^>]+>", "", code.group(1)))

    def track(self) -> None:
        token, _page = self.form("GET /track", "/track")
        code = self.random.choice(self.shared.codes)
        body = urlencode({"csrf_token": token, "code": code}).encode()
        status, page = self.send("POST /track", "POST", "/track", body)
        if status == 200 and "没有找到" in page:
            self.errors["POST /track"]["code not found"] += 1

    def desk(self) -> None:
        if not self.signed_in:
            token, _page = self.form("GET /auth/login", "/auth/login")
            body = urlencode(
                {"csrf_token": token, "email": LEAD.email, "password": LEAD.password}
            ).encode()
            status, _page = self.send("POST /auth/login", "POST", "/auth/login", body)
            self.signed_in = status == 302
        status, page = self.send("GET /staff/", "GET", "/staff/")
        if status == 302:  # sent to the sign-in page: the desk was not measured
            self.errors["GET /staff/"]["302 to sign in"] += 1
        linked = DESK_LINK.findall(page)
        if linked:
            number = self.random.choice(linked)
            self.send(
                "GET /staff/submissions/<id>", "GET", f"/staff/submissions/{number}"
            )


ATTACHMENT = png()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(
    app: Flask,
    workers: int | None,
    port: int,
    mail_port: int,
    folder: Path,
    *,
    target: tuple[str, ...] = ("app:app",),
    probe: str = "/healthz",
    settings: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start gunicorn from the checkout with the deploy settings; return once ``probe`` answers.

    ``target`` is the app gunicorn serves (with any options it needs),
    ``settings`` more environment for it, ``folder`` its own scratch space.
    """
    env = {
        **os.environ,
        "FEEDBACK_BIND": f"127.0.0.1:{port}",
        "FEEDBACK_SECRET_KEY": "bench-" + "k" * 40,
        "FEEDBACK_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FEEDBACK_RATELIMIT_ENABLED": "false",
        "FEEDBACK_MAIL_SERVER": "127.0.0.1",
        "FEEDBACK_MAIL_PORT": str(mail_port),
        "FEEDBACK_ATTACHMENT_DIR": str(folder / "attachments"),
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
        **{f"FEEDBACK_{name}": str(value) for name, value in CHEAP_ARGON2.items()},
        **(settings or {}),
    }
    if workers is not None:
        env["WEB_CONCURRENCY"] = str(workers)
    (folder / "metrics").mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", *target],
        cwd=ROOT,
        env=env,
        stdout=(folder / "gunicorn.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit((folder / "gunicorn.log").read_text()[-3000:])
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", probe)
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit(f"gunicorn did not answer {probe} within 60 s")


def proc_stat(pid: int) -> tuple[int, list[int]]:
    """Return a process's parent and its CPU ticks (utime, stime, cutime, cstime)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return int(fields[1]), [int(x) for x in fields[11:15]]


def kib(pid: int, name: str, key: str) -> int:
    """Return the figure of ``key`` in /proc/<pid>/<name>, in KiB (0 if it is not there)."""
    with open(f"/proc/{pid}/{name}") as lines:
        for line in lines:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def backend_ticks(database: str) -> dict[int, int]:
    """Return the CPU ticks of each PostgreSQL server process now serving ``database``."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    title = cmdline.read().decode(errors="replace")
                if title.startswith("postgres:") and f" {database} " in title:
                    found[int(entry)] = sum(proc_stat(int(entry))[1][:2])
            except OSError:
                continue
    return found


class Watcher(threading.Thread):
    """Samples gunicorn's workers from /proc: each one's peak memory, and the CPU they used.

    Peak RSS (VmHWM) counts the pages a worker shares with the others, as the
    kernel reports it; the largest proportional share (PSS) seen counts each
    shared page once, divided among its sharers, which is what adds up.
    """

    def __init__(self, master: int, database: str) -> None:
        super().__init__(daemon=True)
        self.master = master
        self.database = database
        # The last CPU ticks seen of each PostgreSQL backend: one closed with
        # its worker (replaced after max_requests) keeps what it had used.
        self.backends: dict[int, int] = {}
        self.peaks: dict[int, int] = {}
        self.shares: dict[int, int] = {}
        self.done = threading.Event()

    def workers(self) -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if proc_stat(int(entry))[0] == self.master:
                        found.append(int(entry))
                except OSError:
                    continue  # gone while listed
        return found

    def sample(self) -> None:
        if self.database:
            for pid, ticks in backend_ticks(self.database).items():
                self.backends[pid] = max(self.backends.get(pid, 0), ticks)
        for pid in self.workers():
            try:
                self.peaks[pid] = max(
                    self.peaks.get(pid, 0), kib(pid, "status", "VmHWM:")
                )
                self.shares[pid] = max(
                    self.shares.get(pid, 0), kib(pid, "smaps_rollup", "Pss:")
                )
            except OSError:
                continue

    def cpu_seconds(self) -> float:
        """The CPU time of the master, the live workers and the ones it has reaped."""
        _parent, ticks = proc_stat(self.master)
        total = sum(ticks)
        for pid in self.workers():
            try:
                total += sum(proc_stat(pid)[1][:2])
            except OSError:
                continue
        return total / TICK

    def database_seconds(self, since: dict[int, int]) -> float:
        """The CPU time the database's backends used after ``since`` (a copy of ``backends``)."""
        self.sample()
        used = sum(ticks - since.get(pid, 0) for pid, ticks in self.backends.items())
        return used / TICK

    def run(self) -> None:
        while not self.done.wait(0.25):
            self.sample()


def submissions_stored(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Submission))
        db.session.rollback()
        return count or 0


def percentile(ordered: list[float], share: float) -> float:
    return ordered[max(int(len(ordered) * share + 0.5) - 1, 0)]


def report(clients: list[Client], seconds: float) -> int:
    """Print the table by kind of request; return the number of requests."""
    taken: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, Counter[str]] = defaultdict(Counter)
    for client in clients:
        for kind, values in client.taken.items():
            taken[kind] += values
        for kind, counts in client.errors.items():
            errors[kind] += counts
    print(
        f"{'request':28} {'count':>6} {'req/s':>7} {'median ms':>10} {'p95 ms':>8}  errors"
    )
    for kind in sorted(taken, key=lambda k: -len(taken[k])):
        ordered = sorted(taken[kind])
        failed = ", ".join(f"{why} ×{n}" for why, n in errors[kind].most_common())
        print(
            f"{kind:28} {len(ordered):6} {len(ordered) / seconds:7.1f} "
            f"{statistics.median(ordered):10.1f} {percentile(ordered, 0.95):8.1f}  "
            f"{failed or '-'}"
        )
    total = sum(len(values) for values in taken.values())
    print(f"{'all':28} {total:6} {total / seconds:7.1f}")
    return total


def run_load(
    port: int,
    concurrency: int,
    seconds: float,
    limit: int | None,
    warmup: float,
    measuring: Callable[[], None],
) -> tuple[list[Client], Shared]:
    """Run the clients; call ``measuring`` once the warm-up is over."""
    shared = Shared(measure_from=time.perf_counter() + warmup, limit=limit)
    clients = [Client(port, shared, seed) for seed in range(concurrency)]
    threads = [threading.Thread(target=c.run, daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    measuring()
    if limit is None:
        time.sleep(seconds)
        shared.stop.set()
    for thread in threads:
        thread.join()
    return clients, shared


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workers",
        type=int,
        help="WEB_CONCURRENCY for gunicorn (default: as set, else the config's)",
    )
    parser.add_argument("--seconds", type=float, default=40, help="measured time")
    parser.add_argument(
        "--requests", type=int, help="stop after about this many requests instead"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--warmup", type=float, default=3, help="seconds not counted")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="feedback-bench-http-"))
    database_url = os.environ.get("FEEDBACK_BENCH_DATABASE_URL", "")
    database = database_url.rpartition("/")[2].partition("?")[0]
    app = scratch_app(
        database_url or f"sqlite:///{folder / 'bench.sqlite'}", **CHEAP_ARGON2
    )
    sink = Sink()
    controller = start_sink(sink)
    port = free_port()
    server = mailer = None
    try:
        server = start_gunicorn(app, args.workers, port, controller.port, folder)
        # The worker logs each message sent on its stream: stdout, which it drops.
        os.environ["FEEDBACK_LOG_STREAM"] = "stdout"
        mailer = outbox_worker(app, controller.port, 60)
        watcher = Watcher(server.pid, database)
        watcher.start()
        at_start: dict[str, float] = {}
        backends: dict[int, int] = {}

        def measuring() -> None:
            at_start["stored"] = submissions_stored(app)
            at_start["cpu"] = watcher.cpu_seconds()
            at_start["own"] = time.process_time()
            watcher.sample()
            backends.update(watcher.backends)

        clients, shared = run_load(
            port, args.concurrency, args.seconds, args.requests, args.warmup, measuring
        )
        seconds = time.perf_counter() - shared.measure_from
        cpu = watcher.cpu_seconds() - at_start["cpu"]
        own = time.process_time() - at_start["own"]
        database_cpu = watcher.database_seconds(backends)
        watcher.sample()
        watcher.done.set()
        stored = submissions_stored(app) - at_start["stored"]
        workers = len(watcher.workers())

        print(
            f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}; "
            f"gunicorn workers: {workers}; client threads: {args.concurrency}; "
            f"CPUs: {os.cpu_count()}; load average at the end: "
            + " ".join(f"{x:.1f}" for x in os.getloadavg())
        )
        print(f"measured {seconds:.1f} s after a {args.warmup:g} s warm-up")
        total = report(clients, seconds)
        print(
            f"submissions stored: {stored}, {stored / seconds:.1f} /s; "
            f"mails at the sink (whole run): {sum(sink.ids.values())}"
        )
        print(
            f"gunicorn CPU: {cpu:.1f} s, {cpu * 1000 / max(total, 1):.1f} ms a request, "
            f"{cpu / seconds:.2f} cores busy; this script's clients and sink: "
            f"{own / seconds:.2f} cores"
        )
        if database_url:
            print(
                f"PostgreSQL backends' CPU: {database_cpu:.1f} s, "
                f"{database_cpu * 1000 / max(total, 1):.1f} ms a request, "
                f"{database_cpu / seconds:.2f} cores busy"
            )
        peaks = sorted(watcher.peaks.values())
        shares = sorted(watcher.shares.values())
        if peaks:
            print(
                f"worker peak RSS (VmHWM): max {peaks[-1] / 1024:.0f} MiB, median "
                f"{statistics.median(peaks) / 1024:.0f} MiB over {len(peaks)} worker "
                f"processes (peak PSS max {shares[-1] / 1024:.0f} MiB); master "
                f"{kib(server.pid, 'status', 'VmHWM:') / 1024:.0f} MiB RSS, "
                f"{kib(server.pid, 'smaps_rollup', 'Pss:') / 1024:.0f} MiB PSS"
            )
    finally:
        for process in (mailer, server):
            if process is not None:
                stop(process)
        controller.stop()
        discard_database(app, db, drop=bool(database_url))
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
