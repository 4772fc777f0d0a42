"""The wording a page shows for an instrument: a site's licensed text when loaded, else neutral placeholders.

The ODI 2.1a statements are licensed (Mapi Research Trust): the repository ships section names and scoring
only. A site loads its licensed wording from its own file (`manage.py load_instrument_text FILE`, JSON or
YAML); this module checks such a file strictly and never repeats its wording in a message.

    instrument: odi                       instrument: vas
    version: "2.1a"                       version: "1.0"
    language: en | zh-hans                language: en | zh-hans
    title: ...                            title: ...
    instructions: ...                     instructions: ...
    sections:                             anchors: {low: ..., high: ...}
      - {code: pain_intensity, title: ..., statements: [six statements, 0 first]}
      - ... ten sections in the questionnaire's order

An optional `demonstration: true` marks a file as demonstration wording, not the licensed text (the demo's
own, followup/instruments/demo_wording/): pages say so, and the demo never loads over a site's real wording.
"""

import json
import re

import yaml
from django.utils.translation import gettext as _

from trial.errors import InvalidInput
from trial.i18n import LANGUAGES, language_code, localized
from trial.yamltext import yaml_load

from .registry import INSTRUMENTS, ODI, VAS, InstrumentDef, instrument_def

MAX_FILE_BYTES = 1_000_000  # a questionnaire's wording is a few kilobytes; anything bigger is the wrong file
MAX_TEXT = {"title": 500, "instructions": 5000, "statement": 1000, "anchor": 200}
# Control characters but tab and line breaks: PostgreSQL's jsonb refuses NUL, and none belongs in wording.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

PLACEHOLDER_INSTRUCTIONS = {
    "en": "Licensed wording not loaded: neutral placeholders are shown. A data manager loads the site's "
    "licensed text with manage.py load_instrument_text.",
    "zh-hans": "未载入授权文本：以下为中性占位内容。"  # noqa: RUF001
    "数据管理员可使用 manage.py load_instrument_text 载入本中心的授权文本。",
}
PLACEHOLDER_STATEMENT = {"en": "Statement {n}", "zh-hans": "陈述 {n}"}
PLACEHOLDER_ENDS = {"en": (" (least)", " (most)"), "zh-hans": ("（最轻）", "（最重）")}  # noqa: RUF001
VAS_ANCHORS = {  # the VAS is not licensed: its usual anchors (domain.md) serve until a site loads its own
    "low": {"en": "No pain", "zh-hans": "无痛"},
    "high": {"en": "Worst pain imaginable", "zh-hans": "能想象的最剧烈疼痛"},
}
# What the patient's page is titled until a site loads its own: no "0-100 mm" from the registry's name, since
# the patient marks an unnumbered line (a number in sight biases the mark).
VAS_TITLE = {"en": "Your pain", "zh-hans": "您的疼痛"}


def _placeholder_statements(language: str, count: int) -> list[str]:
    first, last = PLACEHOLDER_ENDS[language]
    statements = [PLACEHOLDER_STATEMENT[language].format(n=n) for n in range(count)]
    statements[0] += first
    statements[-1] += last
    return statements


def placeholder_text(instrument: InstrumentDef, language: str) -> dict:
    """Section names and neutral placeholders: clearly not the questionnaire's wording."""
    text = {
        "instrument": instrument.code,
        "version": instrument.version,
        "language": language,
        "licensed": False,  # the site's real wording is loaded
        "demonstration": False,  # the demo's wording is loaded: answerable, but not the instrument's text
        "source_sha256": "",
        "name": localized(instrument.name, language),
        "title": localized(instrument.name, language),
        "instructions": PLACEHOLDER_INSTRUCTIONS[language],
    }
    if instrument is VAS:
        text["title"] = localized(VAS_TITLE, language)
        text["anchors"] = {end: localized(words, language) for end, words in VAS_ANCHORS.items()}
    else:
        text["sections"] = [
            {
                "code": section.code,
                "name": localized(section.name, language),
                "title": localized(section.name, language),
                "statements": _placeholder_statements(language, instrument.statements_per_section),
            }
            for section in instrument.sections
        ]
    return text


def instrument_text(instrument: str, version: str, language: str | None) -> dict:
    """What a page shows: the loaded licensed wording in `language`, else placeholders (`licensed` False).

    One query. Keys: instrument, version, language, licensed, demonstration (the loaded text is the demo's),
    source_sha256, name, title, instructions, and sections [{code, name, title, statements}] (ODI) or anchors
    {low, high} (VAS).
    """
    from followup.models import InstrumentText  # the one read of this package: imported where it is used

    definition = instrument_def(instrument)
    language = language_code(language)
    text = placeholder_text(definition, language)
    loaded = InstrumentText.objects.filter(
        instrument=instrument, instrument_version=version, language=language
    ).first()
    if loaded is None or version != definition.version:
        return text
    content = loaded.content
    demonstration = content.get("demonstration") is True
    text.update(
        licensed=not demonstration,
        demonstration=demonstration,
        source_sha256=loaded.source_sha256,
        title=content["title"],
        instructions=content["instructions"],
    )
    if definition is VAS:
        text["anchors"] = dict(content["anchors"])
    else:
        for section, words in zip(text["sections"], content["sections"], strict=True):
            section.update(title=words["title"], statements=list(words["statements"]))
    return text


def instrument_text_loaded(instrument: InstrumentDef, language: str) -> bool:
    """Whether wording (a site's or the demo's) is loaded for the instrument's version in `language`.

    One query."""
    from followup.models import InstrumentText

    return InstrumentText.objects.filter(
        instrument=instrument.code, instrument_version=instrument.version, language=language
    ).exists()


# --- a site's file ------------------------------------------------------------------------------------------


