"""Plain functions that make rows for tests, with overridable defaults."""

from __future__ import annotations

from sqlalchemy.orm import Session

from feedback.models import Problem
from feedback.models import SubmissionKind
from feedback.services import submissions


def submit(
    session: Session,
    *,
    kind: SubmissionKind = SubmissionKind.OPINION,
    subject: str = "操场开放时间",
    body: str = "希望周末开放学校操场。",
    problem: Problem | None = None,
    author: submissions.Author | None = None,
) -> submissions.Receipt:
    return submissions.submit(
        session,
        kind=kind,
        subject=subject,
        body=body,
        problem=problem,
        author=author or submissions.Author(),
    )
