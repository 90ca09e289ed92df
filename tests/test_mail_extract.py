"""Reading replies: the client corpus, Chinese clients, HTML-only mail, machine mail."""

from __future__ import annotations

import base64
from email.message import EmailMessage

import pytest
from helpers import SHARED
from helpers import shared_path
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from feedback.mail.extract import body_text
from feedback.mail.extract import decoded_subject
from feedback.mail.extract import extract_reply
from feedback.mail.extract import html_to_text
from feedback.mail.extract import is_auto_reply
from feedback.mail.extract import parse
from feedback.mail.extract import reply_text

CORPUS = ("corpora", "email-replies")
ABSENT = "(corpus absent)"


def corpus_files(folder: str, suffix: str) -> list[str]:
    """List the corpus files of ``folder``; a placeholder that skips where it is absent."""
    path = SHARED.joinpath(*CORPUS, folder)
    if not path.is_dir():
        return [ABSENT]
    return sorted(p.name for p in path.iterdir() if p.name.endswith(suffix))


# ---------------------------------------------------------------------------
# The corpus of real replies


@pytest.mark.parametrize("name", corpus_files("standard", ".eml"))
def test_corpus_plain_replies(name):
    folder = shared_path(*CORPUS, "standard")
    eml = folder / name
    expected_file = folder / (eml.stem + "_reply_text")
    expected = (
        expected_file.read_text(encoding="utf-8") if expected_file.exists() else "Hello"
    )

    reply = extract_reply(parse(eml.read_bytes()))

    assert reply.rstrip() == expected.rstrip()


@pytest.mark.parametrize("name", corpus_files("html", ".html"))
def test_corpus_html_replies(name):
    html = (shared_path(*CORPUS, "html") / name).read_text(encoding="utf-8")

    reply = reply_text(html_to_text(html))

    assert "".join(reply.split()) == "Hi.Iamfine.Thanks,Alex"


# ---------------------------------------------------------------------------
# Building real messages as Chinese clients send them


def encoded_word(text: str, charset: str, encoding: str, chunk: int = 24) -> str:
    """Encode ``text`` as RFC 2047 words, split every ``chunk`` bytes as clients do.

    The split ignores character boundaries on purpose: some clients cut a
    multi-byte character between two words.
    """
    data = text.encode(charset)
    words = []
    for start in range(0, len(data), chunk):
        piece = data[start : start + chunk]
        if encoding == "B":
            payload = base64.b64encode(piece).decode("ascii")
        else:
            payload = "".join(
                chr(b)
                if chr(b).isalnum() and b < 128
                else "_"
                if b == 32
                else f"={b:02X}"
                for b in piece
            )
        words.append(f"=?{charset}?{encoding}?{payload}?=")
    return "\n ".join(words)


