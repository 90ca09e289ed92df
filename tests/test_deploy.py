"""The files deploy/ hands an operator are valid: gunicorn reads its settings as meant."""

import os
import subprocess
import sys
from pathlib import Path

from feedback import PROJECT_ROOT

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CONF = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"


def gunicorn_settings(**environ: str) -> dict[str, str]:
    """Return the settings gunicorn reads from deploy/gunicorn.conf.py, as it prints them."""
    env = {
        name: value for name, value in os.environ.items() if name != "WEB_CONCURRENCY"
    }
    env.update(FEEDBACK_SECRET_KEY="deploy-test", **environ)
    printed = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [GUNICORN, "--print-config", "-c", str(CONF), "app:app"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    settings = {}
    for line in printed.splitlines():
        name, equals, value = line.partition("=")
        if equals:
            settings[name.strip()] = value.strip()
    return settings


def test_gunicorn_takes_its_workers_timeouts_and_logs_from_the_deploy_file():
    settings = gunicorn_settings(WEB_CONCURRENCY="3")
    assert settings["workers"] == "3"
    assert settings["worker_class"] == "sync"
    assert int(settings["timeout"]) >= 120  # 5 × 10 MB uploads on a busy machine
    assert (settings["max_requests"], settings["max_requests_jitter"]) == (
        "1000",
        "100",
    )
    # No access log of raw paths (reply tokens); the service logs by route rule.
    assert settings["accesslog"] == "None"
    assert settings["errorlog"] == "/dev/stdout"
    assert settings["child_exit"] == "<child_exit()>"  # the metrics' multiprocess hook


def test_without_web_concurrency_workers_follow_the_cores():
    assert gunicorn_settings()["workers"] == str(os.cpu_count() * 2 + 1)
