"""Decode a reply e-mail and cut its quoted history, keeping what the sender wrote."""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.policy
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.message import Message
from email.utils import parseaddr

from feedback.html_blocks import Attributes
from feedback.html_blocks import BlockWalker
from feedback.html_blocks import CELLS
from feedback.html_blocks import HIDDEN

__all__ = [
    "body_text",
    "decoded_subject",
    "extract_reply",
    "html_to_text",
    "is_auto_reply",
    "parse",
    "reply_text",
]

# ---------------------------------------------------------------------------
# Decoding bytes, headers and bodies

# Labels that mean "some GB encoding": senders write gb2312 and send GBK, so
# every one of them is read as GB18030, which contains both.
_GB_LABELS = frozenset(
    {
        "gb2312",
        "gbk",
        "gb18030",
        "cp936",
        "ms936",
        "windows-936",
        "x-gbk",
        "euc-cn",
        "euccn",
        "x-euc-cn",
        "csgb2312",
        "gb_2312-80",
        "gb_2312",
        "chinese",
    }
)
_BIG5_LABELS = frozenset(
    {"big5", "big5hkscs", "big5-hkscs", "x-big5", "csbig5", "cn-big5"}
)
_CODEC_ERRORS = (LookupError, UnicodeError, ValueError, TypeError)


def _codec_name(label: str) -> str | None:
    """Return Python's name for the text codec ``label``, or None if there is none."""
    try:
        return codecs.lookup(label).name
    except _CODEC_ERRORS:
        return None


def _candidate_codecs(charset: str | None) -> list[str]:
    """Return the codecs to try, strictly and in order, for bytes labelled ``charset``."""
    label = (charset or "").strip().strip("\"'").lower().split("*", 1)[0]
    name = _codec_name(label) if label else None
    if label in _GB_LABELS or name in {"gb2312", "gbk", "gb18030"}:
        return ["gb18030", "utf-8"]
    if label in _BIG5_LABELS or name in {"big5", "big5hkscs"}:
        return ["big5hkscs", "big5", "utf-8", "gb18030"]
    if name is None:
        return ["utf-8", "gb18030", "latin-1"]  # latin-1 never fails
    return [name, "utf-8", "gb18030"]


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode ``data`` labelled ``charset``, replacing bad bytes only as a last resort."""
    candidates = _candidate_codecs(charset)
    for codec in candidates:
        try:
            return data.decode(codec)
        except _CODEC_ERRORS:
            continue
    try:
        return data.decode(candidates[0], errors="replace")
    except _CODEC_ERRORS:
        return data.decode("utf-8", errors="replace")


def _decode_raw_text(text: str) -> str:
    """Decode header text whose 8-bit bytes the parser kept as surrogate escapes."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return re.sub(r"[\ud800-\udfff]", "\ufffd", text)
    return _decode_bytes(data, None)


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    """Return the bytes of one RFC 2047 encoded word, or None when it is broken."""
    if encoding in "qQ":
        return binascii.a2b_qp(payload.encode("ascii", "surrogateescape"), header=True)
    try:
        data = payload.encode("ascii")
        return base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None


def _decode_rfc2047(value: str) -> str:
    """Decode the encoded words in a header value, joining words split mid-character."""
    value = re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", "")
    pieces: list[str] = []
    pending = b""
    pending_charset: str | None = None
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            continue  # stays in the text as written
        if between and not (between.isspace() and pending_charset is not None):
            if pending_charset is not None:
                pieces.append(_decode_bytes(pending, pending_charset))
                pending, pending_charset = b"", None
            pieces.append(_decode_raw_text(between))
        charset = match.group(1).lower()
        if pending_charset is not None and charset != pending_charset:
            pieces.append(_decode_bytes(pending, pending_charset))
            pending = b""
        pending += data
        pending_charset = charset
        position = match.end()
    if pending_charset is not None:
        pieces.append(_decode_bytes(pending, pending_charset))
    pieces.append(_decode_raw_text(value[position:]))
    return "".join(pieces)


