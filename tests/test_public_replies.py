"""The public list of replies and its feed: published only, masked, never a 举报, filtered."""

import re
import xml.etree.ElementTree as ET
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import pytest
from helpers import corpus
from helpers import login
from helpers import runnable_markup
from helpers import staff_user
from markupsafe import escape
from sqlalchemy import select

from feedback import chinese
from feedback import demo
from feedback import demo_data
from feedback import masking
from feedback.models import Aspect
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import ReplyState
from feedback.models import Role
from feedback.models import Section
from feedback.models import SubmissionKind
from feedback.services import public_replies
from feedback.services import replies
from feedback.services import submissions
from feedback.services import triage

ATOM = "{http://www.w3.org/2005/Atom}"

# Personal data as citizens really write it, in the submission and in the reply.
PEOPLE = [
    {
        "name": "李秀英",
        "phone": "13800138000",
        "email": "li.xiuying@example.com",
        "id_number": "44140219800101123X",
        "written": "李女士",
    },
    {
        "name": "王建国",
        "phone": "139-2233-4455",
        "email": "wjg1980@qq.example",
        "id_number": "441402198506157654",
        "written": "王先生",
    },
]


def _problem(session, aspect_number, number):
    return session.scalar(
        select(Problem)
        .join(Aspect)
        .where(Aspect.number == aspect_number, Problem.number == number)
    )


def _section(session, name):
    return session.scalar(select(Section).where(Section.name == name))


def _answer(
    session,
    *,
    reply_text="已安排周末开放操场。",
    body="希望周末开放学校操场。",
    kind=SubmissionKind.OPINION,
    problem=None,
    section=None,
    author=None,
    received_at=None,
    publish=True,
):
    """Take a submission through routing, a section's draft, approval and publication."""
    lead = staff_user(Role.LEAD)
    submission = submissions.submit(
        session,
        kind=kind,
        subject="操场开放",
        body=body,
        author=author or submissions.Author(),
        problem=problem,
        publish_consent=True,
        received_at=received_at,
    ).submission
    section = section or (problem.section if problem else _section(session, "办公室"))
    triage.route(session, submission, section, actor=lead)
    reply = replies.draft(
        session,
        submission,
        section,
        reply_text,
        channel=ReplyChannel.WEB,
        author_label=section.name,
    )
    replies.approve(session, reply, actor=lead)
    if publish:
        # What the lead is offered, and publishes unchanged.
        replies.publish(session, reply, replies.masked_text(session, reply), actor=lead)
    session.commit()
    return reply


def _shown(html):
    return [int(n) for n in re.findall(r'id="reply-(\d+)"', html)]


def _feed_ids(data):
    feed = ET.fromstring(data)
    return [
        int(e.find(f"{ATOM}id").text.rpartition("#reply-")[2])
        for e in feed.findall(f"{ATOM}entry")
    ]


def test_list_and_feed_show_no_personal_data(client, session, demo_loaded):
    problem = _problem(session, 3, 3)
    published = []
    for person in PEOPLE:
        reply = _answer(
            session,
            problem=problem,
            author=submissions.Author(
                name=person["name"], phone=person["phone"], email=person["email"]
            ),
            body=(
                f"我是{person['name']}，身份证{person['id_number']}，"
                f"电话{person['phone']}，邮箱{person['email']}。食堂账目不公开。"
            ),
            reply_text=(
                f"{person['written']}：您好！{person['name']}反映的食堂账目问题已核实，"
                f"结果已电话（{person['phone']}）和邮件（{person['email']}）告知。"
                f"您提供的身份证号{person['id_number']}仅用于核实身份。"
            ),
        )
        published.append(reply)
    pages = {
        "list": client.get("/replies").get_data(as_text=True),
        "filtered": client.get(f"/replies?problem={problem.id}").get_data(as_text=True),
        "feed": client.get("/replies/feed.atom").get_data(as_text=True),
        "problem": client.get(f"/problems/{problem.id}").get_data(as_text=True),
    }
    for where, text in pages.items():
        for person in PEOPLE:
            for value in (
                person["name"],
                person["written"],
                person["phone"],
                person["email"],
                person["id_number"],
            ):
                assert value not in text, f"{value} on the {where} page"
        for reply in published:
            assert reply.submission.reference in text, where
        for mark in (
            masking.NAME_MARK,
            masking.PHONE_MARK,
            masking.EMAIL_MARK,
            masking.ID_MARK,
        ):
            assert mark in text, f"{mark} missing on the {where} page"
        # Each reply comes with the question it answers, masked the same way.
        assert "食堂账目不公开" in text, where


