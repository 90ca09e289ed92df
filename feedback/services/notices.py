"""Importing a parsed notice into the board: rounds, aspects, problems and their history."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from typing import TypeVar

from sqlalchemy import select

from feedback.db import DbSession
from feedback.models import Aspect
from feedback.models import AuditAction
from feedback.models import Inspection
from feedback.models import NoticeImport
from feedback.models import Problem
from feedback.models import ProgressUpdate
from feedback.models import StaffUser
from feedback.models import status_kind
from feedback.models import StatusChange
from feedback.notices import ParsedNotice
from feedback.notices import ParsedProblem
from feedback.notices.numerals import HEADING_DIGITS
from feedback.services import audit
from feedback.services import board
from feedback.services import deadlines

T = TypeVar("T")

# Limits of the board's columns; longer text from a notice is cut to fit.
NAME_MAX = 200
TITLE_MAX = 500
WORD_MAX = 32
# Two titles under one number count as the same problem, reworded, above this.
SAME_TITLE_RATIO = 0.6


@dataclass
class ImportReport:
    """What an import changed on the board, for the person who ran it."""

    inspection: Inspection
    notice: NoticeImport
    created_round: bool = False
    created_aspects: list[str] = field(default_factory=list)
    created_problems: list[str] = field(default_factory=list)
    status_changes: list[tuple[str, str | None, str]] = field(default_factory=list)
    retitled: list[tuple[str, str, str]] = field(default_factory=list)
    progress_added: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Describe the changes in a few readable lines."""
        out = [
            ("新建" if self.created_round else "更新")
            + f"巡察轮次“{self.inspection.name}”（编号 {self.inspection.id}）。"
        ]
        if self.created_aspects:
            out.append(f"新增方面 {len(self.created_aspects)} 个。")
        if self.created_problems:
            out.append(
                f"新增问题 {len(self.created_problems)} 个："
                + "、".join(self.created_problems)
            )
        for code, before, after in self.status_changes:
            out.append(f"问题{code}状态：{before or '未注明'} → {after}")
        for code, before, after in self.retitled:
            out.append(f"问题{code}标题改为“{after}”（原为“{before}”）。")
        if self.progress_added:
            out.append("记录新的整改进展：" + "、".join(self.progress_added))
        out.extend(self.vanished_lines())
        out.extend(self.notes)
        if len(out) == 1:
            out.append("台账没有变化。")
        return out

    def vanished_lines(self) -> list[str]:
        """Name each problem on the board that this notice no longer lists."""
        return [
            f"问题{entry}在这份通报中没有出现；已保留，未删除。"
            for entry in self.vanished
        ]


def find_round(session: DbSession, reference: str) -> Inspection | None:
    """Return the round whose id, or else exact name, is ``reference``."""
    reference = reference.strip()
    if reference.isdigit():
        found = session.get(Inspection, int(reference))
        if found is not None:
            return found
    return (
        session.execute(
            select(Inspection)
            .where(Inspection.name == reference)
            .order_by(Inspection.id)
        )
        .scalars()
        .first()
    )


def match_round(session: DbSession, parsed: ParsedNotice) -> Inspection | None:
    """Return the round this notice reports on, judged by its own facts."""
    facts = parsed.round
    if facts.inspecting_group:
        found = (
            session.execute(
                select(Inspection)
                .where(Inspection.inspecting_group == facts.inspecting_group)
                .order_by(Inspection.id)
            )
            .scalars()
            .first()
        )
        if found is not None:
            return found
        name = round_name(parsed)
        found = (
            session.execute(
                select(Inspection)
                .where(Inspection.name == name, Inspection.inspecting_group.is_(None))
                .order_by(Inspection.id)
            )
            .scalars()
            .first()
        )
        if found is not None:
            return found
    if facts.title:
        return (
            session.execute(
                select(Inspection)
                .where(Inspection.notice_title == facts.title[:TITLE_MAX])
                .order_by(Inspection.id)
            )
            .scalars()
            .first()
        )
    return None


def round_name(parsed: ParsedNotice) -> str:
    """Name a new round after the inspection (its group number dropped), else the notice."""
    facts = parsed.round
    if facts.inspecting_group:
        # 八届市委第三轮县级交叉巡察第六组 -> 八届市委第三轮县级交叉巡察
        group = facts.inspecting_group
        trimmed = re.sub(rf"第[0-9{HEADING_DIGITS}]+(?:巡察)?组$", "", group)
        return (trimmed if len(trimmed) >= 4 else group)[:NAME_MAX]
    if facts.title:
        return facts.title[:NAME_MAX]
    if facts.published:
        return f"{facts.published} 发布的整改通报"
    return "未命名的巡察轮次"


