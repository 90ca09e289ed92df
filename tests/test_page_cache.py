"""The board's and problem pages' rendered copies: current at once, revalidated, never personal."""

import re

import pytest
from helpers import login
from helpers import staff_user
from helpers import STATUS_FORM
from helpers import submit
from helpers import wait_until
from sqlalchemy import select

from feedback import demo
from feedback.extensions import db
from feedback.models import Problem
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import SubmissionKind
from feedback.services import replies
from feedback.services import submissions
from feedback.services import triage

# The readers' variants: cookie settings as the reading choices set them.
VARIANTS = {
    "zh-Hans": {},
    "zh-Hant": {"lang": "zh-Hant"},
    "care": {"care": "1", "pinyin": "1"},
    "en": {"lang": "en"},
}


def _problem_33(app):
    with app.app_context():
        problems = db.session.scalars(select(Problem))
        return next(p.id for p in problems if p.aspect.number == 3 and p.number == 3)


def _reader(app, cookies):
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def _status_class(html, problem_id):
    """Return the status class shown beside a problem on the board."""
    link = f'href="/problems/{problem_id}"'
    item = html[html.index(link) :].split("</li>", 1)[0]
    return re.search(r'class="(status status--\w+)"', item).group(1)


def _change_status(app, problem_id):
    lead = app.test_client()
    with app.app_context():
        login(lead, staff_user(Role.LEAD))
    response = lead.post(f"/staff/problems/{problem_id}/status", data=STATUS_FORM)
    assert response.status_code == 302


def test_a_status_change_by_the_lead_shows_at_once_in_every_script_and_mode(
    app, demo_loaded
):
    problem_id = _problem_33(app)
    readers = {name: _reader(app, cookies) for name, cookies in VARIANTS.items()}
    tags = set()
    for reader in readers.values():
        for _twice in range(2):  # the second is served from the copy
            response = reader.get("/")
            assert _status_class(response.text, problem_id) == "status status--done"
        tags.add(response.headers["ETag"])
        reader.get(f"/problems/{problem_id}")
    assert len(tags) == len(VARIANTS)
    _change_status(app, problem_id)
    for name, reader in readers.items():
        board = reader.get("/")
        assert _status_class(board.text, problem_id) == "status status--ongoing", name
        assert board.headers["ETag"] not in tags
        problem = reader.get(f"/problems/{problem_id}").text
        assert "status--ongoing" in problem, name


def test_a_matching_etag_or_date_is_answered_304(client, demo_loaded):
    first = client.get("/")
    assert first.headers["Cache-Control"] == "no-cache"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get("/", headers={"If-None-Match": etag})
    assert (again.status_code, again.data) == (304, b"")
    assert client.get("/", headers={"If-Modified-Since": modified}).status_code == 304
    other = client.get("/", headers={"If-None-Match": etag, "Accept-Language": "en"})
    assert other.status_code == 200  # another variant, another tag


def test_an_opinion_about_a_problem_moves_its_page_not_the_board(
    app, client, session, demo_loaded
):
    problem = session.get(Problem, _problem_33(app))
    board_tag = client.get("/").headers["ETag"]
    page = client.get(f"/problems/{problem.id}")
    assert "已收到公众意见0件" in page.text
    submit(session, problem=problem)
    session.commit()
    assert client.get("/").headers["ETag"] == board_tag
    assert "已收到公众意见1件" in client.get(f"/problems/{problem.id}").text


def test_another_worker_sees_the_change_within_its_stamp_interval(make_app):
    writer = make_app()
    reader_app = make_app(PAGE_CACHE_STAMP_SECONDS=1.0)
    with writer.app_context():
        demo.load(db.session)
        db.session.commit()
    problem_id = _problem_33(writer)
    reader = reader_app.test_client()
    assert _status_class(reader.get("/").text, problem_id) == "status status--done"
    _change_status(writer, problem_id)
    # Read less than a second ago, the stamp is not read again: the copy stands.
    assert _status_class(reader.get("/").text, problem_id) == "status status--done"
    wait_until(
        lambda: "status--ongoing" in reader.get("/").text,
        timeout=3,
        what="the other worker shows the new status",
    )


def test_staff_flashes_and_filters_are_rendered_afresh(app, client, demo_loaded):
    client.get("/")  # a copy for anonymous readers exists
    staff = app.test_client()
    with app.app_context():
        login(staff, staff_user(Role.LEAD))
    page = staff.get("/")
    assert "工作台" in page.text
    assert "ETag" not in page.headers
    flashed = app.test_client()
    with flashed.session_transaction() as flask_session:
        flask_session["_flashes"] = [("success", "已保存。")]
    assert "已保存。" in flashed.get("/").text
    searched = client.get("/?q=食堂")
    assert "ETag" not in searched.headers
    assert "找到" in searched.text
    anonymous = client.get("/").text
    assert "工作台" not in anonymous
    assert "已保存。" not in anonymous
    assert "找到" not in anonymous


@pytest.mark.parametrize("path", ["/", "/problems/1", "/replies", "/statistics"])
def test_a_public_page_sets_no_cookie_and_carries_no_token(app, demo_loaded, path):
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "csrf_token" not in response.text


def test_a_published_reply_shows_on_the_list_at_once(app, client, session, demo_loaded):
    listed = client.get("/replies")
    lead = staff_user(Role.LEAD)
    section = session.scalars(select(Section).order_by(Section.id)).first()
    submission = submissions.submit(
        session,
        kind=SubmissionKind.OPINION,
        subject="操场灯坏了",
        body="操场的灯坏了一个月。",
        problem=None,
        author=submissions.Author(),
        publish_consent=True,
    ).submission
    triage.route(session, submission, section, actor=lead)
    reply = replies.draft(
        session,
        submission,
        section,
        "您好！操场照明已于本周修复。",
        channel=ReplyChannel.WEB,
        author_label=section.email,
    )
    replies.approve(session, reply, actor=lead)
    session.commit()
    assert "操场照明已于本周修复" not in client.get("/replies").text
    replies.publish(session, reply, "您好！操场照明已于本周修复。", actor=lead)
    session.commit()
    shown = client.get("/replies")
    assert shown.headers["ETag"] != listed.headers["ETag"]
    assert "操场照明已于本周修复" in shown.text
    assert "操场灯坏了" in shown.text  # the question it answers


def test_statistics_are_kept_exactly_as_long_as_their_figures(app, client, session):
    first = client.get("/statistics")
    assert client.get("/statistics").headers["ETag"] == first.headers["ETag"]
    submit(session)
    session.commit()
    # Figures are kept STATISTICS_CACHE_SECONDS: the page with them.
    assert client.get("/statistics").headers["ETag"] == first.headers["ETag"]
    app.extensions["statistics_cache"].clear()  # their time is up
    fresh = client.get("/statistics")
    assert fresh.headers["ETag"] != first.headers["ETag"]
    assert (
        client.get(
            "/statistics", headers={"If-None-Match": fresh.headers["ETag"]}
        ).status_code
        == 304
    )