def test_what_the_lead_edited_is_what_the_public_reads(client, session, demo_loaded):
    reply = _answer(session, reply_text="已联系张三（13912345678）。")
    replies.publish(
        session, reply, "已电话联系来信人，操场周末开放。", actor=staff_user(Role.LEAD)
    )
    session.commit()
    html = client.get("/replies").get_data(as_text=True)
    assert "已电话联系来信人，操场周末开放。" in html
    assert "13912345678" not in html
    assert "张三" not in html


def test_misconduct_reports_never_appear_even_when_forced(client, session, demo_loaded):
    problem = _problem(session, 3, 3)
    visible = _answer(session, problem=problem)
    report = submissions.submit(
        session,
        kind=SubmissionKind.MISCONDUCT,
        subject="举报某干部",
        body="某干部收受礼金。",
        author=submissions.Author(),
        problem=problem,
        publish_consent=True,
    ).submission
    # No service would publish this: write the row as a bug or a hand would.
    forced = Reply(
        submission=report,
        section=problem.section,
        body="举报查处情况",
        state=ReplyState.APPROVED,
        approved_at=datetime.now(UTC),
        published_body="举报查处情况：已立案",
        published_at=datetime.now(UTC) + timedelta(minutes=1),  # the newest
    )
    session.add(forced)
    session.commit()
    urls = [
        "/replies",
        f"/replies?problem={problem.id}",
        f"/replies?section={problem.section.id}",
        "/replies?kind=misconduct",
        "/replies/feed.atom",
        f"/problems/{problem.id}",
    ]
    for url in urls:
        text = client.get(url).get_data(as_text=True)
        assert "举报查处情况" not in text, url
        assert report.reference not in text, url
        assert f'id="reply-{forced.id}"' not in text, url
    assert _shown(client.get("/replies").get_data(as_text=True)) == [visible.id]
    assert _feed_ids(client.get("/replies/feed.atom").data) == [visible.id]
    assert public_replies.count(session, public_replies.Filters()) == 1


def test_only_published_replies_appear(client, session, demo_loaded):
    published = _answer(session, reply_text="这条答复已公开")
    _answer(session, reply_text="已审核但未公开", publish=False)
    draft_owner = submissions.submit(
        session,
        kind=SubmissionKind.OPINION,
        subject="s",
        body="b",
        author=submissions.Author(),
        publish_consent=True,
    ).submission
    office = _section(session, "办公室")
    triage.route(session, draft_owner, office, actor=staff_user(Role.LEAD))
    draft = replies.draft(
        session,
        draft_owner,
        office,
        "仍是草稿",
        channel=ReplyChannel.WEB,
        author_label="办公室",
    )
    draft.published_body = "草稿不应公开"  # even with a text, a draft is not public
    draft.published_at = datetime.now(UTC)
    session.commit()
    html = client.get("/replies").get_data(as_text=True)
    assert _shown(html) == [published.id]
    assert "这条答复已公开" in html
    for hidden in ("已审核但未公开", "仍是草稿", "草稿不应公开"):
        assert hidden not in html
    assert _feed_ids(client.get("/replies/feed.atom").data) == [published.id]


def test_empty_list_says_so(client, demo_loaded):
    html = client.get("/replies").get_data(as_text=True)
    assert "尚未公开答复" in html
    assert _shown(html) == []


