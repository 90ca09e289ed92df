"""Statistics pages full of data, in real Chromium: axe, 375 px, care mode, no JavaScript."""

from __future__ import annotations

import pytest
from helpers import axe_violations
from helpers import browser_context
from helpers import COMBO_IDS
from helpers import COMBOS
from helpers import LiveServer
from helpers import seed_submissions
from helpers import shoot
from helpers import sign_in
from playwright.sync_api import Browser
from playwright.sync_api import expect

from feedback.extensions import db
from feedback.models import Role

pytestmark = pytest.mark.browser

PAGES = {
    None: "/statistics",
    Role.LEAD: "/staff/statistics",
    Role.SECTION: "/staff/statistics",
    Role.ADMIN: "/staff/statistics",
}


@pytest.fixture(scope="module")
def seeded_server(live_server: LiveServer) -> LiveServer:
    with live_server.app.app_context():
        seed_submissions(db.session)
    return live_server


@pytest.mark.parametrize(("lang", "care"), COMBOS, ids=COMBO_IDS)
def test_axe_finds_nothing_on_full_statistics(
    browser: Browser, seeded_server, lang, care
):
    problems: list[str] = []
    mode = f"{lang}-{'care' if care else 'normal'}"
    for role, path in PAGES.items():
        context = browser_context(browser, seeded_server, lang, care, axe=True)
        page = context.new_page()
        if role is not None:
            sign_in(page, seeded_server, role)
        page.goto(seeded_server.url + path + "?first=2025-01&last=2025-09")
        expect(page.locator("figure svg").first).to_be_visible()
        problems += axe_violations(page, f"{mode} {role or 'public'} statistics")
        context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("care", [False, True], ids=["normal", "care"])
def test_full_statistics_fit_375_px(browser: Browser, seeded_server, care):
    for role, path in PAGES.items():
        context = browser_context(browser, seeded_server, "zh-Hans", care, width=375)
        page = context.new_page()
        if role is not None:
            sign_in(page, seeded_server, role)
        page.goto(seeded_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} as {role} is {width}px wide"
        chart = page.locator("#chart-state svg").bounding_box()
        assert chart is not None
        assert chart["width"] <= 375
        shoot(
            page,
            f"statistics-full-{role or 'public'}-{'care' if care else 'normal'}-375",
        )
        context.close()


def test_statistics_work_without_javascript(browser: Browser, seeded_server):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 375, "height": 800}
    )
    context.add_cookies(
        [{"name": "lang", "value": "zh-Hans", "url": seeded_server.url}]
    )
    page = context.new_page()
    page.goto(f"{seeded_server.url}/")
    page.get_by_text("菜单 / 阅读设置").click()  # a phone's header is folded
    page.get_by_role("link", name="办理统计").click()
    expect(page.locator("h1")).to_have_text("办理情况统计")
    page.locator("#first").fill("2025-03")
    page.locator("#last").fill("2025-05")
    page.locator("form.filters button[type=submit]").click()
    months = page.locator("#chart-trend tbody th").all_inner_texts()
    assert months == ["2025-03", "2025-04", "2025-05"]
    expect(page.get_by_role("img", name="按办理状态")).to_be_visible()
    context.close()
