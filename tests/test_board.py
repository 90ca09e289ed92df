"""The public board: rounds, counts, filters, search, problem page, feed, API and edits."""

import re
import xml.etree.ElementTree as ET
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from helpers import login
from helpers import staff_user
from helpers import STATUS_FORM
from helpers import submit
from sqlalchemy import select

from feedback.db import utcnow
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import StatusChange
from feedback.models import SubmissionKind
from feedback.services import board
from feedback.services import deadlines
from feedback.services import replies
from feedback.services import triage

ATOM = "{http://www.w3.org/2005/Atom}"


def _problem(session, code):
    aspect_no, number = map(int, code.split("."))
    return next(
        p
        for p in session.scalars(select(Problem))
        if p.aspect.number == aspect_no and p.number == number
    )


def _today():
    return deadlines.local_date(utcnow(), "Asia/Shanghai")


def _codes(html):
    return re.findall(r'<span class="code">(\d+\.\d+)</span>', html)


def test_round_page_counts_and_rollup(client, demo_loaded):
    html = client.get("/rounds/1").get_data(as_text=True)
    assert len(_codes(html)) == 18
    assert re.search(r"已完成</span> <strong>16</strong>", html)
    assert re.search(r"长期坚持</span> <strong>2</strong>", html)
    rollup = html[html.index('class="list rollup') :]
    rows = re.findall(r'第(\d)方面</a></th><td data-label="问题数">(\d+)</td>', rollup)
    assert rows == [("1", "1"), ("2", "7"), ("3", "7"), ("4", "3")]
    totals = html[html.index('class="list totals"') : html.index('class="list rollup')]
    assert re.search(r"问题</th><td>18</td><td>18</td>", totals)
    assert "89%" in html  # 16 of 18 done
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'type="search"' in html
    assert 'media="print"' in html


def test_home_is_the_newest_round_and_rounds_are_listed(client, session, demo_loaded):
    older = Inspection(
        name="上一轮巡察", notice_title="较早的通报", published_on=date(2023, 5, 1)
    )
    session.add(older)
    session.commit()
    assert len(_codes(client.get("/").get_data(as_text=True))) == 18
    listing = client.get("/rounds").get_data(as_text=True)
    assert listing.index("整改阶段性进展情况的通报") < listing.index("较早的通报")
    assert client.get(f"/rounds/{older.id}").status_code == 200
    assert client.get("/rounds/999").status_code == 404


@pytest.mark.parametrize("query", ["财务管理", "財務管理", " 财务管理 "])
def test_search_finds_3_3_in_either_script(client, demo_loaded, query):
    html = client.get("/", query_string={"q": query}).get_data(as_text=True)
    assert _codes(html) == ["3.3"]
    assert "找到1个问题" in html


@pytest.mark.parametrize("query", ["%", "_", "不存在的词语"])
def test_search_treats_wildcards_as_text(client, demo_loaded, query):
    html = client.get("/", query_string={"q": query}).get_data(as_text=True)
    assert _codes(html) == []
    assert "找到0个问题" in html


def test_filters_by_kind_and_section(client, session, demo_loaded):
    html = client.get("/?kind=long_term").get_data(as_text=True)
    assert _codes(html) == ["2.6", "3.7"]
    personnel = session.scalar(select(Section).where(Section.name == "人事股"))
    html = client.get(f"/?section={personnel.id}&kind=long_term").get_data(as_text=True)
    assert _codes(html) == ["2.6"]


@pytest.mark.parametrize(
    "query", ["kind=nonsense", "section=abc", "section=99999", "q=" + "长" * 500]
)
def test_bad_filters_never_fail(client, demo_loaded, query):
    response = client.get(f"/?{query}")
    assert response.status_code == 400  # the board, without the bad filter
    assert "有的筛选条件无法识别" in response.get_data(as_text=True)


