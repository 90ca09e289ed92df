"""Importing notices: the CLI's output, the board it builds, re-imports and the admin page."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from html import unescape

import opencc
import pytest
from helpers import base_config
from helpers import docx
from helpers import login
from helpers import shared_path
from helpers import staff_user
from sqlalchemy import func
from sqlalchemy import select

from feedback import create_app
from feedback import demo
from feedback.extensions import db
from feedback.models import Aspect
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import Inspection
from feedback.models import NoticeImport
from feedback.models import Problem
from feedback.models import ProgressUpdate
from feedback.models import Role
from feedback.models import StatusChange
from feedback.services import board

SEED = ("seed", "meijiang-education-rectification-2025-07-08.txt")
PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜ]+\)")


@pytest.fixture
def seed_file():
    return shared_path(*SEED)


@pytest.fixture
def later_file(seed_file, tmp_path):
    """A later notice: 2.6 is now done, 4.3 is no longer listed, published in October."""
    text = opencc.OpenCC("t2s").convert(
        PINYIN.sub("", seed_file.read_text(encoding="utf-8"))
    )
    text = text.replace("2025-07-08 16:17:19", "2025-10-08 09:00:00")
    start = text.index("问题6.师资队伍建设推进不力")
    status = text.index("整改状态:长期坚持。", start)
    text = (
        text[:status]
        + "整改状态:已完成。"
        + text[status + len("整改状态:长期坚持。") :]
    )
    text = text[: text.index("问题3.学校中层干部")] + text[text.index("三、标本兼治") :]
    path = tmp_path / "later.txt"
    path.write_text(text, encoding="utf-8")
    return path


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def run_json(runner, *args):
    result = runner.invoke(args=["notices", "import", *map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result


# ---------------------------------------------------------------------------
# The command line


def test_json_output_is_exactly_the_documented_shape(runner, seed_file):
    data, result = run_json(runner, seed_file, "--dry-run")
    assert result.stdout.count("\n") == 1  # one object, one line, nothing else
    assert set(data) == {"round", "declared", "aspects", "contacts", "warnings"}
    assert set(data["round"]) == {
        "title",
        "publisher",
        "published",
        "inspecting_group",
        "onsite_from",
        "onsite_to",
        "feedback_date",
    }
    assert all(v is None or isinstance(v, str) for v in data["round"].values())
    assert data["declared"] == {"aspects": 4, "problems": 18, "by_status": {}}
    assert set(data["contacts"]) == {"phone", "address", "email"}
    assert all(isinstance(v, list) for v in data["contacts"].values())
    assert all(isinstance(w, str) for w in data["warnings"])
    for aspect in data["aspects"]:
        assert set(aspect) == {"number", "title", "problems"}
        for problem in aspect["problems"]:
            assert set(problem) == {"number", "title", "status"}
    statuses = [p["status"] for a in data["aspects"] for p in a["problems"]]
    assert len(statuses) == 18
    assert statuses.count("已完成") == 16
    assert statuses.count("长期坚持") == 2
    assert "梅江区" in result.stdout  # ensure_ascii=False: Chinese as is


def test_dry_run_touches_no_database(tmp_path, seed_file):
    missing = tmp_path / "no-such-dir" / "db.sqlite"
    app = create_app(base_config(tmp_path, f"sqlite:///{missing}"))
    result = app.test_cli_runner().invoke(
        args=["notices", "import", str(seed_file), "--dry-run", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["declared"]["problems"] == 18
    assert not missing.parent.exists()
    # The same without --dry-run needs the database, and says so.
    failing = app.test_cli_runner().invoke(args=["notices", "import", str(seed_file)])
    assert failing.exit_code != 0


def test_table_output_shows_problems_and_the_totals_check(runner, seed_file):
    result = runner.invoke(args=["notices", "import", str(seed_file), "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "对下属学校的因私出国（境）管理监督不够规范" in out
    assert "问题：声明 18，一致" in out
    assert "方面：声明 4，一致" in out
    assert "读出：4 个方面，18 个问题，已完成 16 个，长期坚持 2 个" in out
    assert "试运行" in out


def test_unreadable_file_exits_non_zero(runner, tmp_path):
    result = runner.invoke(args=["notices", "import", str(tmp_path / "none.txt")])
    assert result.exit_code != 0
    assert "无法读取文件" in result.output
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\n")
    result = runner.invoke(args=["notices", "import", str(pdf), "--json"])
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "PDF" in result.output


def test_odd_but_readable_text_exits_zero_with_warnings(runner, tmp_path):
    path = tmp_path / "odd.txt"
    path.write_text("这不是一份通报。\n只是两行字。\n", encoding="utf-8")
    data, _result = run_json(runner, path, "--dry-run")
    assert data["aspects"] == []
    assert data["warnings"]


# ---------------------------------------------------------------------------
# The board it builds


def test_import_creates_the_board(runner, session, seed_file):
    data, result = run_json(runner, seed_file)
    assert data["declared"]["problems"] == 18
    inspection = board.newest_round(session)
    assert inspection.name == "八届市委第三轮县级交叉巡察"
    assert inspection.inspecting_group == "八届市委第三轮县级交叉巡察第六组"
    assert inspection.published_on == date(2025, 7, 8)
    assert inspection.feedback_date == date(2025, 1, 26)
    assert inspection.onsite_period == "2024-10/2024-12"
    assert inspection.onsite_start is None  # no day is stated
    assert inspection.declared_aspects == 4
    assert inspection.declared_problems == 18
    assert json.loads(inspection.contacts)["email"] == ["mjqjyjmsg@163.com"]
    counts = board.count(inspection)
    assert [a.number for a in inspection.aspects] == [1, 2, 3, 4]
    assert counts.total == 18
    assert counts.by_word == {"已完成": 16, "长期坚持": 2}
    titles = {p.code: p.title for a in inspection.aspects for p in a.problems}
    assert titles["3.6"] == "对下属学校的因私出国（境）管理监督不够规范"
    assert titles["4.1"] == "党内政治生活不严实"
    # Every status has its first dated history entry.
    assert count(session, StatusChange) == 18
    notice = session.scalars(select(NoticeImport)).one()
    assert notice.raw_text == seed_file.read_text(encoding="utf-8")
    assert notice.source_kind == "text"
    assert "长者服务专区" in notice.text
    events = session.scalars(select(Event)).all()
    assert [e.action for e in events] == [AuditAction.NOTICE_IMPORTED]
    assert "新增问题 18 个" in result.stderr


def test_reimporting_the_same_notice_changes_nothing(runner, session, seed_file):
    run_json(runner, seed_file)
    before = [
        count(session, m) for m in (Aspect, Problem, StatusChange, ProgressUpdate)
    ]
    _data, result = run_json(runner, seed_file)
    after = [count(session, m) for m in (Aspect, Problem, StatusChange, ProgressUpdate)]
    assert after == before
    assert "台账没有变化" in result.stderr
    assert count(session, NoticeImport) == 2  # each import is kept


def test_later_notice_updates_statuses_and_reports_what_vanished(
    runner, session, seed_file, later_file
):
    run_json(runner, seed_file)
    data, result = run_json(runner, later_file)
    assert count(session, Problem) == 18  # nothing duplicated, nothing deleted
    problem = session.scalars(
        select(Problem).join(Aspect).where(Aspect.number == 2, Problem.number == 6)
    ).one()
    assert problem.status_word == "已完成"
    history = [(c.from_word, c.to_word, c.effective_on) for c in problem.status_changes]
    assert history == [
        (None, "长期坚持", date(2025, 7, 8)),
        ("长期坚持", "已完成", date(2025, 10, 8)),
    ]
    vanished = "问题4.3“学校中层干部队伍梯队建设不够合理”在这份通报中没有出现；已保留，未删除。"
    assert vanished in data["warnings"]
    assert vanished in result.stderr
    kept = session.scalars(
        select(Problem).join(Aspect).where(Aspect.number == 4, Problem.number == 3)
    ).one()
    assert kept.status_word == "已完成"
    assert session.get(Inspection, 1).published_on == date(2025, 10, 8)
    actions = session.scalars(select(Event.action)).all()
    assert actions.count(AuditAction.STATUS_CHANGED) == 1


def test_older_notice_does_not_undo_a_newer_one(runner, session, seed_file, later_file):
    run_json(runner, later_file)
    _data, result = run_json(runner, seed_file)
    problem = session.scalars(
        select(Problem).join(Aspect).where(Aspect.number == 2, Problem.number == 6)
    ).one()
    assert problem.status_word == "已完成"
    assert count(session, Problem) == 18  # 4.3 added, as the older notice lists it
    assert "早于上次导入的通报" in result.stderr


def test_round_option_takes_an_id_or_a_name(runner, session, seed_file):
    run_json(runner, seed_file)
    run_json(runner, seed_file, "--round", "1")
    run_json(runner, seed_file, "--round", "八届市委第三轮县级交叉巡察")
    assert count(session, Inspection) == 1
    # An unknown round is a warning, not a failure: the notice's own facts
    # find the round, so the board still gains nothing twice.
    payload, _result = run_json(runner, seed_file, "--round", "no such round")
    assert any("没有编号或名称" in w for w in payload["warnings"])
    assert count(session, Inspection) == 1


def test_seed_matches_the_demo_round_by_its_inspecting_group(
    runner, session, demo_loaded, seed_file
):
    models = (Inspection, Aspect, Problem, StatusChange, ProgressUpdate)
    before = [count(session, m) for m in models]
    run_json(runner, seed_file)
    # Same round, same problems, same statuses: the board gains no rows.
    assert [count(session, m) for m in models] == before
    assert before[2] == 18


def test_summary_notice_imports_totals_without_problems(runner, session, tmp_path):
    path = tmp_path / "summary.txt"
    path.write_text(
        "中共某局党组关于巡察整改进展情况的通报\n"
        "2024年4月，区委第三巡察组对某局党组开展了巡察，于2024年7月5日反馈了六个方面23个问题。"
        "截至目前，已完成整改19个、正在整改4个。\n",
        encoding="utf-8",
    )
    data, _result = run_json(runner, path)
    assert data["aspects"] == []
    inspection = session.scalars(select(Inspection)).one()
    assert inspection.name == "区委第三巡察组"
    assert inspection.declared_problems == 23
    assert json.loads(inspection.declared_counts) == {"已完成整改": 19, "正在整改": 4}
    assert count(session, Problem) == 0


# ---------------------------------------------------------------------------
# The admin page


def _hidden_fields(html: str) -> dict[str, str]:
    fields = {}
    form = html[html.index('action="/staff/notices/import/confirm"') :]
    for name, value in re.findall(
        r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"', form
    ):
        fields[name] = unescape(value)
    for value, name in re.findall(
        r'<input[^>]*type="hidden"[^>]*value="([^"]*)"[^>]*name="([^"]+)"', form
    ):
        fields.setdefault(name, unescape(value))
    return fields


def test_admin_previews_then_confirms_an_upload(
    client, session, demo_loaded, seed_file
):
    # Start from an empty board, so the import builds it.
    session.delete(session.scalars(select(Inspection)).one())
    session.commit()
    login(client, staff_user(Role.ADMIN))
    page = client.get("/staff/notices/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.get_data(as_text=True)

    preview = client.post(
        "/staff/notices/import",
        data={
            "notice_file": (io.BytesIO(seed_file.read_bytes()), "notice.txt"),
            "round_id": "",
        },
        content_type="multipart/form-data",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "与通报声明的总数核对" in html
    assert "对下属学校的因私出国（境）管理监督不够规范" in html
    assert "第3方面问题3的问题表现中“一是”之后是“三是”。" in html
    assert "新增问题 18 个" in html  # what confirming will do
    assert count(session, Problem) == 0  # the preview changed nothing

    fields = _hidden_fields(html)
    assert fields["kind"] == "text"
    confirm = client.post(
        "/staff/notices/import/confirm",
        data=fields,
        content_type="multipart/form-data",
    )
    assert confirm.status_code == 302
    assert count(session, Problem) == 18
    notice = session.scalars(select(NoticeImport)).one()
    assert notice.filename == "notice.txt"
    assert notice.actor.role is Role.ADMIN
    assert "通报已导入" in client.get("/staff/notices/import").get_data(as_text=True)


def test_admin_can_paste_a_notice(client, session, demo_loaded, seed_file):
    login(client, staff_user(Role.ADMIN))
    preview = client.post(
        "/staff/notices/import",
        data={"text": seed_file.read_text(encoding="utf-8"), "round_id": "1"},
        content_type="multipart/form-data",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "台账没有变化" in html  # the demo round already has these 18
    confirm = client.post(
        "/staff/notices/import/confirm",
        data=_hidden_fields(html),
        content_type="multipart/form-data",
    )
    assert confirm.status_code == 302
    assert count(session, Problem) == 18
    assert count(session, NoticeImport) == 1


def test_word_upload_round_trips_through_the_confirm_form(client, session, demo_loaded):
    login(client, staff_user(Role.ADMIN))
    data = docx(
        [
            "某局党组关于巡察整改进展情况的通报",
            "第一方面：作风建设有差距",
            "问题1.公车管理不严。",
            "整改状态：已完成。",
        ]
    )
    preview = client.post(
        "/staff/notices/import",
        data={"notice_file": (io.BytesIO(data), "notice.docx")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    fields = _hidden_fields(preview.get_data(as_text=True))
    assert fields["kind"] == "docx"
    client.post(
        "/staff/notices/import/confirm",
        data=fields,
        content_type="multipart/form-data",
    )
    problem = session.scalars(
        select(Problem).where(Problem.title == "公车管理不严")
    ).one()
    assert problem.status_word == "已完成"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "请选择通报文件，或者粘贴通报全文。"),
        (
            {"notice_file": (io.BytesIO(b"%PDF-1.4\n"), "notice.pdf")},
            "这是 PDF 文件",
        ),
        ({"text": "通报\x00内容"}, "控制字符"),
        ({"text": "通报", "round_id": "999"}, "不是有效的选择"),
    ],
)
def test_bad_input_gets_a_clear_message(client, session, demo_loaded, data, message):
    login(client, staff_user(Role.ADMIN))
    response = client.post(
        "/staff/notices/import", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_stale_confirmation_is_refused_politely(client, session, demo_loaded):
    login(client, staff_user(Role.ADMIN))
    response = client.post("/staff/notices/import/confirm", data={})
    assert response.status_code == 302
    page = client.get("/staff/notices/import").get_data(as_text=True)
    assert "预览内容已失效" in page


@pytest.mark.parametrize(
    ("role", "section"), [(Role.LEAD, None), (Role.SECTION, "办公室")]
)
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/staff/notices/import"),
        ("post", "/staff/notices/import"),
        ("post", "/staff/notices/import/confirm"),
    ],
)
def test_only_admins_import_notices(
    client, session, demo_loaded, role, section, method, url
):
    login(client, staff_user(role, section))
    assert getattr(client, method)(url).status_code == 403


def test_import_page_needs_sign_in(client):
    response = client.get("/staff/notices/import")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_admin_home_links_to_the_import(client, session, demo_loaded):
    login(client, staff_user(Role.ADMIN))
    assert "/staff/notices/import" in client.get("/staff/").get_data(as_text=True)


def test_import_forms_need_their_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        demo.load(db.session)
        db.session.commit()
        login(client, staff_user(Role.ADMIN))
    page = client.get("/staff/notices/import").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    for url in ("/staff/notices/import", "/staff/notices/import/confirm"):
        response = client.post(url, data={"text": "问题1.某问题。", "source": "x"})
        assert response.status_code == 400
