"""Command groups for operators and cron: staff, demo and outbox."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import click
from flask import current_app
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from feedback import demo
from feedback.extensions import db
from feedback.models import OutboxMessage
from feedback.models import OutboxState
from feedback.models import Role
from feedback.models import Section
from feedback.services import accounts
from feedback.services import DomainError
from feedback.services import outbox

staff_cli = AppGroup("staff", help="Manage staff accounts.")
demo_cli = AppGroup("demo", help="Load the demo board, sections and logins.")
outbox_cli = AppGroup("outbox", help="Deliver queued e-mail.")


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
    try:
        accounts.create_user(
            session,
            email=email,
            role=Role(role),
            password=password,
            section=section,
            name=name,
        )
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    session.commit()
    click.echo(f"Created {email} ({role}).")


@demo_cli.command("load")
def load_demo_command() -> None:
    """Load the demo data (again: nothing changes) and print the logins."""
    changed = demo.load(db.session)
    db.session.commit()
    click.echo("Demo data loaded." if changed else "Demo data was already loaded.")
    click.echo("Demo logins (public passwords: never use the demo in production):")
    for login in demo.LOGINS:
        where = f" [{login.section}]" if login.section else ""
        click.echo(f"  {login.role.value:8} {login.email}  {login.password}{where}")


@outbox_cli.command("send")
def send_command() -> None:
    """Deliver every message that is due now, once, and exit."""
    counts = outbox.deliver_pending(db.session)
    click.echo(str(counts))


@outbox_cli.command("work")
@click.option("--poll", type=float, default=None, help="Seconds between passes.")
def work_command(poll: float | None) -> None:
    """Keep delivering due mail until stopped (SIGTERM or Ctrl-C)."""
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    seconds = poll if poll is not None else current_app.config["OUTBOX_POLL_SECONDS"]
    click.echo(f"Delivering mail every {seconds:g} s; stop with Ctrl-C.")
    outbox.work(
        db.session,
        poll_seconds=seconds,
        should_stop=lambda: stopping,
        report=lambda counts: click.echo(str(counts)),
    )


@outbox_cli.command("retry")
@click.argument("message_id", type=int)
def retry_command(message_id: int) -> None:
    """Queue a failed message again."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.state is not OutboxState.FAILED:
        click.echo(f"No failed message {message_id}.", err=True)
        sys.exit(1)
    outbox.retry(db.session, message)
    db.session.commit()
    click.echo(f"Message {message_id} queued again.")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for group in (staff_cli, demo_cli, outbox_cli):
        app.cli.add_command(group)
