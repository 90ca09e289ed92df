"""The notice parser: the seed gives EXPECTED.md, its variants agree, other structures parse."""

from __future__ import annotations

import html
import io
import random
import re
import zipfile

import opencc
import pytest
from helpers import docx
from helpers import shared_path
from helpers import W
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from feedback.notices import parse_bytes
from feedback.notices import parse_text
from feedback.notices import UnreadableNotice
from feedback.notices.normalise import display_width
from feedback.notices.normalise import normalise_paragraph
from feedback.notices.normalise import strip_readings
from feedback.notices.normalise import widen_punctuation
from feedback.notices.numerals import format_chinese
from feedback.notices.numerals import parse_number
from feedback.statuses import STATUS_WORDS

SEED_NAME = "meijiang-education-rectification-2025-07-08.txt"
PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜ]+\)")
T2S = opencc.OpenCC("t2s")
S2TW = opencc.OpenCC("s2tw")  # as the bureau writes traditional text


# ---------------------------------------------------------------------------
# The seed and its ground truth


@pytest.fixture(scope="module")
def seed() -> str:
    return shared_path("seed", SEED_NAME).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def expected() -> list[tuple[int, str, int, str, str]]:
    """Read the ground-truth table of EXPECTED.md: aspect, title, number, title, status."""
    text = shared_path("seed", "EXPECTED.md").read_text(encoding="utf-8")
    rows = []
    aspect_number, aspect_title = None, None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[1].isdigit():
            continue
        if cells[0]:
            number, _space, title = cells[0].partition(" ")
            aspect_number, aspect_title = int(number), title
        rows.append((aspect_number, aspect_title, int(cells[1]), cells[2], cells[3]))
    assert len(rows) == 18
    return rows


def rows(notice):
    return [
        (a.number, a.title, p.number, p.title, p.status) for a, p in notice.problems
    ]


def clean_simplified(text: str) -> str:
    return T2S.convert(PINYIN.sub("", text))


def test_seed_gives_exactly_expected(seed, expected):
    notice = parse_text(seed)
    assert rows(notice) == expected
    assert [a.number for a in notice.aspects] == [1, 2, 3, 4]
    assert notice.found_by_status() == {"已完成": 16, "长期坚持": 2}
    assert notice.declared.aspects == 4
    assert notice.declared.problems == 18
    assert notice.declared.by_status == ()  # the seed declares no per-status counts
    assert all(check.agrees for check in notice.checks())


def test_seed_round_facts_and_contacts(seed):
    notice = parse_text(seed)
    assert notice.to_json()["round"] == {
        "title": "中共梅州市梅江区教育局党组关于落实八届市委第三轮县级交叉巡察"
        "反馈意见的整改阶段性进展情况的通报",
        "publisher": "中共梅州市梅江区教育局党组",
        "published": "2025-07-08",
        "inspecting_group": "八届市委第三轮县级交叉巡察第六组",
        "onsite_from": "2024-10",  # 上旬 is not a day: the month is all it says
        "onsite_to": "2024-12",
        "feedback_date": "2025-01-26",
    }
    assert notice.contacts.phone == ("0753-2196838",)
    assert notice.contacts.address == ("梅州市仲元东路51号梅江区政府大院内",)
    assert notice.contacts.email == ("mjqjyjmsg@163.com",)


def test_seed_traps(seed):
    notice = parse_text(seed)
    problems = {(a.number, p.number): p for a, p in notice.problems}
    # 4.1 shares its line with its detail points.
    assert problems[4, 1].title == "党内政治生活不严实"
    assert problems[4, 1].details.startswith("一是民主生活会开展不严肃")
    # 整改过程。 with a full stop still opens the measures.
    assert problems[3, 1].measures.startswith("一是强化党廉工作")
    # Readings gone, real brackets kept (and made full-width).
    text = notice.document.text
    assert "(" not in text
    assert "zhǎng" not in text
    assert "（一）统一思想" in text
    assert "因私出国（境）" in text
    assert "（含采购项目、基本建设项目、重大活动项目等）" in text
    # The raw original is kept untouched.
    assert notice.document.raw == seed
    # Gaps in 一是/二是 are reported, and nothing else is.
    assert set(notice.warnings) == {
        "第3方面问题2的整改内容中“一是”之后是“三是”。",
        "第3方面问题3的问题表现中“一是”之后是“三是”。",
        "第3方面问题3的整改内容中“二是”出现了两次。",
    }


