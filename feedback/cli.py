"""Command groups for operators and cron: staff, demo, outbox, notices, mail, deadlines, apikey, backup."""

from __future__ import annotations

import contextlib
import imaplib
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import NoReturn
from typing import TypeVar
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from feedback import config_check
from feedback import demo
from feedback import notices
from feedback.db import driver_error
from feedback.db import rollback_quietly
from feedback.db import UNREACHABLE
from feedback.db import unreachable
from feedback.db import utcnow
from feedback.extensions import db
from feedback.mail import extract
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Role
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import Storage
from feedback.models import Submission
from feedback.services import accounts
from feedback.services import api_keys
from feedback.services import attachments
from feedback.services import backups
from feedback.services import deadlines
from feedback.services import DomainError
from feedback.services import holiday_calendars
from feedback.services import inbound
from feedback.services import locks
from feedback.services import mail_fetch
from feedback.services import notices as notice_import
from feedback.services import outbox
from feedback.services import retention
from feedback.services import sweep

staff_cli = AppGroup("staff", help="Manage staff accounts.")
demo_cli = AppGroup("demo", help="Load the demo board, sections and logins.")
outbox_cli = AppGroup("outbox", help="Deliver queued e-mail.")
notices_cli = AppGroup("notices", help="Import published rectification notices.")

T = TypeVar("T")


# sysexits.h: the MTA keeps the message, and cron runs again, later.
EX_TEMPFAIL = 75


def _temporary_failure(reason: object) -> NoReturn:
    """Say on stderr why the mail cannot be taken now, and exit for a later try."""
    click.echo(f"temporary failure, try again later: {reason}", err=True)
    sys.exit(EX_TEMPFAIL)


@contextlib.contextmanager
def _database_or_later() -> Iterator[None]:
    """Exit 75, for a later try, if the database cannot be reached in the block.

    What the failed transaction held is dropped; any other database error is
    a fault of ours and stays a traceback.
    """
    try:
        yield
    except (DBAPIError, *UNREACHABLE) as exc:
        if not unreachable(exc):
            raise
        rollback_quietly(db.session)
        _temporary_failure(driver_error(exc))


def _commit_change(change: Callable[[], T], done: str | None = None) -> T:
    """Run ``change`` (a service call), commit it, echo ``done`` and return its result.

    A rule the change breaks is the command's error, not a traceback.
    """
    try:
        result = change()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    if done is not None:
        click.echo(done)
    return result


def _account(email: str) -> StaffUser:
    """Return the account of ``email``, or stop the command saying there is none."""
    user = accounts.find_by_email(db.session, email)
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    return user


@staff_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--section", "section_name", help="Section name, for section staff.")
@click.option("--name", default="", help="The person's name.")
@click.password_option(help="Asked for when not given.")
def create_staff_command(
    email: str, role: str, section_name: str | None, name: str, password: str
) -> None:
    """Create a staff account."""
    session = db.session
    section = None
    if section_name:
        section = session.execute(
            select(Section).where(Section.name == section_name)
        ).scalar_one_or_none()
        if section is None:
            raise click.ClickException(f"No section is called {section_name!r}.")
    _commit_change(
        lambda: accounts.create_user(
            session,
            email=email,
            role=Role(role),
            password=password,
            section=section,
            name=name,
        ),
        f"Created {email} ({role}).",
    )


@staff_cli.command("disable")
@click.argument("email")
def disable_staff_command(email: str) -> None:
    """Close an account; its open sessions end at once."""
    user = _account(email)
    _commit_change(
        lambda: accounts.disable(db.session, user, actor=None), f"Disabled {email}."
    )


@staff_cli.command("reset-password")
@click.argument("email")
@click.password_option(help="Asked for when not given.")
def reset_password_command(email: str, password: str) -> None:
    """Set a new password (and unlock the account); its open sessions end."""
    user = _account(email)
    _commit_change(
        lambda: accounts.set_password(db.session, user, password, actor=None),
        f"New password set for {email}.",
    )


@staff_cli.command("reset-totp")
@click.argument("email")
def reset_totp_command(email: str) -> None:
    """Turn off two-factor sign-in for a lost phone; the account sets it up again."""
    user = _account(email)
    _commit_change(
        lambda: accounts.disable_totp(db.session, user, actor=None),
        f"Two-factor sign-in is off for {email}.",
    )


