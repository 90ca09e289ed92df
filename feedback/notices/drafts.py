"""What the parser builds while reading: aspects and problems still open to more text."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from feedback.notices.results import ParsedAspect
from feedback.notices.results import ParsedProblem


@dataclass
class ProblemDraft:
    """A problem being read; ``phase`` says whether text goes to details or measures.

    ``status_strength`` ranks where the status came from, so that a weaker
    source never replaces a stronger one: 1 a status in brackets after the
    title, 2 a paragraph that is only a status word or a status word opening
    the measures, 3 a status label.
    """

    number: int | None
    title: str
    kind: str
    details: list[str] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)
    status: str | None = None
    status_strength: int = 0
    phase: str = "details"
    has_status_label: bool = False
    has_measures_label: bool = False
    sub_last: int | None = None

    def add(self, text: str) -> None:
        """Add a paragraph to the part being read."""
        if text:
            (self.measures if self.phase == "measures" else self.details).append(text)

    def freeze(self) -> ParsedProblem:
        """Return the problem as read."""
        return ParsedProblem(
            number=self.number,
            title=self.title,
            details="\n".join(self.details),
            status=self.status,
            measures="\n".join(self.measures),
        )


@dataclass
class AspectDraft:
    """An aspect being read; ``kind`` "none" is the bucket for problems under no aspect."""

    number: int | None
    title: str
    kind: str  # facet section paren inferred none
    problems: list[ProblemDraft] = field(default_factory=list)
    problem_kind: str | None = None
    loose_text: int = 0  # paragraphs inside it that belong to no problem

    def freeze(self) -> ParsedAspect:
        """Return the aspect and its problems as read."""
        return ParsedAspect(
            number=self.number,
            title=self.title,
            problems=tuple(p.freeze() for p in self.problems),
        )