# ---------------------------------------------------------------------------
# Variants built from the seed give the same board


def ascii_punctuation(text: str) -> str:
    for wide, narrow in zip("：，；（）“”", ':,;()""', strict=True):
        text = text.replace(wide, narrow)
    return text


def full_width_punctuation(text: str) -> str:
    for narrow, wide in zip(":,;()", "：，；（）", strict=True):
        text = text.replace(narrow, wide)
    return text


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def as_html(text: str, encoding: str = "utf-8") -> bytes:
    parts = paragraphs(text)
    body = "".join(
        f'<div class="crumb">{html.escape(p)}</div>'
        if i < 2
        else f"<h1>{html.escape(p)}</h1>"
        if i == 2
        else f'<p style="text-indent:2em">&nbsp;&nbsp;{html.escape(p)}</p>\n'
        for i, p in enumerate(parts)
    )
    page = (
        f'<!DOCTYPE html><html><head><meta charset="{encoding}"><title>通报</title>'
        "<style>p{color:#333}</style>"
        '<script>var x = "<p>问题9.不是问题</p>";</script></head>'
        f'<body><nav><a href="/">首页</a></nav>{body}'
        "<footer>主办单位：某某网站</footer></body></html>"
    )
    return page.encode("gb18030" if encoding == "gbk" else encoding)


def rewrap(text: str, width: int, *, blank: bool, indent: bool, columns: bool = False):
    """Hard-wrap each paragraph at ``width`` characters (or display columns)."""
    out = []
    for paragraph in paragraphs(text):
        lines, current = [], ""
        for char in paragraph:
            size = display_width(current + char) if columns else len(current) + 1
            if size > width:
                lines.append(current)
                current = char
            else:
                current += char
        lines.append(current)
        if indent:
            lines[0] = "    " + lines[0]
        out.extend(lines)
        if blank:
            out.append("")
    return "\n".join(out)


VARIANTS = {
    "simplified": lambda s: parse_text(T2S.convert(s)),
    "simplified without readings": lambda s: parse_text(clean_simplified(s)),
    "traditional without readings": lambda s: parse_text(
        S2TW.convert(clean_simplified(s))
    ),
    "ASCII punctuation": lambda s: parse_text(ascii_punctuation(clean_simplified(s))),
    "full-width punctuation": lambda s: parse_text(full_width_punctuation(s)),
    "CRLF line ends": lambda s: parse_text(s.replace("\n", "\r\n")),
    "UTF-16 with BOM": lambda s: parse_bytes(s.encode("utf-16")),
    "GB18030": lambda s: parse_bytes(clean_simplified(s).encode("gb18030")),
    "HTML page": lambda s: parse_bytes(as_html(s), "notice.html"),
    "HTML page in GBK": lambda s: parse_bytes(as_html(clean_simplified(s), "gbk")),
    "HTML pasted as text": lambda s: parse_text(as_html(s).decode("utf-8")),
    "docx": lambda s: parse_bytes(docx(paragraphs(s)), "notice.docx"),
    "docx, simplified": lambda s: parse_bytes(
        docx(paragraphs(clean_simplified(s)), seed=3)
    ),
    "docx without a file name": lambda s: parse_bytes(docx(paragraphs(s), seed=5)),
}
for _width in (20, 33, 57, 80):
    for _blank in (True, False):
        for _indent in (True, False):
            VARIANTS[f"wrapped at {_width}, blank={_blank}, indent={_indent}"] = (
                lambda s, w=_width, b=_blank, i=_indent: parse_text(
                    rewrap(s, w, blank=b, indent=i)
                )
            )
for _width in (40, 80):
    VARIANTS[f"folded at {_width} columns"] = lambda s, w=_width: parse_text(
        rewrap(s, w, blank=False, indent=False, columns=True)
    )
    VARIANTS[f"simplified folded at {_width} columns"] = lambda s, w=_width: (
        parse_text(
            rewrap(clean_simplified(s), w, blank=False, indent=False, columns=True)
        )
    )


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_gives_the_same_board(seed, expected, variant):
    base = parse_text(seed)
    notice = VARIANTS[variant](seed)
    assert rows(notice) == expected
    assert notice.round == base.round
    assert notice.declared == base.declared
    assert notice.contacts == base.contacts
    assert set(notice.warnings) == set(base.warnings)


