"""Turning notice paragraphs into round facts, totals, aspects, problems and contacts."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from typing import Any

from feedback.notices import normalise
from feedback.notices.normalise import Document
from feedback.notices.numerals import format_chinese
from feedback.notices.numerals import NUMBER
from feedback.notices.numerals import parse_number
from feedback.statuses import status_kind
from feedback.statuses import STATUS_WORDS

# Titles longer than this are cut (and a warning says so); the board keeps 500.
MAX_TITLE = 300

CN = "一二三四五六七八九十"

# ---------------------------------------------------------------------------
# Results


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


# ---------------------------------------------------------------------------
# Entry points


def parse_bytes(data: bytes, filename: str | None = None) -> ParsedNotice:
    """Read and parse a notice file; raises ``UnreadableNotice`` only if unreadable."""
    return parse(normalise.read(data, filename))


def parse_text(text: str) -> ParsedNotice:
    """Parse a notice given as text (for instance pasted into a form)."""
    if normalise.looks_like_html(text):
        return parse(normalise.from_html(text))
    return parse(normalise.from_text(text))


def parse(document: Document) -> ParsedNotice:
    """Parse a normalised document; never raises on any text.

    A small state machine reads the paragraphs and reports only what the text
    shows: a status, a problem or a total not written in the notice is never
    made up. What it cannot place, and every total that disagrees with what it
    found, becomes a warning. Structures recognised:

    - aspects: 第X方面; 一、…方面 or （一）…方面 headings; and, where a notice
      has none of those, a heading-only （一） directly followed by problems;
    - problems: 问题N., N./N、/（N）, （一） under a higher aspect,
      关于“…”问题的整改…, and a bare sentence followed by 整改情况;
    - statuses: a 整改状态：… label, a status word opening 整改情况：…, a status
      in brackets after a title, or a paragraph that is only a status word;
    - totals: 4个方面18个问题, 六个方面, 已完成整改19个、正在整改6个.
    """
    return _Parser(document).run()


# ---------------------------------------------------------------------------
# Paragraph patterns (on normalised, simplified text)

_SECTION = re.compile(rf"^([{CN}]+)、\s*(.*)$", re.S)
_FACET = re.compile(rf"^第\s*([0-9{CN}]+)\s*个?方面\s*[：:，。、.]?\s*(.*)$", re.S)
_PAREN_CN = re.compile(rf"^（([{CN}]+)）\s*(.*)$", re.S)
# 问题1. 问题1： 问题一： (a Chinese numeral needs its separator: 问题一律 is prose).
_QUESTION = re.compile(
    rf"^问题\s*([0-9]{{1,3}}|[{CN}]{{1,3}}(?=\s*[.、：，:]))\s*[.、：，:]?\s*(.*)$",
    re.S,
)
_NUM = re.compile(r"^([0-9]{1,3})\s*[.、](?![0-9A-Za-z])\s*(.*)$", re.S)
_PAREN_NUM = re.compile(r"^（?([0-9]{1,3})）\s*(.*)$", re.S)  # （1） and 1）
_ABOUT = re.compile(
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
_STRONG_CLOSER = re.compile(r"^(?:欢迎|联系方式|联系电话|特此通报|如有意见|如对)")
_CLOSER = re.compile(r"^(?:下一步|今后|总体上看|总的来看|从整改情况看)")

# Split paragraphs where a label or a problem starts after a sentence.
_EMBEDDED = re.compile(
    rf"(?<=[。；！？])\s*(?=(?:问题[0-9]{{1,3}}[.、：]|第[0-9{CN}]+个?方面[：:]"
    r"|整改(?:状态|过程|措施|情况|进展|落实情况|时限|结果)[：:]"
    r"|完成(?:情况|时限)[：:]|责任(?:单位|股室|领导|人)[：:]))"
)
_ASPECT_STYLE = re.compile(
    r"方面(?:的|存在的|存在)?(?:问题)?(?:的?整改(?:落实)?情况)?$"
)
_POINT = re.compile(rf"(?:^|[。；：，！？\s])([{CN}]{{1,3}})是")

_SECTION_PROBLEMS = re.compile(
    r"问题|整改落实情况|整改情况|整改进展|进展情况|落实情况|立行立改|反馈意见|具体整改"
)
_SECTION_TAIL = re.compile(r"下一步|今后|持续|巩固|长效|深化|常态")
_SECTION_ORG = re.compile(r"重视|领导|组织|部署|认识|站位|思想|担当|机制|举措|措施")

_KNOWN_WORDS = sorted(STATUS_WORDS, key=len, reverse=True)
_WORD_ALT = "|".join(re.escape(w) for w in _KNOWN_WORDS)
_SOLE_STATUS = re.compile(rf"^[（【\[]?({_WORD_ALT})[）】\]]?[。]?$")
_TRAILING_STATUS = re.compile(rf"[（【\[]({_WORD_ALT})[）】\]]$")
_STATUS_LIKE = re.compile(r"完成|整改|坚持|推进|落实|办结|销号")


def _heading(text: str) -> tuple[str, str]:
    """Split a paragraph into its heading (to the first 。) and the rest."""
    index = text.find("。")
    if index < 0:
        return text.strip(), ""
    return text[:index].strip(), text[index + 1 :].strip()


def _aspect_style(text: str) -> bool:
    heading = _heading(text)[0].rstrip("：:")
    return len(heading) <= 120 and bool(_ASPECT_STYLE.search(heading))


def _heading_only(text: str) -> bool:
    heading, rest = _heading(text)
    return not rest and len(heading) <= 80


def _section_kind(heading: str) -> str:
    if _SECTION_PROBLEMS.search(heading):
        return "problems"
    if _SECTION_TAIL.search(heading):
        return "tail"
    if _SECTION_ORG.search(heading):
        return "org"
    return "neutral"


@dataclass(frozen=True)
class _Para:
    """A paragraph and what kind of marker, if any, opens it."""

    text: str
    kind: str  # section facet paren_cn question num paren_num about status measures details other text
    number: int | None = None
    rest: str = ""


def _classify(text: str) -> _Para:
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
            return _Para(text, kind, parse_number(match.group(1)), match.group(2))
    if _ABOUT.match(text):
        return _Para(text, "about", None, text)
    for kind, pattern in (
        ("status", _STATUS_LABEL),
        ("measures", _MEASURES_LABEL),
        ("details", _DETAILS_LABEL),
    ):
        match = pattern.match(text)
        if match:
            return _Para(text, kind, None, match.group(1).strip())
    if _OTHER_LABEL.match(text):
        return _Para(text, "other", None, text)
    return _Para(text, "text", None, text)


_MARKERS = {"section", "facet", "paren_cn", "question", "num", "paren_num", "about"}
# The usual nesting of Chinese headings: 一、 then （一） then 1. then （1）.
_RANK = {"section": 1, "paren_cn": 2, "num": 3, "paren_num": 4}
_PROBLEMISH = {"question", "num", "paren_num", "about"}
_LABELS = {"status", "measures"}


# ---------------------------------------------------------------------------
# Drafts built while reading


@dataclass
class _ProblemDraft:
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
        if text:
            (self.measures if self.phase == "measures" else self.details).append(text)

    def freeze(self) -> ParsedProblem:
        return ParsedProblem(
            number=self.number,
            title=self.title,
            details="\n".join(self.details),
            status=self.status,
            measures="\n".join(self.measures),
        )


@dataclass
class _AspectDraft:
    number: int | None
    title: str
    kind: str  # facet section paren inferred none
    problems: list[_ProblemDraft] = field(default_factory=list)
    problem_kind: str | None = None
    loose_text: int = 0  # paragraphs inside it that belong to no problem

    def freeze(self) -> ParsedAspect:
        return ParsedAspect(
            number=self.number,
            title=self.title,
            problems=tuple(p.freeze() for p in self.problems),
        )


def _status_value(rest: str) -> tuple[str | None, str]:
    """Return (status word, text after it) from the value of a status label."""
    match = re.match(r"\s*([^。，；！？\s（）]{1,16})", rest)
    if not match:
        return None, rest
    word = match.group(1).strip("“”\"'【】[]")
    return (word or None), rest[match.end() :].lstrip("。，；！？ ")


def _leading_status(text: str) -> str | None:
    """Return a known status word that opens ``整改情况：…`` on its own, if any."""
    text = re.sub(r"^(?:目前|当前|现阶段|截至目前)[，]?", "", text)
    match = re.match(rf"({_WORD_ALT})(?=[。，；]|$)", text)
    return match.group(1) if match else None


# ---------------------------------------------------------------------------
# The parser


class _Parser:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.paras = [_classify(t) for t in self._split(document.paragraphs)]
        self.warnings: list[str] = []
        self.aspects: list[_AspectDraft] = []
        self.aspect: _AspectDraft | None = None
        self.problem: _ProblemDraft | None = None
        self.loose: _AspectDraft | None = None  # problems under no aspect
        self.region: str | None = None  # kind of the current 一、 section
        self.outside: list[tuple[int, str]] = []  # paragraphs in no problem or aspect
        self.first_item: int | None = None  # index of the first aspect or problem
        kinds = [p.kind for p in self.paras]
        self.facet_mode = "facet" in kinds
        self.section_mode = not self.facet_mode and any(
            p.kind == "section" and _aspect_style(p.rest) for p in self.paras
        )
        self.paren_mode = (
            not self.facet_mode
            and not self.section_mode
            and any(p.kind == "paren_cn" and _aspect_style(p.rest) for p in self.paras)
        )
        self.infer_mode = not (self.facet_mode or self.section_mode or self.paren_mode)
        last = [i for i, p in enumerate(self.paras) if p.kind in _MARKERS]
        self.last_marker = last[-1] if last else -1
        self.cut_short = _cut_short(document)

    @staticmethod
    def _split(paragraphs: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for paragraph in paragraphs:
            out.extend(
                part.strip() for part in _EMBEDDED.split(paragraph) if part.strip()
            )
        return out

    # -- the walk ---------------------------------------------------------

    def run(self) -> ParsedNotice:
        for index, para in enumerate(self.paras):
            self._step(index, para)
        aspects = list(self.aspects)
        if self.loose is not None and self.loose.problems:
            aspects.insert(0, self.loose)
        notice = ParsedNotice(
            round=self._facts(),
            declared=self._declared(),
            aspects=tuple(a.freeze() for a in aspects),
            contacts=self._contacts(),
            warnings=(),
            document=self.document,
        )
        self._check_aspects(aspects)
        self._check_totals(notice)
        self._check_end()
        return replace(notice, warnings=tuple(dict.fromkeys(self.warnings)))

    def _step(self, index: int, para: _Para) -> None:
        kind = para.kind
        if kind == "text" and self._closes(index, para.text):
            self._close_all()
            self.region = "tail"
            self.outside.append((index, para.text))
            return
        if kind == "section":
            if _ABOUT.match(para.rest):
                self._open_problem(index, para.number, para.rest, "section", about=True)
            elif self.section_mode and _aspect_style(para.rest):
                self._open_aspect(index, para.number, para.rest, "section")
            else:
                self._close_all()
                self.region = _section_kind(para.rest)
                self.outside.append((index, para.text))
            return
        if kind == "facet":
            self._open_aspect(index, para.number, para.rest, "facet")
            return
        if kind == "question":
            about = bool(_ABOUT.match(para.rest))
            self._open_problem(index, para.number, para.rest, "num", about=about)
            return
        if kind == "about":
            self._open_problem(index, None, para.rest, "about", about=True)
            return
        if kind in ("paren_cn", "num", "paren_num"):
            self._numbered(index, para)
            return
        if kind == "status":
            self._status_label(para)
            return
        if kind == "measures":
            self._measures_label(para)
            return
        if kind == "details":
            if self.problem is not None:
                self.problem.phase = "details"
                self.problem.add(para.rest)
            else:
                self._unplaced(index, para.text)
            return
        self._text(index, para)

    def _closes(self, index: int, text: str) -> bool:
        if _STRONG_CLOSER.match(text) or ("欢迎" in text[:40] and "监督" in text):
            return True
        return bool(_CLOSER.match(text)) and index > self.last_marker

    def _numbered(self, index: int, para: _Para) -> None:
        kind, number = para.kind, para.number
        aspect = self.aspect
        current = (aspect or self.loose or _AspectDraft(None, "", "none")).problem_kind
        deeper = (
            current in _RANK
            and _RANK[kind] > _RANK[current]
            and self.problem is not None
        )
        if _ABOUT.match(para.rest) and not deeper:
            # 1.关于“…”问题的整改 names a problem, unless it sits one level
            # below the problems of its aspect, as (1) under 1. does.
            self._open_problem(index, number, para.rest, kind, about=True)
            return
        if kind == "paren_cn":
            if self.paren_mode and _aspect_style(para.rest):
                self._open_aspect(index, number, para.rest, "paren")
                return
            if (
                self.infer_mode
                and self.region not in ("org", "tail")
                and _heading_only(para.rest)
                and index + 1 < len(self.paras)
                and self.paras[index + 1].kind in _PROBLEMISH
            ):
                self._open_aspect(index, number, para.rest, "inferred")
                return
        if aspect is not None:
            rank_ok = {
                "paren_cn": aspect.kind in ("facet", "section"),
                "num": True,
                "paren_num": True,
            }[kind]
            if rank_ok and aspect.problem_kind in (None, kind):
                if self._is_sub_item(index, number, kind):
                    self._text(index, para, numbered=True)
                    return
                self._open_problem(index, number, para.rest, kind)
                return
            self._text(index, para, numbered=True)
            return
        # Not under an aspect: a problem only where labels prove it, or where it
        # continues a run of loose problems of the same kind; never among the
        # numbered steps of "how we organised the work".
        if self.region == "org":
            self._text(index, para, numbered=True)
            return
        loose = self.loose
        continues = (
            loose is not None
            and loose.problem_kind == kind
            and self.problem is not None
            and not self._is_sub_item(index, number, kind)
        )
        if continues or self._label_follows(index):
            self._open_problem(index, number, para.rest, kind)
        else:
            self._text(index, para, numbered=True)

    def _is_sub_item(self, index: int, number: int | None, kind: str) -> bool:
        """Tell a numbered point inside a problem from the next problem."""
        problem = self.problem
        if problem is None or problem.kind != kind or number is None:
            return False
        if problem.number is None:
            return number == 1 and bool(problem.details or problem.measures)
        next_problem = number == problem.number + 1
        continues_list = problem.sub_last is not None and number == problem.sub_last + 1
        if continues_list and next_problem:
            return not self._label_follows(index)
        if continues_list:
            return True
        if next_problem:
            return False
        if number == 1 and (problem.details or problem.measures):
            return True
        return number <= problem.number

    def _label_follows(self, index: int) -> bool:
        for para in self.paras[index + 1 : index + 5]:
            if para.kind in _LABELS:
                return True
            if para.kind in _MARKERS:
                return False
        return False

    def _text(self, index: int, para: _Para, *, numbered: bool = False) -> None:
        text = para.text
        problem = self.problem
        if problem is not None and numbered and para.number is not None:
            problem.sub_last = para.number
        if not numbered and self._bare_problem(index, text):
            self._open_problem(index, None, text, "bare")
            return
        if problem is not None:
            sole = _SOLE_STATUS.match(text)
            if sole and problem.status_strength < 2:
                problem.status, problem.status_strength = sole.group(1), 2
                return
            problem.add(text)
            return
        if self.aspect is not None:
            if not self.aspect.title and not self.aspect.problems:
                self.aspect.title = self._title_of(text)[0]
            else:
                self.aspect.loose_text += 1
            return
        self.outside.append((index, text))

    def _bare_problem(self, index: int, text: str) -> bool:
        """A sentence followed by 整改情况 is a problem's title."""
        if index + 1 >= len(self.paras):
            return False
        following = self.paras[index + 1].kind
        if following not in _LABELS:
            return False
        heading = _heading(text)[0]
        if not heading or len(heading) > 100 or re.match(rf"[{CN}]+是", heading):
            return False
        if self.aspect is None and self.region == "org":
            return False
        problem = self.problem
        if problem is None:
            return True
        if following == "measures":
            return problem.has_measures_label
        return problem.has_status_label

    def _status_label(self, para: _Para) -> None:
        problem = self.problem
        if problem is None:
            self.warnings.append(
                f"有一处整改状态不属于任何问题，未采用：“{para.text[:40]}”"
            )
            return
        problem.has_status_label = True
        word, after = _status_value(para.rest)
        final = para is self.paras[-1] and self.cut_short
        if word is None:
            self.warnings.append(f"{self._code(problem)}的整改状态为空。")
        elif final and (word not in STATUS_WORDS or self._prefix_of_known(word)):
            # The text ends here: the word may be cut short, so it is not used.
            word = None
        elif word not in STATUS_WORDS and not _STATUS_LIKE.search(word):
            self.warnings.append(
                f"{self._code(problem)}的整改状态“{word}”不像状态用语，未采用。"
            )
            word = None
        elif word not in STATUS_WORDS:
            self.warnings.append(
                f"{self._code(problem)}的整改状态“{word}”不在已知用语中，按原文保留。"
            )
        if word is not None:
            if problem.status_strength >= 3 and problem.status != word:
                self.warnings.append(
                    f"{self._code(problem)}写了两个整改状态（“{problem.status}”和“{word}”），采用第一个。"
                )
            elif problem.status_strength < 3:
                problem.status, problem.status_strength = word, 3
        if after:
            problem.phase = "measures"
            problem.add(after)

    @staticmethod
    def _prefix_of_known(word: str) -> bool:
        return any(known != word and known.startswith(word) for known in STATUS_WORDS)

    def _measures_label(self, para: _Para) -> None:
        problem = self.problem
        if problem is None:
            self._unplaced(-1, para.text)
            return
        problem.phase = "measures"
        problem.has_measures_label = True
        leading = _leading_status(para.rest)
        if leading and problem.status_strength < 2:
            problem.status, problem.status_strength = leading, 2
        problem.add(para.rest)

    def _unplaced(self, index: int, text: str) -> None:
        self.warnings.append(f"有一段文字无法归入任何问题：“{text[:40]}”")
        if index >= 0:
            self.outside.append((index, text))

    # -- opening and closing ---------------------------------------------

    def _close_problem(self) -> None:
        self.problem = None

    def _close_all(self) -> None:
        self._close_problem()
        self.aspect = None

    def _open_aspect(
        self, index: int, number: int | None, rest: str, kind: str
    ) -> None:
        self._close_all()
        title = _heading(rest)[0].rstrip("：:").strip()
        aspect = _AspectDraft(number=number, title=title[:MAX_TITLE], kind=kind)
        self.aspects.append(aspect)
        self.aspect = aspect
        if self.first_item is None:
            self.first_item = index

    def _open_problem(
        self,
        index: int,
        number: int | None,
        rest: str,
        kind: str,
        *,
        about: bool = False,
    ) -> None:
        self._close_problem()
        if about:
            match = _ABOUT.match(rest)
            assert match is not None
            title = match.group(1).strip()
            if title.startswith("“") and title.endswith("”") and title.count("“") == 1:
                title = title[1:-1]
            remainder, heading_status = (match.group(2) or "").strip(), None
        else:
            title, remainder, heading_status = self._title_of(rest)
        if not title:
            self.warnings.append(
                f"编号之后没有问题标题，已跳过：“{rest[:40] or index}”"
            )
            return
        if len(title) > MAX_TITLE:
            self.warnings.append(
                f"问题标题过长，只保留前{MAX_TITLE}字：“{title[:20]}…”"
            )
            title = title[:MAX_TITLE]
        aspect = self.aspect
        if aspect is None:
            if self.loose is None:
                self.loose = _AspectDraft(number=None, title="", kind="none")
            aspect = self.loose
        if aspect.problem_kind is None and kind in ("paren_cn", "num", "paren_num"):
            aspect.problem_kind = kind
        problem = _ProblemDraft(number=number, title=title, kind=kind)
        if heading_status:
            problem.status, problem.status_strength = heading_status, 1
        if about:
            problem.phase = "measures"
            leading = _leading_status(remainder)
            if leading:
                problem.status, problem.status_strength = leading, 2
        problem.add(remainder)
        aspect.problems.append(problem)
        self.problem = problem
        if self.first_item is None:
            self.first_item = index

    @staticmethod
    def _title_of(rest: str) -> tuple[str, str, str | None]:
        """Return (title, the rest of the paragraph, status in brackets)."""
        title, remainder = _heading(rest)
        points = re.search(rf"[：:；，]?\s*[{CN}]是", title[1:])
        if points:
            cut = points.start() + 1
            remainder = (
                title[cut:].lstrip("：:；， ") + ("。" + remainder if remainder else "")
            ).strip()
            title = title[:cut]
        status = None
        trailing = _TRAILING_STATUS.search(title)
        if trailing:
            status = trailing.group(1)
            title = title[: trailing.start()]
        return title.strip().rstrip("：:；，、").strip(), remainder, status

    # -- facts ------------------------------------------------------------

    def _preamble(self) -> list[str]:
        end = self.first_item if self.first_item is not None else len(self.paras)
        return [text for index, text in self.outside if index < end]

    def _declared(self) -> Declared:
        aspects: int | None = None
        problems: int | None = None
        by_status: dict[str, int] = {}
        text = "\n".join(t for _i, t in self.outside)
        for sentence in _sentences(text):
            for value, what in _declared_totals(sentence):
                if what == "aspects":
                    if aspects is None:
                        aspects = value
                    elif aspects != value:
                        self.warnings.append(
                            f"通报前后说的方面总数不一致（{aspects}和{value}），采用前者。"
                        )
                else:
                    if problems is None:
                        problems = value
                    elif problems != value:
                        self.warnings.append(
                            f"通报前后说的问题总数不一致（{problems}和{value}），采用前者。"
                        )
            for word, value in _declared_statuses(sentence):
                if word not in by_status:
                    by_status[word] = value
                elif by_status[word] != value:
                    self.warnings.append(
                        f"通报前后说的“{word}”数量不一致（{by_status[word]}和{value}），采用前者。"
                    )
        return Declared(
            aspects=aspects, problems=problems, by_status=tuple(by_status.items())
        )

    def _facts(self) -> RoundFacts:
        document = self.document
        head = [
            t
            for i, t in self.outside
            if i < 15 and (self.first_item is None or i < self.first_item)
        ]
        title = _find_title(head) or document.meta_value("ArticleTitle", "og:title")
        published = None
        source = None
        for text in head:
            if published is None:
                # 发布时间：… anywhere in the page chrome; a bare 日期：… only on a
                # short line, where it cannot be a date in the body.
                label = re.search(
                    r"(?:发布时间|发布日期|发文日期|成文日期)[：:]\s*(.{6,20})", text
                ) or (
                    re.search(r"(?:日期|时间)[：:]\s*(.{6,20})", text)
                    if len(text) <= 100
                    else None
                )
                if label:
                    published = _iso_date(label.group(1))
            if source is None:
                label = re.search(
                    r"(?:来源|信息来源|发布机构|发布单位)[：:]\s*([^\s：:]{2,40})", text
                )
                if label:
                    source = (
                        re.split(
                            r"发布|时间|日期|作者|浏览|阅读|访问|点击|字号|分享|打印|【",
                            label.group(1),
                        )[0]
                        or None
                    )
        if published is None:
            meta = document.meta_value(
                "PubDate", "publishdate", "article:published_time", "firstpublishedtime"
            )
            published = _iso_date(meta) if meta else None
        tail = [t for _i, t in self.outside[-4:]]
        signature_date = next((d for t in tail if (d := _sole_date(t))), None)
        published = published or signature_date
        signer = next((t for t in reversed(tail) if _signer(t)), None)
        issuer = _issuer(title) if title else None
        publisher = (
            issuer or signer or source or document.meta_value("ContentSource", "author")
        )

        intro = _sentences("\n".join(self._preamble()))
        group = onsite_from = onsite_to = feedback = None
        for sentence in intro:
            if not re.search("巡察|巡视", sentence):
                continue
            if group is None:
                group = _inspecting_group(sentence)
            span = _ONSITE.search(sentence)
            if span and "反馈" in sentence[: span.start()]:
                span = None
            if onsite_from is None:
                if span:
                    onsite_from, onsite_to = _onsite(span)
                else:
                    onsite_from = _date_before(sentence, r"进驻|开展|进行|实施")
            if feedback is None and "反馈" in sentence:
                feedback = _date_before(sentence, "反馈", skip=span)
        return RoundFacts(
            title=title,
            publisher=publisher,
            published=published,
            inspecting_group=group,
            onsite_from=onsite_from,
            onsite_to=onsite_to,
            feedback_date=feedback,
        )

    def _contacts(self) -> Contacts:
        phones: list[str] = []
        addresses: list[str] = []
        emails: list[str] = []
        for _index, text in self.outside:
            emails += _EMAIL.findall(text)
            if re.search("电话|热线|联系方式|举报|监督", text):
                for match in _PHONE_LABELLED.finditer(text):
                    phones += _PHONE.findall(match.group(1))
            for match in _ADDRESS.finditer(text):
                addresses.append(match.group(1).strip())
        return Contacts(
            phone=tuple(dict.fromkeys(phones)),
            address=tuple(dict.fromkeys(a for a in addresses if a)),
            email=tuple(dict.fromkeys(emails)),
        )

    # -- checks -----------------------------------------------------------

    def _code(self, problem: _ProblemDraft) -> str:
        for aspect in [*self.aspects, *([self.loose] if self.loose else [])]:
            if problem in aspect.problems:
                where = f"第{aspect.number}方面" if aspect.number is not None else ""
                number = problem.number if problem.number is not None else "（无编号）"
                return f"{where}问题{number}"
        return "问题"

    def _check_aspects(self, aspects: list[_AspectDraft]) -> None:
        numbers = [a.number for a in aspects if a.kind != "none"]
        self._check_sequence(numbers, "方面", "")
        last: int | None = None  # some notices number problems on across aspects
        for aspect in aspects:
            where = (
                f"第{aspect.number}方面"
                if aspect.number is not None
                else "未分方面的部分"
            )
            shown = [p.number for p in aspect.problems if p.number is not None]
            start = last + 1 if last is not None and shown and shown[0] > 1 else 1
            self._check_sequence(shown, "问题", where, start=start)
            last = shown[-1] if shown else last
            if aspect.kind != "none" and not aspect.problems and aspect.loose_text:
                self.warnings.append(f"{where}下有文字，但没有识别出逐条列出的问题。")
            for problem in aspect.problems:
                code = (
                    f"{where}问题{problem.number if problem.number is not None else ''}"
                )
                self._check_points(problem.details, code, "问题表现")
                self._check_points(problem.measures, code, "整改内容")

    def _check_sequence(
        self, numbers: list[int | None], what: str, where: str, *, start: int = 1
    ) -> None:
        shown = [n for n in numbers if n is not None]
        if not shown:
            return
        seen: set[int] = set()
        previous = None
        for number in shown:
            if number in seen:
                self.warnings.append(f"{where}{what}编号{number}出现了不止一次。")
            elif previous is not None and number != previous + 1 and number > previous:
                missing = "、".join(str(n) for n in range(previous + 1, number))
                self.warnings.append(
                    f"{where}{what}编号从{previous}跳到{number}，缺少{missing}。"
                )
            seen.add(number)
            previous = number
        if shown[0] not in (1, start):
            self.warnings.append(f"{where}{what}编号从{shown[0]}开始，而不是从1开始。")

    def _check_points(self, texts: list[str], code: str, part: str) -> None:
        numbers = [parse_number(m.group(1)) for m in _POINT.finditer("\n".join(texts))]
        shown = [n for n in numbers if n is not None]
        for before, after in zip(shown, shown[1:], strict=False):
            if after == before:
                self.warnings.append(f"{code}的{part}中“{_cn(before)}是”出现了两次。")
            elif after > before + 1:
                self.warnings.append(
                    f"{code}的{part}中“{_cn(before)}是”之后是“{_cn(after)}是”。"
                )

    def _check_totals(self, notice: ParsedNotice) -> None:
        if not notice.problems:
            if notice.declared.problems or notice.declared.by_status:
                self.warnings.append(
                    "这份通报没有逐条列出问题，未读出任何问题；只记录了通报声明的总数。"
                )
            else:
                self.warnings.append(
                    "这份通报没有逐条列出问题，也没有声明问题总数；未读出任何问题。"
                )
        for check in notice.checks():
            if check.found is None:
                self.warnings.append(
                    f"通报只在概述中说“{check.label}”{check.declared}个，没有逐条注明状态。"
                )
            elif not check.agrees and notice.problems:
                self.warnings.append(
                    f"通报声明{check.label}{check.declared}个，实际读出{check.found}个。"
                )

    def _check_end(self) -> None:
        if not self.paras:
            self.warnings.append("通报内容为空。")
            return
        last = self.paras[-1].text
        if self.cut_short and last[-1] not in "。！？!?…”’）)】》":
            self.warnings.append("通报在句子中间结束，可能不完整。")


