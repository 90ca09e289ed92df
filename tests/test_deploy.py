"""The files deploy/ hands an operator are valid: gunicorn, systemd, nginx and Postfix read them as meant."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import base_config
from helpers import free_port

from feedback import create_app
from feedback import PROJECT_ROOT
from feedback.config import DefaultConfig

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
    assert settings["errorlog"] == "-"
    assert settings["child_exit"] == "<child_exit()>"  # the metrics' multiprocess hook


def test_without_web_concurrency_workers_follow_the_cores():
    assert gunicorn_settings()["workers"] == str(os.cpu_count() * 2 + 1)


def test_gunicorn_logs_json_lines_to_a_standard_output_that_is_a_socket(tmp_path):
    """As under systemd, where standard output is the journal's socket."""
    journal, writer = socket.socketpair()
    env = {
        name: value for name, value in os.environ.items() if name != "WEB_CONCURRENCY"
    }
    env.update(
        FEEDBACK_SECRET_KEY="deploy-test",
        FEEDBACK_DATABASE_URL=f"sqlite:///{tmp_path / 'web.sqlite'}",
        FEEDBACK_BIND=f"127.0.0.1:{free_port()}",
        WEB_CONCURRENCY="1",
        RUNTIME_DIRECTORY=str(tmp_path),  # what systemd's RuntimeDirectory= sets
    )
    web = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [GUNICORN, "-c", str(CONF), "app:app"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=writer,
        stderr=subprocess.PIPE,
    )
    writer.close()
    lines: list[dict[str, object]] = []
    try:
        journal.settimeout(30)
        received = b""
        while not any("Control socket" in str(line["message"]) for line in lines):
            chunk = journal.recv(4096)
            assert chunk, "gunicorn closed its standard output"
            received += chunk
            *complete, received = received.split(b"\n")
            lines += [json.loads(line) for line in complete]
    finally:
        web.terminate()
        _out, errors = web.communicate(timeout=30)
        journal.close()
    assert {line["logger"] for line in lines} == {"gunicorn.error"}
    assert any(str(line["message"]).startswith("Listening at") for line in lines)
    assert (tmp_path / "gunicorn.ctl").exists() or any(
        str(tmp_path / "gunicorn.ctl") in str(line["message"]) for line in lines
    )
    assert errors == b""


# The rest: the files of deploy/ other than gunicorn's, checked by the tools
# that read them (.ci/run installs them), on copies whose install paths point
# into this checkout and tmp_path. No daemon is started.

INSTALL_ROOT = "/srv/feedback"
VENV = Path(sys.executable).parent.parent
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
SYSTEMD = PROJECT_ROOT / "deploy" / "systemd"
NGINX_SITE = PROJECT_ROOT / "deploy" / "nginx" / "feedback.conf"
POSTFIX = PROJECT_ROOT / "deploy" / "postfix"
MIB = 1024 * 1024


def tool(name: str, package: str) -> str:
    """Return the path of a command, or skip the test naming the package to install."""
    found = shutil.which(name, path=SBIN_PATH)
    if found is None:
        pytest.skip(f"{name} is missing: install Debian's {package} (.ci/run does)")
    return found


