"""The memory of one web worker and of one outbox worker, as resident (RSS) and proportional (PSS) sizes.

Run: .venv/bin/python bench/memory.py [--database-url URL]

A scratch SQLite database gets the demo (or the database given is emptied
and gets it). A fresh process then does what a gunicorn worker does: it
creates the app from the environment, as ``app.py`` does, and serves the
public pages once in each script and reading mode, through the test client;
its RSS and PSS (``/proc/self/smaps_rollup``) are printed after each step.
Last, the pinyin pages, which load pypinyin's dictionaries on first use. A
``flask outbox work`` process is then started on the same database and
measured once it has polled a few times.

PSS shares each shared page among the processes that map it, so it is the
figure to add up over workers; a lone process's PSS is its RSS less its
share of the libraries that other processes also map.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
import argparse  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import bench_paths  # noqa: E402, F401 - before anything imports http

FLASK = Path(sys.executable).with_name("flask")
# The pages a citizen reads, each in the reading modes a worker serves.
PAGES = ("/", "/rounds", "/replies", "/statistics", "/submit", "/track")
MODES = {
    "simplified": {},
    "traditional": {"lang": "zh-Hant"},
    "english": {"lang": "en"},
    "care": {"care": "1"},
}
PINYIN = {"care": "1", "pinyin": "1"}


def sizes(pid: int | str = "self") -> tuple[int, int]:
    """Return a process's (RSS, PSS) in MB."""
    fields: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss"):
                fields[name] = int(rest.split()[0]) // 1024
    return fields["Rss"], fields["Pss"]


def report(label: str, pid: int | str = "self") -> None:
    rss, pss = sizes(pid)
    print(f"{label:<44} RSS {rss:>4} MB   PSS {pss:>4} MB", flush=True)


def web_worker() -> None:
    """Measure this process as a web worker: create the app, serve the pages."""
    report("web: interpreter")
    from feedback import create_app  # noqa: PLC0415 - measured after start-up

    app = create_app()
    report("web: after create_app")
    client = app.test_client()
    board = client.get("/").get_data(as_text=True)
    problem = re.search(r'href="(/problems/\d+)"', board)
    pages = PAGES + ((problem.group(1),) if problem else ())
    for cookies in MODES.values():
        for name, value in cookies.items():
            client.set_cookie(name, value)
        for page in pages:
            status = client.get(page).status_code
            if status != 200:
                raise SystemExit(f"{page} answered {status}")
        for name in cookies:
            client.delete_cookie(name)
    report("web: after the public pages in every mode")
    for name, value in PINYIN.items():
        client.set_cookie(name, value)
    for page in pages:
        client.get(page)
    report("web: after the pinyin pages (pypinyin loaded)")


def outbox_worker(env: dict[str, str]) -> None:
    """Start ``flask outbox work`` and measure it once it has polled a while."""
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [str(FLASK), "--app", "app", "outbox", "work", "--poll", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(6)
        if process.poll() is not None:
            raise SystemExit("flask outbox work stopped")
        report("outbox worker: after a few polls", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--web", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.web:
        web_worker()
        return

    from scratch import scratch_app  # noqa: PLC0415 - the child must not load it

    app = scratch_app(options.database_url)
    env = {
        **os.environ,
        "FEEDBACK_SECRET_KEY": "bench-memory",
        "FEEDBACK_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FEEDBACK_RATELIMIT_ENABLED": "false",
    }
    subprocess.run(  # noqa: S603 - this script, fixed arguments
        [sys.executable, __file__, "--web"], cwd=ROOT, env=env, check=True
    )
    outbox_worker(env)


if __name__ == "__main__":
    main()