@pytest.fixture
def spread(session, demo_loaded):
    """Four published replies that differ in section, problem, kind and month."""
    finance_problem = _problem(session, 3, 3)  # 计划财务股
    personnel_problem = _problem(session, 2, 6)  # 人事股
    made = {
        "aug_opinion": _answer(session, problem=finance_problem),
        "sep_suggestion": _answer(
            session, problem=finance_problem, kind=SubmissionKind.SUGGESTION
        ),
        "sep_complaint": _answer(
            session, problem=personnel_problem, kind=SubmissionKind.COMPLAINT
        ),
        "no_problem": _answer(session),  # 办公室, no problem linked
    }
    # 2025-08-31 23:30 in Beijing is still August there, though 15:30 UTC;
    # 2025-09-01 00:30 in Beijing is September there, though still August in UTC.
    made["aug_opinion"].published_at = datetime(2025, 8, 31, 15, 30, tzinfo=UTC)
    made["sep_suggestion"].published_at = datetime(2025, 8, 31, 16, 30, tzinfo=UTC)
    made["sep_complaint"].published_at = datetime(2025, 9, 30, 15, 59, tzinfo=UTC)
    made["no_problem"].published_at = datetime(2025, 9, 30, 16, 0, tzinfo=UTC)  # Oct
    session.commit()
    return {
        "replies": {name: reply.id for name, reply in made.items()},
        "finance": finance_problem.section.id,
        "personnel": personnel_problem.section.id,
        "office": _section(session, "办公室").id,
        "finance_problem": finance_problem.id,
        "personnel_problem": personnel_problem.id,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["no_problem", "sep_complaint", "sep_suggestion", "aug_opinion"]),
        ("month=2025-08", ["aug_opinion"]),
        ("month=2025-09", ["sep_complaint", "sep_suggestion"]),
        ("month=2025-10", ["no_problem"]),
        ("month=2025-07", []),
        ("month=2025-8", ["aug_opinion"]),
        ("month=2025%2F9", ["sep_complaint", "sep_suggestion"]),
        ("month=2025%E5%B9%B49%E6%9C%88", ["sep_complaint", "sep_suggestion"]),
        ("month=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95-10", ["no_problem"]),
        ("section={finance}", ["sep_suggestion", "aug_opinion"]),
        ("section={personnel}", ["sep_complaint"]),
        ("section={office}", ["no_problem"]),
        ("problem={finance_problem}", ["sep_suggestion", "aug_opinion"]),
        ("problem={personnel_problem}", ["sep_complaint"]),
        ("kind=opinion", ["no_problem", "aug_opinion"]),
        ("kind=suggestion", ["sep_suggestion"]),
        ("kind=complaint", ["sep_complaint"]),
        ("section={finance}&month=2025-09", ["sep_suggestion"]),
        ("problem={finance_problem}&kind=opinion&month=2025-08", ["aug_opinion"]),
        ("section={personnel}&kind=opinion", []),
    ],
)
def test_each_filter_narrows(client, spread, query, expected):
    query = query.format(**spread)
    wanted = [spread["replies"][name] for name in expected]
    html = client.get(f"/replies?{query}").get_data(as_text=True)
    assert _shown(html) == wanted
    if query:
        assert f"找到{len(wanted)}条答复" in html
        if not wanted:
            assert "没有符合条件的公开答复" in html
    assert _feed_ids(client.get(f"/replies/feed.atom?{query}").data) == wanted


def test_filters_are_kept_in_the_form_and_the_feed_link(client, spread):
    html = client.get(f"/replies?section={spread['finance']}&month=2025-09").get_data(
        as_text=True
    )
    assert f'<option lang="zh-Hans" selected value="{spread["finance"]}">' in html
    assert 'value="2025-09"' in html
    head = html[: html.index("</head>")]
    link = re.search(r'<link rel="alternate" type="application/atom\+xml"[^>]*>', head)
    assert link is not None
    href = re.search(r'href="([^"]+)"', link.group(0)).group(1).replace("&amp;", "&")
    assert href.startswith("/replies/feed.atom?")
    assert f"section={spread['finance']}" in href
    assert "month=2025-09" in href
    assert _feed_ids(client.get(href).data) == [spread["replies"]["sep_suggestion"]]