def in_checkout(text: str, **paths: str) -> str:
    """Return a deploy file's text with its install paths moved into this checkout."""
    for old, new in paths.items():
        text = text.replace(old, new)
    return text.replace(f"{INSTALL_ROOT}/.venv", str(VENV)).replace(
        INSTALL_ROOT, str(PROJECT_ROOT)
    )


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - a tool found by tool(), fixed arguments
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def unit_file(path: Path) -> dict[str, dict[str, list[str]]]:
    """Parse a systemd unit: section → key → its values, in order (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    text = re.sub(r"\\\n\s*", " ", path.read_text())  # continued lines
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


# Each scheduled job: its command, and when its timer starts it.
JOBS = {
    "feedback-sweep": ("deadlines sweep", "hourly"),
    "feedback-purge": ("retention purge", "daily"),
    "feedback-fetch": ("mail fetch", "minutely"),
}


def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = tool("systemd-analyze", "systemd")
    units = sorted(SYSTEMD.glob("feedback-*"))
    for unit in units:
        (tmp_path / unit.name).write_text(in_checkout(unit.read_text()))
    # The timers' services lie beside them, so verify checks the pairs too.
    result = run(
        analyze, "verify", *(tmp_path / unit.name for unit in units), cwd=tmp_path
    )
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed
    # Unknown keys and the like are warnings: printed, yet exit 0.
    about_ours = [
        line
        for line in printed.splitlines()
        if "feedback" in line or str(tmp_path) in line
    ]
    assert about_ours == []
    assert len(units) == 2 + 2 * len(JOBS) + 2  # web, outbox, jobs, backup


def test_units_run_the_web_the_outbox_and_the_jobs_as_meant():
    units = {path.name: unit_file(path) for path in SYSTEMD.glob("feedback-*")}
    for name, unit in units.items():
        if name.endswith(".service"):
            service = unit["Service"]
            assert service["User"] == service["Group"] == ["feedback"], name
            assert service["WorkingDirectory"] == [INSTALL_ROOT], name
            assert service["EnvironmentFile"] == ["-/etc/feedback/env"], name
            assert service["ProtectSystem"] == ["strict"], name
            assert service["ReadWritePaths"] == [f"{INSTALL_ROOT}/instance"], name

    web = units["feedback-web.service"]["Service"]
    command = web["ExecStart"][0].split()
    assert command[:3] == [
        f"{INSTALL_ROOT}/.venv/bin/gunicorn",
        "-c",
        f"{INSTALL_ROOT}/deploy/gunicorn.conf.py",
    ]
    assert command[-1] == "app:app"
    assert web["RuntimeDirectory"] == ["feedback-web"]
    assert "PROMETHEUS_MULTIPROC_DIR=/run/feedback-web" in web["Environment"]
    assert web["KillMode"] == ["mixed"]
    graceful = re.search(r"^graceful_timeout = (\d+)$", CONF.read_text(), re.M)
    assert graceful is not None
    assert int(web["TimeoutStopSec"][0]) > int(
        graceful.group(1)
    )  # its workers finish first

    outbox = units["feedback-outbox.service"]["Service"]
    assert outbox["ExecStart"] == [
        f"{INSTALL_ROOT}/.venv/bin/flask --app app outbox work"
    ]
    assert outbox["Restart"] == ["always"]

    for job, (command_words, when) in JOBS.items():
        service = units[f"{job}.service"]["Service"]
        assert service["Type"] == ["oneshot"]
        assert service["ExecStart"] == [
            f"{INSTALL_ROOT}/.venv/bin/flask --app app {command_words}"
        ]
        assert "75" in service["SuccessExitStatus"]  # "try again later" is no fault
        assert units[f"{job}.timer"]["Timer"]["OnCalendar"] == [when]
    for job in ("feedback-sweep", "feedback-purge", "feedback-backup"):
        assert units[f"{job}.timer"]["Timer"]["Persistent"] == ["true"]  # caught up

    # Nightly, into a new folder of the service's own, 30 days kept; a day
    # without a backup is a failure, whatever the exit status.
    backup = units["feedback-backup.service"]["Service"]
    assert backup["Type"] == ["oneshot"]
    assert (
        f"{INSTALL_ROOT}/.venv/bin/flask --app app backup create "
        in (backup["ExecStart"][0])
    )
    assert '"$STATE_DIRECTORY/' in backup["ExecStart"][0]
    assert backup["StateDirectory"] == ["feedback-backups"]
    assert backup["StateDirectoryMode"] == ["0700"]
    assert "-mtime +30" in backup["ExecStartPost"][0]
    assert "SuccessExitStatus" not in backup
    assert units["feedback-backup.timer"]["Timer"]["OnCalendar"] == ["*-*-* 02:30"]


def nginx_map(site: str, name: str, value: str) -> str:
    """Return what the site's ``map … $name`` gives for ``value``, as nginx picks it.

    The first matching regular expression wins; named groups fill in ``$group``.
    """
    block = re.search(rf"map \$\w+ \${name} \{{(.*?)\n\}}", site, re.S)
    assert block is not None, name
    default = "$" + name
    for line in block.group(1).strip().splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        source, result = line.strip().rstrip(";").rsplit(None, 1)
        if source == "default":
            default = result
            continue
        pattern = source.removeprefix("~*").removeprefix("~")
        found = re.search(pattern, value, re.I if source.startswith("~*") else 0)
        if found:
            for group, text in found.groupdict().items():
                result = result.replace(f"${group}", text)
            return result
    return value if default == "$uri" else default


def nginx_logged_path(site: str, path: str) -> str:
    """Return the path the site's access log records for ``path``."""
    return nginx_map(site, "feedback_logged_path", path)