@demo_cli.command("load")
def load_demo_command() -> None:
    """Load the demo data and published replies (again: nothing changes); print the logins."""
    changed = demo.load(db.session)
    changed = demo.load_published_replies(db.session) or changed
    db.session.commit()
    click.echo("Demo data loaded." if changed else "Demo data was already loaded.")
    click.echo("Demo logins (public passwords: never use the demo in production):")
    for login in demo.LOGINS:
        where = f" [{login.section}]" if login.section else ""
        click.echo(f"  {login.role.value:8} {login.email}  {login.password}{where}")


@contextlib.contextmanager
def _one_worker_on_sqlite() -> Iterator[None]:
    """Hold the outbox lock on SQLite, or stop the command if another holds it."""
    try:
        with outbox.sole_worker(db.engine):
            yield
    except locks.LockBusy:
        click.echo(
            "another outbox worker is running on this SQLite database; "
            "only one may run (use PostgreSQL for several)",
            err=True,
        )
        sys.exit(EX_TEMPFAIL)


def _warn_if_lease_too_short() -> None:
    if outbox.lease_too_short():
        config = current_app.config
        click.echo(
            f"warning: OUTBOX_LEASE_SECONDS ({config['OUTBOX_LEASE_SECONDS']}) is "
            f"under {outbox.LEASE_IN_MAIL_TIMEOUTS} × MAIL_TIMEOUT "
            f"({config['MAIL_TIMEOUT']}): a slow send may outlast its lease, "
            "and another worker send the message again",
            err=True,
        )


@outbox_cli.command("send")
def send_command() -> None:
    """Deliver the messages that are due now, one pass, and exit (for cron).

    Exits 75 (try again later) when the database cannot be reached.
    """
    _warn_if_lease_too_short()
    with _one_worker_on_sqlite(), _database_or_later():
        counts = outbox.deliver_pending(db.session)
    click.echo(str(counts))


@outbox_cli.command("work")
@click.option("--poll", type=float, default=None, help="Seconds between passes.")
def work_command(poll: float | None) -> None:
    """Keep delivering due mail until stopped (SIGTERM or Ctrl-C).

    It waits out a database or mail server that is down, and stops within
    one poll interval and one message of a signal.
    """
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    seconds = poll if poll is not None else current_app.config["OUTBOX_POLL_SECONDS"]
    _warn_if_lease_too_short()
    with _one_worker_on_sqlite():
        click.echo(f"Delivering mail every {seconds:g} s; stop with Ctrl-C.")
        outbox.work(
            db.session,
            poll_seconds=seconds,
            should_stop=lambda: stopping,
            report=lambda counts: click.echo(str(counts)),
        )
    click.echo("Stopped.")


@outbox_cli.command("retry")
@click.argument("message_id", type=int, required=False)
@click.option(
    "--all-failed", is_flag=True, help="Queue every failed message again instead."
)
def retry_command(message_id: int | None, all_failed: bool) -> None:
    """Queue a failed message (MESSAGE_ID), or every one, again."""
    if all_failed == (message_id is not None):
        raise click.UsageError("Give a MESSAGE_ID or --all-failed, not both.")
    if all_failed:
        count = _commit_change(lambda: outbox.retry_failed(db.session, actor=None))
        click.echo(f"{count} failed messages queued again.")
        return
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.state is not OutboxState.FAILED:
        click.echo(f"No failed message {message_id}.", err=True)
        sys.exit(1)
    _commit_change(
        lambda: outbox.retry(db.session, message, actor=None),
        f"Message {message_id} queued again.",
    )


