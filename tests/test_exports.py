"""Exports: every XLSX and CSV cell against the database, text never a formula, who gets what."""

import csv
import io
import re
import zipfile
from datetime import date
from datetime import datetime
from datetime import UTC
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from helpers import corpus
from helpers import login
from helpers import staff_user
from helpers import submit
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import Aspect
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import Inspection
from feedback.models import Problem
from feedback.models import Rating
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import StatusKind
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import board
from feedback.services import exports
from feedback.services import queues
from feedback.services import replies
from feedback.services import submissions
from feedback.services import triage
from feedback.spreadsheets import xlsx_text

ZONE = ZoneInfo("Asia/Shanghai")
FORMULAS = ["=1+1", "+86 138", "-2", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "'quoted"]

KEYS = ["序号", "问题编号", "问题"]
LEDGER_SHEETS = {
    "问题清单": KEYS + ["方面", "具体表现"],
    "任务清单": KEYS
    + [
        "整改措施",
        "整改时限",
        "整改状态",
        "状态归类",
        "状态变更日期",
        "完成时间",
        "整改进程",
    ],
    "责任清单": KEYS + ["责任股室", "整改时限", "整改状态", "完成时间"],
}
KIND_WORDS = {
    StatusKind.DONE: "已完成",
    StatusKind.ONGOING: "推进中",
    StatusKind.LONG_TERM: "长期坚持",
    StatusKind.NOT_DONE: "未完成",
}
SUBMISSION_HEADER = (
    ["编号", "收到日期", "类型", "来源", "标题", "内容"],
    ["署名", "姓名", "电话", "电子邮箱"],
    [
        "涉及问题",
        "承办股室",
        "办理状态",
        "受理日期",
        "答复期限",
        "延期天数",
        "延期理由",
        "答复日期",
        "答复内容",
        "评价",
        "评价理由",
        "评价日期",
        "办结日期",
    ],
)
SUBMISSION_KINDS = {
    SubmissionKind.OPINION: "意见",
    SubmissionKind.SUGGESTION: "建议",
    SubmissionKind.COMPLAINT: "投诉",
    SubmissionKind.MISCONDUCT: "举报",
}
STATES = {
    SubmissionState.RECEIVED: "待分办",
    SubmissionState.ROUTED: "已转办，待答复",
    SubmissionState.NOT_ACCEPTED: "不予受理",
    SubmissionState.DUPLICATE: "重复件",
    SubmissionState.SPAM: "无效信息",
    SubmissionState.REPLIED: "已答复",
    SubmissionState.CLOSED: "已办结",
}
RATINGS = {
    Rating.SATISFIED: "满意",
    Rating.BASICALLY_SATISFIED: "基本满意",
    Rating.DISSATISFIED: "不满意",
}
CHANNELS = {"web": "网站", "email": "电子邮件", "api": "开放接口", "phone": "电话"}


# --- reading what was exported, independently of the code under test -------


def ooxml_text(value):
    """Decode SpreadsheetML's _xHHHH_ escapes, as Excel does when it reads a cell."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def xlsx_rows(data, sheet):
    """Return a sheet's rows as values, text decoded and dates as dates."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    rows = []
    for row in workbook[sheet].iter_rows():
        values = []
        for cell in row:
            value = cell.value
            if cell.data_type == "s" and value is not None:
                value = ooxml_text(value)
            elif isinstance(value, datetime):
                assert cell.number_format == "yyyy-mm-dd"
                value = value.date()
            values.append(value)
        rows.append(values)
    return rows


def csv_rows(data):
    assert data.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark"
    text = data[3:].decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def csv_value(value):
    """What the CSV should hold for a database value."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r", "'"):
        return "'" + value
    return str(value)


def local_day(moment):
    return None if moment is None else moment.astimezone(ZONE).date()


def blank(value):
    """Spreadsheets keep no empty text: an empty cell reads as None."""
    return None if value == "" else value


def streamed(client, url):
    """Fetch a CSV that must come as a stream, not a body built in memory."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    data = response.get_data()
    response.close()
    return data