def _aspects(notice):
    return [
        (a.number, a.title, [(p.number, p.title, p.status) for p in a.problems])
        for a in notice.aspects
    ]


def assert_consistent_prefix(notice, full) -> None:
    """Everything found is in the full result; only the last item may be cut short."""
    got, want = _aspects(notice), _aspects(full)
    assert len(got) <= len(want)
    for index, (number, title, problems) in enumerate(got):
        w_number, w_title, w_problems = want[index]
        last_aspect = index == len(got) - 1
        assert number == w_number
        assert title == w_title or (last_aspect and w_title.startswith(title))
        assert len(problems) <= len(w_problems)
        if not last_aspect:
            assert len(problems) == len(w_problems)
        for j, (p_number, p_title, p_status) in enumerate(problems):
            q_number, q_title, q_status = w_problems[j]
            last = last_aspect and j == len(problems) - 1
            assert p_number == q_number
            assert p_title == q_title or (last and q_title.startswith(p_title))
            assert p_status == q_status or (last and p_status is None)


@pytest.mark.parametrize("source", ["captured", "simplified"])
def test_truncation_gives_a_consistent_prefix(seed, source):
    text = seed if source == "captured" else clean_simplified(seed)
    full = parse_text(text)
    rnd = random.Random(4)
    cuts = set(range(0, len(text), len(text) // 60))
    # Around every problem and status line, where a cut is most telling.
    for match in re.finditer(r"問|问|整改|第", text):
        cuts.update(match.start() + d for d in (1, 3, 6))
    cuts = sorted(rnd.sample(sorted(cuts), 150))
    for cut in cuts:
        notice = parse_text(text[:cut])
        assert_consistent_prefix(notice, full)
    assert rows(parse_text(text[: len(text)])) == rows(full)


def test_truncated_notice_says_so(seed):
    cut = seed.index("3.財")
    notice = parse_text(seed[: cut + 40])
    assert "通报在句子中间结束，可能不完整。" in notice.warnings
    assert len(notice.problems) == 11


# ---------------------------------------------------------------------------
# Other structures met in real notices (texts written for these tests)

ABOUT_STYLE = """首页 > 信息公开 > 通知公告
中共青山县教育局党组关于巡察整改进展情况的通报
发布日期：2024-03-15　　来源：青山县教育局
根据县委统一部署，2023年9月11日至11月10日，县委第二巡察组对县教育局党组开展了常规巡察。2023年12月8日，县委第二巡察组向县教育局党组反馈了巡察意见。现将整改进展情况通报如下。
一、提高站位，压实整改责任
局党组召开专题会议研究整改工作，成立整改工作领导小组，明确责任股室和完成时限。
（一）统一思想。局党组专题学习巡察反馈意见。
（二）细化方案。逐条制定整改措施。
二、巡察反馈问题整改落实情况
巡察组共反馈三个方面7个问题。截至目前，已完成整改5个、正在整改2个。
（一）关于贯彻落实上级决策部署方面
1.关于“学习贯彻党的创新理论不够深入”问题的整改
一是修订党组理论学习中心组学习制度；二是每月开展一次专题学习。
2.关于“推动义务教育优质均衡发展有差距”问题的整改
制定三年提升计划，新建两所学校。
（二）关于全面从严治党方面
1.关于“落实‘一岗双责’不到位”问题的整改
签订党风廉政建设责任书，开展廉政谈话。
2.关于“财务报销审核不严”问题的整改
修订财务管理制度，对近三年报销凭证开展自查。
3.关于“政府采购程序不规范”问题的整改
组织学习政府采购法规，规范采购流程。
（三）关于基层党组织建设方面
1.关于“支部组织生活不规范”问题的整改
规范“三会一课”记录，开展支部书记培训。
2.关于“发展党员工作程序不严”问题的整改
对近五年发展党员档案逐一检查。
三、下一步工作打算
下一步，我局将持续巩固整改成果，建立长效机制。
欢迎广大干部群众对巡察整改落实情况进行监督。联系电话：0797-1234567；来信地址：青山县人民路8号县教育局（邮编：341000）；电子邮箱：qsjyj@example.gov.cn。
中共青山县教育局党组
2024年3月15日
"""


def test_paren_aspects_and_about_problems_with_summary_status():
    notice = parse_text(ABOUT_STYLE)
    assert [(a.number, a.title) for a in notice.aspects] == [
        (1, "关于贯彻落实上级决策部署方面"),
        (2, "关于全面从严治党方面"),
        (3, "关于基层党组织建设方面"),
    ]
    assert [(a.number, p.number, p.title) for a, p in notice.problems] == [
        (1, 1, "学习贯彻党的创新理论不够深入"),
        (1, 2, "推动义务教育优质均衡发展有差距"),
        (2, 1, "落实‘一岗双责’不到位"),
        (2, 2, "财务报销审核不严"),
        (2, 3, "政府采购程序不规范"),
        (3, 1, "支部组织生活不规范"),
        (3, 2, "发展党员工作程序不严"),
    ]
    # Status only in the summary: problems have none, the counts are recorded.
    assert all(p.status is None for _a, p in notice.problems)
    assert notice.declared.aspects == 3  # 三个方面, a Chinese numeral
    assert notice.declared.problems == 7
    assert dict(notice.declared.by_status) == {"已完成整改": 5, "正在整改": 2}
    assert [(c.label, c.declared, c.found) for c in notice.checks()] == [
        ("方面", 3, 3),
        ("问题", 7, 7),
        ("已完成整改", 5, None),
        ("正在整改", 2, None),
    ]
    assert notice.round.onsite_from == "2023-09-11"
    assert notice.round.onsite_to == "2023-11-10"
    assert notice.round.feedback_date == "2023-12-08"
    assert notice.round.published == "2024-03-15"
    assert notice.round.inspecting_group == "县委第二巡察组"
    assert notice.contacts.address == ("青山县人民路8号县教育局（邮编：341000）",)
    assert notice.contacts.email == ("qsjyj@example.gov.cn",)
    # The organisational (一)(二) under 一、 are not aspects.
    assert "统一思想" not in str(notice.to_json()["aspects"])


BARE_STYLE = """关于区文化广电旅游体育局党组巡察整改进展情况的通报
根据区委部署，2024年3月至2024年5月，区委第一巡察组对区文化广电旅游体育局党组开展了巡察，并于2024年6月20日反馈了巡察意见。现将整改情况公布如下：
一、整改落实情况
（一）党的领导方面
党组理论学习中心组学习不深入。
整改情况：已完成整改。制定年度学习计划，全年开展集中学习十二次。
意识形态工作责任制落实不到位。
整改情况：正在整改。建立意识形态工作台账，每季度分析研判一次。
（二）全面从严治党方面
公务接待管理不规范。
整改情况：已完成整改。修订公务接待制度，清理接待台账。
二、下一步打算
持续跟踪整改成效。
"""


def test_bare_sentence_followed_by_rectification_is_a_problem():
    notice = parse_text(BARE_STYLE)
    assert [(a.number, p.number, p.title, p.status) for a, p in notice.problems] == [
        (1, None, "党组理论学习中心组学习不深入", "已完成整改"),
        (1, None, "意识形态工作责任制落实不到位", "正在整改"),
        (2, None, "公务接待管理不规范", "已完成整改"),
    ]
    problem = notice.aspects[0].problems[0]
    assert problem.measures.startswith("已完成整改。制定年度学习计划")
    assert notice.round.onsite_from == "2024-03"
    assert notice.round.onsite_to == "2024-05"
    assert notice.round.feedback_date == "2024-06-20"


SUMMARY_STYLE = """中共梅岭区卫生健康局委员会关于巡察整改进展情况的通报
2024年4月，区委第三巡察组对区卫生健康局党委开展了巡察，于2024年7月5日反馈了六个方面23个问题。截至2024年12月底，已完成整改19个、正在整改4个，制定完善制度11项。
（一）提高政治站位，在压实整改责任方面持续用力。党委书记履行第一责任人职责，班子成员抓好分管领域的整改。
（二）坚持问题导向，在抓好问题整改方面持续用力。逐条制定整改措施，建立整改台账，实行销号管理。
（三）注重标本兼治，在健全长效机制方面持续用力。针对共性问题修订完善制度。
欢迎广大干部群众监督，联系电话：0753-8888888。
"""


def test_summary_notice_gives_no_problems_and_a_clear_message():
    notice = parse_text(SUMMARY_STYLE)
    assert notice.aspects == ()
    assert notice.problems == []
    assert notice.declared.aspects == 6  # 六个方面
    assert notice.declared.problems == 23
    assert dict(notice.declared.by_status) == {"已完成整改": 19, "正在整改": 4}
    assert (
        "这份通报没有逐条列出问题，未读出任何问题；只记录了通报声明的总数。"
        in notice.warnings
    )
    assert notice.round.onsite_from == "2024-04"
    assert notice.round.feedback_date == "2024-07-05"
    assert notice.contacts.phone == ("0753-8888888",)


SECTION_ASPECTS = """中共某镇委员会关于巡察整改情况的通报
一、党的建设方面存在的问题
（一）“三会一课”制度落实不到位。
整改情况：已完成。各支部按季度召开党员大会并规范记录。
（二）党员发展程序不规范（已完成整改）
整改情况：对发展党员档案逐一补正。
二、全面从严治党方面存在的问题
（一）财务审批把关不严。
整改状态：持续推进
整改措施：1.修订财务审批制度。2.开展财务自查。
（二）公车使用登记不全。
完成情况：已完成
整改措施：
1.完善公车使用登记簿。
2.安装车辆定位系统。
（四）食堂管理不规范。
整改状态：整改到位
三、下一步工作
持续巩固整改成果。
"""


def test_section_aspects_with_paren_problems_and_numbered_measures():
    notice = parse_text(SECTION_ASPECTS)
    assert [(a.number, a.title) for a in notice.aspects] == [
        (1, "党的建设方面存在的问题"),
        (2, "全面从严治党方面存在的问题"),
    ]
    assert [(a.number, p.number, p.title, p.status) for a, p in notice.problems] == [
        (1, 1, "“三会一课”制度落实不到位", "已完成"),
        (1, 2, "党员发展程序不规范", "已完成整改"),
        (2, 1, "财务审批把关不严", "持续推进"),
        (2, 2, "公车使用登记不全", "已完成"),
        (2, 4, "食堂管理不规范", "整改到位"),  # unknown word kept as published
    ]
    assert "1.完善公车使用登记簿。" in notice.aspects[1].problems[1].measures
    assert "第2方面问题编号从2跳到4，缺少3。" in notice.warnings
    assert any("“整改到位”不在已知用语中" in w for w in notice.warnings)


ORG_NUMBERS = """某局关于巡察整改工作情况的报告
一、加强组织领导
（一）成立领导小组
1.成立整改工作领导小组，由主要负责同志任组长。
2.制定整改方案，明确责任分工。
二、问题整改情况
问题1.干部队伍结构不合理。
整改措施：制定干部培养计划。
完成情况：正在整改
问题2.档案管理不规范。
整改措施：聘请专业机构整理档案。
完成情况：已完成
"""


def test_problems_under_no_aspect_and_organisational_numbers_ignored():
    notice = parse_text(ORG_NUMBERS)
    assert [(a.number, a.title) for a in notice.aspects] == [(None, "")]
    assert [(p.number, p.title, p.status) for _a, p in notice.problems] == [
        (1, "干部队伍结构不合理", "正在整改"),
        (2, "档案管理不规范", "已完成"),
    ]
    data = notice.to_json()
    assert data["aspects"][0]["number"] is None


NESTED_ABOUT = """中共某区文旅局党组关于巡察整改情况的通报
截至目前，巡察反馈25个问题，已完成整改19个、正在整改6个，整改完成率76%。
（一）在“贯彻落实上级决策部署不够有力”方面
1.关于“学习贯彻上级重大决策部署不够到位”问题的整改
（1）关于“学习重要论述不深不透”问题的整改情况。已组织专题学习。
（2）关于“推动文旅融合发展不力”问题的整改情况。已制定实施方案。
2.关于“党组领导核心作用发挥不足”问题的整改
（1）关于“议事规则执行不严”问题的整改情况。修订议事规则。
"""


def test_nested_about_items_stay_inside_their_problem():
    notice = parse_text(NESTED_ABOUT)
    assert [(p.number, p.title) for _a, p in notice.problems] == [
        (1, "学习贯彻上级重大决策部署不够到位"),
        (2, "党组领导核心作用发挥不足"),
    ]
    assert "通报声明问题25个，实际读出2个。" in notice.warnings


def test_points_in_a_title_start_at_their_whole_numeral():
    # 十一是 counts off a point as 一是 does: none of its numeral stays in the title.
    notice = parse_text(
        "问题1.制度执行不严格：十一是台账不全。\n整改状态：已完成\n"
        "问题2.学习不深入，一是学习少。\n整改状态：已完成\n"
    )
    assert [(p.title, p.details) for _a, p in notice.problems] == [
        ("制度执行不严格", "十一是台账不全"),
        ("学习不深入", "一是学习少"),
    ]


TABLE_PAGE = """<html><head><meta charset="utf-8">
<meta name="PubDate" content="2024-05-06 10:00"></head><body>
<table><tr><td><a href="/">首页</a></td><td>机构概况</td></tr></table>
<h2>中共某县林业局党组关于巡察整改进展情况的通报</h2>
<p>2023年10月9日至11月20日，县委第四巡察组对县林业局党组进行了巡察，12月22日反馈了2个方面3个问题。</p>
<table border="1">
<tr><th>序号</th><th>反馈问题</th><th>整改措施</th><th>责任单位</th><th>整改情况</th></tr>
<tr><td colspan="5">一、党的领导方面</td></tr>
<tr><td>1</td><td>理论学习不深入</td><td><p>制定学习计划。</p><p>每月集中学习。</p></td><td>办公室</td><td>已完成</td></tr>
<tr><td>2</td><td>意识形态责任落实不到位</td><td>建立工作台账</td><td>办公室</td><td>正在整改</td></tr>
<tr><td colspan="5">二、全面从严治党方面</td></tr>
<tr><td>1</td><td>公务接待超标准</td><td>清退超标准费用</td><td>财务股</td><td>已完成</td></tr>
</table></body></html>"""


def _table_rows(notice):
    return [
        (a.number, a.title, p.number, p.title, p.status) for a, p in notice.problems
    ]


TABLE_ROWS = [
    (1, "党的领导方面", 1, "理论学习不深入", "已完成"),
    (1, "党的领导方面", 2, "意识形态责任落实不到位", "正在整改"),
    (2, "全面从严治党方面", 1, "公务接待超标准", "已完成"),
]


def test_problem_table_in_a_saved_page():
    notice = parse_bytes(TABLE_PAGE.encode("utf-8"))
    assert _table_rows(notice) == TABLE_ROWS
    assert notice.round.published == "2024-05-06"  # from <meta name="PubDate">
    assert notice.round.feedback_date == "2023-12-22"  # the year comes from before
    assert all(c.agrees for c in notice.checks())
    assert notice.aspects[0].problems[0].measures == "制定学习计划。每月集中学习。"


def test_saved_page_blocks_follow_the_shared_rules():
    page = (
        "<html><head><title>t</title><meta name='PubDate' content='2024-05-06'>"
        "<div>来源：区教育局<script>document.write('x')</script>　浏览次数</div>"
        "<details><summary>问题1.理论学习不深入</summary>整改状态：已完成</details>"
        "<noscript>请启用脚本</noscript></html>"
    )
    notice = parse_text(page)
    # A script inside a line leaves the line whole; a summary is a paragraph
    # of its own; an ideographic space stays a space between fields.
    assert notice.document.paragraphs == (
        "来源：区教育局 浏览次数",
        "问题1.理论学习不深入",
        "整改状态：已完成",
    )
    assert notice.document.meta == (("PubDate", "2024-05-06"),)
    assert [(p.number, p.title, p.status) for _a, p in notice.problems] == [
        (1, "理论学习不深入", "已完成")
    ]


@pytest.mark.parametrize(
    ("page", "paragraphs"),
    [
        pytest.param(
            "<p>来源：区教育局<noscript>请<br>启用<div>脚本</div></noscript>浏览次数</p>",
            ("来源：区教育局浏览次数",),
            id="breaks-and-blocks-inside-hidden-content",
        ),
        pytest.param(
            "<head><title>通报<body><p>问题1.理论学习不深入</p>",
            ("问题1.理论学习不深入",),
            id="title-left-open",
        ),
        pytest.param(
            "<html><head><title>t</title><noscript><p>请启用脚本</noscript>"
            "<body><p>问题1.理论学习不深入</p></body>",
            ("问题1.理论学习不深入",),
            id="head-with-a-noscript",
        ),
    ],
)
def test_saved_page_hidden_content_takes_no_room(page, paragraphs):
    # Hidden content parts no paragraphs; <body> ends a <head> whatever is left open in it.
    assert parse_text(page).document.paragraphs == paragraphs


def _docx_table(rows_: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return f"<w:tc><w:p><w:r><w:t>{html.escape(text)}</w:t></w:r></w:p></w:tc>"

    return (
        "<w:tbl>"
        + "".join("<w:tr>" + "".join(cell(c) for c in row) + "</w:tr>" for row in rows_)
        + "</w:tbl>"
    )


def test_problem_table_in_a_word_document():
    table = _docx_table(
        [
            ["序号", "反馈问题", "整改措施", "整改状态"],
            ["一、党的领导方面"],
            ["1", "理论学习不深入", "制定学习计划。", "已完成"],
            ["2", "意识形态责任落实不到位", "建立工作台账", "正在整改"],
            ["二、全面从严治党方面"],
            ["1", "公务接待超标准", "清退超标准费用", "已完成"],
        ]
    )
    data = docx(["中共某县林业局党组关于巡察整改进展情况的通报", table])
    notice = parse_bytes(data, "x.docx")
    assert _table_rows(notice) == TABLE_ROWS


NUMBERING = f"""<?xml version="1.0" encoding="UTF-8"?>
<w:numbering xmlns:w="{W}">
<w:abstractNum w:abstractNumId="0">
<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="第%1方面："/></w:lvl>
<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="问题%2."/></w:lvl>
</w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
</w:numbering>"""


def _numbered(text: str, level: int) -> str:
    return (
        f'<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="1"/></w:numPr></w:pPr>'
        f"<w:r><w:t>{html.escape(text)}</w:t></w:r></w:p>"
    )


def test_word_automatic_numbering_is_read():
    blocks = [
        "某局党组关于巡察整改进展情况的通报",
        _numbered("党的建设不够有力", 0),
        _numbered("理论学习不深入。", 1),
        "整改状态：已完成。",
        _numbered("组织生活不规范。", 1),
        "整改状态：长期坚持。",
        _numbered("作风建设有差距", 0),
        _numbered("公车管理不严。", 1),
        "整改状态：已完成。",
    ]
    notice = parse_bytes(docx(blocks, numbering=NUMBERING))
    assert _table_rows(notice) == [
        (1, "党的建设不够有力", 1, "理论学习不深入", "已完成"),
        (1, "党的建设不够有力", 2, "组织生活不规范", "长期坚持"),
        (2, "作风建设有差距", 1, "公车管理不严", "已完成"),
    ]


def test_declared_status_counts_in_either_order():
    notice = parse_text(
        "关于巡察整改情况的通报\n巡察反馈的697个问题，完成整改688个，"
        "持续整改问题4个，未完成5个。其中16个问题已完成整改。\n"
    )
    assert notice.declared.problems == 697
    assert dict(notice.declared.by_status) == {
        "完成整改": 688,
        "持续整改": 4,
        "未完成": 5,
        "已完成整改": 16,
    }


# ---------------------------------------------------------------------------
# Reading: what cannot be read is refused clearly


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, ".doc"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "图片"),
        (b"PK\x03\x04not really a zip", "Word"),
        (b"\xff\xfe\x00\xd8\x00", "解码"),
        (bytes(range(256)) * 4, "编码"),
    ],
)
def test_unreadable_input_is_refused_with_a_reason(data, says):
    with pytest.raises(UnreadableNotice, match=says):
        parse_bytes(data)


