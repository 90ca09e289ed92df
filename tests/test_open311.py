"""Open311 GeoReport v2, exercised by a client that reads only what the specification says."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from helpers import login
from helpers import staff_user
from sqlalchemy import func
from sqlalchemy import select

from feedback.db import utcnow
from feedback.extensions import db
from feedback.extensions import limiter
from feedback.models import ApiKey
from feedback.models import AuditAction
from feedback.models import Channel
from feedback.models import Event
from feedback.models import OutboxMessage
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.open311.formats import to_xml
from feedback.services import api_keys
from feedback.services import replies
from feedback.services import submissions
from feedback.services import tracking
from feedback.services import triage

DISCOVERY = "/open311/v2/discovery"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The specification's containers and the name their items repeat (XML side).
CONTAINERS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
}
SHANGHAI = ZoneInfo("Asia/Shanghai")
XSS = '<script>alert("x")</script> & ]]> <img src=x onerror=alert(1)>'


# A client of the specification ------------------------------------------------


def spark(element):
    """Read XML the way the specification maps it to JSON (the Spark convention)."""
    if element.tag in CONTAINERS:
        assert all(child.tag == CONTAINERS[element.tag] for child in element)
        return [spark(child) for child in element]
    if len(element):
        return {child.tag: spark(child) for child in element}
    return element.text


def as_text(value):
    """JSON values as XML carries them: text, "true"/"false", no text for null."""
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


class Client:
    """Speaks GeoReport v2 to the test app: GETs in both formats, form-encoded POSTs."""

    def __init__(self, http, base="/open311/v2"):
        self.http = http
        self.base = base

    def get(self, path, fmt="json", expect=200, **params):
        response = self.http.get(f"{self.base}/{path}.{fmt}", query_string=params)
        return self._read(response, fmt, expect)

    def both(self, path, expect=200, **params):
        """GET in JSON and in XML, check that they say the same, return the JSON."""
        as_json = self.get(path, "json", expect, **params)
        as_xml = self.get(path, "xml", expect, **params)
        assert as_text(as_json) == as_xml
        return as_json

    def post(self, fmt="json", expect=200, **fields):
        response = self.http.post(f"{self.base}/requests.{fmt}", data=fields)
        return self._read(response, fmt, expect)

    @staticmethod
    def _read(response, fmt, expect):
        assert response.status_code == expect, response.get_data(as_text=True)
        assert response.mimetype == {"json": "application/json", "xml": "text/xml"}[fmt]
        assert response.mimetype_params.get("charset") == "utf-8"
        if fmt == "json":
            return json.loads(response.get_data(as_text=True))
        assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        return spark(ET.fromstring(response.data))


def assert_errors(payload, code):
    """The specification's error list: each entry a code and a description."""
    assert isinstance(payload, list)
    assert payload
    for entry in payload:
        assert set(entry) == {"code", "description"}
        assert str(entry["code"]) == str(code)
        assert entry["description"].strip()