def _raw_headers(message: Message, name: str) -> list[str]:
    """Return every value of header ``name`` as written, without the header registry."""
    try:
        items = list(message.raw_items())
    except Exception:  # a message object we did not build
        return []
    wanted = name.lower()
    return [str(value) for key, value in items if str(key).lower() == wanted]


def _first_header(message: Message, name: str) -> str:
    values = _raw_headers(message, name)
    return values[0] if values else ""


def parse(raw: bytes) -> EmailMessage:
    """Parse ``raw`` into a message; junk gives a message with whatever was readable."""
    try:
        message = email.message_from_bytes(bytes(raw), policy=email.policy.default)
    except Exception:  # the parser is lenient; this is the last guard
        return EmailMessage()
    return message  # policy.default builds an EmailMessage


def decoded_subject(message: Message) -> str:
    """Return the subject with its RFC 2047 words (GB, Big5, UTF-8…) decoded."""
    return _decode_rfc2047(_first_header(message, "subject")).strip()


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # a malformed header: read it by hand
        value = _first_header(part, "content-type").split(";", 1)[0].strip().lower()
        return value if value.count("/") == 1 else "text/plain"


def _charset(part: Message) -> str | None:
    try:
        charset = part.get_content_charset()
    except Exception:  # a malformed header: read it by hand
        found = re.search(
            r'charset\s*=\s*"?([^";\s]+)', _first_header(part, "content-type"), re.I
        )
        return found.group(1).lower() if found else None
    return charset if isinstance(charset, str) else None


def _is_attachment(part: Message) -> bool:
    disposition = _first_header(part, "content-disposition")
    return disposition.split(";", 1)[0].strip().lower() == "attachment"


def _leaf_parts(message: Message) -> Iterator[Message]:
    """Yield the non-multipart parts in order, skipping attachments and enclosed mail."""
    stack: list[Message] = [message]
    while stack:
        part = stack.pop()
        if part is not message and _is_attachment(part):
            continue
        if part.is_multipart():
            if _content_type(part).startswith("message/") and part is not message:
                continue  # an attached or reported message is not the reply
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
            continue
        yield part


def _part_text(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding
        data = None
    if not isinstance(data, bytes):
        return ""
    text = _decode_bytes(data, _charset(part))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def body_text(message: Message) -> str:
    """Return the first plain-text part, decoded; an HTML part converted if none."""
    plain: Message | None = None
    html: Message | None = None
    for part in _leaf_parts(message):
        content_type = _content_type(part)
        if content_type == "text/plain" and plain is None:
            plain = part
        elif content_type == "text/html" and html is None:
            html = part
        if plain is not None and html is not None:
            break
    if plain is not None:
        text = _part_text(plain)
        if text.strip() or html is None:  # some clients send an empty plain part
            return text
    if html is not None:
        return html_to_text(_part_text(html))
    return ""


# ---------------------------------------------------------------------------
# HTML to text

_RULE = "_" * 32  # how Outlook's plain text draws the line above a quoted header
_ORIGINAL_MESSAGE = "-----Original Message-----"

# Containers whose content is the quoted earlier mail (Gmail, Yahoo, Proton).
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "protonmail_quote")
# Elements that open an Outlook header block and everything after it.
_ORIGINAL_IDS = frozenset({"divrplyfwdmsg", "olk_src_body_section"})
_BORDER_TOP = re.compile(r"border-top(?:-style)?\s*:[^;]*\bsolid\b", re.I)
_MAX_QUOTE_MARKS = 8  # deeper nesting adds nothing but size
# Roles whose elements start on a line of their own. A hidden element is not
# one of them: it takes no room, as a browser shows the mail, so the text on
# either side of Hello<span>x</span><style>…</style>world stays one line.
_OWN_LINES = frozenset({"quote", "pre", "original", "rule"})


def _prefix(depth: int) -> str:
    return "> " * min(depth, _MAX_QUOTE_MARKS)


