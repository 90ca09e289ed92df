"""Gunicorn's settings for the service: workers, timeouts for large uploads, restarts, logs.

Run from the checkout: ``.venv/bin/gunicorn -c deploy/gunicorn.conf.py app:app``.
Each setting may be overridden on the command line or by GUNICORN_CMD_ARGS.
"""

import multiprocessing
import os

from feedback.metrics import child_exit  # noqa: F401 - gunicorn calls this hook by name

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
# Gunicorn's own messages and the service's go to standard output. Set here,
# before any worker creates the app.
os.environ.setdefault("FEEDBACK_LOG_STREAM", "stdout")
accesslog = None
errorlog = "/dev/stdout"
loglevel = "info"
