"""Measure the service's pages, forms and probe side by side with a bare Flask floor, under wrk.

Run: .venv/bin/python bench/http.py [--duration 8] [--connections 16] [--threads 2]
       [--scale 1000000]
Set FEEDBACK_BENCH_DATABASE_URL to measure on PostgreSQL instead of SQLite
(its tables are dropped before and after).

The service (the demo, rate limits off) and bench/floor.py (Flask +
SQLAlchemy: 18 rows through a small template, a bare insert, plain text) run
under gunicorn with deploy/gunicorn.conf.py and two sync workers; a second
service, its statistics cache off, gives that row. Each row runs wrk on the
service, then on the floor, after one short warm-up round of everything; the
table has req/s, the median and 99th percentile latency, and the service's
share of the floor's rate. POST rows send a new form each time
(bench/form_post.lua): /submit and /track with one session and its CSRF
token. Then the proportional (PSS) and resident (RSS) memory of each worker,
and of a ``flask outbox work`` process.

``--scale N`` then adds N submissions (bench/stats.py's rows), restarts the
services, so that no cache holds a figure of before, and runs tracking, the
lead's queue and the statistics again: their latency at N over at the demo's
size.

wrk is Debian's package; this script installs nothing.
"""

from __future__ import annotations

import argparse  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path
from urllib.parse import urlencode  # noqa: E402

# This file shares its name with the standard library's ``http``: the path
# is put right before anything else is imported (bench_paths).
import bench_paths  # noqa: E402
from flask import Flask  # noqa: E402
from http_load import CHEAP_ARGON2  # noqa: E402
from http_load import Client  # noqa: E402
from http_load import free_port  # noqa: E402
from http_load import kib  # noqa: E402
from http_load import LEAD  # noqa: E402
from http_load import PROBLEM_LINK  # noqa: E402
from http_load import Shared  # noqa: E402
from http_load import start_gunicorn  # noqa: E402
from http_load import stop  # noqa: E402
from http_load import Watcher  # noqa: E402
from outbox import Sink  # noqa: E402
from outbox import start_sink  # noqa: E402
from outbox import worker as outbox_worker  # noqa: E402
from scratch import discard_database  # noqa: E402
from scratch import insert_rows  # noqa: E402
from scratch import scratch_app  # noqa: E402
from stats import rows as submission_rows  # noqa: E402

from bench.floor import create_floor  # noqa: E402
from bench.floor import db as floor_db  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.models import Submission  # noqa: E402

WRK_SCRIPT = bench_paths.BENCH / "form_post.lua"
NOT_FOUND = "没有找到"  # the tracking page's answer to a wrong code


@dataclass(frozen=True)
class Figures:
    """What one wrk run measured."""

    rate: float  # requests a second
    p50: float  # ms
    p99: float  # ms
    failed: int = 0  # answers not 2xx or 3xx, and socket errors


@dataclass(frozen=True)
class Target:
    """Something wrk can drive: a GET, or a form POSTed anew each time."""

    port: int
    path: str
    body: str = ""  # a form to POST, {n} replaced by a new number each time
    cookie: str = ""


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)


def parse_wrk(output: str) -> Figures:
    """Read wrk's --latency report."""
    latency = {
        share: float(n) * UNITS[unit] for share, n, unit in LATENCY.findall(output)
    }
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if rate is None or set(latency) != {"50", "99"}:
        sys.exit(f"could not read wrk's report:\n{output}")
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Figures(
        float(rate.group(1)),
        latency["50"],
        latency["99"],
        (int(failed.group(1)) if failed else 0)
        + (sum(int(n) for n in errors.groups()) if errors else 0),
    )


def ratio(part: float, whole: float) -> str:
    return f"{part / whole:.2f}" if whole else "-"


def figures_cells(figures: Figures | None) -> list[str]:
    if figures is None:
        return ["-", "-", "-"]
    failed = f" ({figures.failed} failed)" if figures.failed else ""
    return [f"{figures.rate:,.0f}{failed}", f"{figures.p50:.1f}", f"{figures.p99:.1f}"]


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def side_by_side(rows: list[tuple[str, Figures, str, Figures | None]]) -> str:
    """The table of (path, the service's figures, the floor's endpoint, its figures)."""
    header = ["path", "service req/s", "p50 ms", "p99 ms"]
    header += ["floor", "floor req/s", "p50 ms", "p99 ms", "ratio"]
    return markdown(
        header,
        [
            [label, *figures_cells(ours), floor, *figures_cells(theirs)]
            + [ratio(ours.rate, theirs.rate) if theirs else "-"]
            for label, ours, floor, theirs in rows
        ],
    )


