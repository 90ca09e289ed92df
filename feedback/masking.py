"""Removing personal data from text before it is published: pure functions."""

from __future__ import annotations

import re

# Mainland ID numbers (18 characters, the last may be X), mobile and landline
# numbers, e-mail addresses. Each becomes a marker of the same kind.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)")
# ASCII only: \w would also match the Chinese written right against an
# address (邮箱li@x.cn今后…) and take whole sentences with it. The full-width
# ＠ is how some people write an address to keep it from robots.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+[@＠][A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

ID_MARK = "［身份证号已隐去］"
PHONE_MARK = "［电话已隐去］"
EMAIL_MARK = "［邮箱已隐去］"
NAME_MARK = "［姓名已隐去］"


def mask(text: str, names: list[str] | tuple[str, ...] = ()) -> str:
    """Return ``text`` with ID numbers, phone numbers, e-mail addresses and the
    given names replaced by markers that say what was removed."""
    masked = _EMAIL.sub(EMAIL_MARK, text)
    masked = _ID_NUMBER.sub(ID_MARK, masked)
    masked = _MOBILE.sub(PHONE_MARK, masked)
    masked = _LANDLINE.sub(PHONE_MARK, masked)
    for name in sorted(
        {n.strip() for n in names if n and n.strip()}, key=len, reverse=True
    ):
        masked = masked.replace(name, NAME_MARK)
        if len(name) >= 2:
            # 张三 is also written 张先生 / 张女士 / 张老师.
            for title in ("先生", "女士", "老师", "同志"):
                masked = masked.replace(name[0] + title, NAME_MARK)
    return masked
