"""The demo data: the seed's structure, idempotent loading, printed logins."""

from sqlalchemy import func
from sqlalchemy import select

from feedback import demo
from feedback.models import Aspect
from feedback.models import Event
from feedback.models import Problem
from feedback.models import ProgressUpdate
from feedback.models import Section
from feedback.models import StaffUser
from feedback.models import StatusChange
from feedback.services import board


def _counts(session):
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (
            Aspect,
            Problem,
            Section,
            StaffUser,
            StatusChange,
            ProgressUpdate,
            Event,
        )
    )


def test_demo_has_the_seed_structure(session):
    demo.load(session)
    session.commit()
    inspection = board.newest_round(session)
    assert [a.number for a in inspection.aspects] == [1, 2, 3, 4]
    assert [len(a.problems) for a in inspection.aspects] == [1, 7, 7, 3]
    counts = board.count(inspection)
    assert counts.total == 18
    assert counts.by_word == {"已完成": 16, "长期坚持": 2}
    titles = {p.code: p.title for a in inspection.aspects for p in a.problems}
    assert titles["3.3"] == "财务管理不规范"
    assert titles["3.6"] == "对下属学校的因私出国（境）管理监督不够规范"
    assert all(p.section is not None for a in inspection.aspects for p in a.problems)


def test_loading_twice_changes_nothing(session):
    assert demo.load(session) is True
    session.commit()
    before = _counts(session)
    assert demo.load(session) is False
    session.commit()
    assert _counts(session) == before


def test_every_final_status_matches_its_history(session):
    demo.load(session)
    session.commit()
    for problem in session.scalars(select(Problem)):
        if problem.status_changes:
            assert problem.status_changes[-1].to_word == problem.status_word


def test_demo_load_command_prints_logins(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output
    for login in demo.LOGINS:
        assert login.email in result.output
        assert login.password in result.output
    again = runner.invoke(args=["demo", "load"])
    assert "already loaded" in again.output


def test_staff_create_command(runner, session):
    demo.load(session)
    session.commit()
    result = runner.invoke(
        args=[
            "staff",
            "create",
            "new.person@meijiang-edu.example",
            "--role",
            "section",
            "--section",
            "人事股",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(
        select(StaffUser).where(StaffUser.email == "new.person@meijiang-edu.example")
    )
    assert user.section.name == "人事股"
    assert user.password_hash.startswith("$argon2id$")


def test_staff_create_refuses_section_staff_without_section(runner):
    result = runner.invoke(
        args=[
            "staff",
            "create",
            "x@y.example",
            "--role",
            "section",
            "--password",
            "0123456789ab",
        ]
    )
    assert result.exit_code != 0
    assert "section" in result.output.lower()
