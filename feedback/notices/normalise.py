"""Reading a notice (text, saved web page or .docx) into clean simplified paragraphs."""

from __future__ import annotations

import codecs
import io
import re
import string
import unicodedata
import zipfile
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from xml.etree import ElementTree

from feedback.chinese import to_simplified
from feedback.html_blocks import Attributes
from feedback.html_blocks import BlockWalker
from feedback.html_blocks import CELLS
from feedback.notices.numerals import format_chinese
from feedback.notices.numerals import HEADING_DIGITS

# A .docx is a zip; its main part should not be larger than this when unpacked.
MAX_DOCX_XML_BYTES = 50 * 1024 * 1024


class UnreadableNotice(Exception):
    """The input cannot be read as a notice at all; the message says why."""


@dataclass(frozen=True)
class Document:
    """A notice as read: its kind, the raw text and the clean paragraphs."""

    kind: str  # "text", "html" or "docx"
    raw: str  # the decoded original (for .docx: the text of its paragraphs)
    paragraphs: tuple[str, ...]  # normalised, simplified, one per paragraph
    meta: tuple[tuple[str, str], ...] = field(default=())  # HTML <meta> name/content

    @property
    def text(self) -> str:
        """Return the normalised text, one paragraph per line."""
        return "\n".join(self.paragraphs)

    @property
    def cut_short(self) -> bool:
        """Tell whether the input stops mid-line, as a truncated capture does."""
        if self.kind == "text":
            return bool(self.raw) and not self.raw.endswith(("\n", "\r", "\u2029"))
        if self.kind == "html":
            return not self.raw.rstrip().endswith(">")
        return False

    def meta_value(self, *names: str) -> str | None:
        """Return the first non-empty <meta> content among ``names``."""
        wanted = {name.lower() for name in names}
        for name, content in self.meta:
            if name.lower() in wanted and content.strip():
                return content.strip()
        return None


# --------------------------------------------------------------------------
# Characters


def is_han(char: str) -> bool:
    """Return whether ``char`` is a CJK ideograph."""
    if len(char) != 1:
        return False
    code = ord(char)
    return (
        0x3400 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
    )


_CJK_PUNCT = set("，。、；：？！（）“”‘’《》〈〉【】〔〕…—·「」『』￥")


def is_cjk(char: str) -> bool:
    """Return whether ``char`` is Chinese text: an ideograph or CJK punctuation."""
    if len(char) != 1:
        return False
    if is_han(char) or char in _CJK_PUNCT:
        return True
    code = ord(char)
    return (
        0x3000 < code <= 0x303F or 0xFF01 <= code <= 0xFF0F or 0xFF1A <= code <= 0xFF20
    )


def display_width(text: str) -> int:
    """Return how many terminal columns ``text`` takes (wide characters count two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# --------------------------------------------------------------------------
# Decoding and reading


# What happens to a notice, in order:
# 1. Bytes are decoded: a byte-order mark or an HTML charset wins, then UTF-8,
#    then GB18030 (a superset of GBK and GB2312, what Chinese Windows saves).
# 2. The kind comes from the content, not the file name: PK\x03\x04 is a .docx,
#    markup such as <html or <p is a saved page, anything else is text.
# 3. Plain text is re-flowed: lines a capture or a mail client wrapped are
#    joined back into paragraphs, judged by line widths, indentation, unclosed
#    brackets and the markers that open a paragraph (see ``reflow``).
# 4. Each paragraph is normalised (see ``normalise_paragraph``).
# The decoded original is kept beside the result, so nothing is lost.


def read(data: bytes, filename: str | None = None) -> Document:
    """Read a notice from the bytes of a file, whatever its kind."""
    if not data.strip():
        return from_text("")
    if data.startswith(b"PK\x03\x04"):
        return _read_docx(data)
    _refuse_binary(data, filename)
    text = decode(data)
    if looks_like_html(text) or (
        filename is not None
        and filename.lower().endswith((".htm", ".html", ".shtml", ".xhtml"))
        and "<" in text
    ):
        return from_html(text)
    return from_text(text)


def _refuse_binary(data: bytes, filename: str | None) -> None:
    head = data[:8]
    if head.startswith(b"%PDF"):
        raise UnreadableNotice(
            "这是 PDF 文件，无法直接读取。请复制其中的文字粘贴进来，或另存为 .docx。"
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableNotice(
            "这是旧版 Word（.doc）或其他 Office 文件，无法读取。请另存为 .docx 后再导入。"
        )
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!")):
        raise UnreadableNotice("这是图片或压缩文件，不是通报文字。")


_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def decode(data: bytes) -> str:
    """Decode bytes as a byte-order mark, an HTML charset, UTF-8 or GB18030 say."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise UnreadableNotice(
                    f"文件声明为 {encoding}，但内容无法按此解码。"
                ) from exc
    candidates = ["utf-8", "gb18030"]
    declared = _CHARSET.search(data[:4096])
    if declared is not None:
        name = declared.group(1).decode("ascii").lower()
        try:
            name = codecs.lookup(name).name
        except LookupError:
            pass
        else:
            if name in ("gbk", "gb2312", "hz"):  # GB18030 reads all of them
                name = "gb18030"
            candidates.insert(0, name)
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break  # binary, or UTF-16 without a byte-order mark
        return text
    raise UnreadableNotice(
        "无法识别文件的文字编码（已尝试 UTF-8 和 GB18030），或者它不是文字文件。"
    )


