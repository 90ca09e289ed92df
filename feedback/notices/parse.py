"""Reading a notice's paragraphs into aspects and problems: the entry points and the walk."""

from __future__ import annotations

import re
from dataclasses import replace

from feedback.notices import markers
from feedback.notices import normalise
from feedback.notices.checks import check_aspects
from feedback.notices.checks import check_end
from feedback.notices.checks import check_totals
from feedback.notices.drafts import AspectDraft
from feedback.notices.drafts import ProblemDraft
from feedback.notices.facts import read_contacts
from feedback.notices.facts import read_declared
from feedback.notices.facts import read_round
from feedback.notices.normalise import Document
from feedback.notices.results import ParsedNotice
from feedback.statuses import STATUS_WORDS

# Titles longer than this are cut (and a warning says so); the board keeps 500.
MAX_TITLE = 300


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
    walk = _Parser(document)
    aspects = walk.run()
    declared, contradictions = read_declared(walk.outside)
    notice = ParsedNotice(
        round=read_round(document, walk.outside, walk.first_item),
        declared=declared,
        aspects=tuple(a.freeze() for a in aspects),
        contacts=read_contacts(walk.outside),
        warnings=(),
        document=document,
    )
    warnings = [
        *walk.warnings,
        *contradictions,
        *check_aspects(aspects),
        *check_totals(notice),
        *check_end([p.text for p in walk.paras], document),
    ]
    return replace(notice, warnings=tuple(dict.fromkeys(warnings)))


# ---------------------------------------------------------------------------
# The walk through the paragraphs