def _iso(value: str | None) -> date | None:
    if value is None or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def import_notice(
    session: DbSession,
    parsed: ParsedNotice,
    *,
    inspection: Inspection | None = None,
    actor: StaffUser | None = None,
    filename: str | None = None,
    today: date | None = None,
) -> ImportReport:
    """Create or update a round's board from ``parsed``; flush, never commit.

    Problems are matched within their aspect by number and title; a later
    notice updates their status (with a dated history entry), never duplicates
    them, and a problem it no longer lists is reported, not deleted.
    """
    published = _iso(parsed.round.published)
    if today is None:
        today = deadlines.today()
    effective = published or today
    created = (
        inspection is None and (inspection := match_round(session, parsed)) is None
    )
    if inspection is None:
        inspection = Inspection(name=round_name(parsed))
        session.add(inspection)
    before = inspection.published_on
    older = published is not None and before is not None and published < before
    # Only a later notice adds dated progress; the same one again just refreshes.
    later = published is not None and before is not None and published > before
    _update_round(inspection, parsed, published, older=older)

    notice = NoticeImport(
        title=(parsed.round.title or "")[:TITLE_MAX] or None,
        published_on=published,
        source_kind=parsed.document.kind,
        filename=(filename or "")[:255] or None,
        raw_text=parsed.document.raw,
        text=parsed.document.text,
        warnings=json.dumps(list(parsed.warnings), ensure_ascii=False),
        actor=actor,
    )
    inspection.notices.append(notice)
    report = ImportReport(inspection=inspection, notice=notice, created_round=created)
    if older:
        report.notes.append(
            f"这份通报（{published}）早于上次导入的通报（{inspection.published_on}），"
            "只补充缺少的方面和问题，不改变已有的状态。"
        )
    session.flush()

    seen: set[int] = set()
    for parsed_aspect in parsed.aspects:
        aspect = _aspect_for(
            session, inspection, parsed_aspect.number, parsed_aspect.title, report
        )
        for parsed_problem in parsed_aspect.problems:
            problem = _problem_for(aspect, parsed_problem, seen)
            if problem is None:
                problem = _new_problem(aspect, parsed_problem, effective, actor, report)
                session.add(problem)
                session.flush()
            else:
                _update_problem(
                    session,
                    problem,
                    parsed_problem,
                    effective,
                    actor,
                    report,
                    older=older,
                    later=later,
                )
            seen.add(problem.id)

    if parsed.problems:
        for aspect in inspection.aspects:
            for problem in aspect.problems:
                if problem.id not in seen:
                    report.vanished.append(f"{_code(problem)}“{problem.title}”")
    elif not created:
        report.notes.append("这份通报没有逐条列出问题，台账上的问题都未改动。")
    session.flush()
    audit.record(
        session,
        AuditAction.NOTICE_IMPORTED,
        notice,
        actor=actor,
        reason="\n".join(report.lines())[:2000],
    )
    return report


def _keep(current: T | None, new: T | None, *, older: bool) -> T | None:
    """Take the notice's value, but never blank a known one, nor let an older notice win."""
    if new is None or (older and current is not None):
        return current
    return new


def _update_round(
    inspection: Inspection, parsed: ParsedNotice, published: date | None, *, older: bool
) -> None:
    """Copy the round's facts that the notice states."""
    facts = parsed.round
    declared = parsed.declared

    def cut(value: str | None, limit: int) -> str | None:
        return value[:limit] if value else None

    inspection.publishing_body = _keep(
        inspection.publishing_body, cut(facts.publisher, NAME_MAX), older=older
    )
    inspection.inspecting_group = _keep(
        inspection.inspecting_group, cut(facts.inspecting_group, NAME_MAX), older=older
    )
    inspection.notice_title = _keep(
        inspection.notice_title, cut(facts.title, TITLE_MAX), older=older
    )
    inspection.published_on = _keep(inspection.published_on, published, older=older)
    inspection.feedback_date = _keep(
        inspection.feedback_date, _iso(facts.feedback_date), older=older
    )
    if facts.onsite_from or facts.onsite_to:
        period = "/".join(v for v in (facts.onsite_from, facts.onsite_to) if v)
        inspection.onsite_period = _keep(inspection.onsite_period, period, older=older)
        inspection.onsite_start = _keep(
            inspection.onsite_start, _iso(facts.onsite_from), older=older
        )
        inspection.onsite_end = _keep(
            inspection.onsite_end, _iso(facts.onsite_to), older=older
        )
    inspection.declared_aspects = _keep(
        inspection.declared_aspects, declared.aspects, older=older
    )
    inspection.declared_problems = _keep(
        inspection.declared_problems, declared.problems, older=older
    )
    if declared.by_status:
        counts = json.dumps(dict(declared.by_status), ensure_ascii=False)
        inspection.declared_counts = _keep(
            inspection.declared_counts, counts, older=older
        )
    contacts = parsed.contacts
    if contacts.phone or contacts.address or contacts.email:
        channels = json.dumps(
            {
                "phone": list(contacts.phone),
                "address": list(contacts.address),
                "email": list(contacts.email),
            },
            ensure_ascii=False,
        )
        inspection.contacts = _keep(inspection.contacts, channels, older=older)
    if not older:
        inspection.source_text = parsed.document.raw