def test_zip_that_is_not_a_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(UnreadableNotice, match="不是 Word"):
        parse_bytes(buffer.getvalue())


def test_empty_input_is_readable_and_empty():
    notice = parse_bytes(b"")
    assert notice.aspects == ()
    assert "通报内容为空。" in notice.warnings


# ---------------------------------------------------------------------------
# Normalising, piece by piece


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("長(zhǎng)者服務(wù)專區(qū)", "长者服务专区"),
        ("出國(guó)(境)管理", "出国（境）管理"),
        ("(一)統(tǒng)一思想", "（一）统一思想"),
        (
            "项目(含采购项目、基本建设项目等)经费",
            "项目（含采购项目、基本建设项目等）经费",
        ),
        ("召开(2023)第3次会议", "召开（2023）第3次会议"),
        ("使用手机(app)报名", "使用手机（app）报名"),  # not a reading: no tone mark
        ("电话:0753-2196838;邮箱:ab@163.com", "电话：0753-2196838；邮箱：ab@163.com"),
        ("发布时间:2025-07-08 16:17:19", "发布时间：2025-07-08 16:17:19"),
        ('落实"第一议题"制度', "落实“第一议题”制度"),
        ("「三重一大」", "“三重一大”"),
        ("金额在１万元以上", "金额在1万元以上"),
        ("逐项开展全面排查, 及时总结", "逐项开展全面排查，及时总结"),
        ("来源:教育局  发布时间:2025", "来源：教育局 发布时间：2025"),
    ],
)
def test_normalise_paragraph(raw, clean):
    assert normalise_paragraph(raw) == clean