@notices_cli.command("import")
@click.argument("file")
@click.option(
    "--round",
    "round_ref",
    help="An existing round, by its id or exact name. Without it the round is "
    "found by the notice's inspecting group, or created.",
)
@click.option(
    "--dry-run", is_flag=True, help="Parse and check only; touch no database."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object and nothing else."
)
def import_notice_command(
    file: str, round_ref: str | None, dry_run: bool, as_json: bool
) -> None:
    """Read a notice (text, saved web page or .docx; - for stdin) and import it.

    The exit status is non-zero only when the file cannot be read as a notice
    at all; what the parser could not place, and a --round that names no
    round, are reported as warnings.
    """
    name = None if file == "-" else Path(file).name
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"无法读取文件 {file}：{exc.strerror}") from exc
    try:
        parsed = notices.parse_bytes(data, name)
    except notices.UnreadableNotice as exc:
        raise click.ClickException(f"无法读取通报 {file}：{exc}") from exc

    report_lines: list[str] = []
    extra_warnings: list[str] = []
    if not dry_run:
        session = db.session
        inspection = None
        if round_ref:
            inspection = notice_import.find_round(session, round_ref)
            if inspection is None:
                extra_warnings.append(
                    f"没有编号或名称为“{round_ref}”的巡察轮次，已按通报内容匹配或新建。"
                )
        try:
            report = notice_import.import_notice(
                session, parsed, inspection=inspection, filename=name
            )
        except DomainError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from exc
        report_lines = report.lines()
        extra_warnings += report.vanished_lines() + report.notes
        session.commit()

    if as_json:
        payload = parsed.to_json()
        payload["warnings"] += extra_warnings
        click.echo(json.dumps(payload, ensure_ascii=False))
        for line in report_lines:
            click.echo(line, err=True)
        return
    for line in notice_table(parsed):
        click.echo(line)
    click.echo("")
    click.echo("\n".join(report_lines) if report_lines else "试运行：没有写入数据库。")


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - notices.display_width(text))


def notice_table(parsed: notices.ParsedNotice) -> list[str]:
    """Render a parsed notice as a plain-text table with its totals check."""
    facts = parsed.round
    lines = [f"通报：{facts.title or '（未找到标题）'}"]
    for label, value in (
        ("发布单位", facts.publisher),
        ("发布日期", facts.published),
        ("巡察组", facts.inspecting_group),
        ("进驻", "至".join(v for v in (facts.onsite_from, facts.onsite_to) if v)),
        ("反馈日期", facts.feedback_date),
    ):
        if value:
            lines.append(f"{label}：{value}")
    lines.append("")
    lines.append(_pad("方面", 6) + _pad("问题", 6) + _pad("状态", 12) + "标题")
    for aspect in parsed.aspects:
        number = "" if aspect.number is None else str(aspect.number)
        lines.append(_pad(number or "-", 6) + (aspect.title or "（未分方面的问题）"))
        for problem in aspect.problems:
            lines.append(
                _pad("", 6)
                + _pad("" if problem.number is None else str(problem.number), 6)
                + _pad(problem.status or "未注明", 12)
                + problem.title
            )
    if not parsed.problems:
        lines.append("（没有逐条列出的问题）")
    lines.append("")
    lines.append(
        f"读出：{len(parsed.visible_aspects)} 个方面，{len(parsed.problems)} 个问题"
        + "".join(f"，{w} {n} 个" for w, n in parsed.found_by_status().items())
    )
    checks = parsed.checks()
    if checks:
        lines.append("与通报声明的总数核对：")
        for check in checks:
            if check.found is None:
                verdict = "无法核对（问题未逐条注明状态）"
            else:
                verdict = "一致" if check.agrees else f"不一致，读出 {check.found}"
            lines.append(f"  {check.label}：声明 {check.declared}，{verdict}")
    else:
        lines.append("通报没有声明可核对的总数。")
    contacts = parsed.contacts
    for label, values in (
        ("电话", contacts.phone),
        ("地址", contacts.address),
        ("邮箱", contacts.email),
    ):
        if values:
            lines.append(f"监督{label}：{'；'.join(values)}")
    if parsed.warnings:
        lines.append("提示：")
        lines.extend(f"  - {warning}" for warning in parsed.warnings)
    return lines


mail_cli = AppGroup("mail", help="Take in e-mail: MTA pipe, IMAP, inspection.")


@contextlib.contextmanager
def _one_at_a_time(job: str) -> Iterator[None]:
    """Run a scheduled job's block under its named lock, waiting for a holder.

    Cron may start the same job on several machines sharing one database: the
    second copy waits for the first and then finds its work done. A database
    that cannot be reached, for the lock or the work, exits 75 for a later try.
    """
    with _database_or_later(), locks.exclusive(db.engine, job, wait=True):
        yield


