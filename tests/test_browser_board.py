"""The board in real Chromium: search in both scripts, and a status change on the timeline."""

import re

import pytest
from helpers import LiveServer
from playwright.sync_api import Browser
from playwright.sync_api import expect

from feedback import demo

pytestmark = pytest.mark.browser
LEAD = next(login for login in demo.LOGINS if login.role.value == "lead")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_search_finds_3_3_from_either_script_on_a_phone(
    browser: Browser, live_server: LiveServer, javascript: bool
):
    context = browser.new_context(
        java_script_enabled=javascript, viewport={"width": 375, "height": 800}
    )
    context.add_cookies([{"name": "lang", "value": "zh-Hant", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    search = page.get_by_role("searchbox")
    for query in ("財務管理", "财务管理"):
        search = page.get_by_role("searchbox")
        search.fill(query)
        search.press("Enter")
        expect(page.locator("li.problem")).to_have_count(1)
        expect(page.locator("li.problem")).to_contain_text("3.3 財務管理不規範")
        assert "q=" in page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()


def test_status_change_appears_on_the_public_timeline(
    browser: Browser, live_server: LiveServer
):
    lead = browser.new_context(locale="zh-CN")
    staff = lead.new_page()
    staff.goto(f"{live_server.url}/auth/login")
    staff.get_by_label("电子邮箱").fill(LEAD.email)
    staff.get_by_label("密码").fill(LEAD.password)
    staff.get_by_role("button", name="登录").click()
    staff.goto(f"{live_server.url}/staff/board")
    staff.get_by_role("link", name="固定资产管理不规范").click()
    expect(staff).to_have_url(re.compile(r"/staff/problems/\d+$"))
    problem_id = staff.url.rsplit("/", 1)[1]
    staff.get_by_label("新的整改状态").select_option("正在整改")
    staff.get_by_label("变更原因").fill("年度审计发现部分资产未入账，重新整改。")
    staff.get_by_label("生效日期").fill("2026-11-20")
    staff.get_by_role("button", name="变更状态").click()
    expect(staff.locator(".flashes")).to_contain_text("整改状态已更新")

    citizen = browser.new_context(
        locale="zh-CN", viewport={"width": 375, "height": 800}
    )
    page = citizen.new_page()
    page.goto(f"{live_server.url}/problems/{problem_id}")
    expect(page.locator(".status")).to_have_text("正在整改")
    last = page.locator("ol.timeline li").last
    expect(last).to_contain_text("2026-11-20")
    expect(last).to_contain_text(
        "状态由“已完成”改为“正在整改”：年度审计发现部分资产未入账，重新整改。"
    )
    feed = page.request.get(f"{live_server.url}/rounds/1/feed.atom").text()
    assert "年度审计发现部分资产未入账" in feed
    lead.close()
    citizen.close()
