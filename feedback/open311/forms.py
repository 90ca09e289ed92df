"""What Open311 clients send: a new request's fields, and the filters of the list."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms import TextAreaField
from wtforms import ValidationError

from feedback.models import SubmissionKind
from feedback.services import public_requests
from feedback.validators import EARLIEST_YEAR
from feedback.validators import LATEST_YEAR
from feedback.validators import plausible_year
from feedback.web.forms import add_error
from feedback.web.forms import AuthorForm
from feedback.web.forms import email_field
from feedback.web.forms import text_area
from feedback.web.forms import text_field

SERVICE_CODES = tuple(kind.value for kind in public_requests.LISTED_KINDS)
NAME_MAX = 100
_CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def messages(form: FlaskForm) -> list[str]:
    """Return each error of ``form`` as "parameter: message", for the error list."""
    return [
        f"{name}: {message}"
        for name, field_errors in form.errors.items()
        for message in field_errors
    ]


class NewRequestForm(AuthorForm):
    """POST requests: a description, and a name with a phone or e-mail if not anonymous.

    The api_key and the service_code are checked by the view first, because
    the specification answers them with their own status codes (403, 404).
    """

    description = text_area(required=_l("请填写内容。"))
    first_name = text_field(max=NAME_MAX)
    last_name = text_field(max=NAME_MAX)
    email = email_field(invalid=_l("电子邮箱格式不正确。"))
    phone = text_field(max=40)

    def validate_description(self, field: TextAreaField) -> None:
        limit = current_app.config["BODY_MAX"]
        if len(field.data or "") > limit:
            raise ValidationError(_("内容不能超过%(limit)s个字。", limit=limit))

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        """Check the fields, then the web form's rule for real names."""
        valid = super().validate(extra_validators)
        name = self.author_name
        contact = (self.phone.data or "").strip() or (self.email.data or "").strip()
        if name and not contact:
            add_error(self.phone, _("实名提交请留下电话或电子邮箱，至少一项。"))
            valid = False
        if contact and not name:
            add_error(
                self.first_name, _("留下电话或电子邮箱时请填写姓名；不填则为匿名提交。")
            )
            valid = False
        if name and len(name) > NAME_MAX:
            add_error(self.last_name, _("姓名不能超过%(limit)s个字。", limit=NAME_MAX))
            valid = False
        return valid

    @property
    def author_name(self) -> str | None:
        """Return the full name: family name first in Chinese, given name first otherwise."""
        first = (self.first_name.data or "").strip()
        last = (self.last_name.data or "").strip()
        if _CHINESE.search(first + last):
            return (last + first) or None
        return " ".join(part for part in (first, last) if part) or None

    @property
    def subject(self) -> str:
        """Return a subject for the submission: the description's first line, shortened.

        Open311 has no title; the web form asks for one, the intake needs one.
        """
        limit = current_app.config["SUBJECT_MAX"]
        first_line = next(
            (
                line.strip()
                for line in self.description.data.splitlines()
                if line.strip()
            ),
            "",
        )
        if len(first_line) <= limit:
            return first_line
        return first_line[: limit - 1] + "…"


class CommaListField(Field):
    """A parameter given once with commas, several times, or both."""

    data: list[str]

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [
            item.strip()
            for value in valuelist
            for item in value.split(",")
            if item.strip()
        ]

    def _value(self) -> str:
        return ",".join(self.data or [])


class W3DateTimeField(Field):
    """A W3C (ISO 8601) date and time; one without an offset is in the bureau's zone."""

    data: datetime | None

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0].strip() if valuelist else ""
        if not text:
            self.data = None
            return
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            self.data = None
            raise ValueError(
                _("日期时间格式不正确，请用如 2025-01-01T00:00:00+08:00 的格式。")
            ) from exc
        if not plausible_year(moment.date()):
            self.data = None
            raise ValueError(
                _(
                    "日期须在%(first)s年至%(last)s年之间。",
                    first=EARLIEST_YEAR,
                    last=LATEST_YEAR,
                )
            )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(current_app.config["TIME_ZONE"]))
        self.data = moment


class RequestFilterForm(FlaskForm):
    """GET requests: by reference numbers, or by kind, date range and status."""

    service_request_id = CommaListField(default=list)
    service_code = CommaListField(default=list)
    start_date = W3DateTimeField()
    end_date = W3DateTimeField()
    status = CommaListField(default=list)

    def validate_service_request_id(self, field: CommaListField) -> None:
        if len(field.data) > public_requests.LIMIT:
            raise ValidationError(
                _("一次最多查询%(limit)s个编号。", limit=public_requests.LIMIT)
            )

    def validate_service_code(self, field: CommaListField) -> None:
        unknown = [code for code in field.data if code not in SERVICE_CODES]
        if unknown:
            raise ValidationError(
                _("没有这个类型：%(codes)s", codes=", ".join(unknown))
            )

    def validate_status(self, field: CommaListField) -> None:
        unknown = [s for s in field.data if s not in public_requests.STATES_BY_STATUS]
        if unknown:
            raise ValidationError(
                _("状态只能是 open 或 closed：%(values)s", values=", ".join(unknown))
            )

    def validate_end_date(self, field: W3DateTimeField) -> None:
        start, end = self.start_date.data, field.data
        if start is None or end is None:
            return
        if end < start:
            raise ValidationError(_("结束时间早于开始时间。"))
        if end - start > public_requests.MAX_SPAN:
            raise ValidationError(
                _(
                    "查询的时间范围不能超过%(days)s天。",
                    days=public_requests.MAX_SPAN.days,
                )
            )

    def query(self) -> public_requests.Query:
        """Return the validated filters as a query for the service."""
        return public_requests.Query(
            references=tuple(self.service_request_id.data),
            kinds=tuple(SubmissionKind(code) for code in self.service_code.data),
            start=self.start_date.data,
            end=self.end_date.data,
            statuses=tuple(self.status.data),
        )
