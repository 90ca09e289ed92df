"""Loading the demo data: the seed's board, three sections, staff logins, published replies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from feedback import demo_data
from feedback.db import DbSession
from feedback.models import Aspect
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import ProgressUpdate
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import status_kind
from feedback.models import StatusChange
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.services import accounts
from feedback.services import replies
from feedback.services import submissions
from feedback.services import triage


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


def load(session: DbSession) -> bool:
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


def _load_board(session: DbSession, sections: dict[str, Section]) -> None:
    inspection = Inspection(**demo_data.ROUND)
    session.add(inspection)
    problems: dict[tuple[int, int], Problem] = {}
    for aspect_spec in demo_data.ASPECTS:
        aspect = Aspect(number=aspect_spec["number"], title=aspect_spec["title"])
        inspection.aspects.append(aspect)
        for problem_spec in aspect_spec["problems"]:
            problem = Problem(
                number=problem_spec["number"],
                title=problem_spec["title"],
                details=problem_spec["details"],
                status_word=problem_spec["status_word"],
                status_kind=status_kind(problem_spec["status_word"]),
                measures=problem_spec["measures"],
                section=sections[problem_spec["section"]],
                deadline=problem_spec["deadline"],
            )
            aspect.problems.append(problem)
            problems[(aspect.number, problem.number)] = problem
    for change in demo_data.STATUS_CHANGES:
        problem = problems[(change["aspect"], change["problem"])]
        problem.status_changes.append(
            StatusChange(
                from_word=change["from_word"],
                to_word=change["to_word"],
                to_kind=status_kind(change["to_word"]),
                reason=change["reason"],
                effective_on=change["effective_on"],
            )
        )
    for update in demo_data.PROGRESS_UPDATES:
        problem = problems[(update["aspect"], update["problem"])]
        problem.progress_updates.append(
            ProgressUpdate(body=update["body"], published_on=update["published_on"])
        )


def load_published_replies(session: DbSession) -> bool:
    """Add the demo's answered opinions with their published replies, once.

    They go through the real services (intake, routing, approval, masking
    and publication), so the routing and reply mails are queued as in real
    use. Kept apart from :func:`load`, which tests use for a board without
    submissions; ``demo load`` and the quick start call both. Call
    :func:`load` first.
    """
    lead = next(
        accounts.find_by_email(session, login.email)
        for login in LOGINS
        if login.role is Role.LEAD
    )
    if lead is None:
        raise LookupError("Load the demo board and logins first (demo.load).")
    changed = False
    for spec in demo_data.PUBLISHED_REPLIES:
        # Found again by what the story says, never by a form key: a fixed
        # key in public source would be a way to replay the form.
        if session.scalar(
            select(Submission.id).where(
                Submission.subject == spec["subject"],
                Submission.received_at == spec["received_at"],
            )
        ):
            continue
        problem = session.scalar(
            select(Problem)
            .join(Aspect)
            .join(Inspection)
            .where(
                Inspection.name == demo_data.ROUND["name"],
                Aspect.number == spec["aspect"],
                Problem.number == spec["problem"],
            )
        )
        if problem is None or problem.section is None:
            raise LookupError("Load the demo board first (demo.load).")
        submission = submissions.submit(
            session,
            kind=SubmissionKind(spec["kind"]),
            subject=spec["subject"],
            body=spec["body"],
            author=submissions.Author(
                name=spec["name"], phone=spec["phone"], email=spec["email"]
            ),
            problem=problem,
            publish_consent=True,
            received_at=spec["received_at"],
        ).submission
        triage.route(session, submission, problem.section, actor=lead)
        reply = replies.draft(
            session,
            submission,
            problem.section,
            spec["reply"],
            channel=ReplyChannel.WEB,
            author_label=problem.section.name,
        )
        replies.approve(session, reply, actor=lead)
        replies.publish(session, reply, replies.masked_text(session, reply), actor=lead)
        # The demo tells a story of past months: date the answer as it happened.
        reply.approved_at = submission.replied_at = spec["replied_at"]
        reply.published_at = spec["published_at"]
        changed = True
    session.flush()
    return changed
