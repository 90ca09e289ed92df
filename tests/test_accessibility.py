"""Accessibility in real Chromium: axe on every page, keyboard only, care mode, weight.

Every GET route of the app must appear in ``PAGES`` (a test checks it), so a
page added later is audited in normal and care mode, in both scripts and in
English. Screenshots at 375 px and 1280 px are kept under test-results/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import axe_violations
from helpers import browser_context
from helpers import COMBO_IDS
from helpers import COMBOS
from helpers import LiveServer
from helpers import LOGINS
from helpers import shoot
from helpers import sign_in
from playwright.sync_api import Browser
from playwright.sync_api import expect
from playwright.sync_api import Page
from sqlalchemy import select

from feedback import demo
from feedback.extensions import db
from feedback.models import InboundMessage
from feedback.models import InboundState
from feedback.models import Problem
from feedback.models import ReplyChannel
from feedback.models import Role
from feedback.models import Section
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState
from feedback.services import replies
from feedback.services import submissions
from feedback.services import triage
from feedback.signing import reply_token

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    """Ids and links of the rows the pages show."""

    problem_id: int
    submission_id: int
    token: str
    mail_name: str
    held_id: int


@dataclass(frozen=True)
class PageSpec:
    """One page to audit: who opens it and how to reach it."""

    name: str
    endpoint: str
    role: Role | None
    path: Callable[[Site], str]


PAGES = [
    PageSpec("board", "public.board", None, lambda s: "/"),
    PageSpec("problem", "public.problem", None, lambda s: f"/problems/{s.problem_id}"),
    PageSpec("submit", "public.submit", None, lambda s: "/submit"),
    PageSpec("track", "public.track", None, lambda s: "/track"),
    PageSpec("login", "auth.login", None, lambda s: "/auth/login"),
    PageSpec("not-found", "", None, lambda s: "/no/such/page"),
    # The e-mailed link (section.reply) redirects here, with its cookie.
    PageSpec(
        "section-reply",
        "section.reply_page",
        None,
        lambda s: f"/section/reply/{s.token}",
    ),
    PageSpec("lead-queue", "staff.index", Role.LEAD, lambda s: "/staff/"),
    PageSpec(
        "lead-submission",
        "staff.submission",
        Role.LEAD,
        lambda s: f"/staff/submissions/{s.submission_id}",
    ),
    PageSpec("outbox", "staff.outbox_list", Role.LEAD, lambda s: "/staff/outbox"),
    PageSpec("mailbox", "staff.mail_sink", Role.LEAD, lambda s: "/staff/mail"),
    PageSpec(
        "mail",
        "staff.mail_sink_message",
        Role.LEAD,
        lambda s: f"/staff/mail/{s.mail_name}",
    ),
    PageSpec("section-queue", "staff.index", Role.SECTION, lambda s: "/staff/"),
    PageSpec(
        "section-submission",
        "staff.submission",
        Role.SECTION,
        lambda s: f"/staff/submissions/{s.submission_id}",
    ),
    PageSpec("admin-home", "staff.index", Role.ADMIN, lambda s: "/staff/"),
    PageSpec("rounds", "public.rounds", None, lambda s: "/rounds"),
    PageSpec(
        "round-search",
        "public.round_page",
        None,
        lambda s: "/rounds/1?q=财务&kind=done",
    ),
    PageSpec("staff-board", "staff.board_list", Role.LEAD, lambda s: "/staff/board"),
    PageSpec(
        "notice-import",
        "staff.import_notice",
        Role.ADMIN,
        lambda s: "/staff/notices/import",
    ),
    PageSpec("sections", "staff.sections", Role.ADMIN, lambda s: "/staff/sections"),
    PageSpec("held-mail", "staff.held_mail", Role.LEAD, lambda s: "/staff/held"),
    PageSpec(
        "held-message",
        "staff.held_message",
        Role.LEAD,
        lambda s: f"/staff/held/{s.held_id}",
    ),
    PageSpec("password", "auth.change_password", Role.LEAD, lambda s: "/auth/password"),
    PageSpec("audit", "staff.audit_log", Role.LEAD, lambda s: "/staff/audit"),
    PageSpec(
        "offline",
        "staff.new_offline_submission",
        Role.LEAD,
        lambda s: "/staff/submissions/new",
    ),
    PageSpec(
        "lead-overdue",
        "staff.index",
        Role.LEAD,
        lambda s: "/staff/?queue=overdue&q=x&kind=opinion",
    ),
    PageSpec(
        "problem-edit",
        "staff.edit_problem",
        Role.ADMIN,
        lambda s: f"/staff/problems/{s.problem_id}",
    ),
    PageSpec("two-factor", "auth.two_factor", Role.LEAD, lambda s: "/auth/two-factor"),
    PageSpec("holidays", "staff.holidays", Role.ADMIN, lambda s: "/staff/holidays"),
    PageSpec(
        "staff-board-filtered",
        "staff.board_list",
        Role.ADMIN,
        lambda s: "/staff/board?kind=done&q=%E5%88%B6%E5%BA%A6",
    ),
    PageSpec("statistics", "public.statistics", None, lambda s: "/statistics"),
    PageSpec(
        "statistics-period",
        "public.statistics",
        None,
        lambda s: "/statistics?first=2020-01&last=2019-01&round=x",
    ),
    PageSpec(
        "lead-statistics", "staff.statistics", Role.LEAD, lambda s: "/staff/statistics"
    ),
    PageSpec(
        "section-statistics",
        "staff.statistics",
        Role.SECTION,
        lambda s: "/staff/statistics",
    ),
    PageSpec(
        "admin-statistics",
        "staff.statistics",
        Role.ADMIN,
        lambda s: "/staff/statistics",
    ),
    PageSpec("replies", "public.replies", None, lambda s: "/replies"),
    PageSpec(
        "replies-bad-filter",
        "public.replies",
        None,
        lambda s: "/replies?kind=opinion&month=2025-13",
    ),
]
# Routes that answer with something other than an HTML page; tested elsewhere.
NOT_PAGES = {
    "staff.attachment",  # downloads
    "section.attachment",
    "section.attachment_link",  # trades the link for a cookie, then section.attachment
    "section.reply",  # trades the link for a cookie, then section.reply_page
    "public.round_feed",
    "public.replies_feed",
    "public.favicon",  # an image
    "api.rounds",
    "api.round_detail",
    "api.problem_detail",
    # Without a password just accepted it redirects to the sign-in page;
    # tests/test_accounts.py checks its form.
    "auth.second_factor",
    "open311.discovery",  # Open311 GeoReport v2: JSON and XML
    "open311.services",
    "open311.service_definition",
    "open311.list_requests",
    "open311.request_detail",
    "open311.unknown",
    "staff.export_ledger",  # XLSX and CSV downloads, tests/test_exports.py
    "staff.export_submissions",
    "health.readiness",  # JSON and Prometheus text, tests/test_operations.py
    "health.metrics",
}
SMALL_NOTICE = """关于巡察反馈问题整改进展情况的通报
第一方面：制度建设不到位
问题1.财务制度不健全
整改状态：已完成。
整改过程：修订财务制度。
"""


@pytest.fixture(scope="module")
def site(live_server: LiveServer, tmp_path_factory) -> Site:
    """A routed submission with a draft reply, a misconduct report and a demo mail."""
    app = live_server.app
    sink = tmp_path_factory.mktemp("sink")
    app.config["MAIL_SINK_DIR"] = str(sink)
    with app.app_context():
        session = db.session
        office = session.scalar(select(Section).where(Section.name == "办公室"))
        problem = session.scalar(select(Problem).where(Problem.section_id == office.id))
        receipt = submissions.submit(
            session,
            kind=SubmissionKind.OPINION,
            subject="操场周末能否开放",
            body="希望学校操场周末向附近居民开放。\nhttp://example.com/playground",
            author=submissions.Author(name="赵六", phone="13800000000"),
            problem=problem,
        )
        triage.route(session, receipt.submission, office, actor=None)
        replies.draft(
            session,
            receipt.submission,
            office,
            "已与学校沟通，下月起周末开放。",
            channel=ReplyChannel.WEB,
            author_label="办公室",
        )
        submissions.submit(
            session,
            kind=SubmissionKind.MISCONDUCT,
            subject="反映某干部问题",
            body="具体情况如下……",
            author=submissions.Author(),
        )
        held = InboundMessage(
            sender="someone@gmail.example",
            subject="关于办理情况",
            raw=b"From: someone@gmail.example\r\n\r\n",
            reply_text="已经处理，谢谢。\n详见 http://example.com/a",
            state=InboundState.HELD,
            hold_reason="foreign_domain",
            submission_id=receipt.submission.id,
        )
        session.add(held)
        demo.load_published_replies(session)  # so the list of replies has entries
        session.commit()
        token = reply_token(receipt.submission.id, office.id)
        held_id = held.id
        submission_id, problem_id = receipt.submission.id, problem.id
    mail = sink / "20261128-093000-demo.eml"
    mail.write_text(
        "From: noreply@meijiang-edu.example\nTo: office@meijiang-edu.example\n"
        "Subject: =?utf-8?b?5rWL6K+V?=\nDate: Sat, 28 Nov 2026 09:30:00 +0000\n"
        "Message-ID: <1@reply.meijiang-edu.example>\nContent-Type: text/plain; charset=utf-8\n\n"
        "请打开链接答复 http://127.0.0.1/section/reply/x\n",
        encoding="utf-8",
    )
    return Site(problem_id, submission_id, token, mail.name, held_id)


def test_every_page_is_in_the_audit(live_server: LiveServer):
    endpoints = {
        rule.endpoint
        for rule in live_server.app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint != "static"
    }
    missing = endpoints - {spec.endpoint for spec in PAGES} - NOT_PAGES
    assert not missing, f"add these pages to PAGES in {Path(__file__).name}: {missing}"


@pytest.mark.parametrize(("lang", "care"), COMBOS, ids=COMBO_IDS)
def test_axe_finds_no_wcag21_aa_violations(
    browser: Browser, live_server, site, lang, care
):
    """Axe on every page; in care mode the public pages are also measured.

    Care mode is seen as on a phone, 375 px wide with the menu open, and in
    繁體 with pinyin, so one visit serves both checks.
    """
    problems: list[str] = []
    mode = f"{lang}-{'care' if care else 'normal'}"
    tally = CareTally()
    for role in (None, Role.LEAD, Role.SECTION, Role.ADMIN):
        phone = care and role is None
        width = 375 if phone else 1280
        context = browser_context(browser, live_server, lang, care, width, axe=True)
        if phone and lang == "zh-Hant":
            context.add_cookies(
                [{"name": "pinyin", "value": "1", "url": live_server.url}]
            )
        page = context.new_page()
        if role is not None:
            sign_in(page, live_server, role)
        for spec in (s for s in PAGES if s.role is role):
            page.goto(live_server.url + spec.path(site))
            if phone:
                if lang == "zh-Hans":  # without pinyin, which makes headings taller
                    problems += _heading_below_first_screen(page, spec.name)
                page.locator(".menu__toggle").click()
                problems += _care_problems(page, f"{mode} {spec.name}", tally)
            problems += axe_violations(page, f"{mode} {spec.name}")
            if lang != "en":
                shoot(page, f"{spec.name}-{mode}-{width}")
        if role is None:
            problems += _audit_form_results(
                page, live_server, mode, tally if phone else None
            )
        if role is Role.ADMIN:
            page.goto(f"{live_server.url}/staff/notices/import")
            page.locator("#text").fill(SMALL_NOTICE)
            page.locator("form:not(.inline-form) button[type=submit]").last.click()
            expect(page.locator(".notice-preview")).to_be_visible()
            problems += axe_violations(page, f"{mode} notice-preview")
        context.close()
    assert problems == [], "\n".join(problems)
    if care:
        # The measurements saw the pages, not an empty shell.
        assert tally.texts > 1000, tally
        assert tally.controls > 100, tally
        assert (tally.readings > 1000) is (lang == "zh-Hant"), tally


def _audit_form_results(
    page: Page, server: LiveServer, mode: str, tally: CareTally | None
) -> list[str]:
    """Audit the pages that only a POST shows: errors, the receipt, a tracked result.

    With ``tally``, care mode's measurements are taken on them too.
    """
    found: list[str] = []

    def audit(name: str) -> None:
        page.wait_for_load_state()  # with the stylesheet applied
        if tally is not None:
            found.extend(_care_problems(page, f"{mode} {name}", tally))
        found.extend(axe_violations(page, f"{mode} {name}"))

    page.goto(f"{server.url}/submit")
    page.locator("form button[type=submit]").last.click()
    # Audit the page the POST answered, not the one it replaces.
    expect(page.locator(".error-summary")).to_be_visible()
    audit("submit-errors")
    page.locator("#subject").fill("无障碍检查")
    page.locator("#body").fill("检查回执页面。")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("#access-code")).to_be_visible()
    audit("receipt")
    code = page.locator("#access-code").inner_text()
    page.goto(f"{server.url}/track")
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")
    expect(page.locator(".state")).to_be_visible()
    audit("track-result")
    return found


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("care", [False, True], ids=["normal", "care"])
def test_pages_fit_the_screen(browser: Browser, live_server, site, width, care):
    context = browser_context(browser, live_server, "zh-Hans", care, width=width)
    page = context.new_page()
    for spec in (s for s in PAGES if s.role is None):
        page.goto(live_server.url + spec.path(site))
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"{spec.name} is {overflow}px wide at {width}px"
        shoot(page, f"{spec.name}-{'care' if care else 'normal'}-{width}")
    context.close()


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_alone_submits_and_tracks(browser: Browser, live_server, site):
    context = browser_context(browser, live_server, "zh-Hans", False, width=375)
    page = context.new_page()
    page.goto(f"{live_server.url}/submit")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    _tab_to(page, "input[name=kind]:checked")
    page.keyboard.press("ArrowDown")  # 意见 -> 建议
    assert page.evaluate("document.activeElement.value") == "suggestion"
    _tab_to(page, "#problem_id")
    _tab_to(page, "#subject")
    page.keyboard.type("键盘提交测试")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "body"
    page.keyboard.type("只用键盘也能提交意见。")
    _tab_to(page, "input[name=identity]:checked")
    _tab_to(page, "#publish_consent")
    page.keyboard.press("Space")
    _tab_to(page, "form:not(.inline-form) button[type=submit]")
    page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("已收到您的意见")
    code = page.locator("#access-code").inner_text()
    _tab_to(page, "a[href='/track'].button")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/track$"))
    _tab_to(page, "#code")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(page.locator(".state")).to_have_text("待分办")
    expect(page.locator(".user-text")).to_have_text("只用键盘也能提交意见。")
    context.close()


# What care mode promises, measured on the page as shown: each text, pinyin
# included, at 20 px or more with room between lines and 7:1 contrast; pinyin
# at least .6 of its character and clear of other text and the status badges;
# fields, buttons and other targets at 20 px text and 44 px high.
_CARE_PAGE = """
() => {
  const shown = (el) => el.getClientRects().length && !el.closest('[hidden], .skip-link')
    && getComputedStyle(el).visibility !== 'hidden';
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !shown(el) || el.closest('script, style')) continue;
    const style = getComputedStyle(el);
    let bg = null;
    for (let a = el; a; a = a.parentElement) {
      const c = getComputedStyle(a).backgroundColor;
      if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { bg = c; break; }
    }
    const ruby = el.tagName === 'RT' ? el.closest('ruby') : null;
    texts.push({text: node.textContent.trim().slice(0, 20), tag: el.tagName,
                size: parseFloat(style.fontSize), line: style.lineHeight,
                base: ruby ? parseFloat(getComputedStyle(ruby).fontSize) : null,
                color: style.color, bg: bg || 'rgb(255, 255, 255)'});
  }
  const controls = [];
  const targets = 'button, select, textarea, summary, input:not([type=hidden]), a';
  for (const el of document.querySelectorAll(targets)) {
    if (!shown(el) || el.closest('.trap')) continue;
    // Links inside a sentence are exempt from the target size (WCAG 2.5.8).
    if (el.tagName === 'A' && getComputedStyle(el).display === 'inline') continue;
    // A box or a circle counts with its label, which takes the press too,
    // and has no text of its own.
    const mark = ['checkbox', 'radio'].includes(el.type);
    const rect = (mark ? el.closest('.choice, label') || el : el).getBoundingClientRect();
    controls.push({what: el.outerHTML.slice(0, 60), height: rect.height, width: rect.width,
                   size: mark ? null : parseFloat(getComputedStyle(el).fontSize)});
  }
  const boxes = (el) => Array.from(el.getClientRects()).filter((r) => r.width && r.height);
  const others = [];
  for (const node of (function* () {
    const all = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (all.nextNode()) yield all.currentNode;
  })()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || el.closest('rt, script, style') || !shown(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) others.push({r, el});
  }
  for (const badge of document.querySelectorAll('.status')) {
    for (const r of boxes(badge)) others.push({r, el: badge});
  }
  const readings = [];
  for (const rt of document.querySelectorAll('rt')) {
    if (shown(rt)) for (const r of boxes(rt)) readings.push({r, rt});
  }
  // A pixel of touching is allowed: boxes are rounded to whole pixels.
  const meet = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  const overlaps = [];
  readings.forEach(({r, rt}, i) => {
    for (const other of readings.slice(i + 1)) {
      if (meet(r, other.r)) overlaps.push(`${rt.textContent} on ${other.rt.textContent}`);
    }
    for (const {r: o, el} of others) {
      // Its own character sits below it, its badge around it.
      if (el.closest('ruby') === rt.closest('ruby') || el.contains(rt)) continue;
      if (meet(r, o)) overlaps.push(`${rt.textContent} on ${el.textContent.trim().slice(0, 12)}`);
    }
  });
  return {texts, controls, overlaps, readings: readings.length};
}
"""


def _luminance(rgb: str) -> float:
    channels = [int(x) / 255 for x in re.findall(r"\d+", rgb)[:3]]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@dataclass
class CareTally:
    """What the care-mode measurements have covered so far."""

    texts: int = 0
    controls: int = 0
    readings: int = 0


def _care_problems(page: Page, label: str, tally: CareTally) -> list[str]:
    """Measure care mode's promises on the page as shown; one line per miss."""
    found: list[str] = []
    seen = page.evaluate(_CARE_PAGE)
    for item in seen["texts"]:
        where = f"{label} <{item['tag']}> {item['text']!r}"
        if item["size"] < 20:
            found.append(f"{where}: {item['size']}px")
        line = float(item["line"].removesuffix("px")) if item["line"] != "normal" else 0
        if line < 1.5 * item["size"]:
            found.append(f"{where}: line height {item['line']}")
        if item["base"] and item["size"] < 0.6 * item["base"]:
            found.append(f"{where}: pinyin {item['size']}px over {item['base']}px")
        ratio = _contrast(item["color"], item["bg"])
        if ratio < 7:
            found.append(f"{where}: contrast {ratio:.2f}")
    for item in seen["controls"]:
        small = item["size"] is not None and item["size"] < 20
        if small or min(item["height"], item["width"]) < 44:
            found.append(
                f"{label} {item['what']}: {item['size']}px text, "
                f"{item['width']:.0f}x{item['height']:.0f}px"
            )
    found += [f"{label} pinyin overlaps: {o}" for o in seen["overlaps"][:5]]
    tally.texts += len(seen["texts"])
    tally.controls += len(seen["controls"])
    tally.readings += seen["readings"]
    return found


