"""Statistics: every figure against a count made here in plain Python, 举报 kept out of public view."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import datetime
from datetime import UTC
from html.parser import HTMLParser

import pytest
from helpers import copy_rows
from helpers import local
from helpers import login
from helpers import MISCONDUCT_SUBJECT
from helpers import put_rows
from helpers import seed_submissions
from helpers import staff_user
from helpers import submit
from helpers import TODAY
from helpers import TZ_NAME
from sqlalchemy import select

from feedback import charts
from feedback import demo
from feedback.extensions import db
from feedback.models import Channel
from feedback.models import Rating
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import stats


@pytest.fixture
def seeded(app):
    """The demo and the seed; built once per process, then copied in."""
    with app.app_context():
        if not _SEED:
            demo.load(db.session)
            db.session.commit()
            _SEED["result"] = seed_submissions(db.session)
            _SEED["rows"] = copy_rows()
        else:
            put_rows(_SEED["rows"])
        return _SEED["result"]


_SEED: dict[str, object] = {}


# ---- the independent count -------------------------------------------------


def rank(values: list[int], percent: int) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(len(ordered) * percent / 100) - 1]


def figures(rows: list[Submission]) -> dict[str, object]:
    accepted = [r for r in rows if r.accepted_at or r.replied_at]
    replied = [r for r in rows if r.replied_at]
    days = [(local(r.replied_at) - local(r.received_at)).days for r in replied]
    due = [r for r in replied if r.due_on] + [
        r
        for r in accepted
        if not r.replied_at and r.due_on is not None and r.due_on < TODAY
    ]
    on_time = [r for r in replied if r.due_on and local(r.replied_at) <= r.due_on]
    rated = [r for r in rows if r.rating]
    return {
        "received": len(rows),
        "accepted": len(accepted),
        "replied": len(replied),
        "due": len(due),
        "on_time": len(on_time),
        "median": rank(days, 50),
        "p90": rank(days, 90),
        "ratings": Counter(r.rating for r in rated),
        "reasons": Counter(
            r.rating for r in rated if r.rating_reason and r.rating_reason.strip()
        ),
    }


def measured(p: stats.Performance) -> dict[str, object]:
    return {
        "received": p.received,
        "accepted": p.accepted,
        "replied": p.replied,
        "due": p.due,
        "on_time": p.on_time,
        "median": p.median_days,
        "p90": p.p90_days,
        "ratings": +p.ratings,
        "reasons": +p.reasons,
    }


def month_of(moment: datetime) -> str:
    return local(moment).strftime("%Y-%m")


def counted(
    rows, scope: stats.Scope, round_problems=None, first=None, last=None
) -> tuple[list[Submission], list[Submission]]:
    """Return (the scope's rows regardless of period, those received in the period)."""
    kept = [
        r
        for r in rows
        if (scope.misconduct or r.kind is not SubmissionKind.MISCONDUCT)
        and (scope.spam or r.state is not SubmissionState.SPAM)
        and (scope.section_id is None or r.section_id == scope.section_id)
        and (round_problems is None or r.problem_id in round_problems)
    ]
    in_period = [
        r
        for r in kept
        if (first is None or month_of(r.received_at) >= first)
        and (last is None or month_of(r.received_at) <= last)
    ]
    return kept, in_period


def office_id() -> int:
    return db.session.scalar(select(Section.id).where(Section.name == "办公室"))


SCOPES = {
    "public": lambda: stats.PUBLIC,
    "admin": lambda: stats.Scope(stats.Audience.ADMIN),
    "lead": lambda: stats.Scope(stats.Audience.LEAD),
    "section": lambda: stats.Scope(stats.Audience.SECTION, section_id=office_id()),
}
PERIODS = {
    "all time": (None, None, False),
    "spring": ("2025-03", "2025-05", False),
    "from june": ("2025-06", None, False),
    "second round": (None, None, True),
}


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("who", SCOPES)
def test_every_figure_equals_an_independent_count(app, seeded, who, period):
    first, last, by_round = PERIODS[period]
    with app.app_context():
        scope = SCOPES[who]()
        rows = list(db.session.scalars(select(Submission)))
        round_problems = seeded["round_problems"] if by_round else None
        kept, in_period = counted(rows, scope, round_problems, first, last)
        report = stats.compute(
            db.session,
            scope,
            stats.Filters(
                first=stats.Month.parse(first) if first else None,
                last=stats.Month.parse(last) if last else None,
                round_id=seeded["round_id"] if by_round else None,
            ),
            today=TODAY,
            tz_name=TZ_NAME,
        )
        assert in_period, "the seed must give every case something to count"
        assert dict(report.states) == {
            s: sum(r.state is s for r in in_period)
            for s in SubmissionState
            if scope.spam or s is not SubmissionState.SPAM
        }
        assert dict(report.kinds) == {
            k: sum(r.kind is k for r in in_period)
            for k in SubmissionKind
            if scope.misconduct or k is not SubmissionKind.MISCONDUCT
        }
        assert dict(report.channels) == {
            c: sum(r.channel is c for r in in_period) for c in Channel
        }
        assert report.total == len(in_period)
        assert measured(report.overall) == figures(in_period)
        by_section = {s.id: measured(p) for s, p in report.sections}
        assert by_section == {
            sid: figures([r for r in in_period if r.section_id == sid])
            for sid in {r.section_id for r in in_period if r.section_id}
        }
        by_problem = {pr.id: measured(p) for pr, p in report.problems}
        assert by_problem == {
            pid: figures([r for r in in_period if r.problem_id == pid])
            for pid in {r.problem_id for r in in_period if r.problem_id}
        }
        months = [str(m.month) for m in report.trend]
        assert months[0] == (first or "2024-11")
        assert months[-1] == (last or "2025-10")
        assert [(m.received, m.replied) for m in report.trend] == [
            (
                sum(month_of(r.received_at) == m for r in kept),
                sum(bool(r.replied_at) and month_of(r.replied_at) == m for r in kept),
            )
            for m in months
        ]
        if scope.reasons:
            given = sorted(
                (
                    r
                    for r in in_period
                    if r.rating and r.rating_reason and r.rating_reason.strip()
                ),
                key=lambda r: (r.rated_at, r.id),
                reverse=True,
            )[: stats.RECENT_REASONS]
            assert [g.submission_id for g in report.reasons] == [r.id for r in given]
        else:
            assert report.reasons == []


def test_the_seed_covers_what_the_figures_distinguish(app, seeded):
    """Guard the test above: late and on-time replies, boundaries, every kind of row."""
    with app.app_context():
        rows = list(db.session.scalars(select(Submission)))
    replied = [r for r in rows if r.replied_at]
    assert any(local(r.replied_at) == r.due_on for r in replied)
    assert any(local(r.replied_at) > r.due_on for r in replied)
    assert any(
        local(r.received_at) != r.received_at.astimezone(UTC).date() for r in rows
    )
    assert {r.state for r in rows} == set(SubmissionState)
    assert {r.kind for r in rows} == set(SubmissionKind)
    assert {r.channel for r in rows} == set(Channel)
    assert {r.rating for r in rows if r.rating} == set(Rating)
    assert any(r.kind is SubmissionKind.MISCONDUCT and r.rating for r in rows)
    assert any(r.kind is SubmissionKind.MISCONDUCT and r.section_id for r in rows)


def test_nearest_rank_matches_a_sorted_list():
    assert stats.nearest_rank(Counter(), 50) is None
    assert stats.nearest_rank(Counter({7: 1}), 90) == 7
    ten = Counter(range(1, 11))
    assert stats.nearest_rank(ten, 50) == 5  # the lower middle of an even count
    assert stats.nearest_rank(ten, 90) == 9
    assert stats.nearest_rank(Counter({0: 2, 3: 1, 40: 1}), 50) == 0
    rng = random.Random(3)
    for _ in range(300):
        values = [rng.randrange(-2, 120) for _ in range(rng.randrange(1, 60))]
        for percent in (50, 90):
            assert stats.nearest_rank(Counter(values), percent) == rank(values, percent)


def test_months_are_counted_and_parsed():
    assert [
        str(m)
        for m in stats.months_between(stats.Month(2024, 11), stats.Month(2025, 2))
    ] == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert stats.Month(2025, 1).shift(-1) == stats.Month(2024, 12)
    for bad in ("2025-13", "2025", "x-1", "2025-00"):
        with pytest.raises(ValueError):  # noqa: PT011 - int() and ours say the same
            stats.Month.parse(bad)


# ---- the pages ---------------------------------------------------------------


class _Page(HTMLParser):
    """Collects each figure's caption, SVG title, description and texts, and tables."""

    TEXT_TAGS = frozenset(
        {"th", "td", "caption", "figcaption", "title", "desc", "text"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: list[dict] = []
        self.tables: list[dict] = []
        self.ids: set[str] = set()
        self._open_figure: int | None = None
        self._text: list[str] = []
        self._text_class = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "figure":
            self.figures.append({"labels": [], "values": [], "svg": None})
            self._open_figure = len(self.figures) - 1
        elif tag == "svg" and self._open_figure is not None:
            self.figures[-1]["svg"] = attrs
        elif tag == "table":
            self.tables.append({"caption": "", "rows": [], "figure": self._open_figure})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        if tag in self.TEXT_TAGS:
            self._text = []
            self._text_class = attrs.get("class", "")

    def handle_endtag(self, tag):
        text = "".join(self._text).strip()
        if tag == "figure":
            self._open_figure = None
        elif tag == "figcaption":
            self.figures[-1]["caption"] = text
        elif tag == "title" and self._open_figure is not None:
            self.figures[-1]["title"] = text
        elif tag == "desc":
            self.figures[-1]["desc"] = text
        elif tag == "text" and self._text_class in ("chart__label", "chart__value"):
            key = "labels" if self._text_class == "chart__label" else "values"
            self.figures[-1][key].append(text)
        elif tag == "caption":
            self.tables[-1]["caption"] = text
        elif tag in ("th", "td") and self.tables and self.tables[-1]["rows"]:
            self.tables[-1]["rows"][-1].append(text)

    def handle_data(self, data):
        self._text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _client(app, role: Role | None, section: str | None = None):
    client = app.test_client()
    if role is not None:
        with app.app_context():
            login(client, staff_user(role, section))
    return client


def test_public_page_leaves_misconduct_and_spam_out(app, seeded):
    html = _client(app, None).get("/statistics").get_data(as_text=True)
    assert "举报" not in html
    assert "舉報" not in html
    assert MISCONDUCT_SUBJECT not in html
    assert "无效信息" not in html.split('id="notes-heading"')[0]
    with app.app_context():
        rows = list(db.session.scalars(select(Submission)))
    _kept, public = counted(rows, stats.PUBLIC)
    page = parse(html)
    kinds = next(t for t in page.tables if t["caption"] == "按类型")
    assert kinds["rows"][-1][:2] == ["合计", str(len(public))]
    assert {row[0] for row in kinds["rows"][1:-1]} == {"意见", "建议", "投诉"}
    problems = next(t for t in page.tables if "各整改问题" in t["caption"])
    shown = sum(int(row[1]) for row in problems["rows"][1:])
    assert shown == sum(1 for r in public if r.problem_id)
    sections = next(t for t in page.tables if t["caption"] == "各股室办理情况")
    assert sum(int(row[1]) for row in sections["rows"][1:]) == sum(
        1 for r in public if r.section_id
    )


def test_lead_sees_misconduct_figures_and_reasons_escaped(app, seeded):
    html = _client(app, Role.LEAD).get("/staff/statistics").get_data(as_text=True)
    with app.app_context():
        rows = list(db.session.scalars(select(Submission)))
    misconduct = sum(r.kind is SubmissionKind.MISCONDUCT for r in rows)
    kinds = next(t for t in parse(html).tables if t["caption"] == "按类型")
    assert ["举报", str(misconduct)] == kinds["rows"][4][:2]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;没有解决" in html
    assert "<script>alert" not in html


@pytest.mark.parametrize(
    ("role", "section"), [(Role.ADMIN, None), (Role.SECTION, "办公室")]
)
def test_admin_and_sections_see_no_misconduct_and_no_reasons(
    app, seeded, role, section
):
    html = _client(app, role, section).get("/staff/statistics").get_data(as_text=True)
    assert "举报" not in html
    assert MISCONDUCT_SUBJECT not in html
    assert "答复很及时" not in html
    assert "alert(1)" not in html
    if role is Role.SECTION:
        with app.app_context():
            rows = list(db.session.scalars(select(Submission)))
            _kept, own = counted(
                rows, stats.Scope(stats.Audience.SECTION, section_id=office_id())
            )
        sections = next(
            t for t in parse(html).tables if t["caption"] == "各股室办理情况"
        )
        assert [row[:2] for row in sections["rows"][1:]] == [["办公室", str(len(own))]]


def test_every_chart_has_a_title_a_description_and_its_data_table(app, seeded):
    for role in (None, Role.LEAD):
        url = "/staff/statistics" if role else "/statistics"
        page = parse(_client(app, role).get(url).get_data(as_text=True))
        assert len(page.figures) == 6
        for index, figure in enumerate(page.figures):
            svg = figure["svg"]
            assert svg["role"] == "img"
            title_id, desc_id = svg["aria-labelledby"].split()
            assert {title_id, desc_id} <= page.ids
            assert figure["title"] == figure["caption"]
            assert figure["desc"]
            (table,) = [t for t in page.tables if t["figure"] == index]
            body = [row for row in table["rows"][1:] if row[0] != "合计"]
            assert figure["labels"] == [row[0] for row in body]
            per_row = len(figure["values"]) // len(body)
            for index, row in enumerate(body):
                values = figure["values"][index * per_row : (index + 1) * per_row]
                assert set(values) <= set(row[1:]), (figure["caption"], row, values)


def test_pages_answer_without_any_data(make_app):
    app = make_app()
    html = app.test_client().get("/statistics").get_data(as_text=True)
    assert "<svg" in html
    assert "—" in html  # rates without a denominator are shown as a dash

    with app.app_context():
        demo.load(db.session)
        db.session.commit()
    for role, section in (
        (Role.LEAD, None),
        (Role.ADMIN, None),
        (Role.SECTION, "人事股"),
    ):
        response = _client(app, role, section).get("/staff/statistics")
        assert response.status_code == 200


def test_bad_filters_are_explained_and_ignored(app, seeded):
    client = _client(app, None)
    for query, message in (
        ("first=2025-13", "请按“2025-03”的格式填写月份。"),
        ("first=2025-06&last=2025-01", "结束月份不能早于开始月份。"),
        ("first=2010-01&last=2025-01", "统计期间最长60个月。"),
        ("round=999", "没有这个巡察轮次。"),
        ("round=x", "没有这个巡察轮次。"),
    ):
        response = client.get(f"/statistics?{query}")
        assert response.status_code == 400  # shown without the bad filter
        assert message in response.get_data(as_text=True)
    everything = parse(client.get("/statistics").get_data(as_text=True))
    ignored = parse(client.get("/statistics?first=2025-13").get_data(as_text=True))
    assert everything.tables[0]["rows"] == ignored.tables[0]["rows"]


def test_a_chosen_period_narrows_the_page(app, seeded):
    page = parse(
        _client(app, None)
        .get("/statistics?first=2025-03&last=2025-05")
        .get_data(as_text=True)
    )
    trend = page.tables[-1]
    assert [row[0] for row in trend["rows"][1:]] == ["2025-03", "2025-04", "2025-05"]


@pytest.mark.parametrize("lang", ["zh-Hant", "en"])
def test_labels_follow_the_readers_language(app, seeded, lang):
    client = _client(app, None)
    client.set_cookie("lang", lang)
    html = client.get("/statistics").get_data(as_text=True)
    expected = {"zh-Hant": "按辦理狀態", "en": "By state"}[lang]
    assert expected in html
    for word in ("举报", "舉報", "Misconduct"):
        assert word not in html


def test_bar_chart_layout():
    chart = charts.bar_chart(
        [
            ("很长很长很长很长很长很长很长很长很长很长的股室名称", [50.0, None]),
            ("短", [100.0, 0]),
        ],
        series=["答复率", "按期答复率"],
        percent=True,
    )
    first, second = chart.rows
    assert first.shown_label.endswith("…")
    assert first.label.startswith("很长")
    assert [b.text for b in first.bars] == ["50.0%", "—"]
    assert first.bars[1].width == 0
    assert second.bars[0].width == pytest.approx(2 * first.bars[0].width)
    assert max(b.text_x for row in chart.rows for b in row.bars) < chart.width
    assert [item.name for item in chart.legend] == ["答复率", "按期答复率"]
    empty = charts.bar_chart([])
    assert empty.rows == ()
    assert empty.height > 0


def _total_on_page(client) -> str:
    page = parse(client.get("/statistics").get_data(as_text=True))
    return page.tables[0]["rows"][-1][1]


@pytest.mark.parametrize(("max_age", "fresh"), [(300, False), (0, True)])
def test_figures_are_kept_for_the_configured_time(make_app, max_age, fresh):
    app = make_app(STATISTICS_CACHE_SECONDS=max_age)
    client = app.test_client()
    assert _total_on_page(client) == "0"
    with app.app_context():
        submit(db.session)
        db.session.commit()
    assert _total_on_page(client) == ("1" if fresh else "0")