def text_file_parse(raw: bytes, *, name: str):
    """The file's data: JSON when it is named *.json, else YAML. Errors give a line, never the text."""
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput(_("The file is too large."), field_errors={"file": [_("At most 1 MB.")]})
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            _("The file is not UTF-8."), field_errors={"file": [_("Save it as UTF-8 text.")]}
        ) from exc
    try:
        if name.lower().endswith(".json"):
            return json.loads(text)
        return yaml_load(text)
    except json.JSONDecodeError as exc:
        where = _("line %(line)s, column %(column)s") % {"line": exc.lineno, "column": exc.colno}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (
            _("line %(line)s, column %(column)s") % {"line": mark.line + 1, "column": mark.column + 1}
            if mark
            else _("unknown place")
        )
    raise InvalidInput(
        _("The file cannot be read."), field_errors={"file": [_("Not valid JSON or YAML at %s.") % where]}
    )


class _Problems:
    """Every problem of a file, keyed by where it is: a site fixes them all in one pass."""

    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def add(self, where: str, message: str) -> None:
        self.errors.setdefault(where, []).append(message)

    def keys(self, where: str, value: dict, allowed: tuple[str, ...]) -> None:
        """Unknown keys are refused (a typo must not drop wording silently); missing ones are reported by the
        check of their value."""
        for key in value:
            if key not in allowed:
                self.add(f"{where}.{str(key)[:40]}" if where else str(key)[:40], _("Unknown field."))

    def text(self, where: str, value, limit: int) -> str:
        if not isinstance(value, str) or not value.strip():
            self.add(where, _("Text is needed."))
            return ""
        if len(value) > limit:
            self.add(where, _("At most %(limit)s characters.") % {"limit": limit})
        if CONTROL.search(value):
            self.add(where, _("Contains control characters."))
        return value.strip()


def text_file_clean(data) -> tuple[InstrumentDef, str, dict]:
    """Check a site's file strictly: (instrument, language, content to store), or InvalidInput naming every
    problem by its place ("sections[3].statements"). Messages never quote the file's wording."""
    problems = _Problems()
    if not isinstance(data, dict):
        raise InvalidInput(
            _("The file is not valid."), field_errors={"file": [_("A mapping with instrument, version, ...")]}
        )
    instrument = INSTRUMENTS.get(data.get("instrument")) if isinstance(data.get("instrument"), str) else None
    if instrument is None:
        raise InvalidInput(
            _("The file is not valid."),
            field_errors={"instrument": [_("One of: %(codes)s.") % {"codes": ", ".join(INSTRUMENTS)}]},
        )
    body = ("sections",) if instrument is ODI else ("anchors",)
    problems.keys(
        "", data, ("instrument", "version", "language", "title", "instructions", "demonstration", *body)
    )
    if data.get("version") != instrument.version:
        problems.add(
            "version",
            _('This installation scores version "%(version)s" (a quoted text).')
            % {"version": instrument.version},
        )
    language = data.get("language")
    if language not in LANGUAGES:
        problems.add("language", _("One of: %(languages)s.") % {"languages": ", ".join(LANGUAGES)})
    content = {
        "title": problems.text("title", data.get("title"), MAX_TEXT["title"]),
        "instructions": problems.text("instructions", data.get("instructions"), MAX_TEXT["instructions"]),
    }
    demonstration = data.get("demonstration", False)
    if not isinstance(demonstration, bool):
        problems.add("demonstration", _("true or false."))
    elif demonstration:
        content["demonstration"] = True  # absent from a site's real wording: its stored content is unchanged
    if instrument is ODI:
        content["sections"] = _clean_sections(problems, data.get("sections"))
    else:
        content["anchors"] = _clean_anchors(problems, data.get("anchors"))
    if problems.errors:
        raise InvalidInput(_("The file is not valid."), field_errors=problems.errors)
    return instrument, language, content


def _clean_sections(problems: _Problems, sections) -> list[dict]:
    expected = ODI.sections
    if not isinstance(sections, list) or len(sections) != len(expected):
        problems.add(
            "sections",
            _("%(count)s sections are needed, in the questionnaire's order.") % {"count": len(expected)},
        )
        return []
    clean = []
    for i, (section, definition) in enumerate(zip(sections, expected, strict=True)):
        where = f"sections[{i}]"
        if not isinstance(section, dict):
            problems.add(where, _("A mapping with code, title and statements."))
            continue
        problems.keys(where, section, ("code", "title", "statements"))
        if "code" in section and section["code"] != definition.code:
            problems.add(f"{where}.code", _("Expected %(code)s here.") % {"code": definition.code})
        statements = section.get("statements")
        count = ODI.statements_per_section
        if not isinstance(statements, list) or len(statements) != count:
            given = len(statements) if isinstance(statements, list) else 0
            problems.add(
                f"{where}.statements",
                _("%(count)s statements are needed (first = 0 ... last = 5); %(given)s given.")
                % {"count": count, "given": given},
            )
            statements = []
        clean.append(
            {
                "code": definition.code,
                "title": problems.text(f"{where}.title", section.get("title"), MAX_TEXT["title"]),
                "statements": [
                    problems.text(f"{where}.statements[{j}]", statement, MAX_TEXT["statement"])
                    for j, statement in enumerate(statements)
                ],
            }
        )
    return clean


def _clean_anchors(problems: _Problems, anchors) -> dict:
    if not isinstance(anchors, dict):
        problems.add("anchors", _("A mapping with low and high."))
        return {}
    problems.keys("anchors", anchors, ("low", "high"))
    return {
        end: problems.text(f"anchors.{end}", anchors.get(end), MAX_TEXT["anchor"]) for end in ("low", "high")
    }
