"""What a citizen reads, at each step, is worded for what they sent."""

import ast
import importlib
import json
import re
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from html import unescape
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from helpers import LiveServer
from helpers import login
from helpers import read_receipt
from helpers import staff_user
from helpers import submit
from helpers import submit as submit_service
from playwright.sync_api import Browser
from playwright.sync_api import expect
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from feedback import demo
from feedback import masking
from feedback import PROJECT_ROOT
from feedback.chinese import to_traditional
from feedback.db import utcnow
from feedback.extensions import db
from feedback.i18n import LOCALES
from feedback.models import Inspection
from feedback.models import OutboxMessage
from feedback.models import Problem
from feedback.models import Rating
from feedback.models import Reply
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import api_keys
from feedback.services import attachments
from feedback.services import closing
from feedback.services import DomainError
from feedback.services import questions
from feedback.services import refused_move
from feedback.services import replies
from feedback.services import submissions
from feedback.services import tracking
from feedback.services import triage

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
        first = replies.draft(
            db.session,
            submission,
            section,
            "第一稿",
            channel=ReplyChannel.WEB,
            author_label="股室",
        )
        replies.approve(db.session, first, actor=lead)
        closing.rate(db.session, submission, Rating.SATISFIED)
        # A second draft left on the closed case, as drafts were before they
        # were retired with the state they were written for.
        second = Reply(
            submission=submission,
            section=section,
            body="第二稿",
            channel=ReplyChannel.WEB,
            author_label="股室",
        )
        db.session.add(second)
        db.session.commit()
        second_id = second.id
        login(client, lead)
    page = client.post(
        f"/staff/replies/{second_id}/approve",
        data={f"r{second_id}-body": "第二稿"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert (
        '<p class="flash flash--error">这份答复已失效：此意见现在是“已办结”，'
        "不再等待这份答复。请刷新页面查看。</p>" in page
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
    # The note under the code speaks of taking up and the result, not of an answer.
    assert "凭它可以查看受理情况和办理结果" in html
    assert "答复" not in html.split('id="access-code"')[1]
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
    assert "凭它可以查看办理进度和答复" in html
    assert "分办期限" not in html
    code = read_receipt(html)[1]
    tracked = _tracked(client, code)
    assert '<dd class="state">待分办</dd>' in tracked
    assert "收到您的意见" in tracked


# ---- 4. Anonymous means no contact fields


def test_the_form_says_the_code_is_the_only_way_back_for_the_anonymous(client):
    html = client.get("/submit").get_data(as_text=True)
    identity = html.split('<div class="identity">')[1].split("</fieldset>\n  </div>")[0]
    # The radio that hides them (site.css) and the contact fields share the box.
    assert re.search(r'<input checked[^>]* value="anonymous">', identity)
    assert 'class="real-name"' in identity
    assert all(f'id="{name}"' in identity for name in ("name", "phone", "email"))
    assert "查询码就是您查看办理情况的唯一途径" in identity


def test_a_contact_posted_with_anonymous_is_not_kept_and_the_receipt_says_so(
    app, client
):
    response = client.post(
        "/submit",
        data={
            "kind": "opinion",
            "subject": "食堂价格",
            "body": "希望公开食堂饭菜价格。",
            "identity": "anonymous",
            "name": "王五",
            "phone": "13800000000",
            # Not even a well-formed address: it is not kept, so not checked.
            "email": "wangwu@",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:300]
    read_receipt(html)
    assert "您选择了匿名提交，填写的姓名、电话、电子邮箱没有保存" in html
    assert "回执也已发到" not in html
    with app.app_context():
        stored = db.session.scalar(select(Submission))
        assert stored.anonymous
        assert (stored.author_name, stored.author_phone, stored.author_email) == (
            None,
            None,
            None,
        )
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0

    plain = client.post(
        "/submit",
        data={
            "kind": "opinion",
            "subject": "图书馆开放",
            "body": "希望假期开放图书馆。",
            "identity": "anonymous",
            "email": "  ",
        },
    ).get_data(as_text=True)
    read_receipt(plain)
    assert 'id="contact-not-kept"' not in plain


@pytest.mark.browser
def test_choosing_anonymous_leaves_no_contact_field_without_javascript(
    browser: Browser, live_server: LiveServer
):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 375, "height": 667}
    )
    context.add_cookies([{"name": "lang", "value": "zh-Hans", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/submit")
    contact = [page.locator(f"#{name}") for name in ("name", "phone", "email")]
    page.get_by_label("实名提交", exact=True).check()
    for field in contact:
        expect(field).to_be_visible()
    anonymous = page.get_by_label("匿名提交", exact=True)
    anonymous.check()
    for field in contact:
        expect(field).to_be_hidden()
    # Nor can the keyboard reach them: from the choice, Tab goes past them.
    anonymous.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "publish_consent"
    context.close()


# ---- 5. Back does not duplicate

SENT_TWICE = {
    "kind": "suggestion",
    "problem_id": "",
    "subject": "校车接送",
    "body": "希望增加一条校车线路，\r\n方便郊区的孩子上学。",
    "identity": "anonymous",
}


def _hidden(html, after=""):
    """Return the hidden inputs of the page (after ``after``) as form data."""
    found = re.findall(
        r'<input[^>]* name="([^"]+)" type="hidden" value="([^"]*)"',
        html.split(after, 1)[1] if after else html,
    )
    return {name: unescape(value) for name, value in found}


def _send_from_a_fresh_form(client):
    """Open the form (a new form key), send the same subject and text."""
    form = _hidden(client.get("/submit").get_data(as_text=True))
    response = client.post(
        "/submit",
        data={
            **SENT_TWICE,
            "csrf_token": form["csrf_token"],
            "idempotency_key": form["idempotency_key"],
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Submission.id)))


def test_sending_the_same_text_again_shows_the_first_receipt_and_asks(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    author = app.test_client()
    first = _send_from_a_fresh_form(author)
    assert 'id="send-again-heading"' not in first
    receipt = read_receipt(first)

    again = _send_from_a_fresh_form(author)  # Back, then 提交 once more
    assert read_receipt(again) == receipt
    assert "要作为新的一件再提交吗？" in again
    assert _count(app) == 1

    # The button files it deliberately, as a new case, CSRF token and all.
    confirm = _hidden(again, 'id="send-again-heading"')
    assert confirm["csrf_token"]
    assert confirm["body"] == SENT_TWICE["body"]
    second = author.post("/submit", data=confirm).get_data(as_text=True)
    assert read_receipt(second)[0] != receipt[0]
    assert 'id="send-again-heading"' not in second
    assert _count(app) == 2
    # Pressed twice, the button still files one.
    author.post("/submit", data=confirm)
    assert _count(app) == 2

    # Another browser session is never asked: it cannot be the same author.
    other = _send_from_a_fresh_form(app.test_client())
    assert 'id="send-again-heading"' not in other
    assert read_receipt(other)[0] not in {receipt[0]}
    assert _count(app) == 3

    # A day later the same text is a new case.
    with app.app_context():
        db.session.execute(
            update(Submission).values(
                created_at=utcnow() - timedelta(hours=24, minutes=1)
            )
        )
        db.session.commit()
    late = _send_from_a_fresh_form(author)
    assert 'id="send-again-heading"' not in late
    assert _count(app) == 4


def test_a_code_drawn_from_the_plain_form_key_is_still_shown_again(app, session):
    # Before the same text could be recognised, codes were seeded with the
    # plain form key, which the row does not keep; the form key path still
    # gives those back to their browser.
    key, nonce = "legacy-form-key-0001", "legacy-nonce"
    receipt = submit(
        session, subject="旧的回执", body="内容", form_key=key, receipt_nonce=nonce
    )
    old_code = tracking.new_access_code(key, nonce)
    receipt.submission.access_code_hash = tracking.hash_code(old_code)
    session.flush()
    assert submissions.find_by_form_key(session, key, nonce).access_code == old_code
    # The same text finds the row but no key to derive it with: no wrong code.
    found = submissions.find_same_text(session, nonce, "旧的回执", "内容")
    assert found.submission is receipt.submission
    assert found.access_code is None


# ---- 7. E-mails in the author's language and script

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _handled_in(mail_app, lang):
    """Submit from a page in ``lang``; route, extend and answer it; send the mail.

    Return the submission's content strings and (recipient, subject, text)
    of every message that arrived.
    """
    app, handler = mail_app
    client = app.test_client()
    client.set_cookie("lang", lang)
    response = client.post(
        "/submit",
        data={
            "kind": "suggestion",
            "subject": "食堂价格公示",
            "body": "建议公示饭菜价格。",
        }
        | {"identity": "real_name", "name": "王五", "email": "wangwu@example.com"},
    )
    assert response.status_code == 200
    reference = read_receipt(response.get_data(as_text=True))[0]
    with app.app_context():
        submission = submissions.by_reference(db.session, reference)
        assert submission.language == lang
        lead = staff_user(Role.LEAD)
        section = db.session.scalars(select(Section).order_by(Section.id)).first()
        triage.route(db.session, submission, section, actor=lead)
        triage.extend(db.session, submission, 10, "需要会同学校核实", actor=lead)
        reply = replies.draft(
            db.session,
            submission,
            section,
            "经核查，为此已在食堂公示价格。",
            channel=ReplyChannel.WEB,
            author_label=section.email,
        )
        replies.approve(db.session, reply, actor=lead)
        db.session.commit()
        content = [submission.subject, section.name, submission.reference]
    sent = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert "failed=0" in sent.output, sent.output
    mail = [
        (
            str(message["To"]),
            str(message["Subject"]),
            message.get_body(("plain",)).get_content(),
        )
        for _s, _to, message in handler.messages
    ]
    return content, mail


def _split(mail, author="wangwu@example.com"):
    mine = [(subject, text) for to, subject, text in mail if author in to]
    others = [(subject, text) for to, subject, text in mail if author not in to]
    return mine, others


def test_a_traditional_page_gets_traditional_mail(mail_app):
    content, mail = _handled_in(mail_app, "zh-Hant")
    mine, staff = _split(mail)
    subjects = [subject for subject, _text in mine]
    assert any(s.endswith("已收到您的意見") for s in subjects), subjects
    assert any(s.endswith("您的意見有新進展") for s in subjects), subjects
    assert any(s.endswith("您的意見已答覆") for s in subjects), subjects
    texts = "\n".join(text for _subject, text in mine)
    assert "我們已收到您提交的意見" in texts
    # The bureau's words in the bureau's traditional forms (s2tw: 為, 核).
    assert "需要會同學校核實" in texts
    assert "經核查，為此已在食堂公示價格。" in texts
    assert "爲" not in texts
    # What the author wrote is quoted as written.
    assert "食堂价格公示" in texts
    # The section's mail stays in the bureau's simplified script.
    assert any("请答复公众意见" in s for s, _text in staff), staff


def test_an_english_page_gets_english_mail(mail_app):
    content, mail = _handled_in(mail_app, "en")
    mine, staff = _split(mail)
    assert len(mine) >= 4  # receipt, accepted, extended, reply
    subjects = [subject for subject, _text in mine]
    assert any(s.endswith("We have received your opinion") for s in subjects)
    for subject, text in mine:
        # Content stays Chinese: the subject the author wrote, the section's
        # name and the bureau's own words (reply, reason).
        for quoted in [*content, "需要会同学校核实", "经核查，为此已在食堂公示价格。"]:
            subject, text = subject.replace(quoted, ""), text.replace(quoted, "")
        assert CJK.findall(subject + text) == [], subject + "\n" + text
    assert any("请答复公众意见" in s for s, _text in staff), staff


class _InterfaceChinese(HTMLParser):
    """Collect Chinese text and attribute values outside elements marked Chinese.

    Content (the board, names, what people wrote) is marked ``lang="zh…"``;
    whatever Chinese is left is the interface's own. A page's ``<title>`` and
    a chart's ``<desc>`` are left out: plain text that cannot mark the
    language of its parts (a notice's title, a section's name).
    """

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link"}
    VOID |= {"meta", "source", "track", "wbr"}
    SHOWN = ("title", "aria-label", "placeholder", "alt", "value")

    def __init__(self):
        super().__init__()
        self.open = []  # (tag, lang or None)
        self.found = []

    def _lang(self):
        return next((lang for _t, lang in reversed(self.open) if lang is not None), "")

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = attrs.get("lang")
        chinese = (lang if lang is not None else self._lang()).startswith("zh")
        for name in self.SHOWN:
            if not chinese and CJK.search(attrs.get(name) or ""):
                self.found.append(f"{tag}[{name}]: {attrs[name]}")
        if tag not in self.VOID:
            self.open.append((tag, lang))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        tags = {tag for tag, _lang in self.open}
        if tags & {"title", "desc", "script", "style"} or self._lang().startswith("zh"):
            return
        if CJK.search(data):
            self.found.append(
                f"{self.open[-1][0] if self.open else ''}: {data.strip()}"
            )


def _interface_chinese(html):
    parser = _InterfaceChinese()
    parser.feed(html)
    return parser.found


def _cases_at_every_step(session):
    """Return access codes of a published, a closed, a refused and a questioned case."""
    lead = staff_user(Role.LEAD)
    section = session.scalars(select(Section).order_by(Section.id)).first()
    problem = session.scalars(select(Problem).order_by(Problem.id)).first()
    codes = {}
    for step in ("published", "closed", "refused", "asked"):
        receipt = submissions.submit(
            session,
            kind=SubmissionKind.OPINION,
            subject="食堂饭菜太贵",
            body="赵六建议降低饭菜价格，电话13800001111。",
            problem=problem,
            author=submissions.Author(name="赵六", phone="13800001111"),
            publish_consent=True,
        )
        submission, codes[step] = receipt.submission, receipt.access_code
        if step == "refused":
            triage.refuse(session, submission, "不属于巡察整改范围", actor=lead)
            continue
        triage.route(session, submission, section, actor=lead)
        triage.extend(session, submission, 10, "需要会同学校核实", actor=lead)
        if step == "asked":
            questions.ask(session, submission, "请说明是哪所学校。", actor=lead)
            continue
        reply = replies.draft(
            session,
            submission,
            section,
            "赵六同志：您好！已要求学校公示价格。",
            channel=ReplyChannel.WEB,
            author_label=section.email,
        )
        replies.approve(session, reply, actor=lead)
        replies.publish(session, reply, replies.masked_text(session, reply), actor=lead)
        if step == "closed":
            closing.rate(session, submission, Rating.DISSATISFIED, "价格仍然偏高")
    return codes, problem.id, problem.aspect.inspection_id


def test_english_pages_carry_no_interface_chinese(app, client):
    with app.app_context():
        demo.load(db.session)
        codes, problem_id, round_id = _cases_at_every_step(db.session)
        db.session.commit()
    client.set_cookie("lang", "en")
    pages = {
        path: client.get(path)
        for path in (
            "/",
            "/rounds",
            f"/rounds/{round_id}",
            f"/rounds/{round_id}?kind=nonsense",
            f"/problems/{problem_id}",
            "/submit",
            "/track",
            "/replies",
            "/replies?month=bad",
            "/statistics",
            "/no-such-page",
        )
    }
    for step, code in codes.items():
        pages[f"tracking ({step})"] = client.post("/track", data={"code": code})
    for kind in ("opinion", "misconduct"):
        pages[f"receipt ({kind})"] = client.post(
            "/submit",
            data={"kind": kind, "subject": "校车", "body": "校车超载。"}
            | {"identity": "anonymous"},
        )
    pages["form errors"] = client.post("/submit", data={"kind": "opinion"})
    found = {
        where: _interface_chinese(response.get_data(as_text=True))
        for where, response in pages.items()
    }
    left = {where: left for where, left in found.items() if left}
    assert left == {}
    # The checker sees what it should: content is there, marked Chinese.
    assert "食堂饭菜太贵" in pages["/replies"].get_data(as_text=True)
    assert _interface_chinese("<p>已完成 16 of them</p>") == ["p: 已完成 16 of them"]


# ---- 8. Wording

BUREAU_PHONE = "0753-2196838"  # the seed notice's supervision channels
BUREAU_MAIL = "mjqjyjmsg@163.com"


def test_masking_keeps_greetings_and_the_bureaus_contacts():
    text = (
        "王五同志：您好！\n您反映的问题已核实。王五的电话13912345678、"
        "邮箱wangwu@example.com已登记。如有疑问，请拨打0753 2196838"
        "或发邮件至MJQJYJMSG@163.com。\n王先生，再次感谢。"
    )
    masked = masking.mask(text, ["王五"], [BUREAU_PHONE, BUREAU_MAIL])
    assert masked.startswith("同志：您好！\n")
    assert "\n先生，再次感谢。" in masked
    assert "王" not in masked
    assert "13912345678" not in masked
    assert "wangwu@example.com" not in masked
    # The office's own published number and mailbox stay, as written.
    assert "0753 2196838" in masked
    assert "MJQJYJMSG@163.com" in masked
    # A bare name that opens the letter goes, with its line.
    assert masking.mask("王五：\n您好。", ["王五"]) == "您好。"


def test_the_public_list_shows_the_question_each_reply_answers(client, app):
    with app.app_context():
        demo.load(db.session)
        inspection = db.session.scalar(select(Inspection))
        inspection.contacts = json.dumps(
            {"phone": [BUREAU_PHONE], "address": [], "email": [BUREAU_MAIL]}
        )
        lead = staff_user(Role.LEAD)
        section = db.session.scalars(select(Section).order_by(Section.id)).first()
        submission = submissions.submit(
            db.session,
            kind=SubmissionKind.COMPLAINT,
            subject="赵六反映校车超载",
            body="我是赵六，电话13800001111，校车每天超载。",
            author=submissions.Author(name="赵六", phone="13800001111"),
            publish_consent=True,
        ).submission
        triage.route(db.session, submission, section, actor=lead)
        reply = replies.draft(
            db.session,
            submission,
            section,
            f"赵六同志：您好！\n校车已加派车辆。如有疑问请拨打{BUREAU_PHONE}。",
            channel=ReplyChannel.WEB,
            author_label=section.email,
        )
        replies.approve(db.session, reply, actor=lead)
        replies.publish(
            db.session, reply, replies.masked_text(db.session, reply), actor=lead
        )
        db.session.commit()

    html = client.get("/replies").get_data(as_text=True)
    entry = html.split('class="published-reply"')[1]
    assert "<strong>［姓名已隐去］反映校车超载</strong>" in entry
    assert "校车每天超载" in entry
    assert entry.index("校车每天超载") < entry.index("同志：您好！")
    assert f"如有疑问请拨打{BUREAU_PHONE}" in entry
    assert "赵六" not in html
    assert "13800001111" not in html
    feed = client.get("/replies/feed.atom").get_data(as_text=True)
    assert "来信：［姓名已隐去］反映校车超载" in feed
    assert "［电话已隐去］，校车每天超载" in feed
    assert "赵六" not in feed