# ---------------------------------------------------------------------------
# Sentence-level helpers


def _cut_short(document: Document) -> bool:
    """Tell whether the input stops mid-line, as a truncated capture does."""
    raw = document.raw
    if document.kind == "text":
        return bool(raw) and not raw.endswith(("\n", "\r", "\u2029"))
    if document.kind == "html":
        return not raw.rstrip().endswith(">")
    return False


def _cn(number: int) -> str:
    return format_chinese(number)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[。！？\n]", text) if s.strip()]


_COUNT = rf"({NUMBER})\s*(?:个|项|条)"
_ASPECTS_AND_PROBLEMS = re.compile(
    rf"({NUMBER})\s*个?方面\s*(?:的|共)?\s*{_COUNT}\s*(?:具体|反馈)?问题"
)
_ASPECTS = re.compile(rf"({NUMBER})\s*个方面")
_PROBLEMS = re.compile(rf"{_COUNT}\s*(?:具体|反馈)?问题(?!清单|台账)")
_PROBLEMS_AFTER = re.compile(
    rf"(?:反馈|指出|发现|梳理出?|交办)(?:的)?(?:各类)?问题\s*(?:共|共计|合计|总计)?\s*{_COUNT}"
)
_FILLER = r"(?:均已经|均已|均|已经|需要|需|仍需|为|属于|目前)?"
_STATUS_THEN_COUNT = re.compile(
    rf"({_WORD_ALT})(?:整改)?(?:到位|完毕)?(?:的)?(?:问题)?\s*(?:共|计)?\s*{_COUNT}"
    r"(?!任务|措施|制度|方案|项目|台账)"
)
_COUNT_THEN_STATUS = re.compile(rf"{_COUNT}\s*(?:问题)?\s*{_FILLER}({_WORD_ALT})")