_HTML_HINT = re.compile(
    r"<(?:!doctype\s+html|html|head|body|p|div|br|table|span|meta|h[1-6]|article)[\s>/]",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    """Return whether decoded text is markup rather than a plain notice."""
    head = text[:4096]
    if re.search(r"<(?:html|body)[\s>]", head, re.IGNORECASE):
        return True
    return head.lstrip().startswith("<") and _HTML_HINT.search(head) is not None


def from_text(text: str, *, kind: str = "text") -> Document:
    """Read a plain-text notice (also what a person pastes)."""
    lines = text.splitlines()
    return Document(kind=kind, raw=text, paragraphs=_normalise_all(reflow(lines)))


def portable(document: Document) -> tuple[str, str]:
    """Return (kind, source) that ``from_portable`` reads back to the same paragraphs.

    A form carries this between the preview and the confirmation, so that a
    file need not be sent twice.
    """
    return document.kind, document.raw


def from_portable(kind: str, source: str) -> Document:
    """Read back what ``portable`` gave."""
    if kind == "html" or (kind == "text" and looks_like_html(source)):
        return from_html(source)
    if kind == "docx":
        return from_text(source, kind="docx")
    return from_text(source)


def from_html(markup: str) -> Document:
    """Read a saved web page: block elements are paragraphs, chrome included."""
    reader = _PageText()
    reader.read(markup)
    blocks = tables_to_text(reader.finish())
    return Document(
        kind="html",
        raw=markup,
        paragraphs=_normalise_all(blocks),
        meta=tuple(reader.meta),
    )


# Where a block sits: (table, row, cell) of its innermost table, or None.
Cell = tuple[int, int, int] | None


class _PageText(BlockWalker):
    """Collects a page's text as blocks, each with its table cell, and its <meta> pairs."""

    # A no-break or ideographic space is text in a notice: it parts fields, as
    # a space between Chinese characters does not (see ``collapse_spaces``).
    SPACE = re.compile(r"[ \t\r\n\f\v]+")

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[tuple[str, Cell]] = []
        self.meta: list[tuple[str, str]] = []
        # (table, row, cell) where each open table has got to
        self._tables: list[tuple[int, int, int]] = []
        self._next_table = 0

    def metadata(self, attrs: Attributes) -> None:
        values = dict(attrs)
        name = values.get("name") or values.get("property")
        if name and values.get("content"):
            self.meta.append((name, values["content"] or ""))

    def opening(self, tag: str, role: str) -> None:
        super().opening(tag, role)
        if tag == "table":
            self._tables.append((self._next_table, -1, -1))
            self._next_table += 1
        elif tag == "tr" and self._tables:
            table, row, _cell = self._tables[-1]
            self._tables[-1] = (table, row + 1, -1)
        elif tag in CELLS:
            self.end_block()  # a cell is a block of its own
            if self._tables:
                table, row, cell = self._tables[-1]
                self._tables[-1] = (table, row, cell + 1)

    def closing(self, tag: str, role: str) -> None:
        super().closing(tag, role)
        if tag in CELLS:
            self.end_block()
        if tag == "table" and self._tables:
            self._tables.pop()

    def end_block(self) -> None:
        text = self.take_text()
        if text:
            self.blocks.append((text, self._tables[-1] if self._tables else None))

    def finish(self) -> list[tuple[str, Cell]]:
        """Return the blocks read, the last one included."""
        self.end_block()
        return self.blocks


# --------------------------------------------------------------------------
# Tables that list problems

# What a header cell names, checked in this order.
_HEADER_ROLES = (
    ("number", re.compile(r"^(?:序号|编号|序)$")),
    (
        "status",
        re.compile(r"整改状态|完成情况|整改结果|是否完成|整改进度|完成进度|状态"),
    ),
    (
        "measures",
        re.compile(
            r"整改措施|整改情况|落实情况|整改进展|具体措施|工作措施|整改过程|整改举措"
        ),
    ),
    ("other", re.compile(r"责任|时限|期限|牵头|配合|备注")),
    ("aspect", re.compile(r"方面|类别|类型")),
    ("title", re.compile(r"问题")),
)
_LABEL_OF = {"measures": "整改措施：", "status": "整改状态："}


def _header_roles(cells: list[str]) -> list[str] | None:
    # Header cells are short labels; a layout table's cell holding a whole
    # article is not a header, whatever words it contains.
    if not cells or any(len(cell) > 16 for cell in cells):
        return None
    roles: list[str] = []
    for cell in cells:
        text = normalise_paragraph(cell)
        role = next(
            (r for r, pattern in _HEADER_ROLES if pattern.search(text)), "other"
        )
        roles.append(role)
    if "title" in roles and ("measures" in roles or "status" in roles):
        return roles
    return None


def tables_to_text(blocks: Sequence[tuple[str, Cell]]) -> list[str]:
    """Return the blocks as text; a table that lists problems becomes labelled lines.

    A row under the header ``序号 | 问题 | 整改措施 | 整改情况`` becomes
    ``N.问题`` followed by ``整改措施：…`` and ``整改状态：…``, which the parser
    reads like any notice. Other tables stay one block per cell.
    """
    out: list[str] = []
    index = 0
    while index < len(blocks):
        text, where = blocks[index]
        if where is None:
            out.append(text)
            index += 1
            continue
        table = where[0]
        end = index
        while end < len(blocks) and (w := blocks[end][1]) is not None and w[0] == table:
            end += 1
        out.extend(_table_text(blocks[index:end]))
        index = end
    return out


def _table_text(blocks: Sequence[tuple[str, Cell]]) -> list[str]:
    rows: dict[int, dict[int, list[str]]] = {}
    for text, where in blocks:
        assert where is not None
        rows.setdefault(where[1], {}).setdefault(where[2], []).append(text)
    ordered = [
        [" ".join(cells[c]) for c in sorted(cells)]
        for _r, cells in sorted(rows.items())
    ]
    header_at = next(
        (i for i, row in enumerate(ordered[:3]) if _header_roles(row) is not None), None
    )
    if header_at is None:
        return [text for text, _where in blocks]
    roles = _header_roles(ordered[header_at]) or []
    if "status" not in roles and roles.count("measures") > 1:
        # 整改措施 beside 整改情况: the second says how far it got.
        roles[len(roles) - 1 - roles[::-1].index("measures")] = "status"
    out = [" ".join(row) for row in ordered[:header_at]]
    for row in ordered[header_at + 1 :]:
        if len(row) <= 1 or len(row) < len(roles) // 2:
            out.extend(cell for cell in row if cell)  # a heading row across the table
            continue
        # Cells merged down from the rows above are missing at the left.
        cells: dict[str, list[str]] = {}
        for role, cell in zip(roles[len(roles) - len(row) :], row, strict=False):
            if cell.strip():
                cells.setdefault(role, []).append(cell.strip())
        number = "".join(cells.get("number", [])).rstrip(".、．")
        title = "".join(cells.get("title", [])[:1])
        out.extend(cells.get("aspect", []))
        if not title:
            out.extend(cell for cell in row if cell)
            continue
        out.append(f"{number}.{title}" if number.isdigit() else title)
        for role in ("status", "measures"):
            out.extend(_LABEL_OF[role] + value for value in cells.get(role, []))
    return out


# --------------------------------------------------------------------------
# .docx

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _read_docx(data: bytes) -> Document:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo("word/document.xml")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise UnreadableNotice(
            "这是压缩文件，但不是 Word 文档（.docx），或者文件已损坏。"
        ) from exc
    if info.file_size > MAX_DOCX_XML_BYTES:
        raise UnreadableNotice("这个 Word 文档的正文大得不正常，拒绝读取。")
    blocks: list[tuple[str, Cell]] = []
    try:
        document = _parse_xml(archive.read(info))
        numbering = _DocxNumbering.load(archive)
        body = document.find(f"{_W}body")
        _walk_docx(body if body is not None else document, numbering, blocks, None, [0])
    except Exception as exc:
        # A damaged archive fails in many ways (bad CRC, bad deflate data,
        # malformed XML, odd attribute values); each means the same to a person.
        raise UnreadableNotice("Word 文档已损坏，无法读取正文。") from exc
    # Paragraphs apart by blank lines: read as text again, they stay apart.
    texts = tables_to_text(blocks)
    raw = "\n\n".join(texts)
    return Document(kind="docx", raw=raw, paragraphs=_normalise_all(texts))


def _walk_docx(
    node: ElementTree.Element,
    numbering: _DocxNumbering,
    blocks: list[tuple[str, Cell]],
    where: Cell,
    tables: list[int],
) -> None:
    """Collect paragraphs in document order, noting the table cell of each."""
    for child in node:
        if child.tag == f"{_W}p":
            for line in _docx_paragraph(child, numbering):
                blocks.append((line, where))
        elif child.tag == f"{_W}tbl":
            table = tables[0]
            tables[0] += 1
            rows = [r for r in child if r.tag == f"{_W}tr"]
            for row_index, row in enumerate(rows):
                cells = [c for c in row if c.tag == f"{_W}tc"]
                for cell_index, cell in enumerate(cells):
                    _walk_docx(
                        cell, numbering, blocks, (table, row_index, cell_index), tables
                    )
        elif child.tag not in (f"{_W}sectPr", f"{_W}pPr", f"{_W}rPr"):
            _walk_docx(child, numbering, blocks, where, tables)


def _docx_paragraph(
    paragraph: ElementTree.Element, numbering: _DocxNumbering
) -> list[str]:
    label = numbering.label(paragraph)
    parts: list[str] = [label] if label else []
    for node in paragraph.iter():
        if node.tag == f"{_W}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{_W}tab":
            parts.append("\t")
        elif node.tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
    # A manual line break inside a Word paragraph starts a new line of text.
    return [line for line in "".join(parts).split("\n") if line.strip()]


def _parse_xml(data: bytes) -> ElementTree.Element:
    # Safe here: ElementTree never fetches external entities, and the bundled
    # expat (>= 2.4.1) refuses entity-expansion bombs.
    return ElementTree.fromstring(data)  # noqa: S314


def _attr(node: ElementTree.Element | None, name: str) -> str | None:
    if node is None:
        return None
    return node.get(f"{_W}{name}")


@dataclass
class _Level:
    fmt: str
    text: str
    start: int


class _DocxNumbering:
    """Renders Word's automatic list numbers (一、 （一） 1.), which are not in the text."""

    def __init__(self, levels: dict[str, dict[int, _Level]]) -> None:
        self.levels = levels  # numId -> ilvl -> level
        self.counters: dict[str, dict[int, int]] = {}

    @classmethod
    def load(cls, archive: zipfile.ZipFile) -> _DocxNumbering:
        try:
            info = archive.getinfo("word/numbering.xml")
        except KeyError:
            return cls({})
        if info.file_size > MAX_DOCX_XML_BYTES:
            return cls({})
        root = _parse_xml(archive.read(info))
        abstract: dict[str, dict[int, _Level]] = {}
        for node in root.iter(f"{_W}abstractNum"):
            levels: dict[int, _Level] = {}
            for lvl in node.iter(f"{_W}lvl"):
                ilvl = int(_attr(lvl, "ilvl") or 0)
                start = _attr(lvl.find(f"{_W}start"), "val")
                levels[ilvl] = _Level(
                    fmt=_attr(lvl.find(f"{_W}numFmt"), "val") or "decimal",
                    text=_attr(lvl.find(f"{_W}lvlText"), "val") or "",
                    start=int(start) if start and start.isdigit() else 1,
                )
            abstract[_attr(node, "abstractNumId") or ""] = levels
        nums: dict[str, dict[int, _Level]] = {}
        for node in root.iter(f"{_W}num"):
            ref = _attr(node.find(f"{_W}abstractNumId"), "val") or ""
            nums[_attr(node, "numId") or ""] = abstract.get(ref, {})
        return cls(nums)

    def label(self, paragraph: ElementTree.Element) -> str:
        num_pr = paragraph.find(f"{_W}pPr/{_W}numPr")
        if num_pr is None:
            return ""
        num_id = _attr(num_pr.find(f"{_W}numId"), "val") or ""
        ilvl = int(_attr(num_pr.find(f"{_W}ilvl"), "val") or 0)
        levels = self.levels.get(num_id)
        if not levels or ilvl not in levels:
            return ""
        counters = self.counters.setdefault(num_id, {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]

        def value(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            spec = levels.get(level)
            number = counters.get(level, spec.start if spec else 1)
            return _format_number(number, spec.fmt if spec else "decimal")

        if levels[ilvl].fmt in ("bullet", "none"):
            return ""
        return re.sub(r"%([1-9])", value, levels[ilvl].text)


def _format_number(number: int, fmt: str) -> str:
    if fmt.startswith(("chinese", "ideograph", "japanese", "taiwanese")):
        return format_chinese(number)
    if fmt == "lowerLetter" and 1 <= number <= 26:
        return chr(ord("a") + number - 1)
    if fmt == "upperLetter" and 1 <= number <= 26:
        return chr(ord("A") + number - 1)
    return str(number)


# --------------------------------------------------------------------------
# Re-flowing wrapped plain text

# What starts a paragraph of its own in a notice (checked on normalised text).
_BLOCK_START = re.compile(
    rf"""^(?:
        问题\s*[0-9{HEADING_DIGITS}]+
      | 第[0-9{HEADING_DIGITS}]+个?方面
      | [{HEADING_DIGITS}]+、
      | （[{HEADING_DIGITS}0-9]+）
      | [0-9]+[.．、](?![0-9A-Za-z])
      | 关于.*问题
      | 整改(?:状态|过程|措施|情况|进展|落实情况|时限|结果|成效|目标)
      | 责任(?:单位|股室|领导|人|部门)
      | 牵头(?:单位|领导)
      | 完成(?:情况|时限)
      | (?:具体|主要|问题)表现
      | 来源|发布(?:时间|日期)|当前位置|联系方式|附件|特此通报
      | [{HEADING_DIGITS}]+是
    )""",
    re.VERBOSE,
)
_TERMINAL = set("。！？；：!?;:")
# A wrapped line may stop short of the width: a wide character that did not
# fit, or a comma that may not open a line, was moved down.
WRAP_SLACK = {"width": 2, "chars": 1}
_CLOSERS = set("”’）)」』】》")
_CONTINUES = set("，、,（(“‘《「『【")


@dataclass
class _Line:
    text: str  # stripped raw text
    indent: int  # leading blank columns
    width: int  # display columns
    chars: int
    terminal: bool  # ends a sentence
    continues: bool  # ends inside a clause or an open bracket
    starts_block: bool


def _line_info(raw_line: str) -> _Line:
    stripped = raw_line.strip()
    leading = raw_line[: len(raw_line) - len(raw_line.lstrip())]
    end = stripped.rstrip("".join(_CLOSERS))
    opened = sum(stripped.count(c) for c in "(（“《「『【") - sum(
        stripped.count(c) for c in ")）”》」』】"
    )
    return _Line(
        text=stripped,
        indent=display_width(leading.replace("\t", "    ")),
        width=display_width(stripped),
        chars=len(stripped),
        terminal=bool(end) and end[-1] in _TERMINAL,
        continues=bool(stripped) and (stripped[-1] in _CONTINUES or opened > 0),
        starts_block=bool(_BLOCK_START.match(normalise_paragraph(stripped[:40]))),
    )


def _wrap_widths(
    lines: Sequence[_Line | None], joinable: Sequence[int]
) -> dict[str, int]:
    """Find the width most joinable lines were cut at, by columns and by characters.

    A metric counts only when at least three joinable lines, and at least half
    of them, end within two of one width: a wrapped text, not a run of headings.
    """
    found: dict[str, int] = {}
    for metric, floor in (("width", 24), ("chars", 12)):
        values = [getattr(lines[i], metric) for i in joinable]
        best, best_count = 0, 0
        for candidate in sorted(set(values), reverse=True):
            if candidate < floor:
                break
            count = sum(
                1 for v in values if candidate - WRAP_SLACK[metric] <= v <= candidate
            )
            if count > best_count:
                best, best_count = candidate, count
        if best_count >= 3 and best_count * 2 >= len(joinable):
            found[metric] = best
    return found


def reflow(raw_lines: Iterable[str]) -> list[str]:
    """Join lines that were wrapped inside a paragraph; blank lines always split."""
    lines = [_line_info(line) if line.strip() else None for line in raw_lines]
    joinable = [
        i
        for i, line in enumerate(lines[:-1])
        if line is not None
        and not line.terminal
        and (following := lines[i + 1]) is not None
        and not following.starts_block
    ]
    widths = _wrap_widths(lines, joinable)
    paragraphs: list[str] = []
    current: list[str] = []
    previous: _Line | None = None
    for line in lines:
        if line is None:
            if current:
                paragraphs.append(_glue(current))
            current, previous = [], None
            continue
        if previous is not None and _joins(previous, line, widths):
            current.append(line.text)
        else:
            if current:
                paragraphs.append(_glue(current))
            current = [line.text]
        previous = line
    if current:
        paragraphs.append(_glue(current))
    return paragraphs


def _joins(previous: _Line, line: _Line, widths: dict[str, int]) -> bool:
    if line.starts_block:
        return False
    if previous.continues:
        return True
    if line.indent > 0 and line.indent >= previous.indent:
        return False  # an indented line opens a paragraph
    if previous.terminal:
        return False
    return any(getattr(previous, m) >= w - WRAP_SLACK[m] for m, w in widths.items())


def _glue(parts: list[str]) -> str:
    # Chinese wraps anywhere, and so do e-mail addresses and pinyin readings in
    # a hard-wrapped capture: the pieces go back together without a space.
    return "".join(parts)


# --------------------------------------------------------------------------
# Normalising one paragraph

# Full-width digits and Latin letters become ASCII, a few other full-width or
# small forms the usual ones, and zero-width characters and soft hyphens go.
_ALNUM = string.digits + string.ascii_uppercase + string.ascii_lowercase
_FULLWIDTH_ASCII = str.maketrans(
    "".join(chr(ord(c) + 0xFEE0) for c in _ALNUM) + "．＠﹐﹔﹕「」『』",
    _ALNUM + ".@，；：“”‘’",
    "\u200b\u200c\u200d\u2060\ufeff\u00ad",
)

# A reading in brackets right after a character: 長(zhǎng), 的（de）.
_READING = re.compile(
    r"(?<=[\u3400-\u9fff\uf900-\ufaff])[ \t]?[(（][ \t]*([^\W\d_]{1,7})[ \t]*[)）]"
)
_SYLLABLE = re.compile(
    r"^(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|iao|ian|uai|uan|van"
    r"|ai|ei|ao|ou|an|en|er|in|ia|ie|iu|ua|uo|ui|un|ve|vn|ue|a|o|e|i|u|v)$"
)
# The start of a syllable, for a reading the end of the text cut short.
_SYLLABLE_START = re.compile(r"^(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?[aeiouv]*[nrg]*$")
_TONE_MARKS = frozenset("\u0304\u0301\u030c\u0300")


def _plain_syllable(text: str) -> tuple[str, bool]:
    """Return ``text`` without tone marks (ü as v), and whether it had any."""
    decomposed = unicodedata.normalize("NFD", text)
    toned = any(c in _TONE_MARKS for c in decomposed)
    plain = decomposed.replace("u\u0308", "v")
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return plain, toned


def is_reading(text: str, *, toneless: bool) -> bool:
    """Return whether ``text`` is a pinyin reading (toneless ones only if allowed)."""
    if text != text.lower() or not text.isalpha():
        return False
    plain, toned = _plain_syllable(text)
    if not plain.isascii() or not _SYLLABLE.match(plain):
        return False
    return toned or toneless


def count_readings(text: str) -> int:
    """Count the tone-marked readings in ``text`` (a sign of a pinyin capture)."""
    text = unicodedata.normalize("NFC", text)
    return sum(
        1 for m in _READING.finditer(text) if is_reading(m.group(1), toneless=False)
    )


def strip_readings(text: str, *, toneless: bool = False) -> str:
    """Drop pinyin readings after characters; leave every other bracket alone."""

    def replace(match: re.Match[str]) -> str:
        return "" if is_reading(match.group(1), toneless=toneless) else match.group(0)

    return _READING.sub(replace, text)


def _neighbour(text: str, index: int, step: int) -> str:
    index += step
    while 0 <= index < len(text) and text[index] in " \t":
        index += step
    return text[index] if 0 <= index < len(text) else ""


_WIDE = {"(": "（", ")": "）", ",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}


def widen_punctuation(text: str) -> str:
    """Give ASCII punctuation among Chinese text its full-width form."""
    chars = list(text)
    # Brackets as pairs, so that (一) does not become （一).
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    for index, char in enumerate(chars):
        if char == "(":
            stack.append(index)
        elif char == ")" and stack:
            pairs.append((stack.pop(), index))
    paired: set[int] = set()
    for start, end in pairs:
        paired.update((start, end))
        inside = text[start + 1 : end]
        if (
            any(is_cjk(c) for c in inside)
            or is_cjk(_neighbour(text, start, -1))
            or is_cjk(_neighbour(text, end, +1))
        ):
            chars[start], chars[end] = "（", "）"
    for index, char in enumerate(chars):
        if char not in _WIDE or index in paired:
            continue
        before, after = _neighbour(text, index, -1), _neighbour(text, index, +1)
        if not (is_cjk(before) or is_cjk(after)):
            continue  # 16:17, 1,000, a URL or an address
        chars[index] = _WIDE[char]
    text = "".join(chars)
    if '"' in text and text.count('"') % 2 == 0 and any(is_han(c) for c in text):
        quotes = iter(["“", "”"] * (text.count('"') // 2))
        text = re.sub('"', lambda _m: next(quotes), text)
    return text


_SPACES = re.compile(r"\s+")


def collapse_spaces(text: str) -> str:
    """Remove spaces that Chinese text does not use; keep one where fields part."""

    def replace(match: re.Match[str]) -> str:
        start, end = match.span()
        before = text[start - 1] if start > 0 else ""
        after = text[end] if end < len(text) else ""
        if not before or not after:
            return ""
        if (before in _CJK_PUNCT or after in _CJK_PUNCT) or (
            is_cjk(before) and is_cjk(after) and match.group(0) == " "
        ):
            return ""
        return " "

    return _SPACES.sub(replace, text)


_CUT_READING = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])[(（][^\W\d_]*$")


def normalise_paragraph(text: str, *, pinyin_capture: bool = False) -> str:
    """Normalise one paragraph: readings, script, punctuation, spaces.

    In order: Unicode NFC (so tone marks are single characters); pinyin
    readings after characters dropped (長(zhǎng) -> 長) while (一), (境) or
    (2023) stay; full-width digits and letters to ASCII; traditional to
    simplified (OpenCC t2s); ASCII ( ) : , ; ? ! " among Chinese text to their
    full-width forms, never inside numbers, times, e-mail addresses or URLs;
    stray spaces between Chinese characters removed. In a capture that added
    readings, toneless ones such as (de) go too, and so does a reading cut off
    where the text ends.
    """
    text = unicodedata.normalize("NFC", text)
    text = strip_readings(text, toneless=pinyin_capture)
    if pinyin_capture:
        match = _CUT_READING.search(text)
        if match and (
            not match.group(0)[1:]
            or is_reading(match.group(0)[1:], toneless=True)
            or _SYLLABLE_START.match(_plain_syllable(match.group(0)[1:])[0])
        ):
            text = text[: match.start()]
    text = text.translate(_FULLWIDTH_ASCII)
    text = to_simplified(text)
    text = widen_punctuation(text)
    return collapse_spaces(text).strip()


def _normalise_all(blocks: Sequence[str]) -> tuple[str, ...]:
    # Toneless readings such as (de) are dropped only where the capture plainly
    # added readings; elsewhere (ai) or (app) could be real text.
    pinyin = count_readings("\n".join(blocks)) >= 3
    paragraphs = (normalise_paragraph(b, pinyin_capture=pinyin) for b in blocks)
    return tuple(p for p in paragraphs if p)