class _MailText(BlockWalker):
    """Collects the visible text of an HTML mail, one string per line.

    Each line starts with "> " for every quote it sits in, as plain-text
    replies mark quoted history, so that ``reply_text`` reads both alike.
    """

    # Mail clients run no scripts, so they show what <noscript> holds.
    HIDDEN = HIDDEN - {"noscript"}
    # Zero-width spaces, direction marks and byte-order marks clients insert.
    INVISIBLE = re.compile("[\u200b\u200e\u200f\u2060\ufeff]")

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._line_depth = 0  # quote depth where the current line began

    @property
    def _quote(self) -> int:
        return self.roles["quote"]

    # Lines

    def _flush(self, *, keep_empty: bool) -> None:
        depth = self._line_depth if self.chunks else self._quote
        text = self.take_text(preformatted=self.roles["pre"] > 0)
        if text.strip() or keep_empty:
            self.lines.append((_prefix(depth) + text).rstrip())

    def _emit(self, text: str) -> None:
        self._flush(keep_empty=False)
        self.lines.append(_prefix(self._quote) + text)

    def _add(self, text: str) -> None:
        if not self.chunks:
            self._line_depth = self._quote
        self.chunks.append(text)

    # What the walk meets

    def role(self, tag: str, attrs: Attributes) -> str:
        if tag == "blockquote":
            return "quote"
        if tag == "pre":
            return "pre"
        values = {name: value or "" for name, value in attrs}
        classes = values.get("class", "").lower().split()
        if any(marker in token for token in classes for marker in _QUOTE_CLASSES):
            return "quote"
        element_id = values.get("id", "").lower().removeprefix("x_")
        if element_id in _ORIGINAL_IDS:
            return "original"
        if tag in {"div", "p"} and _BORDER_TOP.search(values.get("style", "")):
            return "rule"
        return ""

    def opening(self, tag: str, role: str) -> None:
        if tag in CELLS:
            self._add(" ")  # the cells of a row share its line
        if role in _OWN_LINES:
            self.end_block()
        else:
            super().opening(tag, role)
        if role == "original":
            self._emit(_ORIGINAL_MESSAGE)
        elif role == "rule":
            self._emit(_RULE)

    def closing(self, tag: str, role: str) -> None:
        if role == "quote":
            self.end_block()
        else:
            super().closing(tag, role)

    def end_block(self) -> None:
        self._flush(keep_empty=False)

    def line_break(self) -> None:
        self._flush(keep_empty=True)

    def rule(self) -> None:
        self._emit(_RULE)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if not self.roles["pre"]:
            self._add(data)
            return
        first, *rest = data.split("\n")
        self._add(first)
        for line in rest:
            self._flush(keep_empty=True)
            self._add(line)

    def text(self) -> str:
        """Return the lines read, with runs of blank lines cut to one."""
        self._flush(keep_empty=False)
        joined = "\n".join(self.lines)
        return re.sub(r"\n(?:[ \t]*\n){2,}", "\n\n", joined).strip("\n")


def html_to_text(html: str) -> str:
    """Return the text of ``html``, quoted parts marked with "> " for reply_text."""
    parser = _MailText()
    parser.read(html)
    return parser.text()


# ---------------------------------------------------------------------------
# Cutting the quoted history