def build(
    body: str,
    *,
    charset: str,
    cte: str,
    subject: str,
    subject_charset: str = "utf-8",
    subject_encoding: str = "B",
    label: str | None = None,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """Return an RFC 822 reply; ``label`` overrides the declared body charset."""
    message = EmailMessage()
    message["From"] = "区教育局 <section@edu.example.cn>"
    message["To"] = "feedback@edu.example.cn"
    message["Date"] = "Wed, 09 Jul 2025 10:21:07 +0800"
    message["Message-ID"] = "<reply-1@edu.example.cn>"
    message["In-Reply-To"] = "<2025-000123@feedback.example.cn>"
    for name, value in (headers or {}).items():
        message[name] = value
    if body:
        message.set_content(body, charset=charset, cte=cte)
        if label:
            message.set_param("charset", label)
    if html is not None:
        if body:
            message.add_alternative(html, subtype="html", charset=charset, cte=cte)
        else:
            message.set_content(html, subtype="html", charset=charset, cte=cte)
    subject_line = encoded_word(subject, subject_charset, subject_encoding)
    return f"Subject: {subject_line}\n".encode("ascii") + message.as_bytes()


QQ_QUOTE_ASCII = """

------------------ 原始邮件 ------------------
发件人: "区教育局来信办理"<feedback@edu.example.cn>;
发送时间: 2025年7月8日(星期二) 下午4:17
收件人: "办公室"<office@edu.example.cn>;
主题: 【请办理】编号 2025-000123

您好，以下市民来信请于五个工作日内答复：
学校门口每天下午放学时堵车严重，希望有人管一管。
"""

QQ_QUOTE_FULL_WIDTH = """
------------------ 原始邮件 ------------------
发件人：区教育局来信办理 <feedback@edu.example.cn>
发送时间：2025年7月9日(星期三) 上午9:05
收件人：安全稳定科 <aqwd@edu.example.cn>
抄送：办公室 <office@edu.example.cn>
主题：【请办理】编号 2025-000131

市民来信：小区旁的学校围墙有一段开裂，孩子经过很危险。
"""

QQ_QUOTE_STARRED = """
------------------ 原始邮件 ------------------
*发件人:* "区教育局来信办理" <feedback@edu.example.cn>
*发送时间:* 2025年7月10日(星期四) 下午2:40
*收件人:* "人事科" <rsk@edu.example.cn>
*主题:* 【请办理】编号 2025-000140

市民来信：想了解今年教师招聘的报名时间。
"""

STARRED_NO_RULE = """

*发件人：* 区教育局来信办理 <feedback@edu.example.cn>
*发送时间：* 2025年7月10日 15:02
*收件人：* 计财科 <jck@edu.example.cn>
*主题：* 【请办理】编号 2025-000142

市民来信：学校收取的资料费是否有依据？
"""

OUTLOOK_ZH_QUOTE = """

发件人: 区教育局来信办理 <feedback@edu.example.cn>
发送时间: 2025年7月9日 9:30
收件人: 基础教育科 <jcjy@edu.example.cn>
抄送: 办公室 <office@edu.example.cn>
主题: 【请办理】关于课后服务收费的来信

市民来信：课后服务每月收费标准是多少，能否自愿参加？
"""

OUTLOOK_ZH_RULED = """

________________________________
发件人: 区教育局来信办理 <feedback@edu.example.cn>
发送时间: 2025年7月11日 8:45
收件人: 体卫艺科 <twy@edu.example.cn>
主题: 【请办理】编号 2025-000150

市民来信：学校操场什么时候能在周末对居民开放？
"""

BIG5_OUTLOOK_QUOTE = """

寄件者: 區教育局來信辦理 <feedback@edu.example.cn>
寄件日期: 2025年7月9日 下午 03:12
收件者: 辦公室 <office@edu.example.cn>
主旨: 【請辦理】編號 2025-000133

市民來信：希望學校飯堂公佈每週菜單。
"""

COREMAIL_QUOTE = """

在 2025-07-08 16:17:19，"区教育局来信办理" <feedback@edu.example.cn> 写道：
>您好，以下市民来信请于五个工作日内答复：
>学校食堂的饭菜价格近期上涨，请说明原因。
>
>区教育局来信办理
"""

COREMAIL_WRAPPED_QUOTE = """

在 2025-07-12 10:03:44，"区教育局来信办理" <feedback@edu.example.cn>
写道：
> 市民来信：校车早上到站时间太早，孩子要在路边等二十分钟。
> 请基础教育科办理。
"""

GMAIL_ZH_QUOTE = """

区教育局来信办理 <feedback@edu.example.cn> 于2025年7月8日周二 16:17写道：

> 市民来信：希望延长图书馆暑期开放时间。
>
"""

CHINESE_CASES = [
    pytest.param(
        "您好！\n\n来信反映的放学时段校门口拥堵问题已收悉，我科已联系交警中队，"
        "下周起增派人员疏导。\n\n办公室 张老师",
        QQ_QUOTE_ASCII,
        {"charset": "gb18030", "cte": "base64"},
        ("回复：【请办理】编号 2025-000123", "gb2312", "B"),
        id="qq-ascii-colons-gb18030-base64",
    ),
    pytest.param(
        "您好，围墙开裂情况已现场查看，学校已设置警示带，维修将于本月底前完成。\n\n"
        "安全稳定科 王老师",
        QQ_QUOTE_FULL_WIDTH,
        {"charset": "gbk", "cte": "quoted-printable"},
        ("回复：【请办理】编号 2025-000131", "utf-8", "Q"),
        id="qq-full-width-colons-gbk-qp",
    ),
    pytest.param(
        "您好，今年教师招聘公告预计八月上旬在区政府网站发布，请留意。\n\n人事科 陈老师",
        QQ_QUOTE_STARRED,
        {"charset": "utf-8", "cte": "8bit"},
        ("Re: 【请办理】编号 2025-000140", "utf-8", "B"),
        id="qq-starred-utf8-8bit",
    ),
    pytest.param(
        "您好，资料费按学校家委会议定标准收取，已要求学校公示明细。\n\n计财科 周老师",
        STARRED_NO_RULE,
        {"charset": "gb18030", "cte": "8bit"},
        ("答复:【请办理】编号 2025-000142", "gb2312", "B"),
        id="starred-no-rule-gb18030-8bit",
    ),
    pytest.param(
        "您好：\n课后服务每月收费以区物价部门核定标准为准，家长自愿报名，不强制参加。\n\n"
        "基础教育科 李老师",
        OUTLOOK_ZH_QUOTE,
        {"charset": "gb2312", "cte": "base64"},
        ("答复: 【请办理】关于课后服务收费的来信", "gb2312", "B"),
        id="outlook-zh-gb2312-base64",
    ),
    pytest.param(
        "您好，学校操场将于九月起在周六上午对周边居民开放，需登记入校。\n\n"
        "体卫艺科 赵老师",
        OUTLOOK_ZH_RULED,
        {"charset": "gb2312", "cte": "quoted-printable"},
        ("RE: 【请办理】编号 2025-000150", "utf-8", "Q"),
        id="outlook-zh-rule-gb2312-qp",
    ),
    pytest.param(
        "您好，已請學校每週五在校門公告欄公佈下週菜單。\n\n辦公室 張老師",
        BIG5_OUTLOOK_QUOTE,
        {"charset": "big5", "cte": "base64"},
        ("RE: 【請辦理】編號 2025-000133", "big5", "B"),
        id="outlook-traditional-big5-base64",
    ),
    pytest.param(
        "您好，食堂价格调整系原材料成本上涨所致，学校已公示成本明细，"
        "并增设两款平价套餐。\n\n办公室 张老师",
        COREMAIL_QUOTE,
        {"charset": "utf-8", "cte": "quoted-printable"},
        ("回复：【请办理】编号 2025-000125", "utf-8", "Q"),
        id="coremail-utf8-qp",
    ),
    pytest.param(
        "您好，已与公交公司协商，校车到站时间推后十五分钟。\n\n基础教育科 李老师",
        COREMAIL_WRAPPED_QUOTE,
        {"charset": "gbk", "cte": "base64"},
        ("回复：关于校车接送时间的来信", "gbk", "B"),
        id="coremail-wrapped-gbk-base64",
    ),
    pytest.param(
        "您好，暑期图书馆开放时间已延长至晚上八点。\n\n发自我的iPhone",
        GMAIL_ZH_QUOTE,
        {"charset": "utf-8", "cte": "base64"},
        ("Re: 关于图书馆开放时间的来信", "utf-8", "B"),
        id="gmail-zh-utf8-base64",
    ),
]


@pytest.mark.parametrize(("reply", "quote", "body", "subject"), CHINESE_CASES)
def test_chinese_client_replies(reply, quote, body, subject):
    text, subject_charset, subject_encoding = subject
    raw = build(
        reply + quote,
        **body,
        subject=text,
        subject_charset=subject_charset,
        subject_encoding=subject_encoding,
    )

    message = parse(raw)

    assert decoded_subject(message) == text
    assert body_text(message).rstrip("\n") == (reply + quote).rstrip("\n")
    assert extract_reply(message) == reply
    assert reply.splitlines()[-1] in extract_reply(message)  # the signature stays
    assert not is_auto_reply(message)


def test_gb2312_label_with_gbk_characters():
    """Clients label GBK as gb2312; characters outside GB2312 still decode."""
    reply = "您好，王喆同学的转学手续已办结。\n\n办公室 张老师"
    raw = build(
        reply,
        charset="gbk",
        cte="base64",
        label="gb2312",
        subject="回复：王喆、朱镕基中学",
        subject_charset="gbk",
    ).replace(b"=?gbk?", b"=?gb2312?")

    message = parse(raw)

    assert decoded_subject(message) == "回复：王喆、朱镕基中学"
    assert extract_reply(message) == reply


def test_big5_label_with_hkscs_characters():
    reply = "你好，學校話啲家長想知嘅資料已經上載咗㗎。\n\n辦公室 張老師"
    raw = build(
        reply,
        charset="big5hkscs",
        cte="base64",
        label="big5",
        subject="回覆：啲資料",
        subject_charset="big5hkscs",
    ).replace(b"=?big5hkscs?", b"=?big5?")

    message = parse(raw)

    assert decoded_subject(message) == "回覆：啲資料"
    assert extract_reply(message) == reply


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_raw_8bit_subject(encoding):
    subject = "回复：关于朱镕基中学的来信"
    raw = (
        b"Subject: " + subject.encode(encoding) + b"\n"
        b"From: office@edu.example.cn\n"
        b"Content-Type: text/plain\n\n" + "您好。".encode(encoding) + b"\n"
    )

    message = parse(raw)

    assert decoded_subject(message) == subject
    assert body_text(message) == "您好。\n"  # no charset: utf-8, then gb18030


def test_subject_mixing_plain_and_encoded_words():
    raw = (
        b"Subject: Re: =?gb2312?B?us3Qo7Ok?= =?gb2312?B?tcTAtNDF?= (2025-000123)\n"
        b"\nHi\n"
    )

    assert decoded_subject(parse(raw)) == "Re: 和校长的来信 (2025-000123)"


def test_broken_encoded_word_stays_readable():
    raw = b"Subject: =?x-unknown?B?5L2g5aW9?= =?utf-8?B?@@@?=\n\nHi\n"

    assert decoded_subject(parse(raw)) == "你好 =?utf-8?B?@@@?="


def test_crlf_line_endings_are_normalised():
    raw = (
        b"Subject: Re: test\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"\xe5\xa5\xbd\xe7\x9a\x84\r\n\r\n> quoted\r\n"
    )

    message = parse(raw)

    assert body_text(message) == "好的\n\n> quoted\n"
    assert extract_reply(message) == "好的"


def test_attachment_is_not_the_body():
    message = EmailMessage()
    message["Subject"] = "Re: 附件"
    message.set_content("您好，材料见附件。\n\n办公室 张老师")
    message.add_attachment(
        "这是附件里的文字".encode(), maintype="text", subtype="plain", filename="a.txt"
    )
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf")

    reparsed = parse(message.as_bytes())

    assert extract_reply(reparsed) == "您好，材料见附件。\n\n办公室 张老师"


# ---------------------------------------------------------------------------
# HTML-only replies

OUTLOOK_HTML = """<html><head><meta charset="gb2312"><style>p{{margin:0}}</style>
<script>alert(1)</script></head><body><div class="elementToProof">
<div>您好：</div><div>来信反映的校车接送时间问题，我科已协调学校于下周一起调整。</div>
<div><br></div><div>基础教育科&nbsp;李老师</div></div>
<div id="appendonsend"></div>
<hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif">
<b>{from_}</b> 区教育局来信办理 &lt;feedback@edu.example.cn&gt;<br>
<b>{sent}</b> 2025年7月8日 16:17<br><b>{to}</b> 基础教育科<br>
<b>{subject}</b> 【请办理】编号 2025-000123</font><div>&nbsp;</div></div>
<div><p>市民来信：校车每天早上六点半就到站，太早了。</p></div></body></html>"""

OUTLOOK_DESKTOP_HTML = """<html><body lang=ZH-CN><div class=WordSection1>
<p class=MsoNormal><span>您好，操场夜间照明已修复，请市民放心锻炼。<o:p></o:p></span></p>
<p class=MsoNormal><span><o:p>&nbsp;</o:p></span></p>
<p class=MsoNormal><span>体卫艺科 赵老师<o:p></o:p></span></p>
<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>
<p class=MsoNormal><b>From:</b> Feedback Office &lt;feedback@edu.example.cn&gt;<br>
<b>Sent:</b> Tuesday, July 8, 2025 4:17 PM<br><b>To:</b> Sports Section<br>
<b>Subject:</b> [To handle] 2025-000160</p></div>
<p class=MsoNormal>市民来信：操场的路灯坏了一个月。</p></div></body></html>"""

GMAIL_HTML = """<div dir="ltr"><div>您好，开放时间调整通知已在学校公众号发布。</div>
<div><br></div><div>办公室 张老师</div></div><br><div class="gmail_quote">
<div dir="ltr" class="gmail_attr">区教育局来信办理 &lt;<a href="mailto:feedback@edu.example.cn">
feedback@edu.example.cn</a>&gt; 于2025年7月8日周二 16:17写道：<br></div>
<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid
rgb(204,204,204);padding-left:1ex"><div dir="ltr">市民来信：体育馆周末开放吗？</div>
</blockquote></div>"""

QQ_HTML = """<div>您好，已通知学校整改。</div><div><br></div><div>办公室&nbsp;张老师</div>
<div><br></div><div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">
------------------&nbsp;原始邮件&nbsp;------------------</div>
<div style="font-size: 12px;background:#efefef;padding:8px;">
<div><b>发件人:</b>&nbsp;"区教育局来信办理"&lt;feedback@edu.example.cn&gt;;</div>
<div><b>发送时间:</b>&nbsp;2025年7月8日(星期二) 下午4:17</div>
<div><b>收件人:</b>&nbsp;"办公室"&lt;office@edu.example.cn&gt;;</div>
<div><b>主题:</b>&nbsp;【请办理】编号 2025-000123</div></div><div><br></div>
市民来信：学校门口的减速带被压坏了。"""

COREMAIL_HTML = """<div style="line-height:1.7;font-size:14px">您好，减速带已于今天上午更换。
<br><br>安全稳定科 王老师</div><br><br><div style="position:relative;zoom:1"></div>
<div id="divNeteaseMailCard"></div><br>在 2025-07-08 16:17:19，"区教育局来信办理"
&lt;feedback@edu.example.cn&gt; 写道：<br> <blockquote id="isReplyContent"
style="PADDING-LEFT: 1ex; MARGIN: 0px 0px 0px 0.8ex; BORDER-LEFT: #ccc 1px solid">
<div>市民来信：学校门口的减速带被压坏了。</div></blockquote>"""

HTML_CASES = [
    pytest.param(
        OUTLOOK_HTML.format(
            from_="发件人:", sent="发送时间:", to="收件人:", subject="主题:"
        ),
        "gb18030",
        "base64",
        "您好：\n来信反映的校车接送时间问题，我科已协调学校于下周一起调整。\n\n基础教育科 李老师",
        id="outlook-web-divRplyFwdMsg-zh",
    ),
    pytest.param(
        OUTLOOK_HTML.format(from_="From:", sent="Sent:", to="To:", subject="Subject:"),
        "utf-8",
        "quoted-printable",
        "您好：\n来信反映的校车接送时间问题，我科已协调学校于下周一起调整。\n\n基础教育科 李老师",
        id="outlook-web-divRplyFwdMsg-en",
    ),
    pytest.param(
        OUTLOOK_DESKTOP_HTML,
        "gbk",
        "base64",
        "您好，操场夜间照明已修复，请市民放心锻炼。\n体卫艺科 赵老师",
        id="outlook-desktop-border-top",
    ),
    pytest.param(
        GMAIL_HTML,
        "utf-8",
        "base64",
        "您好，开放时间调整通知已在学校公众号发布。\n\n办公室 张老师",
        id="gmail-quote",
    ),
    pytest.param(
        QQ_HTML,
        "gb18030",
        "quoted-printable",
        "您好，已通知学校整改。\n\n办公室 张老师",
        id="qq",
    ),
    pytest.param(
        COREMAIL_HTML,
        "gbk",
        "8bit",
        "您好，减速带已于今天上午更换。\n\n安全稳定科 王老师",
        id="coremail",
    ),
]


@pytest.mark.parametrize(("html", "charset", "cte", "expected"), HTML_CASES)
def test_html_only_replies(html, charset, cte, expected):
    raw = build("", charset=charset, cte=cte, subject="回复：来信办理", html=html)

    message = parse(raw)

    assert "alert" not in body_text(message)
    assert extract_reply(message) == expected


def test_plain_part_is_preferred_to_html():
    raw = build(
        "您好，纯文本。\n",
        charset="utf-8",
        cte="8bit",
        subject="Re: x",
        html="<p>您好，网页版。</p>",
    )

    assert extract_reply(parse(raw)) == "您好，纯文本。"


def test_html_to_text_basics():
    html = (
        "<html><head><title>t</title><style>.a{color:red}</style></head>"
        "<body><script>var x = 1;</script><p>A&amp;B &lt;C&gt;&nbsp;D &#20320;&#22909;</p>"
        "<ul><li>one</li><li>two</li></ul><pre>  keep\n    indent</pre>"
        "<blockquote>quoted<blockquote>deeper</blockquote></blockquote>after</body></html>"
    )

    assert html_to_text(html) == (
        "A&B <C> D 你好\none\ntwo\n  keep\n    indent\n> quoted\n> > deeper\nafter"
    )


def test_html_to_text_follows_the_shared_block_rules():
    # Form controls and embedded frames are not text; a block closes an
    # unclosed <head>; a stray </div> still ends a line.
    html = (
        "<head><title>t</title><div>Hello<button>Reply</button>"
        "<select><option>a</option></select> there</div>Thanks</div>Alex"
    )

    assert html_to_text(html) == "Hello there\nThanks\nAlex"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        pytest.param(
            "<p>Hello<template>x<br>y<hr><div>z</div></template> there</p>",
            "Hello there",
            id="breaks-and-blocks-inside-hidden-content",
        ),
        pytest.param(
            "<div>Hello<select><option>a</option></select><br>there</div>",
            "Hello\nthere",
            id="hidden-content-before-a-break",
        ),
        pytest.param(
            "<head><title>Re: x<body><p>Hello</p>", "Hello", id="title-left-open"
        ),
        pytest.param(
            "<html><head><title>t</title><template><p>x</template>"
            "<body><p>Hello</p></body>",
            "Hello",
            id="head-with-a-template",
        ),
    ],
)
def test_hidden_content_takes_no_room(html, text):
    # Hidden content parts no lines; <body> ends a <head> whatever is left open in it.
    assert html_to_text(html) == text


