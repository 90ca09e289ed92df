"""Loading the demo data: the seed's board, three sections and staff logins."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback import demo_data
from feedback.models import Aspect
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import ProgressUpdate
from feedback.models import Role
from feedback.models import Section
from feedback.models import status_kind
from feedback.models import StatusChange
from feedback.services import accounts


@dataclass(frozen=True)
class DemoLogin:
    """A demo account, printed so that a newcomer can sign in."""

    email: str
    password: str
    role: Role
    section: str | None = None


# Demo passwords are public on purpose: never load the demo into production.
LOGINS = (
    DemoLogin("admin@meijiang-edu.example", "demo-admin-pass", Role.ADMIN),
    DemoLogin("lead@meijiang-edu.example", "demo-lead-pass", Role.LEAD),
    DemoLogin(
        "office.staff@meijiang-edu.example", "demo-office-pass", Role.SECTION, "办公室"
    ),
    DemoLogin(
        "personnel.staff@meijiang-edu.example",
        "demo-personnel-pass",
        Role.SECTION,
        "人事股",
    ),
    DemoLogin(
        "finance.staff@meijiang-edu.example",
        "demo-finance-pass",
        Role.SECTION,
        "计划财务股",
    ),
)


def load(session: Session) -> bool:
    """Load the demo data if it is not there yet; return whether anything changed.

    Every piece is looked up by its natural key first, so loading twice
    changes nothing.
    """
    changed = False
    sections: dict[str, Section] = {}
    for spec in demo_data.SECTIONS:
        section = session.execute(
            select(Section).where(Section.name == spec["name"])
        ).scalar_one_or_none()
        if section is None:
            domain = spec["email"].partition("@")[2]
            section = Section(
                name=spec["name"],
                email=spec["email"],
                reply_domains=domain,
                kinds=spec.get("kinds", ""),
            )
            session.add(section)
            changed = True
        sections[spec["key"]] = section
    session.flush()

    for login in LOGINS:
        if accounts.find_by_email(session, login.email) is None:
            section = next(
                (s for s in sections.values() if s.name == login.section), None
            )
            accounts.create_user(
                session,
                email=login.email,
                role=login.role,
                password=login.password,
                section=section,
            )
            changed = True

    exists = session.execute(
        select(Inspection.id).where(Inspection.name == demo_data.ROUND["name"])
    ).first()
    if exists is None:
        _load_board(session, sections)
        changed = True
    session.flush()
    return changed


def _load_board(session: Session, sections: dict[str, Section]) -> None:
    inspection = Inspection(**demo_data.ROUND)
    session.add(inspection)
    problems: dict[tuple[int, int], Problem] = {}
    for aspect_spec in demo_data.ASPECTS:
        aspect = Aspect(number=aspect_spec["number"], title=aspect_spec["title"])
        inspection.aspects.append(aspect)
        for spec in aspect_spec["problems"]:
            problem = Problem(
                number=spec["number"],
                title=spec["title"],
                details=spec["details"],
                status_word=spec["status_word"],
                status_kind=status_kind(spec["status_word"]),
                measures=spec["measures"],
                section=sections[spec["section"]],
                deadline=spec["deadline"],
            )
            aspect.problems.append(problem)
            problems[(aspect.number, problem.number)] = problem
    for spec in demo_data.STATUS_CHANGES:
        problem = problems[(spec["aspect"], spec["problem"])]
        problem.status_changes.append(
            StatusChange(
                from_word=spec["from_word"],
                to_word=spec["to_word"],
                to_kind=status_kind(spec["to_word"]),
                reason=spec["reason"],
                effective_on=spec["effective_on"],
            )
        )
    for spec in demo_data.PROGRESS_UPDATES:
        problem = problems[(spec["aspect"], spec["problem"])]
        problem.progress_updates.append(
            ProgressUpdate(body=spec["body"], published_on=spec["published_on"])
        )
