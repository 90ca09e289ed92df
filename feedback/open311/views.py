"""Open311 GeoReport v2 endpoints, in JSON and XML, with the specification's errors.

What is shown of a submission is what the public list of replies shows: no
author, no text the citizen wrote, never a 举报 (see docs/open311.md).
"""

from __future__ import annotations

from datetime import datetime
from datetime import time
from zoneinfo import ZoneInfo

from flask import current_app
from flask import request
from flask import Response
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from feedback.db import utcnow
from feedback.errors import UnreadableInput
from feedback.extensions import csrf
from feedback.extensions import db
from feedback.extensions import limiter
from feedback.i18n import script
from feedback.labels import KIND_NAMES
from feedback.labels import STATE_LABELS
from feedback.models import Channel
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.open311 import bp
from feedback.open311.formats import FORMATS
from feedback.open311.formats import respond
from feedback.open311.forms import messages
from feedback.open311.forms import NewRequestForm
from feedback.open311.forms import RequestFilterForm
from feedback.open311.forms import SERVICE_CODES
from feedback.services import api_keys
from feedback.services import DomainError
from feedback.services import public_requests
from feedback.services import submissions
from feedback.signing import external_url

FMT = "<any(json, xml):fmt>"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Bumped when the list of services or this API's shape changes.
CHANGESET = "2026-12-01T00:00:00+08:00"
SERVICE_DETAILS = {
    SubmissionKind.OPINION: (
        _l("对巡察反馈问题整改工作的意见。"),
        _l("意见,看法,反映,整改"),
    ),
    SubmissionKind.SUGGESTION: (
        _l("对改进整改工作、完善制度的建议。"),
        _l("建议,意见建议,改进,完善"),
    ),
    SubmissionKind.COMPLAINT: (
        _l("对整改不到位、办事不规范等具体事项的投诉。"),
        _l("投诉,不满,办事,整改不到位"),
    ),
}
ERROR_DESCRIPTIONS = {
    400: _l("请求有误，无法处理。"),
    403: _l("没有权限。"),
    404: _l("没有这项内容。请从 discovery.xml 或 discovery.json 开始。"),
    405: _l("此地址不接受这种请求方法。"),
    413: _l("提交的内容太大。"),
    429: _l("操作太频繁，请过一会儿再试。"),
    500: _l("服务暂时出错，请稍后再试。"),
    503: _l("服务暂时无法使用，请稍后再试。"),
}


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIME_ZONE"])


def _w3(moment: datetime | None) -> str | None:
    """Format a moment as W3C date-time with the bureau's offset, e.g. +08:00."""
    if moment is None:
        return None
    return moment.astimezone(_zone()).isoformat(timespec="seconds")


def _error_format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in FORMATS:
        return fmt
    return "json" if request.path.endswith(".json") else "xml"


def errors(status: int, *descriptions: str) -> Response:
    """Answer with the specification's list of errors and the HTTP status."""
    payload = [{"code": status, "description": text} for text in descriptions]
    return respond(_error_format(), "errors", payload, status)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        db.session.rollback()
    if isinstance(error, UnreadableInput):  # says what was wrong with the fields
        return errors(status, str(error.description))
    return errors(status, str(ERROR_DESCRIPTIONS.get(status, error.name)))


for _status in ERROR_DESCRIPTIONS:
    # By status code, so that they win over the app's own pages for this blueprint.
    bp.register_error_handler(_status, _http_error)


