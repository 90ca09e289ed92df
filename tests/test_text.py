"""Rendering what people wrote: escaped, line breaks kept, addresses made into links."""

import pytest
from helpers import runnable_markup

from feedback.text import linkify


@pytest.mark.parametrize(
    ("text", "url"),
    [
        (
            "见 http://127.0.0.1:5000/section/reply/a.b_c-d 谢谢",
            "http://127.0.0.1:5000/section/reply/a.b_c-d",
        ),
        ("http://localhost:5000/x?y=1&z=2", "http://localhost:5000/x?y=1&amp;z=2"),
        (
            "网址 https://jyj.meizhou.gov.cn/a/b.html，请查看。",
            "https://jyj.meizhou.gov.cn/a/b.html",
        ),
        ("(see https://www.gov.cn/zhengce/)", "https://www.gov.cn/zhengce/"),
        ("Visit http://feedback.test/x.", "http://feedback.test/x"),
        # A quote or an angle bracket ends an address: escaped, they must not
        # be taken into the link (and then escaped a second time).
        ('<img src="http://x.test/a.png">', "http://x.test/a.png"),
        ("'http://x.test/b'", "http://x.test/b"),
        ("http://x.test/c>d", "http://x.test/c"),
    ],
)
def test_addresses_become_links_without_trailing_punctuation(text, url):
    html = str(linkify(text))
    assert f'<a href="{url}" rel="nofollow">' in html


def test_text_is_escaped_and_keeps_line_breaks():
    html = str(linkify('<script>alert("x")</script>\n第二行'))
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;<br>\n第二行" in html
    assert "<script>" not in html


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        'http://x.cn/"onmouseover="alert(1)',
        "<a href='http://x.cn'>x</a>",
    ],
)
def test_nothing_runnable_comes_out(text):
    html = str(linkify(text))
    assert runnable_markup(html) == []
    assert "<a href='http://x.cn'>" not in html


def test_empty_text():
    assert str(linkify(None)) == ""
    assert str(linkify("")) == ""
