"""The demo's ODI wording: demonstration text, plainly marked, so that a patient link can be tried.

The licensed ODI 2.1a wording is never in the repository, and a link is refused until wording is loaded
(followup.services.links). seed_demo loads the files in instruments/demo_wording/ (`demonstration: true`,
checked by the same loader as a site's file) in each language that has no wording yet, or only the demo's.
A site's own wording is never replaced: a real file loaded later replaces the demo's, never the reverse.
"""

from pathlib import Path

from trial.hooks import DemoAdded
from trial.models import Study

from .models import InstrumentText
from .services.questionnaires import instrument_text_load

DEMO_WORDING = Path(__file__).parent / "instruments" / "demo_wording"


def demo_wording_files() -> list[Path]:
    return sorted(DEMO_WORDING.glob("*.yaml"))


def demo_wording_load(path: Path) -> tuple[InstrumentText, str]:
    """Load one demonstration file: ("created" | "updated" | "unchanged" | "kept: the site's wording").

    The file must say `demonstration: true` (a ValueError otherwise: a shipped file is wrong); a site's own
    wording, even one loaded at the same moment, is never overwritten (instrument_text_load).
    """
    return instrument_text_load(raw=path.read_bytes(), name=path.name, demonstration=True)


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