@bp.after_request
def api_headers(response: Response) -> Response:
    """Say that answers differ by language and are data, open to any web page."""
    response.vary.update(("Accept-Language", "Cookie"))
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.method in ("GET", "HEAD"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response.headers["Cache-Control"] = "no-store"  # may carry an access code
    return response


def _base_url() -> str:
    return external_url("open311.unknown", rest="").rstrip("/")


@bp.get(f"/discovery.{FMT}")
def discovery(fmt: str) -> ResponseReturnValue:
    """Describe this endpoint: specification, formats, contact and how to get a key."""
    config = current_app.config
    email = config["PUBLIC_MAIL_ADDRESS"]
    payload = {
        "changeset": CHANGESET,
        "contact": _(
            "%(site)s，电子邮箱 %(email)s",
            site=script(config["SITE_NAME"]),
            email=email,
        ),
        "key_service": _(
            "提交请求需要 API 密钥，由本平台管理员发放。申请请写信至 %(email)s。",
            email=email,
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": _base_url(),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", payload)


def _service(kind: SubmissionKind) -> dict[str, object]:
    description, keywords = SERVICE_DETAILS[kind]
    return {
        "service_code": kind.value,
        "service_name": str(KIND_NAMES[kind]),
        "description": str(description),
        "metadata": False,
        "type": "realtime",
        "keywords": str(keywords),
        "group": _("巡察整改监督"),
    }


@bp.get(f"/services.{FMT}")
def services(fmt: str) -> ResponseReturnValue:
    """List the kinds a request may be (never 举报)."""
    payload = [_service(kind) for kind in public_requests.LISTED_KINDS]
    return respond(fmt, "services", payload)


def _unknown_service(code: str) -> Response:
    if code == SubmissionKind.MISCONDUCT.value:
        return errors(
            404,
            _(
                "举报（反映干部违纪违法问题）不通过此接口受理。请在 %(url)s "
                "选择“举报”提交，只有纪检组长能看到。",
                url=external_url("public.submit"),
            ),
        )
    return errors(404, _("没有这个类型：%(codes)s", codes=code))


@bp.get(f"/services/<code>.{FMT}")
def service_definition(code: str, fmt: str) -> ResponseReturnValue:
    """Define a service's extra fields: none, every service has metadata false."""
    if code not in SERVICE_CODES:
        return _unknown_service(code)
    return respond(fmt, "service_definition", {"service_code": code, "attributes": []})


class _Wording:
    """Names and notes in the reader's language, worked out once per response."""

    def __init__(self) -> None:
        self.kinds = {kind: str(name) for kind, name in KIND_NAMES.items()}
        self.states = {state: str(label) for state, label in STATE_LABELS.items()}
        self.sections: dict[int, str] = {}

    def section(self, section: Section | None) -> str | None:
        if section is None:
            return None
        if section.id not in self.sections:
            self.sections[section.id] = script(section.name)
        return self.sections[section.id]


def _requests(submissions: list[Submission]) -> list[dict[str, object]]:
    """Return the public fields of listed submissions, and nothing else."""
    published = public_requests.published_replies(db.session, submissions)
    wording = _Wording()
    zone = _zone()
    shown: list[dict[str, object]] = []
    for submission in submissions:
        reply = published.get(submission.id)
        expected = public_requests.expected_on(submission)
        shown.append(
            {
                "service_request_id": submission.reference,
                "status": public_requests.status(submission),
                "status_notes": (
                    script(reply.published_body)
                    if reply is not None
                    else wording.states[submission.state]
                ),
                "service_name": wording.kinds[submission.kind],
                "service_code": submission.kind.value,
                "agency_responsible": wording.section(submission.section),
                "requested_datetime": _w3(submission.received_at),
                "updated_datetime": _w3(public_requests.updated_at(submission, reply)),
                "expected_datetime": (
                    _w3(datetime.combine(expected, time(23, 59, 59), tzinfo=zone))
                    if expected
                    else None
                ),
            }
        )
    return shown


@bp.get(f"/requests.{FMT}")
def list_requests(fmt: str) -> ResponseReturnValue:
    """List requests: by reference numbers, or the last 90 days' (at most 1000)."""
    form = RequestFilterForm(request.args, meta={"csrf": False})
    if not form.validate():
        return errors(400, *messages(form))
    found = public_requests.search(db.session, form.query(), now=utcnow())
    return respond(fmt, "service_requests", _requests(found))


@bp.get(f"/requests/<reference>.{FMT}")
def request_detail(reference: str, fmt: str) -> ResponseReturnValue:
    """Show one request by its reference number (编号)."""
    found = public_requests.find(db.session, reference)
    if found is None:
        return errors(404, _("没有编号为 %(ref)s 的公开请求。", ref=reference))
    return respond(fmt, "service_requests", _requests([found]))


def _post_limit() -> str:
    return current_app.config["OPEN311_RATE_LIMIT"]


def _limit_key() -> str:
    """Count requests per API key, so a partner serving many citizens is one client."""
    presented = request.form.get("api_key", "").strip()
    if presented:
        return "open311-key:" + api_keys.hash_key(presented)
    return get_remote_address()


@bp.post(f"/requests.{FMT}")
@csrf.exempt  # authenticated by api_key, sent by programs, not by browsers
@limiter.limit(_post_limit, key_func=_limit_key)
def create_request(fmt: str) -> ResponseReturnValue:
    """File a request through the web form's intake (channel API), with a key."""
    session = db.session
    key = api_keys.authenticate(session, request.form.get("api_key"))
    if key is None:
        return errors(403, _("api_key 缺失、无效或已停用，无法提交。"))
    code = request.form.get("service_code", "").strip()
    if not code:
        return errors(400, _("请填写 service_code。"))
    if code not in SERVICE_CODES:
        return _unknown_service(code)
    form = NewRequestForm(request.form, meta={"csrf": False})
    if not form.validate():
        session.rollback()
        return errors(400, *messages(form))
    try:
        receipt = submissions.submit(
            session,
            kind=SubmissionKind(code),
            subject=form.subject,
            body=form.description.data,
            author=form.author(),
            channel=Channel.API,
            actor_label=f"citizen via Open311 key {key.name}"[:100],
        )
    except DomainError as exc:
        session.rollback()
        return errors(400, str(exc))
    submission = receipt.submission
    notice = _(
        "已收到，编号 %(ref)s。请把查询码 %(code)s 交给提交人，它只显示这一次："
        "凭它可在 %(url)s 查看办理进度和答复。我们将在 %(day)s 前决定是否受理。",
        ref=submission.reference,
        code=receipt.access_code,
        url=external_url("public.track"),
        day=submission.triage_due_on.isoformat() if submission.triage_due_on else "",
    )
    payload = [
        {
            "service_request_id": submission.reference,
            "service_notice": notice,
            "account_id": None,
            # Not in the specification: the citizen's one way back to the request.
            "access_code": receipt.access_code,
        }
    ]
    # Built before the commit, which expires the submission's attributes: a
    # stored request is answered even if the database goes away just after.
    session.commit()
    return respond(fmt, "service_requests", payload)


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@csrf.exempt  # changes nothing; a POST to a wrong address gets the 404 it deserves
def unknown(rest: str) -> ResponseReturnValue:
    """Answer any other address under the API with the specification's 404."""
    return errors(404, str(ERROR_DESCRIPTIONS[404]))
