"""Languages and scripts: choosing them, converting official text, never citizens' words."""

import re
import subprocess
import sys

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from helpers import read_receipt

from feedback import PROJECT_ROOT
from feedback.chinese import to_traditional

CATALOG = PROJECT_ROOT / "feedback" / "translations"


def _lang(html):
    return re.search(r"<html lang=\"([^\"]+)\"", html).group(1)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-CN,zh;q=0.9", "zh-Hans"),
        ("zh-TW,zh;q=0.9", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"),
        ("en-US,en;q=0.8", "en"),
        ("fr-FR", "zh-Hans"),
        ("", "zh-Hans"),
    ],
)
def test_first_choice_comes_from_accept_language(client, header, lang):
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert _lang(html) == lang


def test_cookie_choice_wins_over_the_browser(client):
    client.set_cookie("lang", "zh-Hant")
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _lang(html) == "zh-Hant"


def test_preference_form_sets_a_cookie_and_returns(client):
    response = client.post(
        "/preferences",
        data={"setting": "care", "value": "1", "next": "/submit?problem=3"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/submit?problem=3"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("care=1;")
    assert "HttpOnly" in cookie
    assert 'class="care"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "location"),
    [
        ({"setting": "lang", "value": "fr", "next": "/"}, "/"),
        ({"setting": "admin", "value": "1", "next": "/"}, "/"),
        ({"setting": "care", "value": "1", "next": "https://evil.example/"}, "/"),
        ({"setting": "care", "value": "1", "next": "//evil.example/"}, "/"),
    ],
)
def test_preference_form_refuses_nonsense_and_foreign_redirects(client, data, location):
    response = client.post("/preferences", data=data)
    assert response.headers["Location"] == location
    if data["setting"] != "care":
        assert "Set-Cookie" not in response.headers


def test_traditional_converts_board_and_interface(client, demo_loaded):
    client.set_cookie("lang", "zh-Hant")
    html = client.get("/").get_data(as_text=True)
    assert "財務管理不規範" in html
    assert "師資隊伍建設推進不力" in html
    assert "财务管理" not in html
    assert to_traditional("跳到主要内容") in html
    assert to_traditional("梅江区教育局巡察整改公众监督平台") in html
    assert "Vary" in client.get("/").headers


def test_citizens_words_are_shown_as_written(client, demo_loaded):
    body = "财务管理要公开，这是简体字。"
    receipt = client.post(
        "/submit",
        data={
            "kind": "opinion",
            "subject": "简体标题",
            "body": body,
            "identity": "anonymous",
        },
    )
    _reference, code = read_receipt(receipt.get_data(as_text=True))
    client.set_cookie("lang", "zh-Hant")
    html = client.post("/track", data={"code": code}).get_data(as_text=True)
    assert body in html
    assert "简体标题" in html
    assert to_traditional("办理状态") in html


def test_pinyin_over_content_on_request(client, demo_loaded):
    client.set_cookie("care", "1")
    client.set_cookie("pinyin", "1")
    html = client.get("/").get_data(as_text=True)
    assert "<ruby>财<rp>(</rp><rt>cái</rt><rp>)</rp></ruby>" in html
    client.set_cookie("lang", "zh-Hant")
    html = client.get("/").get_data(as_text=True)
    assert "<ruby>財<rp>(</rp><rt>cái</rt><rp>)</rp></ruby>" in html


def test_english_interface_keeps_content_chinese(client, demo_loaded):
    client.set_cookie("lang", "en")
    html = client.get("/").get_data(as_text=True)
    assert _lang(html) == "en"
    assert "Skip to main content" in html
    assert "财务管理不规范" in html
    assert 'lang="zh-Hans"' in html


def test_english_catalogue_is_complete_and_compiled(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            ".babel.cfg",
            "-k",
            "_l",
            "--ignore-dirs=.* __pycache__",
            "-o",
            str(pot),
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with (CATALOG / "en/LC_MESSAGES/messages.po").open("rb") as handle:
        po = {m.id: m.string for m in read_po(handle) if m.id}
    with (CATALOG / "en/LC_MESSAGES/messages.mo").open("rb") as handle:
        mo = {m.id: m.string for m in read_mo(handle) if m.id}
    untranslated = sorted(i for i in wanted if not po.get(i))
    assert untranslated == [], "run pybabel extract/update and translate these"
    assert mo == {k: v for k, v in po.items() if v}, "run pybabel compile"