def _client(app, role, section=None):
    client = app.test_client()
    with app.app_context():
        login(client, staff_user(role, section))
    return client


# --- the rectification ledger -------------------------------------------------


def _problems(round_id=None):
    """The round's problems in board order, read with a plain query."""
    inspection_id = round_id or db.session.scalar(
        select(Inspection.id).order_by(Inspection.id.desc()).limit(1)
    )
    return list(
        db.session.scalars(
            select(Problem)
            .join(Aspect)
            .where(Aspect.inspection_id == inspection_id)
            .order_by(Aspect.number, Problem.number)
        )
    )


def _expected_ledger(problem, number, today):
    changes = sorted(problem.status_changes, key=lambda c: (c.effective_on, c.id))
    last = changes[-1] if changes else None
    done = (
        last.effective_on
        if last
        and problem.status_kind is StatusKind.DONE
        and last.to_kind is StatusKind.DONE
        else None
    )
    history = [
        (c.effective_on, 0, f"{c.from_word or ''}→{c.to_word}：{c.reason}")
        for c in problem.status_changes
    ] + [
        (u.published_on, 1, u.body)
        for u in problem.progress_updates
        if u.published_on <= today
    ]
    progress = "\n".join(f"{on.isoformat()} {text}" for on, _o, text in sorted(history))
    return {
        "序号": number,
        "问题编号": f"{problem.aspect.number}.{problem.number}",
        "问题": problem.title,
        "方面": problem.aspect.title,
        "具体表现": problem.details,
        "整改措施": problem.measures,
        "整改时限": problem.deadline,
        "整改状态": problem.status_word,
        "状态归类": KIND_WORDS.get(problem.status_kind),
        "状态变更日期": last.effective_on if last else None,
        "完成时间": done,
        "整改进程": progress,
        "责任股室": problem.section.name if problem.section else None,
    }


@pytest.fixture
def ledger_world(app, demo_loaded):
    """The demo board, with a dated history, a planned update and hostile titles."""
    with app.app_context():
        lead = staff_user(Role.LEAD)
        problems = _problems()
        first, second, third = problems[0], problems[1], problems[2]
        for word, reason, day in (
            ("正在整改", '=HYPERLINK("http://x")', date(2025, 5, 1)),
            ("已完成", "验收合格", date(2025, 6, 1)),
        ):
            board.change_status(
                db.session, second, word, reason=reason, effective_on=day, actor=lead
            )
        for body, day in (
            ("+整改进展", date(2025, 3, 1)),
            ("还没到日子", date(2999, 1, 1)),
        ):
            board.add_progress(db.session, first, body, published_on=day, actor=lead)
        first.title = "=1+1"
        third.measures = "@SUM(A1)\r\n第二行_x0041_\x01"
        third.section = None
        db.session.commit()
    return app


def test_ledger_xlsx_cells_equal_the_database(ledger_world):
    app = ledger_world
    response = _client(app, Role.LEAD).get("/staff/exports/ledger.xlsx", buffered=True)
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    with app.app_context():
        today = datetime.now(ZONE).date()
        problems = _problems()
        expected = [_expected_ledger(p, n, today) for n, p in enumerate(problems, 1)]
    assert len(expected) == 18
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == list(LEDGER_SHEETS)
    for sheet, header in LEDGER_SHEETS.items():
        rows = xlsx_rows(response.data, sheet)
        assert rows[0] == header
        assert rows[1:] == [[blank(e[name]) for name in header] for e in expected]
    # The history was written: the test above compared more than empty cells.
    tasks = xlsx_rows(response.data, "任务清单")
    assert tasks[2][LEDGER_SHEETS["任务清单"].index("完成时间")] == date(2025, 6, 1)
    assert "还没到日子" not in str(tasks)


