"""The citizen's journey in real Chromium at 375 px: board, problem, submit, track.

Runs Debian's ``/usr/bin/chromium`` through pytest-playwright (Playwright's own
browser downloads are not used). Select with ``pytest -m browser``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from helpers import LiveServer
from playwright.sync_api import Dialog
from playwright.sync_api import expect
from playwright.sync_api import Page
from playwright.sync_api import Request

pytestmark = pytest.mark.browser

WIDTH = 375


def assert_fits(page: Page) -> None:
    """Nothing on the page needs horizontal scrolling at the phone width."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= WIDTH, f"{page.url} is {scroll_width}px wide"


def squeeze(text: str) -> str:
    return " ".join(text.split())


def test_citizen_submits_and_tracks_on_a_phone(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    live_url = live_server.url
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    requested: list[str] = []

    def on_request(request: Request) -> None:
        requested.append(request.url)

    page.on("dialog", on_dialog)
    page.on("request", on_request)
    page.set_viewport_size({"width": WIDTH, "height": 800})

    # The board: 18 problems, 16 done and 2 ongoing for good.
    page.goto(f"{live_url}/")
    problems = page.locator("li.problem")
    expect(problems).to_have_count(18)
    counts = [squeeze(t) for t in page.locator(".summary .count").all_inner_texts()]
    assert "已完成 16个" in counts
    assert "长期坚持 2个" in counts
    assert_fits(page)
    page.screenshot(path=tmp_path / "board-375.png", full_page=True)

    # The first problem, and on to the form about it.
    first = problems.first.get_by_role("link")
    problem_title = squeeze(first.inner_text())
    first.click()
    expect(page).to_have_url(re.compile(r"/problems/\d+$"))
    problem_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text(problem_title)
    assert_fits(page)
    page.get_by_role("link", name="对这个问题提意见").click()
    expect(page).to_have_url(re.compile(rf"/submit\?problem={problem_id}$"))

    form_problem = page.get_by_label("涉及的整改问题（可不选）")
    expect(form_problem).to_have_value(problem_id)
    assert_fits(page)

    subject = "建议把整改台账按月公开"
    body = (
        "希望每月在网站上公开一次整改台账，方便群众监督。\n"
        "<script>alert(1)</script> 这段文字应当原样显示，不能被执行。"
    )
    page.get_by_label("建议", exact=True).check()
    page.get_by_label("标题", exact=True).fill(subject)
    page.get_by_label("内容", exact=True).fill(body)
    page.get_by_label("实名提交", exact=True).check()
    page.get_by_label("姓名", exact=True).fill("李晓梅")
    page.get_by_label("电子邮箱", exact=True).fill("li.xiaomei@example.com")
    page.get_by_role("button", name="提交").click()

    # The receipt, shown once.
    expect(page.get_by_role("heading", level=1)).to_have_text("已收到您的意见")
    reference = page.locator(".reference").inner_text().strip()
    code = page.locator("#access-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", code), code
    assert reference
    assert_fits(page)
    page.screenshot(path=tmp_path / "receipt-375.png", full_page=True)

    # Tracking, with the code typed carelessly.
    page.goto(f"{live_url}/track")
    typed = code.lower().replace("-", " ")
    page.get_by_label("查询码").fill(typed)
    page.get_by_role("button", name="查询").click()

    expect(page.locator(".state")).to_have_text("待分办")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(reference)
    expect(facts).to_contain_text(subject)
    shown = page.locator(".user-text")
    assert shown.inner_text() == body
    expect(shown).to_contain_text("<script>alert(1)</script>")
    expect(shown.locator("script")).to_have_count(0)
    assert_fits(page)
    page.screenshot(path=tmp_path / "track-375.png", full_page=True)

    assert dialogs == []
    assert "/track" in page.url
    bare = code.replace("-", "")
    for url in [*requested, page.url]:
        assert bare not in re.sub(r"[^0-9A-Z]", "", unquote(url).upper()), url
