"""What opens or labels a notice paragraph: headings, problem numbers, labels, status words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from feedback.notices.numerals import HEADING_DIGITS
from feedback.notices.numerals import parse_number
from feedback.statuses import STATUS_WORDS

# Patterns run on normalised, simplified text.

_SECTION = re.compile(rf"^([{HEADING_DIGITS}]+)、\s*(.*)$", re.S)
_FACET = re.compile(
    rf"^第\s*([0-9{HEADING_DIGITS}]+)\s*个?方面\s*[：:，。、.]?\s*(.*)$", re.S
)
_PAREN_CN = re.compile(rf"^（([{HEADING_DIGITS}]+)）\s*(.*)$", re.S)
# 问题1. 问题1： 问题一： (a Chinese numeral needs its separator: 问题一律 is prose).
_QUESTION = re.compile(
    rf"^问题\s*([0-9]{{1,3}}|[{HEADING_DIGITS}]{{1,3}}(?=\s*[.、：，:]))\s*[.、：，:]?\s*(.*)$",
    re.S,
)
_NUM = re.compile(r"^([0-9]{1,3})\s*[.、](?![0-9A-Za-z])\s*(.*)$", re.S)
_PAREN_NUM = re.compile(r"^（?([0-9]{1,3})）\s*(.*)$", re.S)  # （1） and 1）
ABOUT = re.compile(
    r"^关于(.{2,150}?)(?:的)?问题的?整改(?:落实)?(?:情况|进展情况|进展|工作)?"
    r"(?:[。：；]\s*(.*))?$",
    re.S,
)

_STATUS_LABEL = re.compile(
    r"^(?:整改状态|整改进度|完成状态|当前状态|进展状态|完成情况|整改结果)\s*[：:]\s*(.*)$",
    re.S,
)
_MEASURES_LABEL = re.compile(
    r"^(?:整改过程|整改措施|整改情况|整改进展情况|整改进展|整改落实情况|落实情况"
    r"|整改成效|主要措施|具体措施|工作措施|整改举措)\s*[：:。]\s*(.*)$",
    re.S,
)
_DETAILS_LABEL = re.compile(
    r"^(?:具体表现|主要表现|问题表现|存在问题|问题描述|问题情况)\s*[：:]\s*(.*)$", re.S
)
_OTHER_LABEL = re.compile(
    r"^(?:责任单位|责任股室|责任部门|责任领导|责任人|牵头单位|牵头领导|配合单位"
    r"|整改时限|完成时限|整改期限|整改目标)\s*[：:]"
)
# Paragraphs that end the itemised part: an invitation to supervise, a sign-off.
STRONG_CLOSER = re.compile(r"^(?:欢迎|联系方式|联系电话|特此通报|如有意见|如对)")
CLOSER = re.compile(r"^(?:下一步|今后|总体上看|总的来看|从整改情况看)")

# Split paragraphs where a label or a problem starts after a sentence.
EMBEDDED = re.compile(
    rf"(?<=[。；！？])\s*(?=(?:问题[0-9]{{1,3}}[.、：]|第[0-9{HEADING_DIGITS}]+个?方面[：:]"
    r"|整改(?:状态|过程|措施|情况|进展|落实情况|时限|结果)[：:]"
    r"|完成(?:情况|时限)[：:]|责任(?:单位|股室|领导|人)[：:]))"
)
_ASPECT_STYLE = re.compile(
    r"方面(?:的|存在的|存在)?(?:问题)?(?:的?整改(?:落实)?情况)?$"
)
_SECTION_PROBLEMS = re.compile(
    r"问题|整改落实情况|整改情况|整改进展|进展情况|落实情况|立行立改|反馈意见|具体整改"
)
_SECTION_TAIL = re.compile(r"下一步|今后|持续|巩固|长效|深化|常态")
_SECTION_ORG = re.compile(r"重视|领导|组织|部署|认识|站位|思想|担当|机制|举措|措施")

# Known status words, longest first, as a regular-expression alternation.
_KNOWN_WORDS = sorted(STATUS_WORDS, key=len, reverse=True)
STATUS_WORD_ALT = "|".join(re.escape(w) for w in _KNOWN_WORDS)
SOLE_STATUS = re.compile(rf"^[（【\[]?({STATUS_WORD_ALT})[）】\]]?[。]?$")
TRAILING_STATUS = re.compile(rf"[（【\[]({STATUS_WORD_ALT})[）】\]]$")
STATUS_LIKE = re.compile(r"完成|整改|坚持|推进|落实|办结|销号")
# 一是…二是…: the numeral (group 1) and 是 that count off the points of a text.
POINT = rf"([{HEADING_DIGITS}]{{1,3}})是"


def split_heading(text: str) -> tuple[str, str]:
    """Split a paragraph into its heading (to the first 。) and the rest."""
    index = text.find("。")
    if index < 0:
        return text.strip(), ""
    return text[:index].strip(), text[index + 1 :].strip()


def aspect_style(text: str) -> bool:
    """Tell whether a heading names an aspect: ……方面, ……方面存在的问题的整改情况."""
    heading = split_heading(text)[0].rstrip("：:")
    return len(heading) <= 120 and bool(_ASPECT_STYLE.search(heading))


def heading_only(text: str) -> bool:
    """Tell whether a paragraph is a short heading and nothing more."""
    heading, rest = split_heading(text)
    return not rest and len(heading) <= 80


def section_kind(heading: str) -> str:
    """Say what a 一、 section holds: problems, organisation, the tail or neither."""
    if _SECTION_PROBLEMS.search(heading):
        return "problems"
    if _SECTION_TAIL.search(heading):
        return "tail"
    if _SECTION_ORG.search(heading):
        return "org"
    return "neutral"


@dataclass(frozen=True)
class Para:
    """A paragraph and what kind of marker, if any, opens it."""

    text: str
    kind: str  # section facet paren_cn question num paren_num about status measures details other text
    number: int | None = None
    rest: str = ""


def classify(text: str) -> Para:
    """Return the paragraph with the marker or label that opens it."""
    for kind, pattern in (
        ("facet", _FACET),
        ("question", _QUESTION),
        ("section", _SECTION),
        ("paren_cn", _PAREN_CN),
        ("paren_num", _PAREN_NUM),
        ("num", _NUM),
    ):
        match = pattern.match(text)
        if match:
            return Para(text, kind, parse_number(match.group(1)), match.group(2))
    if ABOUT.match(text):
        return Para(text, "about", None, text)
    for kind, pattern in (
        ("status", _STATUS_LABEL),
        ("measures", _MEASURES_LABEL),
        ("details", _DETAILS_LABEL),
    ):
        match = pattern.match(text)
        if match:
            return Para(text, kind, None, match.group(1).strip())
    if _OTHER_LABEL.match(text):
        return Para(text, "other", None, text)
    return Para(text, "text", None, text)


# Kinds of paragraph that open an aspect or a problem.
MARKERS = {"section", "facet", "paren_cn", "question", "num", "paren_num", "about"}
# The usual nesting of Chinese headings: 一、 then （一） then 1. then （1）.
RANK = {"section": 1, "paren_cn": 2, "num": 3, "paren_num": 4}
# Kinds that open a problem, and labels that only a problem has.
PROBLEMISH = {"question", "num", "paren_num", "about"}
LABELS = {"status", "measures"}


def status_value(rest: str) -> tuple[str | None, str]:
    """Return (status word, text after it) from the value of a status label."""
    match = re.match(r"\s*([^。，；！？\s（）]{1,16})", rest)
    if not match:
        return None, rest
    word = match.group(1).strip("“”\"'【】[]")
    return (word or None), rest[match.end() :].lstrip("。，；！？ ")


def leading_status(text: str) -> str | None:
    """Return a known status word that opens ``整改情况：…`` on its own, if any."""
    text = re.sub(r"^(?:目前|当前|现阶段|截至目前)[，]?", "", text)
    match = re.match(rf"({STATUS_WORD_ALT})(?=[。，；]|$)", text)
    return match.group(1) if match else None


def prefix_of_known(word: str) -> bool:
    """Tell whether ``word`` is the start of a longer known status word."""
    return any(known != word and known.startswith(word) for known in STATUS_WORDS)


def title_of(rest: str) -> tuple[str, str, str | None]:
    """Return (title, the rest of the paragraph, status in brackets)."""
    title, remainder = split_heading(rest)
    points = re.search(rf"[：:；，]?\s*{POINT}", title[1:])
    if points:
        cut = points.start() + 1
        remainder = (
            title[cut:].lstrip("：:；， ") + ("。" + remainder if remainder else "")
        ).strip()
        title = title[:cut]
    status = None
    trailing = TRAILING_STATUS.search(title)
    if trailing:
        status = trailing.group(1)
        title = title[: trailing.start()]
    return title.strip().rstrip("：:；，、").strip(), remainder, status
