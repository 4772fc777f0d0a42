"""The demo's ODI wording: demonstration text, plainly marked, so that a patient link can be tried.

The licensed ODI 2.1a wording is never in the repository, and a link is refused until wording is loaded
(followup.services.links). seed_demo loads the files in instruments/demo_wording/ (`demonstration: true`,
checked by the same loader as a site's file) in each language that has no wording yet, or only the demo's.
A site's own wording is never replaced: a real file loaded later replaces the demo's, never the reverse.
"""

import hashlib
from pathlib import Path

from django.db import transaction

from trial.audit import audit_context
from trial.hooks import DemoAdded
from trial.models import Study

from .instruments.texts import text_file_clean, text_file_parse
from .models import InstrumentText

DEMO_WORDING = Path(__file__).parent / "instruments" / "demo_wording"


def demo_wording_files() -> list[Path]:
    return sorted(DEMO_WORDING.glob("*.yaml"))


def demo_wording_load(path: Path) -> tuple[InstrumentText, str]:
    """Load one demonstration file: ("created" | "updated" | "unchanged" | "kept: the site's wording").

    The file must say `demonstration: true` (a ValueError otherwise: a shipped file is wrong). Atomic, with
    the language's row locked, so a site loading its real wording at the same moment is never overwritten.
    """
    raw = path.read_bytes()
    definition, language, content = text_file_clean(text_file_parse(raw, name=path.name))
    if content.get("demonstration") is not True:
        raise ValueError(f"{path.name} is not marked `demonstration: true`")
    digest = hashlib.sha256(raw).hexdigest()
    with transaction.atomic(durable=True), audit_context(command="seed_demo"):
        text = (
            InstrumentText.objects.select_for_update()
            .filter(instrument=definition.code, instrument_version=definition.version, language=language)
            .first()
        )
        if text is not None and text.content.get("demonstration") is not True:
            return text, "kept: the site's wording"
        if text is not None and text.content == content and text.source_sha256 == digest:
            return text, "unchanged"
        state = "updated" if text else "created"
        if text is None:
            text = InstrumentText(
                instrument=definition.code, instrument_version=definition.version, language=language
            )
        text.content, text.source_sha256 = content, digest
        text.save()
        return text, state


def demo_wording_stage(*, study: Study, seed: int) -> DemoAdded:
    """trial.hooks.demo_stages: the demonstration wording in every language (installation-wide, so the
    study and the seed change nothing)."""
    states = []
    for path in demo_wording_files():
        text, state = demo_wording_load(path)
        states.append(f"{text.language} {state}")
    return DemoAdded(
        name="followup_wording",
        line=f"ODI demonstration wording (not the licensed text): {', '.join(states)}",
    )