# A line that opens the earlier mail, and everything below it is history.
_SPLITTER = re.compile(
    r"""^(?:
        -{2,}\s*(?:
            original\ message|original\ e-?mail|forwarded\ message
            |原始邮件|原始郵件|原邮件|原郵件|邮件原件|郵件原件|回复的原邮件
            |转发邮件信息|转发的邮件|轉寄郵件|轉發郵件
            |исходное\ сообщение|пересылаемое\ сообщение
            |message\ d'origine|ursprüngliche\ nachricht|mensaje\ original
        )\s*-*
        |begin\ forwarded\ message:?
        |开始转发的邮件[:：]?|以下为转发的邮件[:：]?
    )$""",
    re.I | re.X,
)
# One line of a mail header block as clients print it, e.g. "From:", "*发件人：*".
_HEADER_KEYS = {
    "from": "from",
    "发件人": "from",
    "發件人": "from",
    "寄件者": "from",
    "寄件人": "from",
    "от": "from",
    "de": "from",
    "von": "from",
    "差出人": "from",
    "sent": "date",
    "date": "date",
    "发送时间": "date",
    "發送時間": "date",
    "发送日期": "date",
    "时间": "date",
    "時間": "date",
    "日期": "date",
    "寄件日期": "date",
    "傳送時間": "date",
    "отправлено": "date",
    "дата": "date",
    "envoyé": "date",
    "gesendet": "date",
    "enviado": "date",
    "送信日時": "date",
    "to": "to",
    "收件人": "to",
    "收件者": "to",
    "кому": "to",
    "à": "to",
    "an": "to",
    "para": "to",
    "宛先": "to",
    "cc": "cc",
    "抄送": "cc",
    "抄送人": "cc",
    "副本": "cc",
    "копия": "cc",
    "subject": "subject",
    "主题": "subject",
    "主題": "subject",
    "主旨": "subject",
    "тема": "subject",
    "objet": "subject",
    "betreff": "subject",
    "asunto": "subject",
    "件名": "subject",
}
_HEADER_LINE = re.compile(
    r"^[\s*]*("
    + "|".join(sorted(map(re.escape, _HEADER_KEYS), key=len, reverse=True))
    + r")[\s*]*[:：]",
    re.I,
)
_HEADER_WINDOW = 8
# "… wrote:" in the languages mail clients write it in.
_WROTE = re.compile(
    r"(?:wrote|writes|написал\(?а?\)?|написала|пишет|a\ écrit|schrieb|escribió"
    r"|ha\ scritto|schreef|skrev|napisał\(?a?\)?|kirjoitti|escreveu|写道|寫道)"
    r"\s*[:：]$",
    re.I | re.X,
)
# How an attribution line begins: "On …", "Le …", "Am …", "在 …".
_OPENER = re.compile(
    r"^(?:(?:on|le|am|el|em|il|op|den|på|w\ dniu)\b|在|於)", re.I | re.X
)
_DATEISH = re.compile(r"\d{1,2}:\d{2}|(?<!\d)(?:19|20)\d{2}(?!\d)")
_RULE_LINE = re.compile(r"^\s*[-_=─—–*]{8,}\s*$")
_ATTRIBUTION_LINES = 3
_ATTRIBUTION_MAX = 300


def _blank(line: str) -> bool:
    return not line.strip()


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _header_block_at(lines: list[str], index: int) -> bool:
    """Tell whether an Outlook-style "From: / Sent: / To:" block starts at ``index``."""
    if not _HEADER_LINE.match(lines[index]):
        return False
    seen: set[str] = set()
    for line in lines[index : index + _HEADER_WINDOW]:
        if _quoted(line):
            break
        found = _HEADER_LINE.match(line)
        if found:
            seen.add(_HEADER_KEYS[found.group(1).lower()])
    return "from" in seen and len(seen) >= 3


def _attribution(lines: list[str], end: int) -> tuple[int, bool] | None:
    """Find an attribution ("On … wrote:", "在 … 写道：") ending at line ``end``.

    Return its first line and whether it says "wrote", or None. Clients wrap long
    attributions, so it may start up to two lines higher.
    """
    last = lines[end].strip()
    if not last.endswith((":", "：")) or _quoted(lines[end]):
        return None
    wrote = bool(_WROTE.search(last))
    starts = [end]
    for start in range(end - 1, max(end - _ATTRIBUTION_LINES, -1), -1):
        if _blank(lines[start]) or _quoted(lines[start]):
            break
        starts.append(start)

    def joined(start: int) -> str:
        return " ".join(line.strip() for line in lines[start : end + 1])

    for start in starts:
        text = joined(start)
        plausible = wrote or _DATEISH.search(text)
        if len(text) <= _ATTRIBUTION_MAX and _OPENER.match(text) and plausible:
            return start, wrote
    for start in starts:
        text = joined(start)
        if len(text) <= _ATTRIBUTION_MAX and _DATEISH.search(text):
            return start, wrote
    return None


