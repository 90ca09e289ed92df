"""What a citizen reads, at each step, is worded for what they sent."""

import ast
import importlib
import re
from datetime import datetime
from datetime import UTC
from types import SimpleNamespace

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from helpers import login
from helpers import read_receipt
from helpers import staff_user
from helpers import submit as submit_service
from sqlalchemy import select

from feedback import PROJECT_ROOT
from feedback.chinese import to_traditional
from feedback.extensions import db
from feedback.i18n import LOCALES
from feedback.models import Rating
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionState
from feedback.services import api_keys
from feedback.services import attachments
from feedback.services import closing
from feedback.services import DomainError
from feedback.services import refused_move
from feedback.services import replies
from feedback.services import triage

# ---- 3. A 举报 in its own words at every step


def _report(client):
    """File a real-name 举报 on the web form; return its access code."""
    response = client.post(
        "/submit",
        data={
            "kind": "misconduct",
            "subject": "某校长违规收费",
            "body": "某校长以资料费名义收费，未开收据。",
            "identity": "real_name",
            "name": "李四",
            "email": "lisi@example.com",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    html = response.get_data(as_text=True)
    assert "<h1>已收到您的举报</h1>" in html
    assert "已收到您的意见" not in html
    assert "一般在15个工作日内告知是否受理" in html
    return read_receipt(html)[1]


def _tracked(client, code):
    return client.post("/track", data={"code": code}).get_data(as_text=True)


def test_a_report_is_worded_as_a_report_at_every_step(mail_app):
    app, handler = mail_app
    client = app.test_client()
    code = _report(client)
    received = _tracked(client, code)
    assert '<dd class="state">已收到，待受理</dd>' in received
    assert "收到您的举报" in received

    with app.app_context():
        report = db.session.scalar(select(Submission))
        lead = staff_user(Role.LEAD)
        triage.accept_misconduct(db.session, report, actor=lead)
        db.session.commit()
    accepted = _tracked(client, code)
    assert '<dd class="state">已受理，核查中</dd>' in accepted
    assert "已受理，核查中" in accepted.split('id="history-heading"')[1]
    # Never "forwarded", and no section named to the reporter.
    assert "已转办" not in accepted
    assert "承办股室" not in accepted

    with app.app_context():
        report = db.session.scalar(select(Submission))
        replies.conclude(
            db.session,
            report,
            result="经核查，反映的问题属实，已责令退还并给予处分。",
            concluded_on=datetime.now(UTC).date(),
            actor=staff_user(Role.LEAD),
        )
        db.session.commit()
    sent = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert "failed=0" in sent.output, sent.output
    concluded = _tracked(client, code)
    assert '<dd class="state">已办结</dd>' in concluded
    assert '<h2 id="reply-heading">办理结果</h2>' in concluded
    assert "已责令退还" in concluded

    subjects = [str(message["Subject"]) for _s, _to, message in handler.messages]
    texts = [
        message.get_body(("plain",)).get_content() for *_x, message in handler.messages
    ]
    assert any(subject.endswith("已收到您的举报") for subject in subjects), subjects
    assert any(subject.endswith("您的举报有新进展") for subject in subjects), subjects
    assert any(subject.endswith("您的举报已办结") for subject in subjects), subjects
    assert not any("意见" in subject for subject in subjects), subjects
    assert any("您提交的举报" in text for text in texts)
    assert not any("您提交的意见" in text for text in texts)


def test_an_opinion_keeps_its_own_words(client, demo_loaded):
    response = client.post(
        "/submit",
        data={
            "kind": "opinion",
            "subject": "操场开放",
            "body": "希望周末开放操场。",
            "identity": "anonymous",
        },
    )
    html = response.get_data(as_text=True)
    assert "<h1>已收到您的意见</h1>" in html
    # When to expect an answer, in plain words, not the jargon 分办期限.
    assert "一般在60日内答复" in html
    assert "分办期限" not in html
    code = read_receipt(html)[1]
    tracked = _tracked(client, code)
    assert '<dd class="state">待分办</dd>' in tracked
    assert "收到您的意见" in tracked


# ---- 2. Every message a user can see is translatable

SERVICES = PROJECT_ROOT / "feedback" / "services"
# Refusals only an operator meets, on the command line or in a log: API keys
# and calendars are managed there, a missing or damaged file is logged.
OPERATOR_ERRORS = {
    "ApiKeyError",
    "BackupError",
    "CalendarError",
    "DamagedFile",
    "MissingFile",
}
# Functions only commands call (``flask staff create``, the demo).
OPERATOR_FUNCTIONS = {("accounts", "create_user")}
TRANSLATED = {"_", "_l"}
LATIN_WORDS = re.compile(r"[A-Za-z]+['’]?[A-Za-z]*[ ,;:-]+[A-Za-z]+")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _resolve(module, node):
    """Return the object a raise names (``Error`` or ``module.Error``), or None."""
    if isinstance(node, ast.Name):
        return getattr(module, node.id, None)
    if isinstance(node, ast.Attribute):
        owner = _resolve(module, node.value)
        return getattr(owner, node.attr, None)
    return None


def _plain_text(node):
    """Tell whether an expression builds untranslated text: a literal, an f-string…"""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _plain_text(node.left) or _plain_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in {"format", "join"}
    return False


def _refusals(tree, module):
    """Yield (function, line, error class, call) for each refusal a module words.

    A refusal is worded where a ``DomainError`` is raised, or where one of
    them hands its own message to ``super().__init__``.
    """
    for scope in ast.walk(tree):
        if isinstance(scope, ast.ClassDef):
            error = getattr(module, scope.name, None)
            for node in ast.walk(scope):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "__init__"
                    and isinstance(node.func.value, ast.Call)
                    and isinstance(node.func.value.func, ast.Name)
                    and node.func.value.func.id == "super"
                ):
                    yield scope.name, node.lineno, error, node
        if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(scope):
                if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                    error = _resolve(module, node.exc.func)
                    yield scope.name, node.lineno, error, node.exc


def scan_raises(name, source, module):
    """Return (untranslated refusals, translated messages) of a services module.

    A user-facing ``DomainError`` must be handed translated text; each
    translated message is returned as (where, msgid, placeholder names).
    """
    untranslated, messages = [], []
    for function, line, error, call in _refusals(ast.parse(source), module):
        if not (isinstance(error, type) and issubclass(error, DomainError)):
            continue
        if error.__name__ in OPERATOR_ERRORS:
            continue
        if (name, function) in OPERATOR_FUNCTIONS:
            continue
        where = f"{name}.py:{line} {error.__name__}"
        if call.args and _plain_text(call.args[0]):
            untranslated.append(where)
        for inner in ast.walk(call):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and inner.func.id in TRANSLATED
            ):
                msgid = inner.args[0].value
                messages.append((where, msgid, [k.arg for k in inner.keywords]))
    return untranslated, messages