@mail_cli.command("ingest")
def ingest_command() -> None:
    """Read one RFC 822 message from standard input (for an MTA pipe) and file it."""
    raw = sys.stdin.buffer.read()
    with _database_or_later():
        outcome = inbound.ingest(db.session, raw)
        db.session.commit()
    decision = outcome.decision
    filed = decision.submission
    if filed is None and outcome.inbound.submission_id is not None:
        filed = db.session.get(Submission, outcome.inbound.submission_id)
    reference = filed.reference if filed else None
    click.echo(
        f"{outcome.inbound.state.value}: {decision.reason} {reference or ''}".rstrip()
    )
    if outcome.note:
        click.echo(outcome.note, err=True)


@mail_cli.command("fetch")
def fetch_command() -> None:
    """Read the unseen messages of the IMAP mailbox, file them, and mark them seen."""
    counts: Counter[str] = Counter()
    try:
        # A database gone mid-way exits 75, and the message is left unseen.
        with (
            _one_at_a_time("mail-fetch"),
            contextlib.closing(mail_fetch.fetch(db.session)) as outcomes,
        ):
            for outcome in outcomes:
                # Read before the commit, which expires the row.
                state = outcome.inbound.state.value
                # fetch marks the message seen only when asked for the next one.
                db.session.commit()
                counts[state] += 1
    except (OSError, imaplib.IMAP4.error) as exc:
        _temporary_failure(exc)
    click.echo(
        " ".join(f"{state}={n}" for state, n in sorted(counts.items())) or "nothing new"
    )


@mail_cli.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def inspect_command(file: str, as_json: bool) -> None:
    """Show what the service would do with a message, changing nothing."""
    message = extract.parse(Path(file).read_bytes())
    decision = inbound.decide(db.session, message)
    db.session.rollback()
    reference = decision.submission.reference if decision.submission else None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "action": decision.action,
                    "match": reference,
                    "reason": decision.reason.value,
                    "reply_text": decision.reply_text,
                },
                ensure_ascii=False,
            )
        )
        return
    click.echo(f"action:  {decision.action}")
    click.echo(f"reason:  {decision.reason}")
    click.echo(f"match:   {reference or '-'}")
    click.echo(f"from:    {decision.sender}")
    click.echo(f"subject: {decision.subject}")
    click.echo("reply text:")
    click.echo(decision.reply_text)


deadlines_cli = AppGroup(
    "deadlines", help="Reminders, escalations and the holiday table."
)


def _moment(now_text: str | None) -> datetime:
    """Read a ``--now`` option (bureau time when no zone is given), or now."""
    if not now_text:
        return utcnow()
    try:
        now = datetime.fromisoformat(now_text)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO date-time: {now_text}") from exc
    if now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo(current_app.config["TIME_ZONE"]))
    return now


@deadlines_cli.command("sweep")
@click.option(
    "--now", "now_text", help="Pretend it is this ISO date-time (for tests, catch-up)."
)
def sweep_command(now_text: str | None) -> None:
    """Remind sections of replies due soon and escalate overdue items to the lead, once.

    Also closes replies left unrated past RATING_WINDOW_DAYS.
    """
    now = _moment(now_text)
    with _one_at_a_time("deadlines-sweep"):
        counts = sweep.sweep(db.session, now)
        db.session.commit()
    click.echo(str(counts))


@deadlines_cli.command("import-holidays")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_holidays_command(file: str) -> None:
    """Add the days of an .ics calendar to the holiday table (补班 days count as worked)."""
    text = Path(file).read_text(encoding="utf-8", errors="replace")
    try:
        days = holiday_calendars.read_ics(
            text, tz_name=current_app.config["TIME_ZONE"], today=deadlines.today()
        )
    except holiday_calendars.CalendarError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    with _database_or_later():
        saved = deadlines.save_holidays(db.session, days, source=Path(file).name)
        db.session.commit()
    click.echo(f"{saved} days in the holiday table")


retention_cli = AppGroup("retention", help="Remove personal data after the period.")