def _rfc3339(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_feed_has_what_rfc_4287_requires(client, spread):
    response = client.get(f"/replies/feed.atom?section={spread['finance']}")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{name}").text.strip()
    assert feed.find(f"{ATOM}author/{ATOM}name").text.strip()  # entries have none
    self_link = feed.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link.startswith("http://feedback.test/replies/feed.atom?")
    assert f"section={spread['finance']}" in self_link
    updated = _rfc3339(feed.find(f"{ATOM}updated").text)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == len(ids)
    for entry in entries:
        assert entry.find(f"{ATOM}title").text.strip()
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href")
        assert _rfc3339(entry.find(f"{ATOM}updated").text) <= updated
        _rfc3339(entry.find(f"{ATOM}published").text)
        content = entry.find(f"{ATOM}content")
        assert content.get("type") == "text"
        assert "答复日期" in content.text
    newest = entries[0]
    assert newest.find(f"{ATOM}updated").text == "2025-08-31T16:30:00Z"
    assert "计划财务股" in newest.find(f"{ATOM}title").text
    assert (
        newest.find(f"{ATOM}link[@rel='alternate']")
        .get("href")
        .endswith(f"/problems/{spread['finance_problem']}")
    )


def test_feed_of_nothing_is_still_valid(client, demo_loaded):
    feed = ET.fromstring(client.get("/replies/feed.atom").data)
    assert feed.find(f"{ATOM}entry") is None
    _rfc3339(feed.find(f"{ATOM}updated").text)
    assert feed.find(f"{ATOM}id").text


def test_pages_follow_each_other_without_gaps(client, session, demo_loaded):
    problem = _problem(session, 2, 5)
    made = [
        _answer(session, problem=problem)
        for _ in range(public_replies.PAGE_SIZE * 2 + 3)
    ]
    same_moment = datetime(2025, 10, 1, 2, 0, tzinfo=UTC)
    for number, reply in enumerate(made):
        # Ties on the time are ordered by id, so no reply is skipped or repeated.
        reply.published_at = (
            same_moment if number % 2 else same_moment + timedelta(seconds=number)
        )
    session.commit()
    expected = [
        r.id for r in sorted(made, key=lambda r: (r.published_at, r.id), reverse=True)
    ]
    seen = []
    url = f"/replies?problem={problem.id}"
    pages = 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += _shown(html)
        pages += 1
        found = re.search(r'<a href="([^"]+)">更早的答复</a>', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        if url:
            assert f"problem={problem.id}" in url  # the filter stays on
    assert seen == expected
    assert pages == 3
    problem_page = client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert len(_shown(problem_page)) == public_replies.PAGE_SIZE
    assert f'href="/replies?problem={problem.id}"' in problem_page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("month=2025-13", "2025-08"),
        ("month=0000-01", "2025-08"),
        ("month=2025-00", "2025-08"),
        ("month=%E4%B8%83%E6%9C%88", "2025-08"),
        ("month=" + "9" * 500, "2025-08"),
        ("kind=misconduct", "不是有效的选择"),
        ("kind=nonsense", "不是有效的选择"),
        ("section=abc", "不是有效的选择"),
        ("section=99999999999999999999999", "不是有效的选择"),
        ("problem=-1", "不是有效的选择"),
        # problem=%00 is refused before any view: tests/test_operations.py
    ],
)
def test_bad_filters_are_explained_never_a_500(client, spread, query, message):
    response = client.get(f"/replies?{query}")
    assert response.status_code == 400  # shown, but not taken as sent
    html = response.get_data(as_text=True)
    assert message in html
    assert "有的筛选条件无法识别" in html
    # The bad filter is ignored; the list still shows every public reply.
    assert len(_shown(html)) == 4
    feed = client.get(f"/replies/feed.atom?{query}")
    assert feed.status_code == 400
    assert feed.mimetype == "text/plain"
    assert message in feed.get_data(as_text=True)
    label = {"month": "公开月份", "kind": "类型", "section": "答复单位"}
    assert label.get(query.partition("=")[0], "涉及问题") in feed.get_data(as_text=True)


@pytest.mark.parametrize(
    "cursor",
    [
        "junk",
        "2025-01-01T00:00:00_5",  # no time zone
        "9999-12-31T23:59:59-14:00_1",
        "0001-01-01T00:00:00+14:00_1",
        "2025-01-01T00:00:00+00:00_99999999999999999999999",
        "2025-01-01T00:00:00+00:00_-1",
    ],
)
def test_bad_page_links_show_the_newest_with_a_message(client, spread, cursor):
    response = client.get("/replies", query_string={"after": cursor})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "翻页地址无效" in html
    assert len(_shown(html)) == 4


def test_lead_queue_survives_an_edited_page_link(client, session, demo_loaded):
    """The queues' cursor reader, shared with the public list, refuses naive times."""
    login(client, staff_user(Role.LEAD))
    for cursor in ("2025-01-01T00:00:00_5", "0001-01-01T00:00:00+14:00_1"):
        assert client.get("/staff/", query_string={"after": cursor}).status_code == 200