def _drop_rule(kept: list[str]) -> None:
    """Remove the blank lines and the rule that stood above a quoted header."""
    while kept and _blank(kept[-1]):
        kept.pop()
    if kept and _RULE_LINE.match(kept[-1]):
        kept.pop()


def reply_text(text: str) -> str:
    """Return what the sender newly wrote in ``text``, without the quoted history."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    attributions: dict[int, tuple[int, bool]] = {}
    for end in range(len(lines)):
        found = _attribution(lines, end)
        if found is not None:
            attributions.setdefault(found[0], (end, found[1]))

    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not _blank(line) and not _quoted(line):
            if _SPLITTER.match(line.strip()) or _header_block_at(lines, index):
                _drop_rule(kept)
                break
            if index in attributions:
                end, wrote = attributions[index]
                after = end + 1
                while after < len(lines) and _blank(lines[after]):
                    after += 1
                if after < len(lines) and _quoted(lines[after]):
                    while after < len(lines) and (
                        _blank(lines[after]) or _quoted(lines[after])
                    ):
                        after += 1
                    index = after
                    continue
                if wrote:
                    break
        kept.append(line)
        index += 1

    while kept and (_blank(kept[-1]) or _quoted(kept[-1])):
        kept.pop()  # a quoted block at the very end, with or without a header
    first = next((i for i, line in enumerate(kept) if not _blank(line)), len(kept))
    reply = "\n".join(kept[first:]).rstrip()
    return reply if reply.strip() else text.strip()


def extract_reply(message: Message) -> str:
    """Return the new text of the reply ``message``."""
    return reply_text(body_text(message)).strip()


# ---------------------------------------------------------------------------
# Machine mail

_AUTO_SUBJECT = re.compile(
    r"""^\s*(?:
        auto\s*[:：]|automatic\ reply|auto[-\ ]?reply|out\ of\ (?:the\ )?office
        |自动回复|自動回覆|自動回復|自动答复|自動答覆|系统退信|退信
        |undeliverable|undelivered\ mail|delivery\ status\ notification
        |mail\ delivery\ failed|delivery\ failure|returned\ mail
    )""",
    re.I | re.X,
)
_MACHINE_SENDERS = frozenset({"mailer-daemon", "postmaster"})


def _token(value: str) -> str:
    return value.split(";", 1)[0].strip().strip("\"'").lower()


def is_auto_reply(message: Message) -> bool:
    """Tell whether ``message`` is an out-of-office reply, a bounce or other machine mail.

    X-Auto-Response-Suppress is not a sign: Outlook sets it on ordinary mail.
    """
    if any(
        _token(v) not in {"", "no"} for v in _raw_headers(message, "auto-submitted")
    ):
        return True
    for name in ("x-autoreply", "x-autorespond", "x-autogenerated"):
        if any(
            _token(v) not in {"", "no", "false", "0"}
            for v in _raw_headers(message, name)
        ):
            return True
    if any(
        _token(v) in {"auto_reply", "bulk", "junk"}
        for v in _raw_headers(message, "precedence")
    ):
        return True
    if _token(_first_header(message, "content-type")) == "multipart/report":
        return True
    if any(_token(v).strip("<> ") == "" for v in _raw_headers(message, "return-path")):
        return True  # a null envelope sender: only notifications use one
    for value in _raw_headers(message, "from"):
        try:
            address = parseaddr(_decode_rfc2047(value))[1]
        except Exception:  # a From that cannot be read
            address = value
        if address.split("@", 1)[0].strip().lower() in _MACHINE_SENDERS:
            return True
    return bool(_AUTO_SUBJECT.match(decoded_subject(message)))
