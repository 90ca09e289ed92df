"""What a notice says about its round: title, publisher, dates, group, declared totals, contacts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from feedback.notices.dates import date_before
from feedback.notices.dates import iso_date
from feedback.notices.dates import ONSITE
from feedback.notices.dates import sole_date
from feedback.notices.dates import span_ends
from feedback.notices.dates import YEAR
from feedback.notices.markers import STATUS_WORD_ALT
from feedback.notices.normalise import Document
from feedback.notices.numerals import NUMBER
from feedback.notices.numerals import parse_number
from feedback.notices.results import Contacts
from feedback.notices.results import Declared
from feedback.notices.results import RoundFacts

# A paragraph that belongs to no aspect or problem, with its place in the notice.
Outside = Sequence[tuple[int, str]]

# How far into the notice its title and publication date are looked for.
HEAD_PARAGRAPHS = 15


def sentences(text: str) -> list[str]:
    """Split ``text`` at full stops, exclamation and question marks, and line ends."""
    return [s for s in re.split(r"[。！？\n]", text) if s.strip()]


# ---------------------------------------------------------------------------
# Declared totals

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
    rf"({STATUS_WORD_ALT})(?:整改)?(?:到位|完毕)?(?:的)?(?:问题)?\s*(?:共|计)?\s*{_COUNT}"
    r"(?!任务|措施|制度|方案|项目|台账)"
)
_COUNT_THEN_STATUS = re.compile(rf"{_COUNT}\s*(?:问题)?\s*{_FILLER}({STATUS_WORD_ALT})")


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
                if re.match(rf"\s*(?:中|里)?\s*{_FILLER}(?:{STATUS_WORD_ALT})", after):
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


def read_declared(outside: Outside) -> tuple[Declared, list[str]]:
    """Return the totals the notice declares, and a warning for each it contradicts."""
    warnings: list[str] = []
    aspects: int | None = None
    problems: int | None = None
    by_status: dict[str, int] = {}
    text = "\n".join(t for _i, t in outside)
    for sentence in sentences(text):
        for value, what in _declared_totals(sentence):
            if what == "aspects":
                if aspects is None:
                    aspects = value
                elif aspects != value:
                    warnings.append(
                        f"通报前后说的方面总数不一致（{aspects}和{value}），采用前者。"
                    )
            else:
                if problems is None:
                    problems = value
                elif problems != value:
                    warnings.append(
                        f"通报前后说的问题总数不一致（{problems}和{value}），采用前者。"
                    )
        for word, value in _declared_statuses(sentence):
            if word not in by_status:
                by_status[word] = value
            elif by_status[word] != value:
                warnings.append(
                    f"通报前后说的“{word}”数量不一致（{by_status[word]}和{value}），采用前者。"
                )
    declared = Declared(
        aspects=aspects, problems=problems, by_status=tuple(by_status.items())
    )
    return declared, warnings


# ---------------------------------------------------------------------------
# The round: title, publisher, publication date, inspecting group, visit


def read_round(
    document: Document, outside: Outside, first_item: int | None
) -> RoundFacts:
    """Return the round's facts from the paragraphs before the items and at the end."""
    before_items = [(i, t) for i, t in outside if first_item is None or i < first_item]
    head = [t for i, t in before_items if i < HEAD_PARAGRAPHS]
    title = _find_title(head) or document.meta_value("ArticleTitle", "og:title")
    published, source = _page_labels(head)
    if published is None:
        meta = document.meta_value(
            "PubDate", "publishdate", "article:published_time", "firstpublishedtime"
        )
        published = iso_date(meta) if meta else None
    tail = [t for _i, t in outside[-4:]]
    signature_date = next((d for t in tail if (d := sole_date(t))), None)
    published = published or signature_date
    signer = next((t for t in reversed(tail) if _signer(t)), None)
    issuer = _issuer(title) if title else None
    publisher = (
        issuer or signer or source or document.meta_value("ContentSource", "author")
    )
    visit = _visit(sentences("\n".join(t for _i, t in before_items)))
    return RoundFacts(
        title=title,
        publisher=publisher,
        published=published,
        inspecting_group=visit.group,
        onsite_from=visit.onsite_from,
        onsite_to=visit.onsite_to,
        feedback_date=visit.feedback,
    )


def _page_labels(head: Sequence[str]) -> tuple[str | None, str | None]:
    """Return the publication date and the source a page's labels give."""
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
                published = iso_date(label.group(1))
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
    return published, source


@dataclass
class _Visit:
    """The inspecting group, its dates on site and the date it gave feedback."""

    group: str | None = None
    onsite_from: str | None = None
    onsite_to: str | None = None
    feedback: str | None = None


def _visit(intro: Sequence[str]) -> _Visit:
    """Return what the sentences about the inspection say of its visit."""
    visit = _Visit()
    for sentence in intro:
        if not re.search("巡察|巡视", sentence):
            continue
        if visit.group is None:
            visit.group = _inspecting_group(sentence)
        span = ONSITE.search(sentence)
        if span and "反馈" in sentence[: span.start()]:
            span = None
        if visit.onsite_from is None:
            if span:
                visit.onsite_from, visit.onsite_to = span_ends(span)
            else:
                visit.onsite_from = date_before(sentence, r"进驻|开展|进行|实施")
        if visit.feedback is None and "反馈" in sentence:
            visit.feedback = date_before(sentence, "反馈", skip=span)
    return visit


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
            rf"^{YEAR}\s*年.*?(?:日|旬|初|底|末|份|月)\s*", "", match.group(1)
        )
        name = re.sub(r"^(?:由|经|根据|按照)", "", name)
        if len(name) > 4 and name not in ("巡察组", "巡视组"):
            return name
    return None


# ---------------------------------------------------------------------------
# Contacts for public supervision

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


def read_contacts(outside: Outside) -> Contacts:
    """Return the phone numbers, postal addresses and e-mail addresses given."""
    phones: list[str] = []
    addresses: list[str] = []
    emails: list[str] = []
    for _index, text in outside:
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
