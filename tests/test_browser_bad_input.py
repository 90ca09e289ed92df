"""A few dozen corpus payloads through real Chromium: no dialog opens, nothing injected runs."""

import random

import pytest
from helpers import corpus
from helpers import LiveServer
from helpers import runnable_markup
from playwright.sync_api import Browser
from playwright.sync_api import expect

from feedback import demo

pytestmark = pytest.mark.browser
LEAD = next(login for login in demo.LOGINS if login.role.value == "lead")


def _payloads():
    return random.Random(311).sample(corpus("xss-payloads.txt"), 24)


def test_payloads_stay_inert_for_citizen_and_lead(
    browser: Browser, live_server: LiveServer
):
    payloads = _payloads()
    dialogs: list[str] = []
    context = browser.new_context(locale="zh-CN")
    context.on(
        "page",
        lambda page: page.on(
            "dialog", lambda d: (dialogs.append(d.message), d.dismiss())
        ),
    )
    citizen = context.new_page()
    citizen.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    references = []
    for payload in payloads:
        citizen.goto(f"{live_server.url}/submit")
        citizen.locator("#subject").fill(payload[:100])
        citizen.locator("#body").fill(payload)
        citizen.locator("form:not(.inline-form) button[type=submit]").click()
        expect(citizen.locator("h1")).to_have_text("已收到您的意见")
        code = citizen.locator("#access-code").inner_text()
        references.append(citizen.locator(".reference").inner_text())
        citizen.goto(f"{live_server.url}/track")
        citizen.locator("#code").fill(code)
        citizen.locator("#code").press("Enter")
        expect(citizen.locator(".user-text")).to_have_text(payload.strip() or payload)
        assert runnable_markup(citizen.content()) == [], payload

    lead_context = browser.new_context(locale="zh-CN")
    lead = lead_context.new_page()
    lead.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    lead.goto(f"{live_server.url}/auth/login")
    lead.locator("#email").fill(LEAD.email)
    lead.locator("#password").fill(LEAD.password)
    lead.locator("#password").press("Enter")
    for reference in references:
        lead.get_by_role("link", name=reference).click()
        expect(lead.locator("h1")).to_contain_text(reference)
        assert runnable_markup(lead.content()) == []
        lead.go_back()
    assert dialogs == []
    context.close()
    lead_context.close()