def at_scale(rows: list[tuple[str, Figures, Figures]], size: int) -> str:
    """The table of (path, figures at the demo's size, figures at ``size``)."""
    big = f"{size:,}"
    header = ["path", "p50 ms (demo)", f"p50 ms ({big})", "p50 ratio"]
    header += ["p99 ms (demo)", f"p99 ms ({big})", "p99 ratio"]
    return markdown(
        header,
        [
            [label, f"{small.p50:.1f}", f"{large.p50:.1f}", ratio(large.p50, small.p50)]
            + [f"{small.p99:.1f}", f"{large.p99:.1f}", ratio(large.p99, small.p99)]
            for label, small, large in rows
        ],
    )


def memory(pid: int) -> str:
    pss = kib(pid, "smaps_rollup", "Pss:") / 1024
    rss = kib(pid, "smaps_rollup", "Rss:") / 1024
    return f"PSS {pss:.0f} MiB, RSS {rss:.0f} MiB"


class Bench:
    """wrk with the options given, run against one target at a time."""

    def __init__(self, wrk: str, args: argparse.Namespace) -> None:
        self.wrk = wrk
        self.args = args

    def run(self, target: Target, seconds: float | None = None) -> Figures:
        command = [
            self.wrk,
            f"-t{self.args.threads}",
            f"-c{self.args.connections}",
            f"-d{seconds or self.args.duration:g}s",
            "--timeout",
            "60s",
            "--latency",
        ]
        if target.body:
            # A new prefix a run: a form key is never sent twice.
            body = target.body.replace("{n}", secrets.token_hex(4) + "-{n}")
            command += ["-s", str(WRK_SCRIPT)]
        elif target.cookie:
            command += ["-H", f"Cookie: {target.cookie}"]
        command.append(f"http://127.0.0.1:{target.port}{target.path}")
        if target.body:
            command += ["--", target.path, target.cookie, body]
        done = subprocess.run(  # noqa: S603 - our own command
            command, capture_output=True, text=True, check=True
        )
        return parse_wrk(done.stdout)


def cookie_of(client: Client) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def form_body(fields: dict[str, str]) -> str:
    """Urlencode ``fields``, keeping each {n} for the Lua script to fill."""
    return urlencode(fields).replace("%7Bn%7D", "{n}")


def submit_target(port: int) -> Target:
    """A new anonymous opinion each time, in one session (a new key and text)."""
    client = Client(port, Shared(measure_from=0.0), seed=1)
    token, page = client.form("GET /submit", "/submit")
    body = form_body(
        {
            "csrf_token": token,
            "idempotency_key": "bench-{n}",
            "kind": "opinion",
            "subject": "关于整改进展的意见 {n}",
            "body": "希望公开整改进展，并说明下一步的安排。{n}",
            "identity": "anonymous",
        }
    )
    return Target(port, "/submit", body, cookie_of(client))


def track_target(port: int) -> Target:
    """The tracking form with the access code of a submission made for it."""
    client = Client(port, Shared(measure_from=0.0), seed=2)
    shared = client.shared
    while not shared.codes:  # one submission in five carries a 1 MB file: any will do
        client.submit()
    token, _page = client.form("GET /track", "/track")
    body = urlencode({"csrf_token": token, "code": shared.codes[0]})
    status, page = client.send("POST /track", "POST", "/track", body.encode())
    if status != 200 or NOT_FOUND in page:
        sys.exit(f"POST /track with a fresh code answered {status}")
    # {n} only makes the Lua script's body its own; the form ignores it.
    return Target(port, "/track", body + "&n={n}", cookie_of(client))


def lead_cookie(port: int) -> str:
    """Sign the demo lead in; return the session's cookie."""
    client = Client(port, Shared(measure_from=0.0), seed=3)
    token, _page = client.form("GET /auth/login", "/auth/login")
    body = urlencode(
        {"csrf_token": token, "email": LEAD.email, "password": LEAD.password}
    )
    client.send("POST /auth/login", "POST", "/auth/login", body.encode())
    status, _page = client.send("GET /staff/", "GET", "/staff/")
    if status != 200:
        sys.exit(f"the lead could not sign in: /staff/ answered {status}")
    return cookie_of(client)


def a_problem(port: int) -> str:
    client = Client(port, Shared(measure_from=0.0), seed=4)
    _status, page = client.send("GET /", "GET", "/")
    found = PROBLEM_LINK.search(page)
    if found is None:
        sys.exit("the board links no problem")
    return f"/problems/{found.group(1)}"


def workers_of(server: subprocess.Popen[bytes]) -> list[int]:
    return sorted(Watcher(server.pid, "").workers())