def test_problem_page_counts_opinions_without_misconduct_reports(
    client, session, demo_loaded
):
    problem = _problem(session, "3.3")
    lead = staff_user(Role.LEAD)
    first = submit(session, problem=problem).submission
    submit(session, problem=problem)
    submit(session, problem=problem, kind=SubmissionKind.MISCONDUCT)
    triage.route(session, first, problem.section, actor=lead)
    reply = replies.draft(
        session,
        first,
        problem.section,
        "已公开",
        channel=ReplyChannel.WEB,
        author_label="x",
    )
    replies.approve(session, reply, actor=lead)
    session.commit()
    html = client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert "已收到公众意见2件" in html
    assert "published-reply" not in html  # approved is not yet published
    reply.published_body = "每月公开食堂账目。"
    reply.published_at = utcnow()
    session.commit()
    html = client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert "每月公开食堂账目。" in html
    assert first.reference in html


def test_future_progress_is_public_only_from_its_date(client, session, demo_loaded):
    problem = _problem(session, "2.6")
    lead = staff_user(Role.LEAD)
    board.add_progress(
        session,
        problem,
        "明年才公开",
        published_on=_today() + timedelta(days=30),
        actor=lead,
    )
    board.add_progress(
        session,
        problem,
        "今天公开",
        published_on=_today() - timedelta(days=1),
        actor=lead,
    )
    session.commit()
    public = client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert "今天公开" in public
    assert "明年才公开" not in public
    assert "明年才公开" not in client.get("/rounds/1/feed.atom").get_data(as_text=True)
    login(client, lead)
    assert "明年才公开" in client.get(f"/staff/problems/{problem.id}").get_data(
        as_text=True
    )


def test_status_change_through_staff_page(client, session, demo_loaded):
    problem = _problem(session, "3.3")
    login(client, staff_user(Role.LEAD))
    response = client.post(f"/staff/problems/{problem.id}/status", data=STATUS_FORM)
    assert response.status_code == 302
    change = session.scalar(select(StatusChange).order_by(StatusChange.id.desc()))
    assert (change.from_word, change.to_word, change.effective_on) == (
        "已完成",
        "正在整改",
        date(2026, 11, 20),
    )
    session.refresh(problem)
    assert problem.status_kind.value == "ongoing"
    event = session.scalar(
        select(Event).where(Event.action == AuditAction.STATUS_CHANGED)
    )
    assert "审计发现新问题" in event.reason
    assert event.actor.role is Role.LEAD
    public = client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert (
        '状态由“<span lang="zh-Hans">已完成</span>”改为“<span lang="zh-Hans">正在整改</span>”'
        in public
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "status-word": "正在整改",
                "status-reason": "",
                "status-effective_on": "2026-11-20",
            },
            "请说明变更原因",
        ),
        (
            {
                "status-word": "编造的状态",
                "status-reason": "x",
                "status-effective_on": "2026-11-20",
            },
            "不是有效的选择",
        ),
        (
            {
                "status-word": "已完成",
                "status-reason": "x",
                "status-effective_on": "2026-11-20",
            },
            "这个问题已经是这个整改状态了。",
        ),
        (
            {
                "status-word": "正在整改",
                "status-reason": "x",
                "status-effective_on": "昨天",
            },
            "日期",
        ),
    ],
)
def test_status_change_refusals_are_explained(
    client, session, demo_loaded, data, message
):
    problem = _problem(session, "3.3")
    login(client, staff_user(Role.LEAD))
    response = client.post(f"/staff/problems/{problem.id}/status", data=data)
    assert response.status_code == 400
    assert message in response.get_data(
        as_text=True
    ) or "Not a valid date" in response.get_data(as_text=True)
    assert (
        session.scalar(select(StatusChange).where(StatusChange.actor_id.is_not(None)))
        is None
    )


