"""What a parsed notice holds: the round's facts, declared totals, aspects, problems, contacts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from feedback.notices.normalise import Document
from feedback.statuses import status_kind


@dataclass(frozen=True)
class ParsedProblem:
    """One problem as the notice states it."""

    number: int | None
    title: str
    details: str = ""
    status: str | None = None
    measures: str = ""


@dataclass(frozen=True)
class ParsedAspect:
    """One aspect and its problems; ``number`` is None for problems under no aspect."""

    number: int | None
    title: str
    problems: tuple[ParsedProblem, ...] = ()


@dataclass(frozen=True)
class RoundFacts:
    """The inspection round's facts, where the notice states them."""

    title: str | None = None
    publisher: str | None = None
    published: str | None = None  # YYYY-MM-DD
    inspecting_group: str | None = None
    onsite_from: str | None = None  # YYYY-MM-DD, YYYY-MM or YYYY
    onsite_to: str | None = None
    feedback_date: str | None = None


@dataclass(frozen=True)
class Declared:
    """The totals the notice itself declares."""

    aspects: int | None = None
    problems: int | None = None
    by_status: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Contacts:
    """Channels the notice gives for public supervision."""

    phone: tuple[str, ...] = ()
    address: tuple[str, ...] = ()
    email: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """One declared total beside what was found; ``found`` None means not comparable."""

    label: str
    declared: int
    found: int | None

    @property
    def agrees(self) -> bool:
        return self.found == self.declared


@dataclass(frozen=True)
class ParsedNotice:
    """Everything read from one notice, and the document it came from."""

    round: RoundFacts
    declared: Declared
    aspects: tuple[ParsedAspect, ...]
    contacts: Contacts
    warnings: tuple[str, ...]
    document: Document

    @property
    def problems(self) -> list[tuple[ParsedAspect, ParsedProblem]]:
        """Return every problem with its aspect, in notice order."""
        return [(a, p) for a in self.aspects for p in a.problems]

    @property
    def visible_aspects(self) -> list[ParsedAspect]:
        """Return the aspects the notice names (not the bucket for loose problems)."""
        return [a for a in self.aspects if a.number is not None or a.title]

    def found_by_status(self) -> dict[str, int]:
        """Count the problems by published status word; None is not counted."""
        counts = Counter(p.status for _a, p in self.problems if p.status)
        return dict(counts)

    def checks(self) -> tuple[Check, ...]:
        """Compare each declared total with what was found."""
        found_problems = len(self.problems)
        result: list[Check] = []
        if self.declared.aspects is not None:
            result.append(
                Check("方面", self.declared.aspects, len(self.visible_aspects))
            )
        if self.declared.problems is not None:
            result.append(Check("问题", self.declared.problems, found_problems))
        statused = [p for _a, p in self.problems if p.status]
        for word, declared in self.declared.by_status:
            if not statused:
                result.append(Check(word, declared, None))
                continue
            kind = status_kind(word)
            if kind is None:
                found = sum(1 for p in statused if p.status == word)
            else:
                found = sum(1 for p in statused if status_kind(p.status) is kind)
            result.append(Check(word, declared, found))
        return tuple(result)

    def to_json(self) -> dict[str, Any]:
        """Return the notice as the ``notices import --json`` shape."""
        r = self.round
        return {
            "round": {
                "title": r.title,
                "publisher": r.publisher,
                "published": r.published,
                "inspecting_group": r.inspecting_group,
                "onsite_from": r.onsite_from,
                "onsite_to": r.onsite_to,
                "feedback_date": r.feedback_date,
            },
            "declared": {
                "aspects": self.declared.aspects,
                "problems": self.declared.problems,
                "by_status": dict(self.declared.by_status),
            },
            "aspects": [
                {
                    "number": a.number,
                    "title": a.title,
                    "problems": [
                        {"number": p.number, "title": p.title, "status": p.status}
                        for p in a.problems
                    ],
                }
                for a in self.aspects
            ],
            "contacts": {
                "phone": list(self.contacts.phone),
                "address": list(self.contacts.address),
                "email": list(self.contacts.email),
            },
            "warnings": list(self.warnings),
        }