def test_noscript_is_shown_and_hidden_elements_part_no_lines():
    # Mail clients run no scripts, so they show <noscript>; a hidden element
    # parts nothing, as in a browser.
    html = (
        "<div>Hello<span>x</span><style>p{}</style>world</div>"
        "<div>Done<noscript> (no scripts)</noscript>.</div>"
    )

    assert html_to_text(html) == "Helloxworld\nDone (no scripts)."


# ---------------------------------------------------------------------------
# reply_text on its own


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Thanks, done.\n\nOn Tue, Jul 8, 2025 at 4:17 PM Feedback Office <\n"
            "feedback@edu.example.cn> wrote:\n\n> Please answer.\n",
            "Thanks, done.",
            id="wrapped-on-wrote",
        ),
        pytest.param(
            "Thanks, done.\nOn Tue, Jul 8, 2025 at 4:17 PM Feedback Office wrote:\nPlease answer.",
            "Thanks, done.",
            id="on-wrote-without-quote-marks",
        ),
        pytest.param(
            "Le 8 juil. 2025 à 16:17, Bureau <feedback@edu.example.cn> a écrit :\n"
            "> Merci\n\nC'est fait.",
            "C'est fait.",
            id="bottom-posted-french",
        ),
        pytest.param(
            "Done.\n\n-----Original Message-----\nFrom: a@b.c\nPlease answer.",
            "Done.",
            id="original-message",
        ),
        pytest.param(
            "Done.\n\n________________________________\nFrom: Feedback Office\n"
            "Sent: Tuesday, July 8, 2025 4:17 PM\nTo: Sports\nSubject: 2025-000160\n\nBody",
            "Done.",
            id="outlook-rule-header",
        ),
        pytest.param(
            "See below.\n\nBegin forwarded message:\n\nFrom: x@y.z\nHello",
            "See below.",
            id="forwarded",
        ),
        pytest.param(
            "> 问题一\n答：已办理。\n\n> 问题二\n答：正在核实。",
            "> 问题一\n答：已办理。\n\n> 问题二\n答：正在核实。",
            id="inline-answers-keep-their-questions",
        ),
        pytest.param(
            "> everything\n> is quoted\n", "> everything\n> is quoted", id="all-quoted"
        ),
        pytest.param(
            "------------------ 原始邮件 ------------------\n发件人: a\n主题: b\n\n正文",
            "------------------ 原始邮件 ------------------\n发件人: a\n主题: b\n\n正文",
            id="nothing-new-keeps-everything",
        ),
        pytest.param(
            "开会时间：\n下午三点\n\n发件人: 张三\n今天有空吗？",
            "开会时间：\n下午三点\n\n发件人: 张三\n今天有空吗？",
            id="lone-header-word-is-text",
        ),
    ],
)
def test_reply_text(text, expected):
    assert reply_text(text) == expected


