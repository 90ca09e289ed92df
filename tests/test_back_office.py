"""The lead's and the sections' back office: one draft at a time, reopened cases, mail a clerk understands, pages on a phone."""

import re
import socket
from email.message import EmailMessage
from urllib.parse import quote

import pytest
from helpers import free_port
from helpers import LiveServer
from helpers import login
from helpers import sign_in
from helpers import staff_user
from helpers import submit
from playwright.sync_api import Browser
from playwright.sync_api import expect
from sqlalchemy import select

from feedback import demo
from feedback import quickstart
from feedback.config import reply_templates_setting
from feedback.extensions import db
from feedback.models import Problem
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import inbound
from feedback.services import tracking
from feedback.services import triage

# ---- 4. Staff pages work on a phone --------------------------------------------


def _input(page: str, field_id: str) -> str:
    """Return the <input> tag of the field with id ``field_id``."""
    found = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page)
    assert found is not None, field_id
    return found.group(0)


def _current_queue(page: str) -> str:
    found = re.search(r'aria-current="page">([^（<]+)（', page)
    assert found is not None
    return found.group(1)


def test_the_desk_opens_on_the_first_queue_with_work(app, client, demo_loaded):
    with app.app_context():
        login(client, staff_user(Role.LEAD))
    assert _current_queue(client.get("/staff/").get_data(as_text=True)) == "待分办"
    with app.app_context():
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        routed = submit(db.session, subject="食堂饭菜太咸").submission
        triage.route(db.session, routed, office, actor=None)
        db.session.commit()
    desk = client.get("/staff/").get_data(as_text=True)
    assert _current_queue(desk) == "已转办，待答复"
    # Each card names the state and the section, each led by its column's name.
    assert '<td data-label="状态">已转办，待答复</td>' in desk
    assert '<td data-label="承办股室">办公室</td>' in desk
    # A queue asked for by name is shown, even empty.
    chosen = client.get("/staff/?queue=new").get_data(as_text=True)
    assert _current_queue(chosen) == "待分办"
    assert "食堂饭菜太咸" not in chosen


def test_the_case_page_offers_routing_first_and_asks_before_ending_a_case(
    app, client, demo_loaded
):
    with app.app_context():
        problem = db.session.scalar(
            select(Problem).where(Problem.section_id.is_not(None)).limit(1)
        )
        section_id = problem.section_id
        case_id = submit(db.session, problem=problem).submission.id
        db.session.commit()
        login(client, staff_user(Role.LEAD))
    page = client.get(f"/staff/submissions/{case_id}").get_data(as_text=True)
    route = page.index(">转办</button>")
    others = page.index('<details class="other-decisions">')
    assert route < others < page.index(">不予受理</button>")
    suggested = re.search(rf'<option[^>]*value="{section_id}"[^>]*>', page)
    assert suggested is not None
    assert "selected" in suggested.group(0)
    for box in ("refuse-confirm", "duplicate-confirm", "spam-confirm"):
        assert "required" in _input(page, box)

    unconfirmed = client.post(
        f"/staff/submissions/{case_id}/spam", follow_redirects=True
    ).get_data(as_text=True)
    assert "请先勾选确认。" in unconfirmed
    with app.app_context():
        assert db.session.get(Submission, case_id).state is SubmissionState.RECEIVED
    client.post(f"/staff/submissions/{case_id}/spam", data={"spam-confirm": "y"})
    with app.app_context():
        assert db.session.get(Submission, case_id).state is SubmissionState.SPAM


def test_the_demo_mailbox_dates_mail_in_the_bureaus_time(make_app, tmp_path):
    sink = tmp_path / "sink"
    sink.mkdir()
    (sink / "20261206-005209-routed.eml").write_text(
        "From: noreply@meijiang-edu.example\nTo: office@meijiang-edu.example\n"
        "Subject: routed\nDate: Sun, 06 Dec 2026 00:52:09 +0000\n"
        "Message-ID: <176498473412.12345.1234567890123456789@meijiang-edu.example>\n"
        "Content-Type: text/plain; charset=utf-8\n\nhello\n",
        encoding="utf-8",
    )
    app = make_app(MAIL_SINK_DIR=str(sink))
    client = app.test_client()
    with app.app_context():
        demo.load(db.session)
        db.session.commit()
        login(client, staff_user(Role.LEAD))
    for path in ("/staff/mail", "/staff/mail/20261206-005209-routed.eml"):
        page = client.get(path).get_data(as_text=True)
        assert "2026-12-06 08:52" in page, path  # Asia/Shanghai, UTC+8
        assert "+0000" not in page, path


@pytest.mark.browser
def test_a_phone_shows_the_queue_as_cards_and_routing_first(
    browser: Browser, live_server: LiveServer
):
    subject = "学校操场周末能否向附近居民开放以及开放时间的安排"
    with live_server.app.app_context():
        case_id = submit(db.session, subject=subject).submission.id
        db.session.commit()
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 375, "height": 800}
    )
    page = context.new_page()
    sign_in(page, live_server, Role.LEAD)
    page.goto(f"{live_server.url}/staff/?queue=new")
    card = page.locator("table.cards tr", has_text=subject)
    expect(card).to_be_visible()
    cells = card.locator("td").evaluate_all(
        """cells => cells.map(c => [c.className, c.getBoundingClientRect().width
            / parseFloat(getComputedStyle(c).fontSize), c.getBoundingClientRect().height
            / parseFloat(getComputedStyle(c).lineHeight)])"""
    )
    assert len(cells) == 7
    assert all(width >= 8 for _class, width, _lines in cells), cells
    title_lines = next(lines for name, _w, lines in cells if name == "card-title")
    assert title_lines < 2.5, cells
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    card.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/staff/submissions/{case_id}$"))
    first = page.locator("main button[type=submit], main summary").evaluate_all(
        "found => found.map(e => e.textContent.trim())"
    )
    route = first.index("转办")
    assert route < first.index("其他处理：不予受理、重复件、无效信息")
    assert route < first.index("不予受理")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()