def _declared_totals(sentence: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    both = _ASPECTS_AND_PROBLEMS.search(sentence)
    if both:
        for value, what in ((both.group(1), "aspects"), (both.group(2), "problems")):
            number = parse_number(value)
            if number is not None:
                found.append((number, what))
        return found
    if re.search("问题|反馈|巡察|巡视", sentence):
        aspects = _ASPECTS.search(sentence)
        if aspects and (number := parse_number(aspects.group(1))) is not None:
            found.append((number, "aspects"))
    if re.search("反馈|巡察|巡视|方面|共", sentence):
        for pattern in (_PROBLEMS, _PROBLEMS_AFTER):
            for match in pattern.finditer(sentence):
                after = sentence[match.end() : match.end() + 8]
                if re.match(rf"\s*(?:中|里)?\s*{_FILLER}(?:{_WORD_ALT})", after):
                    continue  # "16个问题已完成整改" counts a status, not the total
                number = parse_number(match.group(1))
                if number is not None:
                    found.append((number, "problems"))
                    break
            if any(what == "problems" for _n, what in found):
                break
    return found


def _declared_statuses(sentence: str) -> list[tuple[str, int]]:
    found: dict[str, int] = {}
    for match in _STATUS_THEN_COUNT.finditer(sentence):
        number = parse_number(match.group(2))
        if number is not None:
            found.setdefault(match.group(1), number)
    for match in _COUNT_THEN_STATUS.finditer(sentence):
        number = parse_number(match.group(1))
        if number is not None:
            found.setdefault(match.group(2), number)
    return list(found.items())


_YEAR = r"(?:[0-9]{4}|[〇○零一二三四五六七八九]{4})"
_MD = rf"(?:[0-9]{{1,2}}|[{CN}]{{1,3}})"
_PART = r"(?:上旬|中旬|下旬|初|中|底|末|份)"
_DATE = re.compile(
    rf"({_YEAR})\s*年\s*(?:({_MD})\s*月\s*(?:({_MD})\s*[日号]|{_PART})?)?"
)
_ONSITE = re.compile(
    rf"({_YEAR})\s*年\s*(?:({_MD})\s*月\s*(?:({_MD})\s*[日号]|{_PART})?)?"
    r"\s*(?:至|到|—+|－|-|~|～)\s*"
    rf"(?:({_YEAR})\s*年)?\s*(?:({_MD})\s*月)?\s*(?:({_MD})\s*[日号]|{_PART})?"
)


# Dates are given as precisely as the notice states them: YYYY-MM-DD when a day
# is written, YYYY-MM when only a month (or a part of one, such as 上旬) is,
# and YYYY when only a year is. The seed's 2024年10月上旬至2024年12月上旬 is
# therefore 2024-10 to 2024-12: a 旬 is not a day, and picking one would
# invent a precision the notice does not have.


def _ymd(year: str | None, month: str | None, day: str | None) -> str | None:
    y = parse_number(year) if year else None
    m = parse_number(month) if month else None
    d = parse_number(day) if day else None
    if y is None or not 1900 <= y <= 2200:
        return None
    if m is None:
        return f"{y:04d}"
    if not 1 <= m <= 12:
        return None
    if d is None:
        return f"{y:04d}-{m:02d}"
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return f"{y:04d}-{m:02d}"


def _date_before(
    sentence: str, keyword: str, *, skip: re.Match[str] | None = None
) -> str | None:
    """Return the date written closest before ``keyword`` (else just after it)."""
    found = re.search(keyword, sentence)
    if found is None:
        return None
    dates = _dates_in(sentence, skip)
    before = [(at, value) for at, value in dates if at < found.start()]
    if keyword != "反馈":
        # An on-site date must not be the feedback's date.
        feedback = sentence.find("反馈")
        before = [
            (at, value)
            for at, value in before
            if feedback < 0 or at > feedback or feedback > found.start()
        ]
    if before:
        return before[-1][1]
    after = [value for at, value in dates if at > found.start()]
    return after[0] if after and keyword == "反馈" else None


_MONTH_DAY = re.compile(rf"(?<![0-9年])({_MD})\s*月\s*({_MD})\s*[日号]")


def _dates_in(
    sentence: str, skip: re.Match[str] | None
) -> list[tuple[int, str | None]]:
    """Return (position, date) for each date; 12月22日 takes the year written before it."""
    found: list[tuple[int, str | None]] = []
    taken: list[tuple[int, int]] = []
    year: str | None = None
    for match in _DATE.finditer(sentence):
        taken.append(match.span())
        if skip is None or not skip.start() <= match.start() < skip.end():
            found.append((match.start(), _partial_date(match)))
    for match in _MONTH_DAY.finditer(sentence):
        if any(a <= match.start() < b for a, b in taken):
            continue
        if skip is not None and skip.start() <= match.start() < skip.end():
            continue
        earlier = [m for m in _DATE.finditer(sentence[: match.start()])]
        if earlier:
            year = earlier[-1].group(1)
            found.append((match.start(), _ymd(year, match.group(1), match.group(2))))
    return sorted(found, key=lambda item: item[0])


def _partial_date(match: re.Match[str]) -> str | None:
    return _ymd(match.group(1), match.group(2), match.group(3))


def _onsite(match: re.Match[str]) -> tuple[str | None, str | None]:
    y1, m1, d1, y2, m2, d2 = match.groups()
    start = _ymd(y1, m1, d1)
    if not (y2 or m2 or d2) and not re.search(_PART + "$", match.group(0)):
        return start, None
    end = _ymd(y2 or y1, m2 or (m1 if (d2 or not y2) else None), d2)
    if m2 is None and d2 is None and y2 is None:
        end = _ymd(y1, m1, None)  # "上旬至下旬" of one month
    return start, end


_NUMERIC_DATE = re.compile(
    r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})"
)