@retention_cli.command("purge")
@click.option("--now", "now_text", help="Pretend it is this ISO date-time.")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
def purge_command(now_text: str | None, dry_run: bool) -> None:
    """Remove personal data from submissions finished more than RETENTION_YEARS ago.

    The anonymised record stays for statistics and ledgers.
    """
    now = _moment(now_text)
    with _one_at_a_time("retention-purge"):
        counts = retention.purge_due(db.session, now, dry_run=dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
            retention.remove_files(db.session)
    click.echo(f"would purge: {counts}" if dry_run else f"purged: {counts}")


attachments_cli = AppGroup("attachments", help="Where citizens' files are kept.")


@attachments_cli.command("move")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Choice([storage.value for storage in Storage]),
    help="Where the files go: database (every node sees them) or directory.",
)
def move_attachments_command(target: str) -> None:
    """Move every attachment's bytes into one storage, each checked by SHA-256.

    One file at a time, each committed on its own: stopped half-way, run it
    again and it goes on. The old copy is removed only once the new one is
    committed. A file missing or damaged is left where it is and named; the
    command then exits 1. Set ATTACHMENT_STORAGE to the same storage, or new
    files keep going to the old one.
    """
    to = Storage(target)
    moved = 0
    problems: list[str] = []
    # The purge removes files too: one or the other at a time.
    with _one_at_a_time("retention-purge"):
        after = 0
        while batch := attachments.to_move(db.session, to, after=after, limit=100):
            for attachment in batch:
                after = attachment.id
                try:
                    old = attachments.move(db.session, attachment, to)
                    db.session.commit()
                except attachments.AttachmentError as exc:
                    db.session.rollback()
                    if to is Storage.DIRECTORY:
                        attachments.discard([attachments.path_of(attachment)])
                    problems.append(str(exc))
                    continue
                attachments.discard([old] if old else [])
                moved += 1
        leftovers = (
            attachments.leftover_files(db.session) if to is Storage.DATABASE else []
        )
        attachments.discard(leftovers)
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"moved={moved} left={len(problems)} old files removed={len(leftovers)}")
    if problems:
        sys.exit(1)


apikey_cli = AppGroup("apikey", help="Keys of partners' Open311 applications.")


@apikey_cli.command("create")
@click.argument("name")
def create_apikey_command(name: str) -> None:
    """Issue a key for the partner NAME and print it, this once only."""
    key, plain = _commit_change(lambda: api_keys.create(db.session, name))
    click.echo(f"Key for {key.name} (shown this once; only its hash is kept):")
    click.echo(plain)


@apikey_cli.command("revoke")
@click.argument("name")
def revoke_apikey_command(name: str) -> None:
    """Stop the key of the partner NAME from opening the API."""
    _commit_change(
        lambda: api_keys.revoke(db.session, name), f"Revoked the key of {name}."
    )


@apikey_cli.command("list")
def list_apikeys_command() -> None:
    """List the keys with when each was issued, last used and revoked."""
    keys = api_keys.all_keys(db.session)
    if not keys:
        click.echo("No keys.")
    for key in keys:
        used = (
            key.last_used_at.isoformat(timespec="seconds")
            if key.last_used_at
            else "never"
        )
        state = (
            f"revoked {key.revoked_at.isoformat(timespec='seconds')}"
            if key.revoked_at
            else "active"
        )
        click.echo(
            f"{key.name}\tissued {key.created_at.isoformat(timespec='seconds')}"
            f"\tlast used {used}\t{state}"
        )


config_cli = AppGroup("config", help="Check the settings before going live.")


@config_cli.command("check")
def check_config_command() -> None:
    """Print each unsafe or unwise setting with its fix; exit 1 if any is an error.

    WEB_CONCURRENCY (gunicorn's worker count) is read from the environment.
    """
    try:
        concurrency = int(os.environ.get("WEB_CONCURRENCY") or 1)
    except ValueError as exc:
        raise click.BadParameter("WEB_CONCURRENCY must be a whole number") from exc
    config = current_app.config
    found = config_check.findings(
        config, web_concurrency=concurrency, debug=current_app.debug
    )
    mail = config_check.mail_finding(
        config["MAIL_SERVER"], int(config["MAIL_PORT"]), float(config["MAIL_TIMEOUT"])
    )
    found += [mail] if mail is not None else []
    click.echo(config_check.shared_settings(config, str(attachments.configured_dir())))
    for finding in found:
        click.echo(str(finding))
    errors = sum(finding.level == "error" for finding in found)
    click.echo(f"{errors} errors, {len(found) - errors} warnings")
    if errors:
        sys.exit(1)


