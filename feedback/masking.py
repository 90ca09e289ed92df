"""Removing personal data from text before it is published: pure functions."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterable

# Mainland ID numbers (18 characters, the last may be X), mobile and landline
# numbers, e-mail addresses. Each becomes a marker of the same kind.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)")
# ASCII only: \w would also match the Chinese written right against an
# address (邮箱li@x.cn今后…) and take whole sentences with it. The full-width
# ＠ is how some people write an address to keep it from robots.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+[@＠][A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_DIGITS = re.compile(r"\D")

ID_MARK = "［身份证号已隐去］"
PHONE_MARK = "［电话已隐去］"
EMAIL_MARK = "［邮箱已隐去］"
NAME_MARK = "［姓名已隐去］"

# How a name is addressed: 张三同志, or by surname, 张先生 / 张女士 / 张老师.
TITLES = ("同志", "先生", "女士", "老师")


def _address(text: str) -> str:
    return text.replace("＠", "@").lower()


def _number(text: str) -> str:
    return _DIGITS.sub("", text)


def _kept(
    pattern: re.Pattern[str],
    mark: str,
    text: str,
    keep: set[str],
    key: Callable[[str], str],
) -> str:
    """Replace what ``pattern`` finds by ``mark``, unless its ``key`` is kept."""

    def replace(found: re.Match[str]) -> str:
        return found.group(0) if key(found.group(0)) in keep else mark

    return pattern.sub(replace, text)


def _greeting(name: str) -> re.Pattern[str]:
    """Match a salutation that opens a line: 张三同志：, 张先生， or 张三：."""
    forms = [re.escape(name + title) for title in TITLES]
    if len(name) >= 2:
        forms += [re.escape(name[0] + title) for title in TITLES]
    titled = "|".join(forms)
    return re.compile(
        rf"(?m)^(?P<indent>[ \t\u3000]*)(?:(?P<titled>{titled})|{re.escape(name)})"
        r"[ \t]*(?P<mark>[：:，,])(?P<rest>[ \t]*\n?)"
    )


def _salute(found: re.Match[str]) -> str:
    """Keep the salutation's title (同志：您好 reads as a letter), drop the name;
    a bare name goes with its line ending, so the letter opens with what followed."""
    titled = found.group("titled")
    if titled is None:
        return found.group("indent")
    title = next(t for t in TITLES if titled.endswith(t))
    return found.expand(rf"\g<indent>{title}\g<mark>\g<rest>")


def mask(text: str, names: Iterable[str] = (), keep: Iterable[str] = ()) -> str:
    """Return ``text`` with ID numbers, phone numbers, e-mail addresses and the
    given names replaced by markers that say what was removed.

    A greeting keeps its title and loses the name (张三同志：您好 becomes
    同志：您好). ``keep`` lists phone numbers and e-mail addresses that stay
    as written: the bureau's own published contacts.
    """
    kept_addresses = {_address(k) for k in keep if "@" in k or "＠" in k}
    kept_numbers = {_number(k) for k in keep} - {""}
    masked = _kept(_EMAIL, EMAIL_MARK, text, kept_addresses, _address)
    masked = _ID_NUMBER.sub(ID_MARK, masked)
    masked = _kept(_MOBILE, PHONE_MARK, masked, kept_numbers, _number)
    masked = _kept(_LANDLINE, PHONE_MARK, masked, kept_numbers, _number)
    for name in sorted(
        {n.strip() for n in names if n and n.strip()}, key=len, reverse=True
    ):
        masked = _greeting(name).sub(_salute, masked)
        masked = masked.replace(name, NAME_MARK)
        if len(name) >= 2:
            for title in TITLES:
                masked = masked.replace(name[0] + title, NAME_MARK)
    return masked