def test_nginx_site_passes_nginx_t(tmp_path):
    nginx = tool("nginx", "nginx")
    openssl = tool("openssl", "openssl")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    made = run(
        openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=test", "-keyout", key, "-out", cert, cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    site = tmp_path / "feedback.conf"
    site.write_text(
        in_checkout(
            NGINX_SITE.read_text(),
            **{
                "/etc/ssl/feedback/fullchain.pem": str(cert),
                "/etc/ssl/feedback/privkey.pem": str(key),
                "/var/log/nginx/": f"{tmp_path}/",
            },
        )
    )
    conf = tmp_path / "nginx.conf"
    temp = "\n".join(
        f"    {kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n{temp}\n    include {site};\n}}\n"
    )
    # -e: nginx opens its error log before it reads -c, /var/log/nginx by default.
    result = run(
        nginx, "-t", "-c", conf, "-p", f"{tmp_path}/", "-e", tmp_path / "error.log",
        cwd=tmp_path,
    )  # fmt: skip
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed
    assert "test is successful" in printed
    assert "[warn]" not in printed, printed


def test_nginx_site_takes_the_uploads_and_hides_what_is_not_public(tmp_path):
    site = NGINX_SITE.read_text()
    # 51m today: the app's limit, in whole MiB, rounded up.
    mebibytes = -(-DefaultConfig.MAX_CONTENT_LENGTH // MIB)
    assert re.findall(r"client_max_body_size (\S+);", site) == [f"{mebibytes}m"]
    # PROXY_FIX_X_FOR = 1 trusts the last hop: nginx must set it, not append.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "proxy_pass http://127.0.0.1:8000;" in site
    for private in ("/metrics", "/readyz"):
        assert re.search(rf"location = {private} \{{\s*return 404;\s*\}}", site)
    static = re.search(r"location /static/ \{(.*?)\}", site, re.S)
    assert static is not None
    assert f"alias {INSTALL_ROOT}/static/;" in static.group(1)
    assert "max-age=31536000, immutable" in static.group(1)


def test_nginx_access_log_keeps_no_reply_token_and_no_query(tmp_path):
    site = NGINX_SITE.read_text()
    formats = re.findall(r"^log_format (\S+)(.*?);", site, re.M | re.S)
    assert [name for name, _ in formats] == ["feedback_redacted"]
    logged = formats[0][1]
    # Raw request line, path, query or referer: each may carry a token or code.
    assert not re.findall(
        r"\$(request|request_uri|uri|args|arg_\w+|query_string|http_referer)\b", logged
    )
    assert "$feedback_logged_path" in logged
    # No client's full address and no user agent: anonymous writers stay so.
    assert not re.findall(r"\$(remote_addr|http_user_agent|http_\w+)\b", logged)
    network = "feedback_logged_network"
    assert f"${network}" in logged
    assert nginx_map(site, network, "203.0.113.77") == "203.0.113.0"
    assert nginx_map(site, network, "2001:db8:85a3:8d3:1319:8a2e:370:7348") == (
        "2001:db8:85a3::"
    )
    assert nginx_map(site, network, "2001:db8::1") == "::"
    assert nginx_map(site, network, "::1") == "::"
    # Each access log of the site uses that format, never nginx's "combined".
    logs = re.findall(r"^\s*access_log (\S+) (\S+);", site, re.M)
    assert logs
    assert {form for _, form in logs} == {"feedback_redacted"}

    # Every route with a signed token, as the app builds its URLs.
    app = create_app(base_config(tmp_path, ""))
    urls = app.url_map.bind("feedback.test")
    token = "eyJzIjoxfQ.Zx9Q.signed-secret"
    rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert rules
    for rule in rules:
        values = {"token": token, "attachment_id": 7}
        path = urls.build(
            rule.endpoint, {name: values[name] for name in rule.arguments}
        )
        assert token not in nginx_logged_path(site, path), path
        shouted = path.upper()  # nginx matches the map's ~* without case
        assert token.upper() not in nginx_logged_path(site, shouted), shouted
    assert nginx_logged_path(site, "/track") == "/track"


def test_postfix_pipe_and_transport_map_deliver_to_mail_ingest(tmp_path):
    postconf = tool("postconf", "postfix")
    postmap = tool("postmap", "postfix")
    shipped = [
        Path("/usr/share/postfix/master.cf.dist"),
        Path("/etc/postfix/master.cf"),
    ]
    default = next((path for path in shipped if path.exists()), None)
    if default is None:
        pytest.skip("no default master.cf: install Debian's postfix (.ci/run does)")
    ours = (POSTFIX / "master.cf").read_text()
    (tmp_path / "master.cf").write_text(f"{default.read_text()}\n{in_checkout(ours)}")
    # main.cf: the lines master.cf's header tells the operator to add.
    main_lines = re.findall(r"^#   (\w+ = .*)$", ours, re.M)
    assert {line.split()[0] for line in main_lines} == {
        "transport_maps",
        "relay_domains",
        "feedback_destination_recipient_limit",
    }
    main = "\n".join(main_lines).replace("/etc/postfix/", f"{tmp_path}/")
    (tmp_path / "main.cf").write_text(f"compatibility_level = 3.6\n{main}\n")
    # Postfix reads main.cf again until it is a second old (it may be being
    # written): made older, it is read at once, not after two seconds.
    aged = time.time() - 60
    os.utime(tmp_path / "main.cf", (aged, aged))

    # Postfix warns of a main.cf setting no service uses ("unused parameter"):
    # the recipient limit must name our transport.
    settings = run(postconf, "-c", tmp_path, "-n", cwd=tmp_path)
    assert settings.returncode == 0, settings.stderr
    assert settings.stderr == ""
    assert "feedback_destination_recipient_limit = 1" in settings.stdout

    service = run(postconf, "-c", tmp_path, "-M", "feedback/unix", cwd=tmp_path)
    assert service.returncode == 0, service.stderr
    fields = service.stdout.split()
    assert fields[:8] == ["feedback", "unix", "-", "n", "n", "-", "-", "pipe"]
    flags = next(field for field in fields if field.startswith("flags="))
    assert {"D", "O"} <= set(flags)  # ingest reads Delivered-To, X-Original-To
    assert "user=feedback" in fields
    argv = service.stdout.split("argv=", 1)[1].split()
    assert argv[-2:] == ["mail", "ingest"]
    # Paths into this checkout, rendered: the venv's flask, and app.py by its
    # path, which flask finds from the pipe's working directory, not ours.
    assert os.access(argv[0], os.X_OK)
    assert argv[1:3] == ["--app", str(PROJECT_ROOT / "app.py")]

    (tmp_path / "transport").write_text((POSTFIX / "transport").read_text())
    built = run(postmap, "-c", tmp_path, f"hash:{tmp_path}/transport", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    for recipient in (
        DefaultConfig.MAIL_REPLY_DOMAIN,
        DefaultConfig.PUBLIC_MAIL_ADDRESS,
    ):
        looked_up = run(
            postmap, "-c", tmp_path, "-q", recipient, f"hash:{tmp_path}/transport",
            cwd=tmp_path,
        )  # fmt: skip
        assert looked_up.stdout.strip() == "feedback:", recipient