class Services:
    """The service as shipped and with its statistics cache off, on one database."""

    def __init__(self, app: Flask, mail_port: int, folder: Path) -> None:
        self.app = app
        self.mail_port = mail_port
        self.folder = folder
        self.port = free_port()
        self.uncached_port = free_port()
        self.servers: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        self.servers = [
            start_gunicorn(
                self.app, 2, self.port, self.mail_port, self.folder / "service"
            ),
            start_gunicorn(
                self.app,
                2,
                self.uncached_port,
                self.mail_port,
                self.folder / "uncached",
                settings={"FEEDBACK_STATISTICS_CACHE_SECONDS": "0"},
            ),
        ]

    def stop(self) -> None:
        for server in self.servers:
            stop(server)
        self.servers = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8, help="seconds a row")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--scale", type=int, help="then add this many submissions and measure again"
    )
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is missing: install Debian's package (apt-get install wrk)")
    bench = Bench(wrk, args)

    folder = Path(tempfile.mkdtemp(prefix="feedback-bench-wrk-"))
    database_url = os.environ.get("FEEDBACK_BENCH_DATABASE_URL", "")
    url = database_url or f"sqlite:///{folder / 'bench.sqlite'}"
    app = scratch_app(url, **CHEAP_ARGON2)
    # The floor's tables, made once here rather than by two workers at once.
    floor_url = database_url or f"sqlite:///{folder / 'floor.sqlite'}"
    floor_app = create_floor(floor_url)
    sink = Sink()
    controller = start_sink(sink)
    services = Services(app, controller.port, folder)
    floor = mailer = None
    try:
        services.start()
        floor_port = free_port()
        floor = start_gunicorn(
            app,
            2,
            floor_port,
            controller.port,
            folder / "floor",
            target=("bench.floor:create_floor()",),
            probe="/plain",
            settings={"FLOOR_DATABASE_URL": floor_url},
        )
        os.environ["FEEDBACK_LOG_STREAM"] = "stdout"  # which the worker drops
        mailer = outbox_worker(app, controller.port, 60)
        port = services.port
        page = Target(floor_port, "/")
        insert = Target(floor_port, "/insert", "body={n}")
        plain = Target(floor_port, "/plain")
        track = track_target(port)
        statistics = Target(port, "/statistics")
        uncached = Target(services.uncached_port, "/statistics")
        plan = [
            ("`/`", Target(port, "/"), "page", page),
            ("a problem's page", Target(port, a_problem(port)), "page", page),
            ("`/replies`", Target(port, "/replies"), "page", page),
            ("`/statistics`", statistics, "page", page),
            ("`/statistics`, cache off", uncached, "page", page),
            ("`POST /submit`", submit_target(port), "insert", insert),
            ("`POST /track`", track, "insert", insert),
            ("`/healthz`", Target(port, "/healthz"), "plain text", plain),
        ]
        for _label, ours, _floor, theirs in plan:
            bench.run(ours, 1)
            bench.run(theirs, 1)
        measured = [
            (label, bench.run(ours), floor_label, bench.run(theirs))
            for label, ours, floor_label, theirs in plan
        ]
        print(
            f"database: {url.split(':')[0]}; wrk -t{args.threads} -c{args.connections} "
            f"-d{args.duration:g}s; gunicorn -w 2 sync; CPUs: {os.cpu_count()}; "
            "load average: " + " ".join(f"{x:.1f}" for x in os.getloadavg())
        )
        print(side_by_side(measured))
        print()
        for name, server in (("service", services.servers[0]), ("floor", floor)):
            for pid in workers_of(server):
                print(f"{name} worker {pid}: {memory(pid)}")
        print(f"outbox worker {mailer.pid}: {memory(mailer.pid)}")

        if args.scale:
            queue = Target(port, "/staff/", cookie=lead_cookie(port))
            small = {"`POST /track`": measured[6][1], "`/statistics`": measured[3][1]}
            small["`/statistics`, cache off"] = measured[4][1]
            small["the lead's queue `/staff/`"] = bench.run(queue)
            with app.app_context():
                started = time.perf_counter()
                insert_rows(Submission, submission_rows(args.scale))
                print(
                    f"\n{args.scale:,} submissions added in "
                    f"{time.perf_counter() - started:.0f} s"
                )
                db.session.remove()
            services.stop()
            services.start()
            large = {
                "`POST /track`": track,
                "`/statistics`": statistics,
                "`/statistics`, cache off": uncached,
                "the lead's queue `/staff/`": queue,
            }
            for target in large.values():
                bench.run(target, 1)
            print(
                at_scale(
                    [(label, small[label], bench.run(t)) for label, t in large.items()],
                    args.scale,
                )
            )
    finally:
        for process in (mailer, floor):
            if process is not None:
                stop(process)
        services.stop()
        controller.stop()
        discard_database(app, db, drop=bool(database_url))
        discard_database(floor_app, floor_db, drop=bool(database_url))
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