def _iso_date(text: str) -> str | None:
    match = _NUMERIC_DATE.search(text)
    if match:
        return _ymd(*match.groups())
    match = _DATE.search(text)
    if match and match.group(3):
        return _partial_date(match)
    return None


def _sole_date(text: str) -> str | None:
    match = _DATE.fullmatch(text.strip())
    if match and match.group(3):
        return _partial_date(match)
    return None


_TITLE_END = re.compile(r"(?:通报|公告|公示|报告|情况|说明|公开)$")


def _find_title(head: list[str]) -> str | None:
    for index, text in enumerate(head):
        if not (8 <= len(text) <= 200) or text.endswith("。"):
            continue
        if not (_TITLE_END.search(text) and re.search("整改|巡察|巡视", text)):
            continue
        if "：" in text[:6] or ">" in text:
            continue  # a breadcrumb or a labelled line
        previous = head[index - 1] if index else ""
        if (
            previous
            and "关于" in previous
            and "关于" not in text
            and not re.search(r"[：>。]", previous)
        ):
            return previous + text
        return text
    return None


_ISSUER = re.compile(
    r"^(中共.{2,40}?(?:党组|党委|党工委|委员会|总支部|总支|支部))(?=关于)"
)
_ISSUER_PLAIN = re.compile(r"^(.{2,30}?(?:党组|党委|委员会|局|政府|办公室))(?=关于)")