# ---------------------------------------------------------------------------
# Machine mail

NORMAL = (
    "From: Li Ming <section@edu.example.cn>\nSubject: RE: 2025-000123\n"
    "In-Reply-To: <2025-000123@feedback.example.cn>\n"
)
DSN = (
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.cn>\n"
    "Subject: Returned mail: see transcript for details\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
    "--b1\nContent-Type: text/plain\n\nThe mail could not be delivered.\n"
    "--b1\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mx.example.cn\n\nFinal-Recipient: rfc822; nobody@example.cn\n"
    "Action: failed\nStatus: 5.1.1\n--b1--\n"
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            NORMAL + "Auto-Submitted: auto-replied\n\nAway.", True, id="auto-submitted"
        ),
        pytest.param(
            NORMAL + "Auto-Submitted: no\n\n已办理。", False, id="auto-submitted-no"
        ),
        pytest.param(DSN, True, id="dsn-report"),
        pytest.param(
            DSN.replace("multipart/report", "multipart/mixed").replace(
                "Returned", "Your"
            ),
            True,
            id="mailer-daemon",
        ),
        pytest.param(
            "From: postmaster@edu.example.cn\nSubject: notice\n\nx",
            True,
            id="postmaster",
        ),
        pytest.param(
            "From: a@b.cn\nSubject: =?utf-8?B?6Ieq5Yqo5Zue5aSN77ya5Zue5aSN?=\n\n我正在休假。",
            True,
            id="zi-dong-hui-fu",
        ),
        pytest.param(
            "From: a@b.cn\nSubject: 自動回覆：休假\n\nx", True, id="traditional"
        ),
        pytest.param(
            "From: a@b.cn\nSubject: Out of Office: x\n\nx", True, id="oof-subject"
        ),
        pytest.param(
            "From: a@b.cn\nSubject: Undeliverable: x\n\nx", True, id="undeliverable"
        ),
        pytest.param("From: a@b.cn\nSubject: 退信：x\n\nx", True, id="tuixin"),
        pytest.param(NORMAL + "X-Autoreply: yes\n\nx", True, id="x-autoreply"),
        pytest.param("Return-Path: <>\n" + NORMAL + "\nx", True, id="null-sender"),
        pytest.param(NORMAL + "Precedence: bulk\n\nx", True, id="precedence-bulk"),
        pytest.param(NORMAL + "Precedence: list\n\nx", False, id="precedence-list"),
        pytest.param(
            NORMAL
            + "X-Auto-Response-Suppress: All\nX-MS-Has-Attach:\n\n您好，已办理。",
            False,
            id="outlook-normal-reply",
        ),
        pytest.param(NORMAL + "\n好的", False, id="normal"),
    ],
)
def test_is_auto_reply(raw, expected):
    assert is_auto_reply(parse(raw.encode("utf-8"))) is expected