def w3(text):
    """Parse a W3C date-time; the specification requires the zone."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


# Fixtures ---------------------------------------------------------------------


@pytest.fixture
def api(client):
    return Client(client)


@pytest.fixture
def key(app):
    with app.app_context():
        _row, plain = api_keys.create(db.session, "测试伙伴")
        db.session.commit()
    return plain


def _office(session):
    return session.scalar(select(Section).where(Section.name == "办公室"))


def _web_submission(session, **overrides):
    fields = {
        "kind": SubmissionKind.OPINION,
        "subject": "操场开放时间",
        "body": "希望周末开放学校操场。",
        "author": submissions.Author(),
    }
    fields.update(overrides)
    return submissions.submit(session, **fields).submission


# The whole path ----------------------------------------------------------------


def test_a_client_discovers_files_and_follows_a_request(
    app, client, api, key, demo_loaded
):
    discovery = api.both("discovery")
    for field in ("changeset", "contact", "key_service", "endpoints"):
        assert discovery[field]
    (endpoint,) = discovery["endpoints"]
    assert endpoint["specification"] == SPECIFICATION
    assert endpoint["type"] in ("production", "test")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    base = endpoint["url"].removeprefix(app.config["PUBLIC_URL"])
    follower = Client(client, base)

    services = follower.both("services")
    codes = [s["service_code"] for s in services]
    assert codes == ["opinion", "suggestion", "complaint"]
    for service in services:
        assert service["metadata"] is False
        assert service["type"] == "realtime"
        assert service["service_name"]
        assert service["group"]
        assert service["keywords"]
    assert follower.both("services/complaint") == {
        "service_code": "complaint",
        "attributes": [],
    }

    description = "食堂饭菜分量不足。\n希望每月公开账目。"
    (created,) = follower.post(
        "xml",
        api_key=key,
        service_code="complaint",
        description=description,
        first_name="三",
        last_name="张",
        email="zhang.san@example.com",
        jurisdiction_id="meijiang-edu.example",
        lat="24.3",
        long="116.1",
        address_string="梅江区某小学",
        device_id="device-123",
    )
    reference = created["service_request_id"]
    code = created["access_code"]
    assert "token" not in created
    assert created["account_id"] is None
    assert reference in created["service_notice"]
    assert code in created["service_notice"]

    (shown,) = follower.both(f"requests/{reference}")
    assert shown["service_request_id"] == reference
    assert shown["status"] == "open"
    assert shown["status_notes"] == "待分办"
    assert shown["service_code"] == "complaint"
    assert shown["service_name"] == "投诉"
    assert shown["agency_responsible"] is None
    received = w3(shown["requested_datetime"])
    assert abs(received - utcnow()) < timedelta(minutes=5)
    assert w3(shown["updated_datetime"]) == received
    assert w3(shown["expected_datetime"]) > received
    listed = follower.both("requests")
    assert [r["service_request_id"] for r in listed] == [reference]

    with app.app_context():
        submission = tracking.find(db.session, code)
        assert submission is not None
        assert submission.reference == reference
        assert submission.channel is Channel.API
        assert submission.kind is SubmissionKind.COMPLAINT
        assert submission.body == description
        assert submission.subject == "食堂饭菜分量不足。"
        assert submission.author_name == "张三"
        assert submission.author_email == "zhang.san@example.com"
        submitted = db.session.scalar(
            select(Event).where(
                Event.submission_id == submission.id,
                Event.action == AuditAction.SUBMITTED,
            )
        )
        assert submitted.actor_label == "citizen via Open311 key 测试伙伴"
        receipt = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.template == "receipt")
        )
        assert receipt.recipient == "zhang.san@example.com"
        assert reference in receipt.subject
        assert code in receipt.body_text
        login(client, staff_user(Role.LEAD))
        submission_id = submission.id

    queue = client.get("/staff/").get_data(as_text=True)
    assert f'/staff/submissions/{submission_id}">{reference}<' in queue


def test_the_lead_s_published_reply_is_the_status_notes_escaped(
    app, client, api, key, demo_loaded
):
    (created,) = api.post(api_key=key, service_code="opinion", description=XSS)
    reference = created["service_request_id"]
    with app.app_context():
        session = db.session
        submission = session.scalar(
            select(Submission).where(Submission.reference == reference)
        )
        assert submission.body == XSS  # stored exactly as sent
        lead = staff_user(Role.LEAD)
        office = _office(session)
        triage.route(session, submission, office, actor=lead)
        session.commit()
        submission_id = submission.id

    (routed,) = api.both(f"requests/{reference}")
    assert routed["status"] == "open"
    assert routed["agency_responsible"] == "办公室"
    assert w3(routed["updated_datetime"]) >= w3(routed["requested_datetime"])

    with app.app_context():
        session = db.session
        submission = session.get(Submission, submission_id)
        submission.publish_consent = True
        reply = replies.draft(
            session,
            submission,
            _office(session),
            "草稿里的内部话，不该公开。",
            channel=ReplyChannel.WEB,
            author_label="office",
        )
        replies.approve(session, reply, actor=staff_user(Role.LEAD))
        session.commit()
    (replied,) = api.both(f"requests/{reference}")
    assert replied["status"] == "closed"
    assert replied["status_notes"] == "已答复"  # approved, not yet published
    assert replied["expected_datetime"] is None

    published = "已整改。" + XSS
    with app.app_context():
        session = db.session
        reply = session.get(Submission, submission_id).replies[0]
        replies.publish(session, reply, published, actor=staff_user(Role.LEAD))
        session.commit()
    (shown,) = api.both(f"requests/{reference}")
    assert shown["status_notes"] == published
    raw = client.get(f"/open311/v2/requests/{reference}.xml").get_data(as_text=True)
    assert "&lt;script&gt;" in raw
    assert "<script>" not in raw
    assert "<img" not in raw
    assert "草稿里的内部话" not in raw

    with app.app_context():
        login(client, staff_user(Role.LEAD))
    page = client.get(f"/staff/submissions/{submission_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in page
    assert '<script>alert("x")' not in page


def test_personal_data_and_citizens_words_never_leave(
    app, client, api, key, demo_loaded
):
    secrets_sent = {
        "first_name": "秀英",
        "last_name": "欧阳",
        "phone": "13912345678",
        "email": "ouyang.private@example.org",
        "description": "独一无二的意见正文甲乙丙",
    }
    (created,) = api.post(api_key=key, service_code="suggestion", **secrets_sent)
    with app.app_context():
        session = db.session
        web = _web_submission(
            session,
            subject="独一无二的标题丁戊",
            body="网页表单正文己庚",
            author=submissions.Author(name="司马光", phone="0753-2196838"),
        )
        lead = staff_user(Role.LEAD)
        triage.route(session, web, _office(session), actor=lead)
        triage.add_note(session, web, "内部备注辛壬", actor=lead)
        session.commit()
        web_reference = web.reference
    outputs = []
    for fmt in ("json", "xml"):
        for path in (
            "requests",
            f"requests/{created['service_request_id']}",
            f"requests/{web_reference}",
        ):
            response = client.get(f"/open311/v2/{path}.{fmt}")
            assert response.status_code == 200
            outputs.append(response.get_data(as_text=True))
    everything = "\n".join(outputs)
    assert web_reference in everything
    for leaked in [
        *secrets_sent.values(),
        "欧阳秀英",
        "独一无二的标题丁戊",
        "网页表单正文己庚",
        "司马光",
        "0753-2196838",
        "内部备注辛壬",
    ]:
        assert leaked not in everything, leaked


# Misconduct reports and spam -----------------------------------------------------


def test_misconduct_reports_are_neither_listed_nor_accepted(
    app, client, api, key, demo_loaded
):
    assert "misconduct" not in [s["service_code"] for s in api.both("services")]
    for fmt in ("json", "xml"):
        refused = api.post(
            fmt,
            expect=404,
            api_key=key,
            service_code="misconduct",
            description="某校长收受家长礼金。",
        )
        assert_errors(refused, 404)
        assert "举报" in refused[0]["description"]
        assert_errors(api.get("services/misconduct", fmt, expect=404), 404)
    with app.app_context():
        session = db.session
        assert session.scalar(select(func.count()).select_from(Submission)) == 0
        report = _web_submission(session, kind=SubmissionKind.MISCONDUCT)
        spam = _web_submission(session, subject="广告")
        triage.mark_spam(session, spam, actor=staff_user(Role.LEAD))
        visible = _web_submission(session)
        session.commit()
        hidden = [report.reference, spam.reference]
        visible_reference = visible.reference
    listed = [r["service_request_id"] for r in api.both("requests")]
    assert listed == [visible_reference]
    by_id = api.both(
        "requests", service_request_id=",".join([*hidden, visible_reference])
    )
    assert [r["service_request_id"] for r in by_id] == [visible_reference]
    for reference in hidden:
        assert_errors(api.get(f"requests/{reference}", expect=404), 404)
        assert_errors(api.get(f"requests/{reference}", "xml", expect=404), 404)
    assert_errors(api.get("requests", expect=400, service_code="misconduct"), 400)


# Filters -------------------------------------------------------------------------


@pytest.fixture
def spread(app, demo_loaded):
    """Submissions of three kinds, received 1, 10, 40 and 120 days ago, some closed."""
    now = utcnow()
    with app.app_context():
        session = db.session
        lead = staff_user(Role.LEAD)
        made = {}
        for name, kind, days in [
            ("a", SubmissionKind.OPINION, 1),
            ("b", SubmissionKind.SUGGESTION, 10),
            ("c", SubmissionKind.COMPLAINT, 40),
            ("d", SubmissionKind.OPINION, 120),
        ]:
            made[name] = _web_submission(
                session, kind=kind, received_at=now - timedelta(days=days)
            )
        triage.refuse(session, made["b"], "不属于受理范围。", actor=lead)
        triage.mark_duplicate(session, made["c"], made["a"], actor=lead)
        session.commit()
        return {name: s.reference for name, s in made.items()}, now


def _ids(payload):
    return [r["service_request_id"] for r in payload]


def test_requests_are_filtered_as_the_specification_says(api, spread):
    refs, now = spread
    # Default: the last 90 days, newest first.
    assert _ids(api.both("requests")) == [refs["a"], refs["b"], refs["c"]]
    assert _ids(api.both("requests", service_code="opinion")) == [refs["a"]]
    assert _ids(api.both("requests", service_code="opinion,complaint")) == [
        refs["a"],
        refs["c"],
    ]
    assert _ids(api.both("requests", service_code=["suggestion", "complaint"])) == [
        refs["b"],
        refs["c"],
    ]
    assert _ids(api.both("requests", status="open")) == [refs["a"]]
    assert _ids(api.both("requests", status="closed")) == [refs["b"], refs["c"]]
    assert len(api.both("requests", status="open,closed")) == 3
    window = {
        "start_date": (now - timedelta(days=130)).isoformat(),
        "end_date": (now - timedelta(days=41)).isoformat(),
    }
    assert _ids(api.both("requests", **window)) == [refs["d"]]
    # A zone-less date-time is the bureau's (UTC+8), to the second.
    a_local = (now - timedelta(days=1)).astimezone(SHANGHAI).replace(tzinfo=None)
    around_a = {
        "start_date": (a_local - timedelta(seconds=1)).isoformat(),
        "end_date": (a_local + timedelta(seconds=1)).isoformat(),
    }
    assert _ids(api.both("requests", **around_a)) == [refs["a"]]
    # One end alone opens 90 days from it.
    start = (now - timedelta(days=45)).isoformat()
    assert _ids(api.both("requests", start_date=start)) == [
        refs["a"],
        refs["b"],
        refs["c"],
    ]
    end = (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(api.both("requests", end_date=end)) == [refs["c"], refs["d"]]
    # service_request_id overrides every other argument, even an old one.
    assert _ids(
        api.both(
            "requests", service_request_id=f"{refs['d']}, {refs['a']}", status="closed"
        )
    ) == [refs["a"], refs["d"]]
    assert api.both("requests", service_request_id="MJ19990101-99999") == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "pending"},
        {"service_code": "nonsense"},
        {"start_date": "yesterday"},
        {"end_date": "2025-13-45T00:00:00Z"},
        {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"},
        {"start_date": "2025-06-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"},
        {"service_request_id": ",".join(f"X{n}" for n in range(1001))},
    ],
)
def test_bad_filters_get_a_400_in_the_specification_s_format(api, params):
    for fmt in ("json", "xml"):
        assert_errors(api.get("requests", fmt, expect=400, **params), 400)


# Keys and bad input --------------------------------------------------------------


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Submission))


def test_bad_keys_are_refused_with_403(app, api, key):
    with app.app_context():
        api_keys.create(db.session, "已停用的伙伴")
        db.session.commit()
        _row, revoked = api_keys.create(db.session, "又一个")
        api_keys.revoke(db.session, "又一个")
        db.session.commit()
    fields = {"service_code": "opinion", "description": "正文"}
    for fmt in ("json", "xml"):
        for bad in (None, "", "o311_not-a-real-key", key + "x", revoked):
            sent = dict(fields) if bad is None else {**fields, "api_key": bad}
            assert_errors(api.post(fmt, expect=403, **sent), 403)
    assert _count(app) == 0


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"description": "正文"}, 400),  # no service_code
        ({"service_code": "pothole", "description": "正文"}, 404),
        ({"service_code": "opinion"}, 400),  # no description
        ({"service_code": "opinion", "description": "   \n "}, 400),
        ({"service_code": "opinion", "description": "x" * 5001}, 400),
        ({"service_code": "opinion", "description": "控制\x00字符"}, 400),
        ({"service_code": "opinion", "description": "正文", "first_name": "三"}, 400),
        (
            {"service_code": "opinion", "description": "正文", "phone": "13800138000"},
            400,
        ),
        (
            {
                "service_code": "opinion",
                "description": "正文",
                "last_name": "张",
                "email": "not an address",
            },
            400,
        ),
        (
            {
                "service_code": "opinion",
                "description": "正文",
                "first_name": "名" * 60,
                "last_name": "姓" * 60,
                "phone": "1",
            },
            400,
        ),
    ],
)
def test_bad_requests_get_the_specification_s_errors(app, api, key, fields, expected):
    for fmt in ("json", "xml"):
        assert_errors(api.post(fmt, expect=expected, api_key=key, **fields), expected)
    assert _count(app) == 0


def test_anonymous_request_with_the_longest_text_is_taken(app, api, key):
    text = "长" * 5000
    (created,) = api.post(api_key=key, service_code="opinion", description=text)
    with app.app_context():
        submission = db.session.scalar(
            select(Submission).where(
                Submission.reference == created["service_request_id"]
            )
        )
        assert submission.body == text
        assert len(submission.subject) == app.config["SUBJECT_MAX"]
        assert submission.subject.endswith("…")
        assert submission.anonymous
        assert submission.author_phone is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/open311/v2/"),
        ("get", "/open311/v2/requests.html"),
        ("get", "/open311/v2/requests/.json"),
        ("get", "/open311/v2/tokens/123.json"),
        ("post", "/open311/v2/requests/MJ1.json"),
        ("delete", "/open311/v2/requests.xml"),
    ],
)
def test_other_addresses_answer_404_in_the_specification_s_format(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 404
    if path.endswith(".json"):
        payload = json.loads(response.get_data(as_text=True))
    else:
        assert response.mimetype == "text/xml"
        payload = spark(ET.fromstring(response.data))
    assert_errors(payload, 404)


def test_csrf_protection_leaves_the_keyed_api_alone_only(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        _row, plain = api_keys.create(db.session, "伙伴")
        db.session.commit()
    client = app.test_client()
    api = Client(client)
    api.post(api_key=plain, service_code="opinion", description="正文")
    assert_errors(
        api.post(expect=403, api_key="wrong", service_code="opinion", description="x"),
        403,
    )
    web = client.post(
        "/submit",
        data={"kind": "opinion", "subject": "s", "body": "b", "identity": "anonymous"},
    )
    assert web.status_code == 400  # the web form still needs its token
    assert _count(app) == 1


def test_filing_is_rate_limited_per_key(make_app):
    app = make_app(RATELIMIT_ENABLED=True, OPEN311_RATE_LIMIT="2 per minute")
    with app.app_context():
        limiter.reset()
        _row, first = api_keys.create(db.session, "甲")
        _row, second = api_keys.create(db.session, "乙")
        db.session.commit()
    api = Client(app.test_client())
    fields = {"service_code": "opinion", "description": "正文"}
    api.post(api_key=first, **fields)
    api.post(api_key=first, **fields)
    assert_errors(api.post(expect=429, api_key=first, **fields), 429)
    assert_errors(api.post("xml", expect=429, api_key=first, **fields), 429)
    api.post(api_key=second, **fields)  # another partner is not held back
    assert _count(app) == 3


def test_interface_wording_follows_the_reader_s_language(app, client, key, demo_loaded):
    with app.app_context():
        session = db.session
        submission = _web_submission(session)
        triage.route(session, submission, _office(session), actor=staff_user(Role.LEAD))
        session.commit()
        reference = submission.reference
    url = f"/open311/v2/requests/{reference}.json"
    traditional = json.loads(client.get(url, headers={"Accept-Language": "zh-TW"}).data)
    english = json.loads(client.get(url, headers={"Accept-Language": "en"}).data)
    assert traditional[0]["service_name"] == "意見"
    assert traditional[0]["agency_responsible"] == "辦公室"  # official text, converted
    assert english[0]["service_name"] == "Opinion"
    response = client.get(url)
    assert "Accept-Language" in response.headers["Vary"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_xml_stays_well_formed_whatever_the_text():
    text = "a\x01b\x0bc & <d> \"e\" 'f' ]]> \ufffe 中文"
    parsed = ET.fromstring(to_xml("service_requests", [{"status_notes": text}]))
    value = parsed.find("request/status_notes").text
    assert value == "a\ufffdb\ufffdc & <d> \"e\" 'f' ]]> \ufffd 中文"


# Key management ------------------------------------------------------------------


def test_keys_are_issued_once_kept_hashed_listed_and_revoked(app, runner):
    created = runner.invoke(args=["apikey", "create", "微信小程序"])
    assert created.exit_code == 0, created.output
    plain = re.search(r"^(o311_\S+)$", created.output, re.M).group(1)
    assert len(plain) > 40
    again = runner.invoke(args=["apikey", "create", "微信小程序"])
    assert again.exit_code != 0
    assert "exists already" in again.output

    with app.app_context():
        row = db.session.scalar(select(ApiKey))
        assert row.name == "微信小程序"
        assert row.key_hash != plain
        assert plain not in row.key_hash
        assert api_keys.authenticate(db.session, plain) is row
        assert api_keys.authenticate(db.session, plain.upper()) is None
        db.session.commit()

    listed = runner.invoke(args=["apikey", "list"])
    assert "微信小程序" in listed.output
    assert "active" in listed.output
    assert plain not in listed.output

    api = Client(app.test_client())
    api.post(api_key=plain, service_code="opinion", description="正文")
    revoked = runner.invoke(args=["apikey", "revoke", "微信小程序"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in runner.invoke(args=["apikey", "list"]).output
    assert_errors(
        api.post(expect=403, api_key=plain, service_code="opinion", description="x"),
        403,
    )
    assert runner.invoke(args=["apikey", "revoke", "微信小程序"]).exit_code != 0
    assert runner.invoke(args=["apikey", "revoke", "nobody"]).exit_code != 0
    with app.app_context():
        actions = list(
            db.session.scalars(
                select(Event.action).where(Event.object_type == "apikey")
            )
        )
    assert actions == [AuditAction.API_KEY_CREATED, AuditAction.API_KEY_REVOKED]


def test_a_body_too_large_is_a_413_in_the_specification_s_format(make_app):
    api = Client(make_app(MAX_CONTENT_LENGTH=1000).test_client())
    fields = {"api_key": "x", "service_code": "opinion", "description": "长" * 2000}
    for fmt in ("json", "xml"):
        assert_errors(api.post(fmt, expect=413, **fields), 413)
