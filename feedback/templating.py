"""Filters and globals that templates share."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import time
from datetime import UTC
from zoneinfo import ZoneInfo

from flask import current_app
from flask import Flask
from flask_babel import lazy_gettext as _l

from feedback.charts import bar_chart
from feedback.charts import EMPTY
from feedback.i18n import content_lang
from feedback.i18n import html_lang
from feedback.i18n import official
from feedback.i18n import preferences
from feedback.i18n import script
from feedback.models import Channel
from feedback.models import Rating
from feedback.models import StatusKind
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.signing import external_url
from feedback.text import linkify

STATE_LABELS = {
    SubmissionState.RECEIVED: _l("待分办"),
    SubmissionState.ROUTED: _l("已转办，待答复"),
    SubmissionState.NOT_ACCEPTED: _l("不予受理"),
    SubmissionState.DUPLICATE: _l("重复件"),
    SubmissionState.SPAM: _l("无效信息"),
    SubmissionState.REPLIED: _l("已答复"),
    SubmissionState.CLOSED: _l("已办结"),
}

KIND_NAMES = {
    SubmissionKind.OPINION: _l("意见"),
    SubmissionKind.SUGGESTION: _l("建议"),
    SubmissionKind.COMPLAINT: _l("投诉"),
    SubmissionKind.MISCONDUCT: _l("举报"),
}

CHANNEL_NAMES = {
    Channel.WEB: _l("网站"),
    Channel.EMAIL: _l("电子邮件"),
    Channel.API: _l("开放接口"),
    Channel.PHONE: _l("电话"),
    Channel.LETTER: _l("来信"),
    Channel.VISIT: _l("来访"),
}

RATING_NAMES = {
    Rating.SATISFIED: _l("满意"),
    Rating.BASICALLY_SATISFIED: _l("基本满意"),
    Rating.DISSATISFIED: _l("不满意"),
}

HOLD_REASONS = {
    "reply_address": _l("按回复地址归入"),
    "header": _l("按邮件会话归入"),
    "subject": _l("按主题中的编号归入"),
    "new_submission": _l("新的公众来信"),
    "no_match": _l("找不到对应的意见"),
    "bad_signature": _l("回复地址被改动"),
    "foreign_domain": _l("发件人不在股室的邮箱域名内"),
    "auto_reply": _l("自动回复"),
    "duplicate": _l("重复的邮件"),
}

STATUS_KIND_LABELS = {
    StatusKind.DONE: _l("已完成"),
    StatusKind.ONGOING: _l("推进中"),
    StatusKind.LONG_TERM: _l("长期坚持"),
    StatusKind.NOT_DONE: _l("未完成"),
}


def local_datetime(value: datetime | None) -> str:
    """Format an aware datetime in the bureau's time zone."""
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def local_date(value: date | datetime | None) -> str:
    """Format a date (or the local date of a datetime) as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        zone = ZoneInfo(current_app.config["TIME_ZONE"])
        value = value.astimezone(zone).date()
    return value.isoformat()


def atom_time(value: datetime) -> str:
    """Format an aware datetime as an RFC 3339 timestamp in UTC, for Atom."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_date(value: date) -> str:
    """Format a calendar date as the start of that day in the bureau's zone."""
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    return datetime.combine(value, time.min, tzinfo=zone).isoformat()


def percent(share: float | None) -> str:
    """Format a share (0 to 1) as a percentage with one decimal; "—" when there is none."""
    if share is None:
        return EMPTY
    return f"{share * 100:.1f}%"


def number(value: int | None) -> str:
    """Format a whole number; "—" when there is none (no data to compute it from)."""
    return EMPTY if value is None else str(value)


def status_class(kind: StatusKind | None) -> str:
    """Return the CSS class that colours a status badge (text says it too)."""
    return f"status status--{kind.value if kind else 'unknown'}"


def init_app(app: Flask) -> None:
    """Register the filters and globals."""
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters.update(
        linkify=linkify,
        local_datetime=local_datetime,
        local_date=local_date,
        status_class=status_class,
        atom_time=atom_time,
        atom_date=atom_date,
        official=official,
        script=script,
        percent=percent,
        number=number,
    )
    app.jinja_env.globals.update(
        STATE_LABELS=STATE_LABELS,
        KIND_NAMES=KIND_NAMES,
        RATING_NAMES=RATING_NAMES,
        CHANNEL_NAMES=CHANNEL_NAMES,
        STATUS_KIND_LABELS=STATUS_KIND_LABELS,
        html_lang=html_lang,
        content_lang=content_lang,
        prefs=preferences,
        external=external_url,
        STATUS_KINDS=StatusKind,
        HOLD_REASONS=HOLD_REASONS,
        bar_chart=bar_chart,
    )
