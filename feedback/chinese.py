"""Chinese script conversion (OpenCC) and pinyin (pypinyin): pure text functions."""

from __future__ import annotations

from functools import cache
from functools import lru_cache

import opencc
from markupsafe import escape
from markupsafe import Markup


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_traditional(text: str) -> str:
    """Convert simplified text to traditional characters (no vocabulary changes).

    Taiwan's standard forms (s2tw) are the ones the bureau's own traditional
    pages use: 為 and 核, where OpenCC's generic s2t writes 爲 and 覈. They are
    reached in two steps, s2t then t2tw, which write the same text as OpenCC's
    s2tw: its one step loads the phrase table twice (for segmenting and for
    converting), 43 MB in each process where the two steps take 27 MB.
    """
    return _converter("t2tw").convert(_converter("s2t").convert(text))


@lru_cache(maxsize=4096)
def to_traditional_cached(text: str) -> str:
    """:func:`to_traditional`, remembered: for the interface's own wording.

    A page asks for the same few hundred strings on every request; only text
    from a closed set (catalogue entries, labels) belongs here, never what
    varies without bound.
    """
    return to_traditional(text)


def to_simplified(text: str) -> str:
    """Convert traditional text to simplified characters."""
    return _converter("t2s").convert(text)


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def _no_readings(chars: str) -> list[None]:
    """Leave characters pypinyin cannot read without a reading."""
    return [None] * len(chars)


def _readings(text: str) -> list[list[str]]:
    """Return pypinyin's tone-marked readings of ``text``, one list per character.

    pypinyin is imported here, on the first page that shows pinyin, not with
    the module: its import loads the phrase dictionary, about 57 MB in every
    process, and only care-mode readers who turned pinyin on ever need it.
    """
    import pypinyin  # noqa: PLC0415 - see the docstring

    # pypinyin takes a list back from the callback (one reading per character),
    # though its stub says a str.
    return pypinyin.pinyin(text, style=pypinyin.Style.TONE, errors=_no_readings)  # type: ignore[arg-type]


def with_pinyin(simplified: str, shown: str | None = None) -> Markup:
    """Return ``shown`` (default: ``simplified``) escaped, with pinyin in ``<ruby>``.

    Readings come from the simplified text, where pypinyin's phrase data is
    best; ``shown`` may be its traditional form when both are as long.
    """
    shown = simplified if shown is None else shown
    source = simplified if len(simplified) == len(shown) else shown
    readings = _readings(source)
    flat: list[str | None] = []
    for item in readings:
        flat.extend(item if len(item) == 1 else [item[0]])
    parts: list[str] = []
    for index, char in enumerate(shown):
        reading = flat[index] if index < len(flat) else None
        if reading and _is_han(char):
            parts.append(
                f"<ruby>{escape(char)}<rp>(</rp><rt>{escape(reading)}</rt><rp>)</rp></ruby>"
            )
        else:
            parts.append(str(escape(char)))
    return Markup("".join(parts))  # noqa: S704 - every piece escaped above
