"""The languages of SpineTrial: every page, PDF, protocol text, form label and patient questionnaire.

Texts from data files (protocols, forms, instruments) are {"en": ..., "zh-hans": ...} mappings; this is the
one list of their languages and the one rule for picking a text. settings.LANGUAGES names the same codes for
Django's own machinery (tests/trial/test_i18n.py keeps the two in step).
"""

from django.utils.translation import get_language

LANGUAGES = ("en", "zh-hans")
DEFAULT_LANGUAGE = "en"


def language_code(language: str | None) -> str:
    """One of LANGUAGES for a language tag: every zh tag reads Simplified Chinese; anything else English."""
    language = (language or "").strip().lower().replace("_", "-")
    if language in LANGUAGES:
        return language
    if language.startswith("zh"):
        return "zh-hans"  # the only Chinese we have: nearer to a Traditional reader than English
    return DEFAULT_LANGUAGE


def localized(text: dict | None, language: str | None = None) -> str:
    """The text in `language` (default: the active language), falling back to English, then to any text."""
    if not text:
        return ""
    language = (language or get_language() or DEFAULT_LANGUAGE).lower()
    return text.get(language) or text.get(DEFAULT_LANGUAGE) or next(iter(text.values()), "")