backup_cli = AppGroup("backup", help="Back the service up, and restore it.")


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def create_backup_command(directory: Path) -> None:
    """Write a consistent backup of the database and attachments into DIRECTORY.

    DIRECTORY must not exist or be empty; it is made readable by its owner
    only. Exit 1 if it cannot be made, or if an attachment's file was
    already missing (the backup is written, and says which).
    """
    with _database_or_later():
        try:
            manifest = backups.create(db.engine, directory)
        except backups.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
    missing = manifest.kept(backups.Where.MISSING)
    size = sum(kept.size for kept in manifest.files.values())
    revisions = ", ".join(manifest.revisions) or "none"
    click.echo(f"backup written: {directory}")
    click.echo(
        f"  database: {manifest.engine}, schema {revisions}, "
        f"{len(manifest.tables)} tables, {manifest.rows} rows"
    )
    click.echo(
        f"  attachments: {len(manifest.kept(backups.Where.FILE))} as files, "
        f"{len(manifest.kept(backups.Where.DATABASE))} inside the database, "
        f"{len(missing)} missing"
    )
    click.echo(
        f"  files: {len(manifest.files)} ({size / 1024 / 1024:.1f} MB), "
        f"each with its SHA-256 in {backups.MANIFEST}"
    )
    click.echo(
        "This backup holds personal data: keep it as carefully as the database "
        "(only its owner may read it), and delete it after "
        f"{backups.KEEP_DAYS} days, as the retention rule requires."
    )
    if missing:
        click.echo(
            f"error: attachments whose file was already missing: "
            f"{', '.join(map(str, missing))}",
            err=True,
        )
        sys.exit(1)


@backup_cli.command("restore")
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
def restore_backup_command(directory: Path) -> None:
    """Restore the backup in DIRECTORY into the configured, empty database.

    Every file is checked against the manifest before anything is written;
    afterwards every table's row count and every attachment's SHA-256.
    Attachment files go into the configured ATTACHMENT_STORAGE. Exit 1 if
    refused or if a check fails, naming what.
    """
    storage = attachments.configured_storage()
    with _database_or_later():
        try:
            manifest = backups.read(directory)
            backups.check_target(db.engine, manifest)
            backups.check_files(directory, manifest)
            backups.restore_database(db.engine, directory, manifest)
            differences = backups.compare_counts(
                manifest, backups.count_rows(db.engine)
            )
            put = 0
            for so_far in backups.restore_files(
                db.session, directory, manifest, storage
            ):
                db.session.commit()
                put = so_far
            differences += backups.check_attachments(db.session, manifest)
            db.session.rollback()
        except backups.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
    inside = manifest.kept(backups.Where.DATABASE)
    missing = manifest.kept(backups.Where.MISSING)
    revisions = ", ".join(manifest.revisions) or "none"
    click.echo(
        f"restored: {manifest.engine} database of {manifest.created_at} "
        f"from {directory}, schema {revisions}"
    )
    click.echo(f"  tables: {len(manifest.tables)}, rows: {manifest.rows}")
    click.echo(
        f"  attachments: {put} files put into {storage.value} storage, "
        f"{len(inside)} inside the database"
    )
    if inside and storage is not Storage.DATABASE:
        click.echo(
            f"  the {len(inside)} attachments inside the database stay there "
            f"(ATTACHMENT_STORAGE is {storage.value!r}) and download as they "
            "are; `flask --app app attachments move --to directory` moves them"
        )
    if missing:
        click.echo(
            "  attachments whose file was already missing when the backup was "
            f"made: {', '.join(map(str, missing))}"
        )
    if differences:
        click.echo("verification failed:", err=True)
        for difference in differences:
            click.echo(f"  {difference}", err=True)
        sys.exit(1)
    click.echo(
        f"verified: {len(manifest.tables)} tables' row counts and "
        f"{len(manifest.attachments) - len(missing)} attachments' SHA-256 "
        "match the manifest"
    )


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for group in (
        staff_cli,
        demo_cli,
        outbox_cli,
        notices_cli,
        mail_cli,
        deadlines_cli,
        retention_cli,
        attachments_cli,
        apikey_cli,
        config_cli,
        backup_cli,
    ):
        app.cli.add_command(group)