def _service_raises():
    untranslated, messages = [], []
    for path in sorted(SERVICES.glob("*.py")):
        module = importlib.import_module(f"feedback.services.{path.stem}")
        found = scan_raises(path.stem, path.read_text(encoding="utf-8"), module)
        untranslated += found[0]
        messages += found[1]
    return untranslated, messages


def test_every_refusal_a_user_can_meet_is_translated():
    untranslated, messages = _service_raises()
    assert untranslated == [], "wrap these in _l(...) with Chinese source text"
    assert len(messages) > 50  # the scan does see the services' refusals


def test_the_scan_finds_english_handed_to_a_refusal():
    source = (
        "def refuse(x):\n"
        "    raise TriageError('A refusal needs a reason.')\n"
        "def extend(limit):\n"
        "    raise attachments.AttachmentError(f'At most {limit} files.')\n"
        "def ok():\n"
        "    raise TriageError(_l('请写明理由。'), field='reason')\n"
        "def operator():\n"
        "    raise api_keys.ApiKeyError('No key.')\n"
        "class TriageError(Exception):\n"
        "    def __init__(self):\n"
        "        super().__init__('Too many.')\n"
    )
    names = SimpleNamespace(
        TriageError=triage.TriageError, attachments=attachments, api_keys=api_keys
    )
    untranslated, messages = scan_raises("triage", source, names)
    assert sorted(untranslated) == [
        "triage.py:11 TriageError",
        "triage.py:2 TriageError",
        "triage.py:4 AttachmentError",
    ]
    assert [(m[1], m[2]) for m in messages] == [("请写明理由。", [])]


