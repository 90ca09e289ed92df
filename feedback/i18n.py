"""Choosing the reader's language and script."""

from __future__ import annotations

from flask import request

SUPPORTED = ("zh_Hans_CN",)


def select_locale() -> str:
    """Return the locale for this request (simplified Chinese is the source)."""
    return request.accept_languages.best_match(SUPPORTED, default=SUPPORTED[0])


def html_lang(locale: str) -> str:
    """Return the BCP 47 tag for the ``lang`` attribute."""
    if locale.startswith("zh_Hant"):
        return "zh-Hant"
    if locale.startswith("zh"):
        return "zh-Hans"
    return locale.replace("_", "-")