class _Parser:
    """Reads paragraphs in order, opening aspects and problems as markers say."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.paras = [markers.classify(t) for t in self._split(document.paragraphs)]
        self.warnings: list[str] = []
        self.aspects: list[AspectDraft] = []
        self.aspect: AspectDraft | None = None
        self.problem: ProblemDraft | None = None
        self.loose: AspectDraft | None = None  # problems under no aspect
        self.region: str | None = None  # kind of the current 一、 section
        self.outside: list[tuple[int, str]] = []  # paragraphs in no problem or aspect
        self.first_item: int | None = None  # index of the first aspect or problem
        kinds = [p.kind for p in self.paras]
        self.facet_mode = "facet" in kinds
        self.section_mode = not self.facet_mode and any(
            p.kind == "section" and markers.aspect_style(p.rest) for p in self.paras
        )
        self.paren_mode = (
            not self.facet_mode
            and not self.section_mode
            and any(
                p.kind == "paren_cn" and markers.aspect_style(p.rest)
                for p in self.paras
            )
        )
        self.infer_mode = not (self.facet_mode or self.section_mode or self.paren_mode)
        last = [i for i, p in enumerate(self.paras) if p.kind in markers.MARKERS]
        self.last_marker = last[-1] if last else -1

    @staticmethod
    def _split(paragraphs: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for paragraph in paragraphs:
            out.extend(
                part.strip()
                for part in markers.EMBEDDED.split(paragraph)
                if part.strip()
            )
        return out

    # -- the walk ---------------------------------------------------------

    def run(self) -> list[AspectDraft]:
        """Read every paragraph; return the aspects, the bucket of loose problems first."""
        for index, para in enumerate(self.paras):
            self._step(index, para)
        aspects = list(self.aspects)
        if self.loose is not None and self.loose.problems:
            aspects.insert(0, self.loose)
        return aspects

    def _step(self, index: int, para: markers.Para) -> None:
        kind = para.kind
        if kind == "text" and self._closes(index, para.text):
            self._close_all()
            self.region = "tail"
            self.outside.append((index, para.text))
            return
        if kind == "section":
            if markers.ABOUT.match(para.rest):
                self._open_problem(index, para.number, para.rest, "section", about=True)
            elif self.section_mode and markers.aspect_style(para.rest):
                self._open_aspect(index, para.number, para.rest, "section")
            else:
                self._close_all()
                self.region = markers.section_kind(para.rest)
                self.outside.append((index, para.text))
            return
        if kind == "facet":
            self._open_aspect(index, para.number, para.rest, "facet")
            return
        if kind == "question":
            about = bool(markers.ABOUT.match(para.rest))
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
        if markers.STRONG_CLOSER.match(text) or (
            "欢迎" in text[:40] and "监督" in text
        ):
            return True
        return bool(markers.CLOSER.match(text)) and index > self.last_marker

    def _numbered(self, index: int, para: markers.Para) -> None:
        kind, number = para.kind, para.number
        aspect = self.aspect
        current = (aspect or self.loose or AspectDraft(None, "", "none")).problem_kind
        deeper = (
            current in markers.RANK
            and markers.RANK[kind] > markers.RANK[current]
            and self.problem is not None
        )
        if markers.ABOUT.match(para.rest) and not deeper:
            # 1.关于“…”问题的整改 names a problem, unless it sits one level
            # below the problems of its aspect, as (1) under 1. does.
            self._open_problem(index, number, para.rest, kind, about=True)
            return
        if kind == "paren_cn":
            if self.paren_mode and markers.aspect_style(para.rest):
                self._open_aspect(index, number, para.rest, "paren")
                return
            if (
                self.infer_mode
                and self.region not in ("org", "tail")
                and markers.heading_only(para.rest)
                and index + 1 < len(self.paras)
                and self.paras[index + 1].kind in markers.PROBLEMISH
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
            if para.kind in markers.LABELS:
                return True
            if para.kind in markers.MARKERS:
                return False
        return False

    def _text(self, index: int, para: markers.Para, *, numbered: bool = False) -> None:
        text = para.text
        problem = self.problem
        if problem is not None and numbered and para.number is not None:
            problem.sub_last = para.number
        if not numbered and self._bare_problem(index, text):
            self._open_problem(index, None, text, "bare")
            return
        if problem is not None:
            sole = markers.SOLE_STATUS.match(text)
            if sole and problem.status_strength < 2:
                problem.status, problem.status_strength = sole.group(1), 2
                return
            problem.add(text)
            return
        if self.aspect is not None:
            if not self.aspect.title and not self.aspect.problems:
                self.aspect.title = markers.title_of(text)[0]
            else:
                self.aspect.loose_text += 1
            return
        self.outside.append((index, text))

    def _bare_problem(self, index: int, text: str) -> bool:
        """A sentence followed by 整改情况 is a problem's title."""
        if index + 1 >= len(self.paras):
            return False
        following = self.paras[index + 1].kind
        if following not in markers.LABELS:
            return False
        heading = markers.split_heading(text)[0]
        if not heading or len(heading) > 100 or re.match(markers.POINT, heading):
            return False
        if self.aspect is None and self.region == "org":
            return False
        problem = self.problem
        if problem is None:
            return True
        if following == "measures":
            return problem.has_measures_label
        return problem.has_status_label

    def _status_label(self, para: markers.Para) -> None:
        problem = self.problem
        if problem is None:
            self.warnings.append(
                f"有一处整改状态不属于任何问题，未采用：“{para.text[:40]}”"
            )
            return
        problem.has_status_label = True
        word, after = markers.status_value(para.rest)
        final = para is self.paras[-1] and self.document.cut_short
        if word is None:
            self.warnings.append(f"{self._code(problem)}的整改状态为空。")
        elif final and (word not in STATUS_WORDS or markers.prefix_of_known(word)):
            # The text ends here: the word may be cut short, so it is not used.
            word = None
        elif word not in STATUS_WORDS and not markers.STATUS_LIKE.search(word):
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

    def _measures_label(self, para: markers.Para) -> None:
        problem = self.problem
        if problem is None:
            self._unplaced(-1, para.text)
            return
        problem.phase = "measures"
        problem.has_measures_label = True
        leading = markers.leading_status(para.rest)
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
        title = markers.split_heading(rest)[0].rstrip("：:").strip()
        aspect = AspectDraft(number=number, title=title[:MAX_TITLE], kind=kind)
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
            match = markers.ABOUT.match(rest)
            assert match is not None
            title = match.group(1).strip()
            if title.startswith("“") and title.endswith("”") and title.count("“") == 1:
                title = title[1:-1]
            remainder, heading_status = (match.group(2) or "").strip(), None
        else:
            title, remainder, heading_status = markers.title_of(rest)
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
                self.loose = AspectDraft(number=None, title="", kind="none")
            aspect = self.loose
        if aspect.problem_kind is None and kind in ("paren_cn", "num", "paren_num"):
            aspect.problem_kind = kind
        problem = ProblemDraft(number=number, title=title, kind=kind)
        if heading_status:
            problem.status, problem.status_strength = heading_status, 1
        if about:
            problem.phase = "measures"
            leading = markers.leading_status(remainder)
            if leading:
                problem.status, problem.status_strength = leading, 2
        problem.add(remainder)
        aspect.problems.append(problem)
        self.problem = problem
        if self.first_item is None:
            self.first_item = index

    def _code(self, problem: ProblemDraft) -> str:
        for aspect in [*self.aspects, *([self.loose] if self.loose else [])]:
            if problem in aspect.problems:
                where = f"第{aspect.number}方面" if aspect.number is not None else ""
                number = problem.number if problem.number is not None else "（无编号）"
                return f"{where}问题{number}"
        return "问题"