def test_ledger_text_is_never_a_formula(ledger_world):
    response = _client(ledger_world, Role.LEAD).get(
        "/staff/exports/ledger.xlsx", buffered=True
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    title = workbook["问题清单"]["C2"]
    assert (title.value, title.data_type) == ("=1+1", "s")
    measures = workbook["任务清单"]["D4"]
    assert measures.data_type == "s"
    assert ooxml_text(measures.value) == "@SUM(A1)\r\n第二行_x0041_\x01"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name


def test_ledger_csv_has_the_three_lists_side_by_side(ledger_world):
    app = ledger_world
    rows = csv_rows(streamed(_client(app, Role.LEAD), "/staff/exports/ledger.csv"))
    header = list(dict.fromkeys(h for sheet in LEDGER_SHEETS.values() for h in sheet))
    assert rows[0] == header
    with app.app_context():
        today = datetime.now(ZONE).date()
        expected = [
            [csv_value(_expected_ledger(p, n, today)[h]) for h in header]
            for n, p in enumerate(_problems(), 1)
        ]
    assert rows[1:] == expected
    assert rows[1][2] == "'=1+1"


def test_ledger_filters_apply(ledger_world):
    app = ledger_world
    client = _client(app, Role.LEAD)
    with app.app_context():
        problems = _problems()
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        aspect_id = problems[-1].aspect_id
        cases = {
            "kind=done": {p.id for p in problems if p.status_kind is StatusKind.DONE},
            f"section={office.id}": {p.id for p in problems if p.section == office},
            f"aspect={aspect_id}": {p.id for p in problems if p.aspect_id == aspect_id},
            f"kind=done&section={office.id}": {
                p.id
                for p in problems
                if p.section == office and p.status_kind is StatusKind.DONE
            },
        }
        codes = {p.id: p.code for p in problems}
    for query, ids in cases.items():
        assert 0 < len(ids) < len(codes), query  # each filter really narrows
        rows = csv_rows(
            client.get(f"/staff/exports/ledger.csv?{query}", buffered=True).data
        )
        assert {row[1] for row in rows[1:]} == {codes[i] for i in ids}, query
        page = client.get(f"/staff/board?{query}").get_data(as_text=True)
        links = re.findall(r'href="(/staff/exports/ledger\.(?:xlsx|csv)\?[^"]+)"', page)
        assert len(links) == 2
        for key_value in query.split("&"):
            assert all(key_value in link for link in links), (query, links)
    bad = client.get(
        "/staff/exports/ledger.csv?kind=nonsense&aspect=x&round=999", buffered=True
    )
    assert len(csv_rows(bad.data)) == 19  # unknown choices are ignored


def test_ledger_of_an_older_round(app, demo_loaded):
    with app.app_context():
        older = Inspection(name="上一轮巡察")
        older.aspects.append(Aspect(number=1, title="旧方面"))
        older.aspects[0].problems.append(Problem(number=1, title="旧问题"))
        db.session.add(older)
        db.session.commit()
        older_id = older.id
    client = _client(app, Role.LEAD)
    rows = csv_rows(
        client.get(f"/staff/exports/ledger.csv?round={older_id}", buffered=True).data
    )
    assert [row[1:4] for row in rows[1:]] == [["1.1", "旧问题", "旧方面"]]
    default = csv_rows(client.get("/staff/exports/ledger.csv", buffered=True).data)
    assert len(default) - 1 == 18  # the newest published round, the demo's


# --- the submissions ledger ---------------------------------------------------


@pytest.fixture
def submissions_world(app, demo_loaded):
    """Submissions in every stage, for two sections and the lead, with hostile text."""
    with app.app_context():
        session = db.session
        lead = staff_user(Role.LEAD)
        office = session.scalar(select(Section).where(Section.name == "办公室"))
        personnel = session.scalar(select(Section).where(Section.name == "人事股"))
        problem = _problems()[3]
        made = []

        def new(**kwargs):
            item = submit(session, **kwargs).submission
            made.append(item)
            return item

        for text in FORMULAS:
            new(subject=text, body=text)
        real = new(
            subject="实名意见",
            author=submissions.Author(
                name="张三", phone="13800138000", email="zhang@example.com"
            ),
            problem=problem,
        )
        real.received_at = datetime(2025, 3, 1, 17, 30, tzinfo=UTC)  # 3-2 in Beijing
        # Anonymous, yet a contact was stored: it must still never be exported.
        quiet = new(
            subject="匿名但留了邮箱", author=submissions.Author(email="q@example.com")
        )
        triage.route(session, real, office, actor=lead)
        triage.extend(session, real, 20, "需要实地核查", actor=lead)
        draft = replies.draft(
            session,
            real,
            office,
            "=答复内容",
            channel=ReplyChannel.WEB,
            author_label="A",
        )
        replies.approve(session, draft, actor=lead)
        real.state = SubmissionState.CLOSED
        real.rating = Rating.DISSATISFIED
        real.rating_reason = "-没有解决"
        real.rated_at = datetime(2025, 5, 1, 20, 0, tzinfo=UTC)
        real.closed_at = real.rated_at
        triage.route(session, quiet, personnel, actor=lead)
        report = new(
            subject="举报某干部",
            kind=SubmissionKind.MISCONDUCT,
            author=submissions.Author(name="李四", phone="13900139000"),
        )
        # A 举报 carrying a section id by mistake still never reaches a section.
        report.section = office
        new(subject="投诉食堂", kind=SubmissionKind.COMPLAINT)
        session.commit()
        return app, [s.id for s in made]


def _expected_submission(item, personal):
    problem = item.problem
    reply = item.approved_reply
    row = [
        item.reference,
        local_day(item.received_at),
        SUBMISSION_KINDS[item.kind],
        CHANNELS[item.channel.value],
        item.subject,
        item.body,
    ]
    if personal:
        row += (
            ["匿名", None, None, None]
            if item.anonymous
            else ["实名", item.author_name, item.author_phone, item.author_email]
        )
    return row + [
        f"{problem.aspect.number}.{problem.number} {problem.title}"
        if problem
        else None,
        item.section.name if item.section else None,
        STATES[item.state],
        local_day(item.accepted_at),
        item.due_on,
        item.extended_days,
        item.extension_reason,
        local_day(item.replied_at),
        reply.body if reply else None,
        RATINGS[item.rating] if item.rating else None,
        item.rating_reason,
        local_day(item.rated_at),
        local_day(item.closed_at),
    ]


def _visible_submissions(condition=None):
    query = select(Submission).order_by(Submission.received_at, Submission.id)
    if condition is not None:
        query = query.where(condition)
    return list(db.session.scalars(query))


def test_submissions_xlsx_cells_equal_the_database(submissions_world):
    app, _ids = submissions_world
    response = _client(app, Role.LEAD).get(
        "/staff/exports/submissions.xlsx", buffered=True
    )
    assert response.status_code == 200
    rows = xlsx_rows(response.data, "意见建议台账")
    assert rows[0] == [h for part in SUBMISSION_HEADER for h in part]
    with app.app_context():
        expected = [
            [blank(v) for v in _expected_submission(s, personal=True)]
            for s in _visible_submissions()
        ]
    assert rows[1:] == expected
    real = next(row for row in rows if row[4] == "实名意见")
    assert real[1] == date(2025, 3, 2)  # the bureau's day, not UTC's
    assert real[7:10] == ["张三", "13800138000", "zhang@example.com"]
    quiet = next(row for row in rows if row[4] == "匿名但留了邮箱")
    assert quiet[6:10] == ["匿名", None, None, None]


def test_submissions_csv_matches_and_guards_formulas(submissions_world):
    app, _ids = submissions_world
    rows = csv_rows(streamed(_client(app, Role.LEAD), "/staff/exports/submissions.csv"))
    with app.app_context():
        expected = [
            [csv_value(v) for v in _expected_submission(s, personal=True)]
            for s in _visible_submissions()
        ]
    assert rows[1:] == expected
    subjects = {row[4] for row in rows[1:]}
    assert {"'" + text for text in FORMULAS} <= subjects


@pytest.mark.parametrize("text", FORMULAS)
def test_a_subject_that_looks_like_a_formula_stays_text(submissions_world, text):
    app, _ids = submissions_world
    response = _client(app, Role.LEAD).get(
        "/staff/exports/submissions.xlsx", buffered=True
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["意见建议台账"]
    cell = next(
        c
        for (c,) in sheet.iter_rows(min_col=5, max_col=5)
        if c.value and ooxml_text(c.value) == text
    )
    assert cell.data_type == "s"


def test_a_section_exports_only_its_own_and_no_personal_data(submissions_world):
    app, _ids = submissions_world
    with app.app_context():
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        own = _visible_submissions(
            (Submission.section_id == office.id)
            & (Submission.kind != SubmissionKind.MISCONDUCT)
        )
        expected = [[blank(v) for v in _expected_submission(s, False)] for s in own]
        everyone = len(_visible_submissions())
        other_section = db.session.scalar(
            select(Section.id).where(Section.name == "人事股")
        )
    client = _client(app, Role.SECTION, "办公室")
    rows = xlsx_rows(
        client.get("/staff/exports/submissions.xlsx", buffered=True).data,
        "意见建议台账",
    )
    assert rows[0] == SUBMISSION_HEADER[0] + SUBMISSION_HEADER[2]
    assert rows[1:] == expected
    assert len(expected) == 1 < everyone
    assert "13800138000" not in str(rows)
    # Asking for another section or for 举报 widens nothing.
    for query in (f"section={other_section}", "kind=misconduct", "queue=new"):
        rows = csv_rows(
            client.get(f"/staff/exports/submissions.csv?{query}", buffered=True).data
        )
        assert rows[1:] == [], query
    other = _client(app, Role.SECTION, "人事股")
    rows = csv_rows(other.get("/staff/exports/submissions.csv", buffered=True).data)
    assert [row[4] for row in rows[1:]] == ["匿名但留了邮箱"]


def test_the_scope_is_in_the_query(submissions_world):
    app, _ids = submissions_world
    with app.app_context():
        section_user = staff_user(Role.SECTION, "人事股")
        table = exports.submissions_table(
            db.session, section_user, queues.Filters(), tz_name="Asia/Shanghai"
        )
        assert [row[4] for row in table.rows] == ["匿名但留了邮箱"]
        with pytest.raises(exports.ExportError):
            exports.submissions_table(
                db.session,
                staff_user(Role.ADMIN),
                queues.Filters(),
                tz_name="Asia/Shanghai",
            )


def test_who_may_export_what(submissions_world):
    app, _ids = submissions_world
    expected = {
        "/staff/exports/ledger.xlsx": {"lead": 200, "admin": 200, "section": 403},
        "/staff/exports/ledger.csv": {"lead": 200, "admin": 200, "section": 403},
        "/staff/exports/submissions.xlsx": {"lead": 200, "admin": 403, "section": 200},
        "/staff/exports/submissions.csv": {"lead": 200, "admin": 403, "section": 200},
    }
    clients = {
        "lead": _client(app, Role.LEAD),
        "admin": _client(app, Role.ADMIN),
        "section": _client(app, Role.SECTION, "办公室"),
    }
    for url, statuses in expected.items():
        for who, status in statuses.items():
            assert clients[who].get(url, buffered=True).status_code == status, (
                url,
                who,
            )
        assert (
            app.test_client().get(url, buffered=True).status_code == 302
        )  # to the sign-in page
    assert (
        clients["lead"].get("/staff/exports/ledger.pdf", buffered=True).status_code
        == 404
    )


def test_lead_desk_filters_and_queue_reach_the_export(submissions_world):
    app, _ids = submissions_world
    client = _client(app, Role.LEAD)
    page = client.get("/staff/?queue=awaiting&kind=opinion&q=匿名").get_data(
        as_text=True
    )
    links = [
        link.replace("&amp;", "&")
        for link in re.findall(r'href="(/staff/exports/submissions\.csv[^"]*)"', page)
    ]
    assert len(links) == 2  # the filtered ledger, and the queue shown
    everything, queue = links
    assert "queue=" not in everything
    assert "queue=awaiting" in queue
    with app.app_context():
        matching = [
            s.subject
            for s in _visible_submissions(
                (Submission.kind == SubmissionKind.OPINION)
                & Submission.subject.contains("匿名")
            )
        ]
        awaiting = [
            s.subject
            for s in _visible_submissions(
                (Submission.kind == SubmissionKind.OPINION)
                & Submission.subject.contains("匿名")
                & (Submission.state == SubmissionState.ROUTED)
            )
        ]
    assert [
        row[4] for row in csv_rows(client.get(everything, buffered=True).data)[1:]
    ] == matching
    assert [
        row[4] for row in csv_rows(client.get(queue, buffered=True).data)[1:]
    ] == awaiting
    assert awaiting == ["匿名但留了邮箱"]


def test_section_queue_links_to_its_export(submissions_world):
    app, _ids = submissions_world
    client = _client(app, Role.SECTION, "办公室")
    page = client.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/exports/submissions.xlsx"' in page
    assert 'href="/staff/exports/submissions.csv"' in page


def test_download_headers(submissions_world):
    app, _ids = submissions_world
    client = _client(app, Role.LEAD)
    today = datetime.now(ZONE).date().isoformat()
    for url, title, ascii_name in (
        ("/staff/exports/ledger.xlsx", "巡察整改台账", "ledger"),
        ("/staff/exports/submissions.csv", "意见建议台账", "submissions"),
    ):
        response = client.get(url, buffered=True)
        disposition = response.headers["Content-Disposition"]
        suffix = url.rsplit(".", 1)[1]
        assert disposition.startswith("attachment;")
        assert f"filename={ascii_name}-{today}.{suffix}" in disposition
        encoded = disposition.split("filename*=UTF-8''", 1)[1]
        assert unquote(encoded) == f"{title}-{today}.{suffix}"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response.headers["Cache-Control"]


def test_exporting_submissions_is_audited_without_the_search_words(submissions_world):
    app, _ids = submissions_world
    client = _client(app, Role.LEAD)
    client.get("/staff/exports/submissions.xlsx?kind=complaint&q=张三", buffered=True)
    with app.app_context():
        event = db.session.scalar(
            select(Event).where(Event.action == AuditAction.EXPORTED)
        )
        assert event.actor_id == staff_user(Role.LEAD).id
        assert "kind=complaint" in event.reason
        assert "张三" not in event.reason


# --- the shared corpus --------------------------------------------------------


def test_naughty_strings_round_trip_exactly(app, demo_loaded):
    strings = corpus("naughty-strings.txt")
    with app.app_context():
        for text in strings:
            item = submit(db.session).submission
            item.subject = text[:200]
            item.body = text
        db.session.commit()
    client = _client(app, Role.LEAD)
    rows = xlsx_rows(
        client.get("/staff/exports/submissions.xlsx", buffered=True).data,
        "意见建议台账",
    )
    assert [(r[4], r[5]) for r in rows[1:]] == [
        (blank(t[:200]), blank(t)) for t in strings
    ]
    rows = csv_rows(client.get("/staff/exports/submissions.csv", buffered=True).data)
    assert [(r[4], r[5]) for r in rows[1:]] == [
        (csv_value(t[:200]), csv_value(t)) for t in strings
    ]


@pytest.mark.parametrize("unit", ["长", "\x01", "_x0041_", "\r\n"])
def test_text_longer_than_a_cell_is_cut_between_characters(unit):
    text = unit * 40_000
    stored = xlsx_text(text)
    assert len(stored) <= 32_767
    kept = ooxml_text(stored)
    assert kept.endswith("…")
    assert text.startswith(kept[:-1])
    assert len(kept) > 32_767 // 8  # cut near the limit, not to nothing