def test_xss_payloads_are_escaped(client, session, demo_loaded):
    payloads = corpus("xss-payloads.txt")
    # A month filter shows what was typed back; checked before the list is
    # long, as what it lists plays no part in it.
    for payload in payloads[:40]:
        response = client.get("/replies", query_string={"month": payload})
        assert response.status_code == 400  # no payload is a month
        assert runnable_markup(response.get_data(as_text=True)) == [], payload
    lead = staff_user(Role.LEAD)
    chunk = len(payloads) // public_replies.PAGE_SIZE + 1
    texts = ["\n".join(payloads[i : i + chunk]) for i in range(0, len(payloads), chunk)]
    for text in texts:
        reply = _answer(session, reply_text="原文")
        replies.publish(session, reply, text, actor=lead)
    session.commit()
    html = client.get("/replies").get_data(as_text=True)
    assert len(_shown(html)) == len(texts)
    assert runnable_markup(html) == []
    for line in payloads[:200]:
        if "http" not in line.lower():  # addresses become links, the rest is as typed
            assert str(escape(line)) in html, line
    feed = ET.fromstring(client.get("/replies/feed.atom").data)
    contents = [e.find(f"{ATOM}content").text for e in feed.findall(f"{ATOM}entry")]
    for text in texts:
        assert any(c.endswith(text) for c in contents)


def test_replies_are_in_the_readers_script(client, spread):
    client.set_cookie("lang", "zh-Hant")
    html = client.get(f"/replies?section={spread['finance']}").get_data(as_text=True)
    assert "計劃財務股" in html  # the section's name, converted
    assert "財務管理不規範" in html  # the problem's title, converted
    assert chinese.to_traditional("已公开的答复") in html  # the interface


def test_english_interface(client, demo_loaded):
    client.set_cookie("lang", "en")
    html = client.get("/replies?month=2025-13").get_data(as_text=True)
    assert "<h1>Published replies</h1>" in html
    assert "2025-08" in html  # the format the month needs, in the message


def test_every_page_links_to_the_list(client, demo_loaded):
    html = client.get("/").get_data(as_text=True)
    nav = html[html.index('<ul class="nav">') : html.index("</ul>")]
    assert 'href="/replies"' in nav


def test_masking_keeps_the_chinese_around_an_address():
    text = "已发送到您留下的邮箱lin@example.com。今后每学期公示，或写信至a＠b.cn"
    assert masking.mask(text) == (
        "已发送到您留下的邮箱［邮箱已隐去］。今后每学期公示，或写信至［邮箱已隐去］"
    )


def test_demo_publishes_masked_replies_once(client, session):
    demo.load(session)
    assert demo.load_published_replies(session) is True
    session.commit()
    count = public_replies.count(session, public_replies.Filters())
    assert count == 3
    assert demo.load_published_replies(session) is False
    session.commit()
    assert public_replies.count(session, public_replies.Filters()) == count
    html = client.get("/replies").get_data(as_text=True)
    assert len(_shown(html)) == count
    for spec in demo_data.PUBLISHED_REPLIES:
        for value in (spec["name"], spec["phone"], spec["email"]):
            if value:
                assert value not in html
    assert len(_shown(client.get("/replies?month=2025-09").get_data(as_text=True))) == 1


def test_problems_of_several_rounds_are_grouped_by_round(client, session, demo_loaded):
    older = Inspection(name="上一轮巡察", published_on=date(2023, 5, 1))
    older.aspects.append(Aspect(number=1, title="旧方面"))
    older.aspects[0].problems.append(Problem(number=1, title="旧问题"))
    session.add(older)
    session.commit()
    old_problem = older.aspects[0].problems[0].id
    reply = _answer(
        session,
        problem=session.get(Problem, old_problem),
        section=_section(session, "办公室"),
    )
    html = client.get(f"/replies?problem={old_problem}").get_data(as_text=True)
    assert '<optgroup label="上一轮巡察">' in html
    assert (
        f'<option lang="zh-Hans" selected value="{old_problem}">1.1 旧问题</option>'
        in html
    )
    assert _shown(html) == [reply.id]
