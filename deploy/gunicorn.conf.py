"""Gunicorn's settings for the service: workers, timeouts for large uploads, restarts, logs.

Run from the checkout: ``.venv/bin/gunicorn -c deploy/gunicorn.conf.py app:app``.
Each setting may be overridden on the command line or by GUNICORN_CMD_ARGS.
"""

import contextlib
import json
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

from gunicorn import glogging

# The checkout this file is in, whatever the current directory (--chdir).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback import logs  # noqa: E402
from feedback.metrics import (
    child_exit,  # noqa: E402, F401 - gunicorn calls this hook by name
)

bind = os.environ.get("FEEDBACK_BIND", "127.0.0.1:8000")

# Sync workers: each request has a process to itself, so a slow page never
# holds up another one in the same worker. Two a core, plus one.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"

# The proxy in front (nginx) buffers uploads before it passes them on, so a
# worker reads 5 × 10 MB from local memory; 120 s leaves room for that on a
# busy machine, and for a slow export.
timeout = 120
graceful_timeout = 30
keepalive = 5

# Replace each worker after about a thousand requests, not all at once.
max_requests = 1000
max_requests_jitter = 100

# The service writes its own request lines (LOG_FORMAT, by route rule, never
# the raw path, which may carry a signed reply token): no access log here.
# Gunicorn's own messages and the service's go to standard output, in the
# same format. Set here, before any worker creates the app.
os.environ.setdefault("FEEDBACK_LOG_STREAM", "stdout")


def _log_format() -> str:
    """LOG_FORMAT as the workers will read it from FEEDBACK_LOG_FORMAT (JSON or a word)."""
    setting = os.environ.get("FEEDBACK_LOG_FORMAT", "")
    with contextlib.suppress(ValueError):
        setting = json.loads(setting)
    return logs.read_format(str(setting or ""), debug=False)


class ServiceLogger(glogging.Logger):
    """Gunicorn's own messages on standard output, formatted as the service's lines.

    Standard output is written to, never opened again by name: under systemd
    it is the journal's socket, which /dev/stdout cannot reopen.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self._set_handler(
            self.error_log, "-", logs.formatter(_log_format()), stream=sys.stdout
        )


# gunicorn's control socket goes to $HOME/.gunicorn unless told: under
# systemd, to the unit's runtime folder (RuntimeDirectory=), which is writable.
if os.environ.get("RUNTIME_DIRECTORY"):
    control_socket = str(
        Path(os.environ["RUNTIME_DIRECTORY"].split(":")[0]) / "gunicorn.ctl"
    )

logger_class = ServiceLogger
accesslog = None
errorlog = "-"
loglevel = "info"