# ---------------------------------------------------------------------------
# Robustness

MAIL_FRAGMENTS = [
    b"Subject: =?gb2312?B?",
    b"Subject: =?utf-8?Q?=E5=9B=9E?= =?big5?B?pl6=?=\n",
    b"Subject: \xe5\x9b\x9e\xb8\xb4\n",
    b"From: MAILER-DAEMON\n",
    b'From: "\xff" <@>\n',
    b"Auto-Submitted: \n",
    b'Content-Type: multipart/mixed; boundary="b"\n',
    b"Content-Type: multipart/alternative; boundary=\n",
    b"Content-Type: text/plain; charset=gb2312\n",
    b"Content-Type: text/plain; charset*=x''\n",
    b'Content-Type: text/html; charset="rot13"\n',
    b"Content-Type: message/rfc822\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"Content-Transfer-Encoding: x-uuencode\n",
    b"Content-Disposition: attachment; filename*=utf-8''\n",
    b"\n",
    b"--b\n",
    b"--b--\n",
    b"=E5=9B=\n",
    b"5L2g5aW9===\n",
    b"> quoted\n",
    b"On Tue, 2025 x wrote:\n",
    b"<blockquote><div class=gmail_quote><pre>x</p></body><head><style>",
    "------------------ 原始邮件 ------------------\n发件人：x\n".encode(),
]
mail_like = st.lists(
    st.one_of(st.sampled_from(MAIL_FRAGMENTS), st.binary(max_size=16)), max_size=30
).map(b"".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=2000), mail_like))
def test_never_raises_on_junk(raw):
    message = parse(raw)

    assert isinstance(extract_reply(message), str)
    assert isinstance(decoded_subject(message), str)
    assert isinstance(is_auto_reply(message), bool)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
def test_html_to_text_never_raises(html):
    assert isinstance(html_to_text(html), str)


line = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "> quoted",
            "",
            "   ",
            "On Tue, Jul 8, 2025 at 4:17 PM x wrote:",
            "在 2025-07-08 16:17:19，x 写道：",
            "-----Original Message-----",
            "------------------ 原始邮件 ------------------",
            "发件人: x",
            "发送时间: 2025年7月8日",
            "收件人: y",
            "From: x",
            "Sent: y",
            "To: z",
            "________________________________",
            "好的",
        ]
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(line, max_size=20).map("\n".join))
def test_reply_text_never_loses_everything(text):
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    has_own_text = any(ln.strip() and not ln.lstrip().startswith(">") for ln in lines)

    reply = reply_text(text)

    if has_own_text:
        assert reply != ""
        assert {r.strip() for r in reply.split("\n")} <= {ln.strip() for ln in lines}