def _rendered(app, message):
    """Render a lazy message (or a callable making one) in each interface language."""
    shown = {}
    with app.test_request_context():
        for choice, locale in LOCALES.items():
            with force_locale(locale):
                shown[choice] = str(message() if callable(message) else message)
    return shown


def test_every_domain_error_reads_right_in_each_language(app):
    _untranslated, messages = _service_raises()
    cases = [
        (where, lambda m=msgid, k=names: _l(m, **dict.fromkeys(k, "7")))
        for where, msgid, names in messages
    ]
    cases += [
        (f"{current} -> {target}", lambda c=current, t=target: refused_move(c, t))
        for current in SubmissionState
        for target in SubmissionState
    ]
    converted = 0
    for where, message in cases:
        shown = _rendered(app, message)
        hans, hant, english = shown["zh-Hans"], shown["zh-Hant"], shown["en"]
        assert CJK.search(hans), where
        assert not LATIN_WORDS.search(hans), f"{where}: {hans}"
        assert hant == to_traditional(hans), where
        assert not LATIN_WORDS.search(hant), f"{where}: {hant}"
        assert not CJK.search(english), f"{where}: {english}"
        converted += hant != hans
    # 繁體 differs wherever a character has a traditional form (说, 请, 见…).
    assert converted > len(cases) // 2


def test_a_stale_decision_is_told_in_plain_words(app, client, demo_loaded):
    with app.app_context():
        submission = submit_service(db.session).submission
        section = db.session.scalar(select(Section).order_by(Section.id))
        lead = staff_user(Role.LEAD)
        triage.route(db.session, submission, section, actor=lead)
        first, second = (
            replies.draft(
                db.session,
                submission,
                section,
                text,
                channel=ReplyChannel.WEB,
                author_label="股室",
            )
            for text in ("第一稿", "第二稿")
        )
        replies.approve(db.session, first, actor=lead)
        closing.rate(db.session, submission, Rating.SATISFIED)
        db.session.commit()
        second_id = second.id
        login(client, lead)
    page = client.post(
        f"/staff/replies/{second_id}/approve",
        data={f"r{second_id}-body": "第二稿"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert (
        '<p class="flash flash--error">此意见现在是“已办结”，不能再答复。请刷新页面查看。</p>'
        in page
    )
    assert "cannot move" not in page


def _replied_code(app):
    with app.app_context():
        receipt = submit_service(db.session)
        receipt.submission.state = SubmissionState.REPLIED
        db.session.commit()
        return receipt.access_code


def _visible_text(html):
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_a_refused_rating_stands_beside_its_reason_in_traditional(app, client):
    code = _replied_code(app)
    client.set_cookie("lang", "zh-Hant")
    response = client.post(
        "/track/rate", data={"code": code, "rating": "dissatisfied", "reason": " "}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    said = to_traditional("选“不满意”时，请写明哪里不满意，以便核查。")
    beside = html.split('id="reason-error"', 1)[1].split("</p>", 1)[0]
    assert said in beside
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert (
        f'<a href="#reason">{to_traditional("评价理由（选“不满意”时必填）")}：{said}</a>'
        in (summary)
    )
    assert 'class="notice"' not in html
    assert LATIN_WORDS.findall(_visible_text(html)) == []