def test_edit_problem_sets_section_and_is_audited(client, session, demo_loaded):
    problem = _problem(session, "1.1")
    personnel = session.scalar(select(Section).where(Section.name == "人事股"))
    login(client, staff_user(Role.ADMIN))
    response = client.post(
        f"/staff/problems/{problem.id}",
        data={
            "edit-title": problem.title,
            "edit-details": problem.details,
            "edit-measures": problem.measures + "补充一句。",
            "edit-deadline": "2026-12-31",
            "edit-section_id": str(personnel.id),
        },
    )
    assert response.status_code == 302
    session.refresh(problem)
    assert problem.section is personnel
    assert problem.deadline == date(2026, 12, 31)
    event = session.scalar(
        select(Event).where(Event.action == AuditAction.PROBLEM_EDITED)
    )
    assert event.reason == "measures, deadline, section"


@pytest.mark.parametrize(("role", "status"), [(Role.SECTION, 403), (None, 302)])
def test_only_lead_and_admin_edit_the_board(client, session, demo_loaded, role, status):
    problem = _problem(session, "1.1")
    if role is not None:
        login(client, staff_user(role, "办公室"))
    assert client.get(f"/staff/problems/{problem.id}").status_code == status
    response = client.post(
        f"/staff/problems/{problem.id}/status",
        data={
            "status-word": "正在整改",
            "status-reason": "x",
            "status-effective_on": "2026-11-20",
        },
    )
    assert response.status_code == status


def _rfc3339(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_atom_feed_is_valid_atom_with_the_changes(client, session, demo_loaded):
    problem = _problem(session, "3.3")
    board.change_status(
        session,
        problem,
        "正在整改",
        reason="复查",
        effective_on=date(2026, 11, 1),
        actor=staff_user(Role.LEAD),
    )
    session.commit()
    response = client.get("/rounds/1/feed.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{name}").text.strip()
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    assert (
        feed.find(f"{ATOM}link[@rel='self']")
        .get("href")
        .endswith("/rounds/1/feed.atom")
    )
    _rfc3339(feed.find(f"{ATOM}updated").text)
    entries = feed.findall(f"{ATOM}entry")
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(ids) == len(set(ids)) == 5 + 5 + 1  # demo changes, demo updates, ours
    for entry in entries:
        assert entry.find(f"{ATOM}title").text
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href")
        _rfc3339(entry.find(f"{ATOM}updated").text)
        _rfc3339(entry.find(f"{ATOM}published").text)
        assert entry.find(f"{ATOM}content").get("type") == "text"
    newest = entries[0]
    assert "3.3 财务管理不规范：已完成 → 正在整改" in newest.find(f"{ATOM}title").text
    assert "复查" in newest.find(f"{ATOM}content").text


def test_feed_escapes_what_it_carries(client, session, demo_loaded):
    problem = _problem(session, "3.3")
    board.add_progress(
        session,
        problem,
        "<b>&amp; 不是标签 ]]>",
        published_on=date(2025, 1, 1),
        actor=staff_user(Role.LEAD),
    )
    session.commit()
    feed = ET.fromstring(client.get("/rounds/1/feed.atom").data)
    contents = [e.find(f"{ATOM}content").text for e in feed.findall(f"{ATOM}entry")]
    assert any("<b>&amp; 不是标签 ]]>" in c for c in contents)


def test_json_api(client, demo_loaded):
    rounds = client.get("/api/v1/rounds").get_json()["rounds"]
    assert rounds[0]["counted"] == {
        "aspects": 4,
        "problems": 18,
        "by_status": {"已完成": 16, "长期坚持": 2},
        "by_kind": {"done": 16, "long_term": 2},
    }
    detail = client.get(f"/api/v1/rounds/{rounds[0]['id']}").get_json()
    assert [len(a["problems"]) for a in detail["aspects"]] == [1, 7, 7, 3]
    problem = detail["aspects"][2]["problems"][2]
    assert (problem["code"], problem["title"], problem["status"]) == (
        "3.3",
        "财务管理不规范",
        "已完成",
    )
    one = client.get(f"/api/v1/problems/{problem['id']}").get_json()
    assert one["timeline"][0]["type"] == "status_change"
    assert client.get("/api/v1/problems/99999").get_json() == {"error": "not found"}
