"""CSRF protection is on for every POST, and a citizen's typed text survives a failure."""

import re

import pytest


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def test_submission_without_token_keeps_what_was_typed(csrf_app):
    client = csrf_app.test_client()
    typed = "很长的一段意见，\n不能因为页面过期就丢掉。<b>原样</b>"
    response = client.post(
        "/submit",
        data={
            "kind": "complaint",
            "subject": "我的标题",
            "body": typed,
            "identity": "anonymous",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "您填写的内容都还在" in html
    assert 'value="我的标题"' in html
    assert (
        "很长的一段意见，\n不能因为页面过期就丢掉。&lt;b&gt;原样&lt;/b&gt;</textarea>"
        in html
    )
    assert re.search(
        r'value="complaint"[^>]*checked|checked[^>]*value="complaint"', html
    )
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    retry = client.post(
        "/submit",
        data={
            "csrf_token": token,
            "kind": "complaint",
            "subject": "我的标题",
            "body": typed,
            "identity": "anonymous",
        },
    )
    assert retry.status_code == 200
    assert "已收到您的意见" in retry.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/track",
        "/auth/login",
        "/auth/logout",
        "/staff/submissions/1/route",
        "/staff/replies/1/approve",
        "/section/submissions/1/reply",
    ],
)
def test_every_post_needs_a_token(csrf_app, url):
    response = csrf_app.test_client().post(url, data={"code": "x"})
    assert response.status_code == 400


def test_a_reading_choice_needs_no_token_and_stays_on_this_site(csrf_app):
    """The documented exemption: the choice sets only the reader's own cookie."""
    client = csrf_app.test_client()
    chosen = client.post(
        "/preferences", data={"setting": "lang", "value": "en", "next": "/rounds"}
    )
    assert (chosen.status_code, chosen.headers["Location"]) == (302, "/rounds")
    cookie = chosen.headers["Set-Cookie"]
    assert cookie.startswith("lang=en;")
    assert "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie
    for elsewhere in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "javascript:alert(1)",
    ):
        response = client.post(
            "/preferences", data={"setting": "care", "value": "1", "next": elsewhere}
        )
        assert response.headers["Location"] == "/", elsewhere
