"""Put the project on the path, and this folder last: bench/http.py must not hide Python's http.

Each script here imports this module first. Python puts a script's own folder
first on the path, where ``http.py`` would stand in for the standard library's
``http`` package that Flask and Werkzeug import.
"""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path += [str(BENCH.parent), str(BENCH)]
