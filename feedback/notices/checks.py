"""Checking what was read against the numbering and the totals the notice declares."""

from __future__ import annotations

import re
from collections.abc import Sequence

from feedback.notices.drafts import AspectDraft
from feedback.notices.markers import POINT
from feedback.notices.normalise import Document
from feedback.notices.numerals import format_chinese
from feedback.notices.numerals import parse_number
from feedback.notices.results import ParsedNotice

# 一是…二是…: the points a problem's text counts off.
_POINT = re.compile(rf"(?:^|[。；：，！？\s]){POINT}")
# How a complete notice's last paragraph ends.
_FINAL = "。！？!?…”’）)】》"


def check_aspects(aspects: Sequence[AspectDraft]) -> list[str]:
    """Warn about gaps and repeats in the numbering of aspects, problems and points."""
    numbers = [a.number for a in aspects if a.kind != "none"]
    warnings = _check_sequence(numbers, "方面", "")
    last: int | None = None  # some notices number problems on across aspects
    for aspect in aspects:
        where = (
            f"第{aspect.number}方面" if aspect.number is not None else "未分方面的部分"
        )
        shown = [p.number for p in aspect.problems if p.number is not None]
        start = last + 1 if last is not None and shown and shown[0] > 1 else 1
        warnings += _check_sequence(shown, "问题", where, start=start)
        last = shown[-1] if shown else last
        if aspect.kind != "none" and not aspect.problems and aspect.loose_text:
            warnings.append(f"{where}下有文字，但没有识别出逐条列出的问题。")
        for problem in aspect.problems:
            code = f"{where}问题{problem.number if problem.number is not None else ''}"
            warnings += _check_points(problem.details, code, "问题表现")
            warnings += _check_points(problem.measures, code, "整改内容")
    return warnings


def _check_sequence(
    numbers: Sequence[int | None], what: str, where: str, *, start: int = 1
) -> list[str]:
    shown = [n for n in numbers if n is not None]
    if not shown:
        return []
    warnings: list[str] = []
    seen: set[int] = set()
    previous = None
    for number in shown:
        if number in seen:
            warnings.append(f"{where}{what}编号{number}出现了不止一次。")
        elif previous is not None and number != previous + 1 and number > previous:
            missing = "、".join(str(n) for n in range(previous + 1, number))
            warnings.append(
                f"{where}{what}编号从{previous}跳到{number}，缺少{missing}。"
            )
        seen.add(number)
        previous = number
    if shown[0] not in (1, start):
        warnings.append(f"{where}{what}编号从{shown[0]}开始，而不是从1开始。")
    return warnings


def _check_points(texts: Sequence[str], code: str, part: str) -> list[str]:
    numbers = [parse_number(m.group(1)) for m in _POINT.finditer("\n".join(texts))]
    shown = [n for n in numbers if n is not None]
    warnings: list[str] = []
    for before, after in zip(shown, shown[1:], strict=False):
        if after == before:
            warnings.append(f"{code}的{part}中“{format_chinese(before)}是”出现了两次。")
        elif after > before + 1:
            warnings.append(
                f"{code}的{part}中“{format_chinese(before)}是”之后是“{format_chinese(after)}是”。"
            )
    return warnings


def check_totals(notice: ParsedNotice) -> list[str]:
    """Warn where the notice lists no problems, or its totals disagree with the list."""
    warnings: list[str] = []
    if not notice.problems:
        if notice.declared.problems or notice.declared.by_status:
            warnings.append(
                "这份通报没有逐条列出问题，未读出任何问题；只记录了通报声明的总数。"
            )
        else:
            warnings.append(
                "这份通报没有逐条列出问题，也没有声明问题总数；未读出任何问题。"
            )
    for check in notice.checks():
        if check.found is None:
            warnings.append(
                f"通报只在概述中说“{check.label}”{check.declared}个，没有逐条注明状态。"
            )
        elif not check.agrees and notice.problems:
            warnings.append(
                f"通报声明{check.label}{check.declared}个，实际读出{check.found}个。"
            )
    return warnings


def check_end(paragraphs: Sequence[str], document: Document) -> list[str]:
    """Warn about an empty notice, or one that stops in the middle of a sentence."""
    if not paragraphs:
        return ["通报内容为空。"]
    if document.cut_short and paragraphs[-1][-1] not in _FINAL:
        return ["通报在句子中间结束，可能不完整。"]
    return []