# ---- 5. Small things that cost clicks ------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "mj20261206-00007",
        " MJ 20261206 - 00007 ",
        "ｍｊ２０２６１２０６－００００７",
        "MJ20261206—00007",
        "mj2026120600007",
    ],
)
def test_a_reference_reads_the_same_whatever_its_case_spaces_or_width(typed):
    assert tracking.normalise_reference(typed) == "MJ20261206-00007"


def test_text_that_is_no_reference_matches_nothing():
    assert tracking.normalise_reference(" 操场 ") == "操场"


def test_every_reference_field_finds_a_number_typed_loosely(app, client, demo_loaded):
    with app.app_context():
        original = submit(db.session, subject="校车超载").submission
        case = submit(db.session, subject="食堂饭菜太咸").submission
        db.session.commit()
        original_id, case_id = original.id, case.id
        reference, other = original.reference, case.reference
        login(client, staff_user(Role.LEAD))
    loosely = f" {reference.lower().replace('-', ' － ')} "

    found = client.get(f"/staff/?queue=all&q={quote(loosely)}").get_data(as_text=True)
    assert reference in found
    assert other not in found
    audit = client.get(f"/staff/audit?reference={quote(loosely)}").get_data(
        as_text=True
    )
    assert f"submission {original_id}</td>" in audit
    assert f"submission {case_id}</td>" not in audit

    with app.app_context():
        letter = EmailMessage()
        letter["From"] = "clerk@qq.example"
        letter["To"] = "office@meijiang-edu.example"
        letter["Subject"] = f"回复：{loosely.upper()}的办理情况"
        letter.set_content("已经处理。")
        assert inbound.decide(db.session, letter).submission.id == original_id

    client.post(
        f"/staff/submissions/{case_id}/duplicate",
        data={"duplicate-reference": loosely, "duplicate-confirm": "y"},
    )
    with app.app_context():
        marked = db.session.get(Submission, case_id)
        assert marked.state is SubmissionState.DUPLICATE
        assert marked.duplicate_of_id == original_id


def _template_links(page: str) -> list[str]:
    nav = re.search(r'<nav aria-label="答复模板">(.*?)</nav>', page, re.S)
    assert nav is not None
    return [
        re.sub(r"<[^>]+>", "", link)
        for link in re.findall(r"<a [^>]*>(.*?)</a>", nav.group(1))
    ]


def _routed_case_page(app) -> tuple[object, str]:
    """Route a submission to 办公室; return its clerk's client and the case's path."""
    clerk = app.test_client()
    with app.app_context():
        demo.load(db.session)
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        case = submit(db.session).submission
        triage.route(db.session, case, office, actor=None)
        db.session.commit()
        login(clerk, staff_user(Role.SECTION, "办公室"))
        return clerk, f"/staff/submissions/{case.id}"


def test_reply_templates_are_named_by_their_titles(make_app):
    clerk, path = _routed_case_page(make_app())
    assert _template_links(clerk.get(path).get_data(as_text=True)) == [
        "核查处理",
        "采纳建议",
        "情况不符",
    ]

    older = make_app(
        REPLY_TEMPLATES=["旧式的答复", ["情况说明", "您好！情况说明如下："]]
    )
    clerk, path = _routed_case_page(older)
    assert _template_links(clerk.get(path).get_data(as_text=True)) == [
        "模板1",
        "情况说明",
    ]
    assert "您好！情况说明如下：" in clerk.get(f"{path}?template=1").get_data(
        as_text=True
    )


@pytest.mark.parametrize("setting", [[["只有标题"]], [""], [3], {"title": "x"}])
def test_a_malformed_reply_template_stops_the_start(setting):
    with pytest.raises(RuntimeError, match="REPLY_TEMPLATES"):
        reply_templates_setting(setting)


@pytest.mark.parametrize("taken", ["--port", "--smtp-port"])
def test_the_quick_start_names_a_taken_port_and_exits_1(monkeypatch, capsys, taken):
    def prepared(*_args):
        raise AssertionError("the quick start went on past a taken port")

    monkeypatch.setattr(quickstart, "ensure_secret_key", prepared)
    with socket.create_server(("127.0.0.1", 0)) as holder:
        ports = {"--port": free_port(), "--smtp-port": free_port()}
        ports[taken] = holder.getsockname()[1]
        monkeypatch.setenv("FEEDBACK_MAIL_PORT", str(ports["--smtp-port"]))
        with pytest.raises(SystemExit) as exited:
            quickstart.main([arg for pair in ports.items() for arg in map(str, pair)])
    assert exited.value.code == 1
    said = capsys.readouterr().err
    assert said.count("\n") == 1, said
    assert f"Port {ports[taken]} " in said
    assert taken in said
