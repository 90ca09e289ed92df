"""Chinese and Arabic numerals as notices write them: 十八, 二十三, 两, 〇, 18."""

from __future__ import annotations

import re

DIGITS: dict[str, int] = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "两": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
UNITS: dict[str, int] = {
    "十": 10,
    "拾": 10,
    "百": 100,
    "佰": 100,
    "千": 1000,
    "仟": 1000,
}

CN_CHARS = "".join(DIGITS) + "".join(UNITS)
# The numerals that number headings (一、 （二）) and write days and months.
HEADING_DIGITS = "一二三四五六七八九十"
# One number: Arabic digits, or Chinese numeral characters.
NUMBER = rf"(?:[0-9]+|[{CN_CHARS}]+)"
_CN_ONLY = re.compile(rf"[{CN_CHARS}]+")


def parse_chinese(text: str) -> int | None:
    """Return the value of a Chinese numeral such as 十八 or 一百零五, else None.

    A run of digits without units (二〇二四) is read digit by digit, as years
    are written.
    """
    if not text or not _CN_ONLY.fullmatch(text):
        return None
    if not any(char in UNITS for char in text):
        value = 0
        for char in text:
            value = value * 10 + DIGITS[char]
        return value
    total = 0
    pending: int | None = None
    last_unit = 10_000
    for char in text:
        if char in DIGITS:
            if pending is not None and DIGITS[char] != 0:
                return None  # two digits in a row inside a unit numeral
            pending = DIGITS[char] if DIGITS[char] != 0 else None
            continue
        unit = UNITS[char]
        if unit >= last_unit:
            return None  # 十百 or 百百: not a numeral
        total += (1 if pending is None else pending) * unit
        pending = None
        last_unit = unit
    return total + (pending or 0)


def parse_number(text: str) -> int | None:
    """Return the value of Arabic digits or a Chinese numeral, else None."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    return parse_chinese(text)


_CN_DIGITS = "〇一二三四五六七八九"


def format_chinese(value: int) -> str:
    """Write 0–99 the way headings number things (十八, 二十三); larger as digits."""
    if not 0 <= value < 100:
        return str(value)
    tens, ones = divmod(value, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "十" if tens == 1 else _CN_DIGITS[tens] + "十"
    return head + (_CN_DIGITS[ones] if ones else "")