def _aspect_for(
    session: DbSession,
    inspection: Inspection,
    number: int | None,
    title: str,
    report: ImportReport,
) -> Aspect:
    """Find the aspect by number (else title), or add it.

    Problems under no visible aspect go to aspect number 0, which has no title.
    """
    title = title[:TITLE_MAX]
    for aspect in inspection.aspects:
        if number is not None and aspect.number == number:
            return aspect
        if number is None and title and aspect.title == title:
            return aspect
        if number is None and not title and aspect.number == 0:
            return aspect
    used = {a.number for a in inspection.aspects}
    if number is None:
        number = 0 if not title else max(used | {0}) + 1
    aspect = Aspect(number=number, title=title)
    inspection.aspects.append(aspect)
    session.flush()
    report.created_aspects.append(str(number))
    return aspect


def _same_title(a: str, b: str) -> bool:
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= SAME_TITLE_RATIO


def _problem_for(
    aspect: Aspect, parsed: ParsedProblem, seen: set[int]
) -> Problem | None:
    """Match by number and title, then by title alone, then by number if reworded."""
    title = parsed.title[:TITLE_MAX]
    candidates = [p for p in aspect.problems if p.id not in seen]
    for problem in candidates:
        if problem.number == parsed.number and problem.title == title:
            return problem
    for problem in candidates:
        if problem.title == title:
            return problem
    if parsed.number is not None:
        for problem in candidates:
            if problem.number == parsed.number and _same_title(problem.title, title):
                return problem
    return None


def _new_problem(
    aspect: Aspect,
    parsed: ParsedProblem,
    effective: date,
    actor: StaffUser | None,
    report: ImportReport,
) -> Problem:
    used = {p.number for p in aspect.problems}
    number = parsed.number
    if number is None or number in used:
        wanted = number
        number = max(used | {0}) + 1
        if wanted is not None:
            report.notes.append(
                f"第{aspect.number}方面已有编号为{wanted}的另一个问题，"
                f"新问题“{parsed.title[:20]}”记为{number}号。"
            )
    word = parsed.status[:WORD_MAX] if parsed.status else None
    problem = Problem(
        number=number,
        title=parsed.title[:TITLE_MAX],
        details=parsed.details,
        measures=parsed.measures,
        status_word=word,
        status_kind=status_kind(word),
    )
    aspect.problems.append(problem)
    if word is not None:
        problem.status_changes.append(
            StatusChange(
                from_word=None,
                to_word=word,
                to_kind=status_kind(word),
                reason="据通报",
                effective_on=effective,
                actor=actor,
            )
        )
    report.created_problems.append(f"{aspect.number}.{number}")
    return problem


def _update_problem(
    session: DbSession,
    problem: Problem,
    parsed: ParsedProblem,
    effective: date,
    actor: StaffUser | None,
    report: ImportReport,
    *,
    older: bool,
    later: bool,
) -> None:
    title = parsed.title[:TITLE_MAX]
    if older:
        return
    if problem.title != title:
        report.retitled.append((_code(problem), problem.title, title))
        problem.title = title
    if parsed.number is not None and parsed.number != problem.number:
        taken = {p.number for p in problem.aspect.problems if p is not problem}
        if parsed.number not in taken:
            problem.number = parsed.number
    if parsed.details:
        problem.details = parsed.details
    if parsed.measures and parsed.measures != problem.measures:
        if problem.measures and later:
            problem.progress_updates.append(
                ProgressUpdate(body=parsed.measures, published_on=effective)
            )
            report.progress_added.append(_code(problem))
        problem.measures = parsed.measures
    word = parsed.status[:WORD_MAX] if parsed.status else None
    if word is not None and word != problem.status_word:
        before = problem.status_word
        report.status_changes.append((_code(problem), before, word))
        board.set_status(
            session,
            problem,
            word,
            reason=f"据{effective.isoformat()}通报",
            effective_on=effective,
            actor=actor,
            audit_reason=f"{before or '未注明'} → {word}（据通报）",
        )


def _code(problem: Problem) -> str:
    return f"{problem.aspect.number}.{problem.number}"