def test_toneless_readings_go_only_in_a_pinyin_capture():
    assert strip_readings("我的(de)书", toneless=True) == "我的书"
    assert strip_readings("我的(de)书", toneless=False) == "我的(de)书"
    assert widen_punctuation("见https://a.cn/x(1)") == "见https://a.cn/x(1)"


@pytest.mark.parametrize(
    ("text", "value"),
    [("十八", 18), ("二十三", 23), ("六", 6), ("两", 2), ("一百零五", 105), ("18", 18)],
)
def test_numerals(text, value):
    assert parse_number(text) == value


def test_numerals_round_trip():
    for value in range(100):
        assert parse_number(format_chinese(value)) == value


# ---------------------------------------------------------------------------
# Properties: never raises, never shows what is not there

PIECES = [
    "问题1.", "问题2.", "1.", "2.", "（一）", "(二)", "一、", "二、", "第一方面：",
    "关于“", "”问题的整改", "整改状态：", "整改情况：", "整改过程。", "已完成", "长期坚持",
    "正在整改", "。", "，", "\n", "\n\n", "  ", "方面", "18个问题", "4个方面",
    "已完成整改19个", "六个方面", "电话:0753-1234567", "邮箱：a@b.cn", "長(zhǎng)", "(",
    ")", "“", "一是", "三是", "2024年10月上旬至12月", "巡察第六组对", "反馈", "<p>",
    "</p>", "<table><tr><td>问题</td><td>整改情况</td></tr><tr><td>", "</td><td>",
    "落实不到位", "欢迎监督", "下一步",
]  # fmt: skip
notice_like = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=50
).map("".join)
FAST = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def assert_shows_only_what_is_there(notice) -> None:
    text = notice.document.text
    for aspect, problem in notice.problems:
        assert problem.title
        assert problem.title in text
        assert aspect.title in text
        if problem.status is not None:
            assert problem.status in text
    for word, _count in notice.declared.by_status:
        assert word in text
    notice.to_json()


