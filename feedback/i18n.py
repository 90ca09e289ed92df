"""The reader's language, script and reading aids, and the one place text is converted.

Simplified Chinese is the source language. Traditional script is not a catalogue
but a conversion: the interface's wording is converted as it is translated, and
official content from the database through :func:`official`. What a citizen
wrote never passes through either and is shown as written.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel import support
from flask import g
from flask import has_request_context
from flask import request
from flask import Response
from flask_babel import Domain
from flask_babel import get_locale
from markupsafe import escape
from markupsafe import Markup

from feedback import chinese
from feedback.models import Language

# Interface choices, as stored in the ``lang`` cookie, and their Babel locales.
LOCALES = {str(language): language.locale for language in Language}
DEFAULT_CHOICE = str(Language.SIMPLIFIED)
ONE_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Preferences:
    """What this reader chose: interface language, care mode, pinyin."""

    lang: str = DEFAULT_CHOICE
    care: bool = False
    pinyin: bool = False

    @property
    def traditional(self) -> bool:
        return self.lang == "zh-Hant"


def _from_accept_language() -> str:
    for tag, _quality in request.accept_languages:
        tag = tag.lower()
        if tag.startswith("zh"):
            traditional = any(mark in tag for mark in ("hant", "-tw", "-hk", "-mo"))
            return "zh-Hant" if traditional else "zh-Hans"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_CHOICE


def preferences() -> Preferences:
    """Return this request's reading preferences (cookies, then Accept-Language)."""
    cached = g.get("_preferences")
    if cached is not None:
        return cached
    lang = request.cookies.get("lang", "")
    prefs = Preferences(
        lang=lang if lang in LOCALES else _from_accept_language(),
        care=request.cookies.get("care") == "1",
        pinyin=request.cookies.get("pinyin") == "1",
    )
    g._preferences = prefs
    return prefs


def select_locale() -> str:
    """Return the Babel locale for this request."""
    if not has_request_context():
        return LOCALES[DEFAULT_CHOICE]
    return LOCALES[preferences().lang]


def html_lang() -> str:
    """Return the ``lang`` attribute for the page: zh-Hans, zh-Hant or en."""
    locale = str(get_locale() or LOCALES[DEFAULT_CHOICE])
    for choice, name in LOCALES.items():
        if name == locale:
            return choice
    return DEFAULT_CHOICE


def content_lang() -> str:
    """Return the ``lang`` of official content, which stays Chinese in English."""
    return "zh-Hant" if html_lang() == "zh-Hant" else "zh-Hans"


def _traditional_now() -> bool:
    # The locale's script, not str(locale): a page asks this hundreds of times.
    locale = get_locale()
    return locale is not None and locale.script == "Hant"


def script(text: str | None) -> str:
    """Convert official text to the reader's script (plain text, for attributes)."""
    if not text:
        return ""
    return chinese.to_traditional(text) if _traditional_now() else text


def official(text: str | None) -> Markup:
    """Render official content: the reader's script, with pinyin when asked for."""
    if not text:
        return Markup("")
    shown = script(text)
    # Pinyin is offered in care mode only, so outside it nothing could turn it off.
    if has_request_context() and preferences().care and preferences().pinyin:
        return chinese.with_pinyin(text, shown)
    return escape(shown)


def vary_by_reader(response: Response) -> Response:
    """Tell caches that a page differs by language choice and reading mode."""
    if response.mimetype == "text/html":
        response.vary.update(("Cookie", "Accept-Language"))
    return response


class _TraditionalTranslations(support.NullTranslations):
    """Hands back the simplified source wording in traditional characters."""

    def gettext(self, message: str) -> str:
        return chinese.to_traditional_cached(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return chinese.to_traditional_cached(msgid1 if n == 1 else msgid2)

    ugettext = gettext
    ungettext = ngettext


class ScriptDomain(Domain):
    """Flask-Babel's domain, with traditional Chinese made by conversion."""

    _traditional = _TraditionalTranslations()

    def get_translations(self) -> support.NullTranslations:
        """Return this request's translations, looked up once per request.

        A page translates about a hundred strings; each would otherwise
        format the locale's name and search the catalogue cache again. The
        translations are kept with the locale they are for, so a block under
        ``force_locale`` (a mail in its reader's language) gets its own.
        """
        locale = get_locale()
        if locale is None:
            return super().get_translations()
        held = g.get("_translations")
        if held is not None and held[0] is locale:
            return held[1]
        translations = (
            self._traditional if locale.script == "Hant" else super().get_translations()
        )
        g._translations = (locale, translations)
        return translations
