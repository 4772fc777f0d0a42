"""Labels in both languages ({"en": ..., "zh-hans": ...}), the shape every Column and data dictionary uses."""

from collections.abc import Callable

from django.utils import translation
from django.utils.functional import Promise

from trial.i18n import LANGUAGES

Text = dict | str | Promise | Callable[[], str]


def both(text: Text) -> dict:
    """A text in every language: a {language: text} dict as it is, a lazily translated string (or a function
    returning one) evaluated in each language; a plain string (a code, a level) the same in all."""
    if isinstance(text, dict):
        return text
    out = {}
    for language in LANGUAGES:
        with translation.override(language):
            out[language] = str(text() if callable(text) else text)
    return out


def label_join(*parts: Text) -> dict:
    """Parts of a label joined per language: "ODI: 3 months: change from baseline"."""
    texts = [both(part) for part in parts]
    return {
        language: ("\uff1a" if language.startswith("zh") else ": ").join(
            t.get(language, t.get("en", "")) for t in texts
        )
        for language in LANGUAGES
    }


def text_choices(choices) -> tuple[tuple[str, dict], ...]:
    """A model's TextChoices as Column choices."""
    return tuple((value, both(label)) for value, label in choices.choices)
