"""Walking HTML as blocks of text: the elements and rules that mail and notice readers share."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from html.parser import HTMLParser

# Elements whose start and end part the text around them.
BLOCK = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "html",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
    }
)
# Elements whose content is never text a person wrote: page furniture, code,
# form controls, Office's embedded XML.
HIDDEN = frozenset(
    {
        "button",
        "head",
        "iframe",
        "noscript",
        "option",
        "script",
        "select",
        "style",
        "svg",
        "template",
        "title",
        "xml",
    }
)
# Elements that have neither content nor an end tag.
EMPTY = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
# Empty elements that end the current block.
BREAKS = frozenset({"br", "hr"})
# Table cells: each reader decides whether a cell parts the text of its row.
CELLS = frozenset({"td", "th"})

Attributes = list[tuple[str, str | None]]


class BlockWalker(HTMLParser):
    """Reads HTML as blocks of text; a subclass says what a finished block becomes.

    The rules every reader follows:

    - the start and the end tag of a block element end the current block,
      even an end tag that closes nothing (and so do ``</br>`` and ``</hr>``);
    - an end tag also closes what was opened inside its element and left open;
    - a hidden element (one of ``HIDDEN``) and its content are not there, up
      to its end tag or the end of an element around it: no text, and no
      block, ``<br>`` or ``<hr>`` inside it ends a block, so ``opening`` and
      ``closing`` hear only of visible elements;
    - an unclosed ``<head>`` ends, with whatever is still open inside it,
      where ``<body>`` starts; where a block element, ``<br>`` or ``<hr>``
      starts, it ends only if no other hidden element is open inside it;
    - ``<br>`` and ``<hr>`` end the current block; a subclass may draw them;
    - ``<meta>`` goes to ``metadata`` wherever it stands;
    - in a block's text, ``INVISIBLE`` characters go and each run of ``SPACE``
      becomes one space.
    """

    HIDDEN: frozenset[str] = HIDDEN
    SPACE: re.Pattern[str] = re.compile(r"\s+")
    INVISIBLE: re.Pattern[str] | None = None

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []  # the current block's text so far
        self.roles: Counter[str] = Counter()  # open elements by role
        self._stack: list[tuple[str, str]] = []  # open elements and their roles
        self._open: Counter[str] = Counter()  # open elements by tag

    def read(self, markup: str) -> None:
        """Walk all of ``markup``; broken markup ends the walk, keeping what was read.

        Python's HTML parser gives up on some malformed declarations (such as
        ``<![>``) with an AssertionError or a ValueError rather than skipping
        them; pages and mail with those are read up to that point.
        """
        with contextlib.suppress(AssertionError, ValueError):
            self.feed(markup)
            self.close()

    # What a subclass decides

    def end_block(self) -> None:
        """Finish the current block (``take_text`` gives its text)."""
        raise NotImplementedError

    def role(self, tag: str, attrs: Attributes) -> str:
        """Return what a non-hidden element means to this reader, or ""."""
        return ""

    def opening(self, tag: str, role: str) -> None:
        """Act on an element's start, before it counts as open."""
        if tag in BLOCK:
            self.end_block()

    def closing(self, tag: str, role: str) -> None:
        """Act on an element's end (role "" for an end tag that closes nothing)."""
        if tag in BLOCK or tag in BREAKS:
            self.end_block()

    def line_break(self) -> None:
        """Act on a visible ``<br>``."""
        self.end_block()

    def rule(self) -> None:
        """Act on a visible ``<hr>``."""
        self.end_block()

    def metadata(self, attrs: Attributes) -> None:
        """Read a ``<meta>`` element."""

    # Text

    @property
    def hidden(self) -> bool:
        """Tell whether the walk is inside a hidden element."""
        return self.roles["hidden"] > 0

    def take_text(self, *, preformatted: bool = False) -> str:
        """Return the current block's text, cleaned, and start a new one."""
        raw = "".join(self.chunks)
        self.chunks = []
        if self.INVISIBLE is not None:
            raw = self.INVISIBLE.sub("", raw)
        if preformatted:
            return raw.rstrip()
        return self.SPACE.sub(" ", raw).strip()

    # The walk

    def handle_starttag(self, tag: str, attrs: Attributes) -> None:
        if tag == "meta":
            self.metadata(attrs)
        if self._ends_head(tag):
            self._close_from(self._stack.index(("head", "hidden")))
        if tag in EMPTY:
            if tag == "br" and not self.hidden:
                self.line_break()
            elif tag == "hr" and not self.hidden:
                self.rule()
            return
        role = "hidden" if tag in self.HIDDEN else self.role(tag, attrs)
        if not self.hidden and role != "hidden":
            self.opening(tag, role)
        self._stack.append((tag, role))
        self._open[tag] += 1
        self.roles[role] += 1

    def handle_startendtag(self, tag: str, attrs: Attributes) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in EMPTY:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self._open[tag]:
            if not self.hidden:
                self.closing(tag, "")
            return
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                self._close_from(index)
                return

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data)

    def _ends_head(self, tag: str) -> bool:
        """Tell whether the start of ``tag`` ends an unclosed <head>."""
        if not self._open["head"]:
            return False
        if tag == "body":
            return True  # even past a <title> left open: the page starts here
        # A block or a break has no place in <head>, but it may in a hidden
        # element open there (<template>, <noscript>), whose content it is.
        return (tag in BLOCK or tag in BREAKS) and self.roles["hidden"] == 1

    def _close_from(self, index: int) -> None:
        for tag, role in reversed(self._stack[index:]):
            self._open[tag] -= 1
            # What is above this element is closed already: hidden now means
            # this element is hidden or sits inside a hidden one.
            if not self.hidden:
                self.closing(tag, role)
            self.roles[role] -= 1
        del self._stack[index:]