def _issuer(title: str) -> str | None:
    match = _ISSUER.match(title) or _ISSUER_PLAIN.match(title)
    return match.group(1) if match else None


def _signer(text: str) -> bool:
    return (
        len(text) <= 40
        and not re.search(r"[，。；：！？、]", text)
        and bool(re.search(r"(?:党组|党委|党工委|委员会|局|政府|办公室)$", text))
    )


_GROUP = re.compile(
    r"([^，。；、：\s“”（）的]{1,40}?(?:巡察|巡视)[^，。；、：\s“”（）的]{0,12}?组)"
    r"(?=对|于|在|向|进驻|自|从|，)"
)


def _inspecting_group(sentence: str) -> str | None:
    for match in _GROUP.finditer(sentence):
        name = re.sub(
            rf"^{_YEAR}\s*年.*?(?:日|旬|初|底|末|份|月)\s*", "", match.group(1)
        )
        name = re.sub(r"^(?:由|经|根据|按照)", "", name)
        if len(name) > 4 and name not in ("巡察组", "巡视组"):
            return name
    return None


_EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
_PHONE_LABELLED = re.compile(
    r"(?:电话|热线|联系方式|手机)(?:号码)?\s*[：:]?\s*((?:[（(]?[0-9]{3,4}[）)]?[-－—]?)?[0-9][0-9\-－— 、，或和/]{4,60})"
)
_PHONE = re.compile(
    r"(?<![0-9])(?:[（(]?0[0-9]{2,3}[）)]?[-－—]?[0-9]{7,8}|1[3-9][0-9]{9}|12388|400[-－]?[0-9]{3}[-－]?[0-9]{4})(?![0-9])"
)
_ADDRESS = re.compile(
    r"(?:邮政地址|通信地址|通讯地址|来信地址|邮寄地址|联系地址|信件请寄|来信请寄|地址)\s*[：:]\s*([^；;。\n]{4,100}?)"
    r"(?=[；;。\n]|[，、]?(?:电子邮箱|邮箱|电话|联系电话)|$)"
)
