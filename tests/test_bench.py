"""The benchmark side by side with a bare floor: the floor app answers, the tables add up."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from bench.floor import create_floor
from bench.floor import db as floor_db
from bench.floor import FloorInsert

BENCH = Path(__file__).resolve().parent.parent / "bench"

WRK_REPORT = """Running 8s test @ http://127.0.0.1:8000/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.20ms    1.10ms  30.00ms   90.00%
  Latency Distribution
     50%  850.00us
     75%    7.00ms
     90%    9.00ms
     99%    1.50s
  20000 requests in 8.00s, 10.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   2500.00
Transfer/sec:      1.25MB
"""


def bench_http() -> ModuleType:
    """Load bench/http.py under another name: as ``http`` it would hide Python's own."""
    spec = importlib.util.spec_from_file_location("bench_http", BENCH / "http.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_http"] = module  # where its dataclasses look themselves up
    saved = list(sys.path)
    sys.path.append(str(BENCH))  # its sibling modules, as when run as a script
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


def test_the_floor_answers_its_three_endpoints(tmp_path: Path) -> None:
    app = create_floor(f"sqlite:///{tmp_path / 'floor.sqlite'}")
    client = app.test_client()

    page = client.get("/").get_data(as_text=True)
    assert page.count("<tr><td>") == 18
    assert client.post("/insert", data={"body": "x-1"}).status_code == 201
    assert client.get("/plain").get_data(as_text=True) == "ok\n"
    with app.app_context():
        assert floor_db.session.scalars(floor_db.select(FloorInsert.body)).all() == [
            "x-1"
        ]
        floor_db.engine.dispose()


def test_wrk_report_is_read_in_ms() -> None:
    figures = bench_http().parse_wrk(WRK_REPORT)
    assert (figures.rate, figures.p50, figures.p99, figures.failed) == (
        2500.0,
        0.85,
        1500.0,
        7,
    )


def test_tables_give_the_services_share_and_the_growth() -> None:
    module = bench_http()
    ours = module.Figures(500.0, 20.0, 80.0)
    theirs = module.Figures(2000.0, 5.0, 40.0, failed=3)
    side = module.side_by_side([("`/`", ours, "page", theirs)]).splitlines()
    assert side[2] == (
        "| `/` | 500 | 20.0 | 80.0 | page | 2,000 (3 failed) | 5.0 | 40.0 | 0.25 |"
    )
    grown = module.at_scale([("`/statistics`", ours, theirs)], 1_000_000)
    assert grown.splitlines()[0].count("1,000,000") == 2
    assert grown.splitlines()[2] == (
        "| `/statistics` | 20.0 | 5.0 | 0.25 | 80.0 | 40.0 | 0.50 |"
    )
