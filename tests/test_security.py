"""Each finding of the security review, attacked again: it must hold."""

from __future__ import annotations

import pytest
from helpers import login
from helpers import staff_user
from helpers import submit
from sqlalchemy import select

from feedback import demo
from feedback.extensions import db
from feedback.models import Role
from feedback.models import Section
from feedback.services import triage

# ---- 6. Malformed input gives 500s
# The walk over every route, converter and parameter is tests/test_hostile_input.py;
# here are the review's own URLs, each with the answer it must now get.

HUGE = "9223372036854775808"  # 2**63, one beyond a bigint
IGNORED = "有的筛选条件无法识别，已忽略"
OUT_OF_YEARS = "日期须在1900年至2100年之间"
UNREADABLE = "无法处理的控制字符"


@pytest.fixture
def hostile_desk(make_app):
    """The demo, one opinion routed to 办公室, and a client per role; (app, clients, id)."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    clients = {"visitor": app.test_client()}
    with app.app_context():
        demo.load(db.session)
        office = db.session.scalar(select(Section).where(Section.name == "办公室"))
        routed = submit(db.session).submission
        triage.route(db.session, routed, office, actor=staff_user(Role.LEAD))
        db.session.commit()
        for who, user in (
            ("lead", staff_user(Role.LEAD)),
            ("admin", staff_user(Role.ADMIN)),
        ):
            clients[who] = app.test_client()
            login(clients[who], user)
        submission_id = routed.id
    return app, clients, submission_id


FINDING_6 = [
    # who, method, URL (SUB: the routed submission), form, status, text shown
    ("visitor", "GET", f"/problems/{HUGE}", None, 404, None),
    ("visitor", "GET", "/problems/-1", None, 404, None),
    ("visitor", "GET", f"/rounds/{HUGE}", None, 404, None),
    ("visitor", "GET", f"/rounds/{HUGE}/feed.atom", None, 404, None),
    ("visitor", "GET", f"/api/v1/problems/{HUGE}", None, 404, None),
    ("visitor", "GET", f"/api/v1/rounds/{HUGE}", None, 404, None),
    ("visitor", "POST", f"/track/attachments/{HUGE}", {}, 404, None),
    ("lead", "GET", f"/staff/submissions/{HUGE}", None, 404, None),
    ("lead", "POST", f"/staff/submissions/{HUGE}/route", {}, 404, None),
    # Filters: the bad one is named on the page and ignored.
    ("lead", "GET", "/staff/?received_from=0001-01-01", None, 200, OUT_OF_YEARS),
    ("lead", "GET", "/staff/?received_to=9999-12-31", None, 200, OUT_OF_YEARS),
    ("lead", "GET", f"/staff/audit?before={HUGE}", None, 200, IGNORED),
    ("admin", "GET", f"/staff/audit?before={HUGE}", None, 200, IGNORED),
    ("visitor", "GET", "/?q=" + "x" * 101, None, 200, IGNORED),
    ("lead", "GET", "/staff/board?q=" + "x" * 101, None, 200, IGNORED),
    ("visitor", "GET", "/replies?month=9999-12", None, 200, OUT_OF_YEARS),
    ("visitor", "GET", "/statistics?first=0001-01", None, 200, OUT_OF_YEARS),
    # Open311 answers in its own error format.
    (
        "visitor",
        "GET",
        "/open311/v2/requests.json?start_date=0001-01-01",
        None,
        400,
        OUT_OF_YEARS,
    ),
    (
        "visitor",
        "GET",
        "/open311/v2/requests.json?end_date=9999-12-31T23:59:59Z",
        None,
        400,
        OUT_OF_YEARS,
    ),
    # The offline entry form keeps what was typed and says why.
    (
        "lead",
        "POST",
        "/staff/submissions/new",
        {
            "channel": "phone",
            "kind": "opinion",
            "received_on": "9999-12-31",
            "subject": "电话反映",
            "body": "食堂太咸。",
        },
        200,  # shown again, not stored (a stored one redirects)
        OUT_OF_YEARS,
    ),
    # Unicode digits that pass str.isdigit() but not int().
    ("lead", "GET", "/staff/submissions/SUB?template=₀₁₂", None, 200, None),
    ("admin", "GET", "/staff/holidays?year=₀₁₂", None, 200, None),
    # NUL is refused before any view, in the query and in the path.
    ("visitor", "GET", "/?q=%00", None, 400, UNREADABLE),
    ("lead", "GET", "/staff/board?q=%00", None, 400, UNREADABLE),
    ("lead", "GET", "/staff/mail/a%00b", None, 400, UNREADABLE),
]


@pytest.mark.parametrize(
    ("who", "method", "url", "form", "status", "shown"),
    FINDING_6,
    ids=[f"{m} {u[:60]}" for _, m, u, *_ in FINDING_6],
)
def test_malformed_input_gets_a_4xx_or_a_named_refusal(
    hostile_desk, who, method, url, form, status, shown
):
    _app, clients, submission_id = hostile_desk
    url = url.replace("SUB", str(submission_id))
    client = clients[who]
    response = client.get(url) if method == "GET" else client.post(url, data=form)
    assert response.status_code == status
    if shown is not None:
        assert shown in response.get_data(as_text=True)