PHONE_SCREEN = 667  # px high: the first screen of a 375x667 phone


def _heading_below_first_screen(page: Page, label: str) -> list[str]:
    """Name the page if its own heading does not end within the first screen."""
    box = page.locator("h1").bounding_box()
    assert box is not None, f"{label} has no visible h1"
    bottom = box["y"] + box["height"]
    return [f"{label}: h1 ends at {bottom:.0f}px"] if bottom > PHONE_SCREEN else []


def test_phone_first_screen_in_care_mode(browser: Browser, live_server, site):
    """At 375x667, in care mode and 繁體, the heading and the new code show at once."""
    context = browser_context(browser, live_server, "zh-Hant", True, width=375)
    page = context.new_page()
    page.set_viewport_size({"width": 375, "height": PHONE_SCREEN})
    late: list[str] = []
    for path in ("/", "/track", "/submit"):
        page.goto(live_server.url + path)
        late += _heading_below_first_screen(page, path)
    assert late == []
    # The header folds to one control, which holds the links and reading choices.
    expect(page.locator(".nav")).to_be_hidden()
    page.get_by_text("菜單 / 閱讀設置").click()
    expect(page.get_by_role("link", name="查詢辦理情況")).to_be_visible()
    expect(page.get_by_role("button", name="長者模式")).to_be_visible()
    page.get_by_text("菜單 / 閱讀設置").click()

    page.locator("#subject").fill("手機上的回執")
    page.locator("#body").fill("查詢碼要在第一屏。")
    page.locator("form:not(.inline-form) button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("已收到您的意見")
    page.wait_for_load_state()  # measured with its stylesheet, not before
    code = page.evaluate(
        """() => {
          const dd = document.getElementById('access-code');
          const range = document.createRange();
          range.selectNodeContents(dd);
          const lines = Array.from(range.getClientRects());
          return {text: dd.textContent, size: parseFloat(getComputedStyle(dd).fontSize),
                  lines: lines.length, left: Math.min(...lines.map((r) => r.left)),
                  right: Math.max(...lines.map((r) => r.right)),
                  bottom: Math.max(...lines.map((r) => r.bottom))};
        }"""
    )
    assert re.fullmatch(r"(\w{4}-){4}\w{4}", code["text"]), code
    assert code["lines"] == 1, code
    assert code["left"] >= 0, code
    assert code["right"] <= 375, code
    assert code["bottom"] <= PHONE_SCREEN, code
    assert code["size"] >= 20, code
    context.close()


def test_public_pages_are_light_and_first_party(browser, live_server, site):
    for spec in (s for s in PAGES if s.role is None and s.name != "not-found"):
        context = browser_context(browser, live_server, "zh-Hans", False)  # empty cache
        page = context.new_page()
        responses = []
        urls: list[str] = []
        page.on("request", lambda request, urls=urls: urls.append(request.url))
        page.on("response", lambda response, kept=responses: kept.append(response))
        page.goto(live_server.url + spec.path(site), wait_until="load")
        sizes = {
            r.url: len(r.body())
            for r in responses
            if r.request.resource_type in ("document", "stylesheet", "script")
            and not 300 <= r.status < 400  # the reply link's redirect has no body
        }
        total = sum(sizes.values())
        assert total < 100 * 1024, f"{spec.name}: {total} bytes"
        assert len(sizes) >= 3, f"{spec.name}: expected HTML, CSS and JS, got {sizes}"
        foreign = [u for u in urls if not u.startswith(live_server.url)]
        assert foreign == [], f"{spec.name} asked other hosts: {foreign}"
        missing = [
            r.url
            for r in responses
            if r.status >= 400 and r.request.resource_type != "document"
        ]
        assert missing == [], f"{spec.name} asked for what is not there: {missing}"
        # Feed readers and some browsers ask for the icon at the root, unprompted.
        icon = context.request.get(f"{live_server.url}/favicon.ico")
        assert icon.ok, icon.status
        assert icon.headers["content-type"].startswith("image/")
        context.close()


def test_works_without_javascript(browser, live_server, site):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 375, "height": 800}
    )
    # Without JavaScript Chromium sends no emulated Accept-Language; choose by cookie.
    context.add_cookies([{"name": "lang", "value": "zh-Hans", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    expect(page.locator("#read-aloud")).to_be_hidden()
    page.get_by_text("菜单 / 阅读设置").click()  # the header's menu opens unscripted
    page.get_by_role("button", name="长者模式").click()
    expect(page.locator("html")).to_have_class("care")
    page.goto(f"{live_server.url}/submit")
    page.locator("#subject").fill("不用脚本也能提交")
    page.locator("#body").fill("内容")
    page.locator("form:not(.inline-form) button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("已收到您的意见")
    context.close()


def test_read_aloud_is_offered_where_speech_exists(browser, live_server, site):
    context = browser_context(browser, live_server, "zh-Hans", True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/")
    has_speech = page.evaluate("'speechSynthesis' in window")
    button = page.locator("#read-aloud")
    if has_speech:
        expect(button).to_be_visible()
        button.click()
        page.wait_for_timeout(300)
    else:
        expect(button).to_be_hidden()
    assert errors == []
    context.close()


def _press_on(page: Page, selector: str) -> None:
    """Tab to ``selector`` and press Enter on it, then wait for the next page."""
    _tab_to(page, selector, limit=250)
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.parametrize("care", [False, True], ids=["normal", "care"])
def test_lead_triages_by_keyboard_alone(browser: Browser, live_server, care):
    """Route, extend, approve and refuse without a mouse; then the author rates."""
    app = live_server.app
    with app.app_context():
        session = db.session
        made = [
            submissions.submit(
                session,
                kind=SubmissionKind.COMPLAINT,
                subject=f"键盘分办{n}",
                body="只用键盘处理。",
                author=submissions.Author(),
            )
            for n in (1, 2)
        ]
        session.commit()
        (to_route, code), to_refuse = (
            (made[0].submission.id, made[0].access_code),
            made[1].submission.id,
        )
    context = browser_context(browser, live_server, "zh-Hans", care, axe=True)
    page = context.new_page()
    login = LOGINS[Role.LEAD]
    page.goto(f"{live_server.url}/auth/login")
    _tab_to(page, "#email")
    page.keyboard.type(login.email)
    page.keyboard.press("Tab")
    page.keyboard.type(login.password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/staff/$"))

    # Route: the suggested section is chosen with the arrow keys.
    _press_on(page, f"a[href='/staff/submissions/{to_route}']")
    _tab_to(page, "#section_id")
    page.keyboard.press("ArrowDown")
    _press_on(page, "form[action$='/route'] button")
    expect(page.locator(".flash, [role=status]").first).to_contain_text("已转办")

    # Extend, once, with a reason the author reads.
    _tab_to(page, "#extend-days")
    page.keyboard.type("10")
    page.keyboard.press("Tab")
    page.keyboard.type("需要实地调查")
    _press_on(page, "form[action$='/extend'] button")
    expect(page.locator("body")).to_contain_text("需要实地调查")
    with app.app_context():
        submission = db.session.get(Submission, to_route)
        assert submission.state is SubmissionState.ROUTED
        assert submission.extended_days == 10
        replies.draft(
            db.session,
            submission,
            submission.section,
            "已经处理。",
            channel=ReplyChannel.WEB,
            author_label="股室",
        )
        db.session.commit()

    # Approve the section's draft from the drafts queue.
    page.goto(f"{live_server.url}/staff/?queue=drafts")
    _press_on(page, f"a[href='/staff/submissions/{to_route}']")
    _press_on(page, "form[action*='/approve'] button")
    expect(page.locator(".state")).to_have_text("已答复")

    # Refuse another with a template reason picked by the arrow keys.
    page.goto(f"{live_server.url}/staff/")
    # It sits among the other decisions, folded below routing, and is confirmed.
    _press_on(page, f"a[href='/staff/submissions/{to_refuse}']")
    _tab_to(page, "details.other-decisions summary")
    page.keyboard.press("Enter")
    _tab_to(page, "#refuse-template")
    page.keyboard.press("ArrowDown")
    _tab_to(page, "#refuse-confirm")
    page.keyboard.press("Space")
    _press_on(page, "form[action$='/refuse'] button")
    expect(page.locator(".state")).to_have_text("不予受理")
    problems = axe_violations(
        page, f"{'care' if care else 'normal'} lead-after-refusal"
    )

    # The author rates the reply by keyboard and reads how to ask for a review.
    citizen = context.new_page()
    citizen.goto(f"{live_server.url}/track")
    _tab_to(citizen, "#code")
    citizen.keyboard.type(code)
    citizen.keyboard.press("Enter")
    expect(citizen.locator(".state")).to_have_text("已答复")
    problems += axe_violations(citizen, "track-rate-form")
    _tab_to(citizen, "input[name=rating]")
    citizen.keyboard.press("Space")
    _press_on(citizen, "form[action$='/track/rate'] button")
    expect(citizen.locator("#closed-heading")).to_be_visible()
    expect(citizen.locator("body")).to_contain_text("复查")
    problems += axe_violations(citizen, "track-closed")
    shoot(citizen, f"track-closed-{'care' if care else 'normal'}")
    context.close()
    with app.app_context():
        assert db.session.get(Submission, to_refuse).state is (
            SubmissionState.NOT_ACCEPTED
        )
        assert db.session.get(Submission, to_route).state is SubmissionState.CLOSED
    assert problems == [], "\n".join(problems)
