"""Default settings: safe for development, overridden by instance/config.py and env."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple
from typing import TypeVar

Choice = TypeVar("Choice", bound=enum.StrEnum)


def enum_setting(choices: type[Choice], name: str, value: object) -> Choice:
    """Return a setting as one of ``choices``; stop the service naming the right values."""
    try:
        return choices(str(value))
    except ValueError:
        allowed = " or ".join(repr(choice.value) for choice in choices)
        raise RuntimeError(
            f"{name} must be {allowed}, not {value!r}: fix it in "
            f"instance/config.py or FEEDBACK_{name}."
        ) from None


class ReplyTemplate(NamedTuple):
    """A text sections may start a reply from, and the name its link shows."""

    title: str | None  # None: the link says 模板1, 模板2 … (the older plain strings)
    text: str


def reply_templates_setting(value: object) -> tuple[ReplyTemplate, ...]:
    """Return REPLY_TEMPLATES as titled templates; stop the service on a bad entry.

    An entry is a ``(title, text)`` pair (a two-item list in JSON), or, as
    before titles existed, the text alone.
    """
    if isinstance(value, str) or not isinstance(value, Sequence):
        value = [value]
    found = []
    for entry in value:
        if isinstance(entry, str) and entry.strip():
            found.append(ReplyTemplate(None, entry))
        elif (
            isinstance(entry, Sequence)
            and not isinstance(entry, str)
            and len(entry) == 2
            and all(isinstance(part, str) and part.strip() for part in entry)
        ):
            found.append(ReplyTemplate(entry[0].strip(), entry[1]))
        else:
            raise RuntimeError(
                "REPLY_TEMPLATES must be a list of (title, text) pairs or texts, "
                f"not {entry!r}: fix it in instance/config.py or "
                "FEEDBACK_REPLY_TEMPLATES."
            )
    return tuple(found)


class DefaultConfig:
    """Settings every instance starts from; nothing here reads the environment."""

    SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused outside debug/testing
    # Key for the keyed hash of access codes and reply addresses; empty means
    # "derive from SECRET_KEY". Changing it makes every issued code unusable.
    CODE_HMAC_KEY = ""

    DATABASE_URL = ""  # empty: SQLite in instance/; postgresql:// is accepted
    # hide_parameters: an error's text (logged with its traceback) would
    # otherwise quote the statement's values, which hold what citizens wrote.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}

    # Public address used to build links in e-mail (workers have no request).
    PUBLIC_URL = "http://127.0.0.1:5000"

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_TRANSLATION_DIRECTORIES = str(
        Path(__file__).resolve().parent / "translations"
    )
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    TIME_ZONE = "Asia/Shanghai"

    # Who runs the service, shown in the header and in e-mail.
    SITE_NAME = "梅江区教育局巡察整改公众监督平台"
    REFERENCE_PREFIX = "MJ"

    # Deadlines, the day of receipt not counted: "calendar" days, or "working"
    # days (Monday to Friday and the holiday table's make-up days). create_app
    # reads it into services.deadlines.DeadlineMode and refuses anything else.
    DEADLINE_MODE = "calendar"
    # `flask deadlines sweep` reminds a section this many days before a due date.
    REMINDER_DAYS_BEFORE = 3
    TRIAGE_DAYS = 15
    # Reasons the lead can pick when declining a submission (不予受理).
    REFUSAL_REASONS = (
        "所反映的问题不属于本平台受理范围，建议向有关部门反映。",
        "所反映的问题已通过诉讼、仲裁或行政复议等法定途径处理。",
        "内容过于简略，无法核实，欢迎补充具体情况后重新提交。",
    )
    REPLY_DAYS = 60
    EXTENSION_MAX_DAYS = 30
    # A real-name 举报's reporter is told within this many working days that it
    # was accepted, and of its result within as many after it is concluded.
    MISCONDUCT_NOTICE_WORKING_DAYS = 15
    # While a question to the author is open the reply clock stops: the days
    # it stayed open are added to the due date when the author answers.
    INFO_REQUEST_PAUSES_CLOCK = True
    # A reply left unrated this many days is closed by `deadlines sweep`.
    RATING_WINDOW_DAYS = 15
    # The author may ask the next-higher body for a review (复查) within this
    # many days of closing; the closing page says so, and names that body.
    REVIEW_DAYS = 30
    REVIEW_BODY = "梅江区人民政府"
    # Reply templates sections can start from: (title, text) pairs; a text
    # alone, as older configurations have it, is named 模板1, 模板2 …
    REPLY_TEMPLATES = (
        (
            "核查处理",
            "您好！您反映的问题已收悉。经核查，情况如下：\n\n处理结果：\n\n感谢您对我局工作的监督与支持。",
        ),
        (
            "采纳建议",
            "您好！您提出的建议很有价值，我股室已研究采纳，具体措施如下：\n\n感谢您的关心与支持。",
        ),
        (
            "情况不符",
            "您好！经核实，您反映的情况与事实不符，具体说明如下：\n\n如有疑问，欢迎继续反映。",
        ),
    )

    # Route a submission (never 举报) to its suggested section at once, without
    # waiting for the lead: the linked problem's section, or the kind's.
    AUTO_ROUTE = False

    # Signed reply links for sections stay valid this long.
    REPLY_LINK_MAX_AGE_DAYS = 90
    # A reply link is exchanged for a cookie on that reply page alone, which
    # lasts this long after the page was last loaded: time to write an answer.
    REPLY_PAGE_MINUTES = 240

    # Mail: Flask-Mail reads these once, when the app is created.
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 8025
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = ("梅江区教育局公众监督平台", "noreply@meijiang-edu.example")
    # Sender of the mail a section answers (routing, reminders, returned
    # drafts): an address a clerk recognises, e.g. the discipline-inspection
    # office's. None: MAIL_DEFAULT_SENDER. Replies still go to the signed
    # reply address, which such mail names as its Reply-To.
    MAIL_SECTION_SENDER = None
    MAIL_SUPPRESS_SEND = False
    # Seconds the outbox waits for the mail server to connect and to answer
    # each command; a server that hangs defers the message.
    MAIL_TIMEOUT = 10
    # Domain of the per-submission reply addresses and Message-IDs.
    MAIL_REPLY_DOMAIN = "reply.meijiang-edu.example"
    # The public supervision address the notice gives: mail to it becomes a
    # new submission (channel e-mail) and its sender gets a receipt.
    PUBLIC_MAIL_ADDRESS = "supervision@meijiang-edu.example"
    # The mailbox `flask mail fetch` reads (all of it that is unseen).
    MAIL_IMAP_HOST = ""
    MAIL_IMAP_PORT = 993
    MAIL_IMAP_SSL = True
    MAIL_IMAP_USER = ""
    MAIL_IMAP_PASSWORD = ""
    MAIL_IMAP_FOLDER = "INBOX"
    # Where demo mail that reaches the local sink is written; staff can read it
    # at /staff/mail when this is set.
    MAIL_SINK_DIR = ""

    # Outbox: after the n-th failed try a message waits a random time up to
    # min(OUTBOX_RETRY_MAX_SECONDS, OUTBOX_RETRY_BASE_SECONDS * 2**(n - 1)), and
    # fails for good once it has been failing for OUTBOX_GIVE_UP_HOURS.
    OUTBOX_RETRY_BASE_SECONDS = 60
    OUTBOX_RETRY_MAX_SECONDS = 3600
    OUTBOX_GIVE_UP_HOURS = 72
    OUTBOX_LEASE_SECONDS = 300
    OUTBOX_BATCH_SIZE = 50
    OUTBOX_POLL_SECONDS = 2.0

    # Limits on what a citizen may type and attach.
    SUBJECT_MAX = 100
    BODY_MAX = 5000
    ATTACHMENT_MAX_FILES = 5
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    ATTACHMENT_DIR = ""  # empty: instance/attachments (never under static/)
    # Where new files go: "directory" (ATTACHMENT_DIR, one machine) or
    # "database" (chunk rows, which every node of a site sees).
    ATTACHMENT_STORAGE = "directory"
    MAX_CONTENT_LENGTH = 5 * 10 * 1024 * 1024 + 1024 * 1024

    # Rate limits per client (Flask-Limiter). memory:// suits one process;
    # several processes must share redis://host:6379/0.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # When that storage (Redis) cannot be reached, count in this process's
    # memory instead, with a warning in the log (logger "flask-limiter"), and
    # never fail a request because of the limiter itself.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    SUBMIT_RATE_LIMIT = "20 per hour;100 per day"
    # New-submission receipts to one e-mail address, counted in the database
    # (so across every node); those beyond are kept unsent, for the lead.
    RECEIPT_RATE_LIMIT = "3/hour"
    TRACK_RATE_LIMIT = "20 per minute;200 per day"
    # Requests filed through Open311, counted per API key: one partner's
    # application speaks for many citizens.
    OPEN311_RATE_LIMIT = "120 per hour;1000 per day"
    # Behind a reverse proxy, how many X-Forwarded-For hops to trust (0: none).
    PROXY_FIX_X_FOR = 0

    # Logs on standard error: "json" (one object a line: each request, each
    # outbox event) or "text". Empty: "text" in debug and tests, else "json".
    LOG_FORMAT = ""
    # Where logs go: "stderr", or "stdout" (deploy/gunicorn.conf.py sets it for
    # the web, so that its lines go with gunicorn's; commands keep stdout for
    # their results).
    LOG_STREAM = "stderr"
    # /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>" when
    # set; when empty, only to 127.0.0.1 and ::1, and to nobody at all
    # behind a proxy (PROXY_FIX_X_FOR above 0), where everyone looks local.
    METRICS_TOKEN = ""

    # Statistics pages are computed at most this often per process (0: always).
    STATISTICS_CACHE_SECONDS = 300

    # The board's and a problem's pages are served from a rendered copy per
    # reader's variant while the board's version stamp stays the same; each
    # process reads the stamp at most this often, so a change made on another
    # worker or node shows within this time (at once on the worker that made it).
    PAGE_CACHE_ENABLED = True
    PAGE_CACHE_STAMP_SECONDS = 1.0
    PAGE_CACHE_ENTRIES = 300

    # How long personal data of a closed submission is kept, shown to citizens;
    # `retention purge` removes it after that (the anonymised record stays).
    RETENTION_YEARS = 3

    # Wrong passwords and second-factor codes, counted until a full sign-in:
    # a client is stopped for an account after LOGIN_MAX_FAILURES within
    # LOGIN_LOCK_MINUTES; the account is locked for everyone for an hour after
    # LOGIN_ACCOUNT_MAX_FAILURES within an hour. Its owner is e-mailed each time.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    LOGIN_ACCOUNT_MAX_FAILURES = 20
    LOGIN_RATE_LIMIT = "10 per minute;100 per hour"

    # argon2id cost (the library's defaults); tests lower them to save time.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_KIB = 65536
    ARGON2_PARALLELISM = 4

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # no time-outs: an elderly writer may take an hour