@FAST
@given(st.text())
def test_never_raises_on_any_text(text):
    assert_shows_only_what_is_there(parse_text(text))


@FAST
@given(notice_like)
def test_never_raises_on_notice_like_text(text):
    assert_shows_only_what_is_there(parse_text(text))


@FAST
@given(st.binary(max_size=400))
def test_bytes_are_read_or_refused_clearly(data):
    try:
        notice = parse_bytes(data)
    except UnreadableNotice as exc:
        reason = str(exc)
        notice = None
    else:
        reason = None
    if notice is None:
        assert reason  # a refusal always says why
    else:
        assert_shows_only_what_is_there(notice)


@FAST
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_never_raises_on_word_documents(pieces):
    assert_shows_only_what_is_there(parse_bytes(docx(pieces)))


def test_known_status_words_are_recognised():
    for word in STATUS_WORDS:
        notice = parse_text(f"问题1.某问题不到位。\n整改状态：{word}。\n")
        assert notice.problems[0][1].status == word


def test_a_page_with_a_declaration_the_html_parser_gives_up_on_is_read_to_there():
    page = (
        "<html><body><p>关于巡察整改进展情况的通报</p>"
        '<![><img src="]><img src=x onerror=alert(39)//"><p>之后</p></body></html>'
    )
    parsed = parse_bytes(page.encode("utf-8"), "notice.html")
    assert parsed.document.paragraphs == ("关于巡察整改进展情况的通报",)
