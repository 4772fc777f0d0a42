"""The codes of the shipped protocol files (settings.PROTOCOL_DIR, what `load_protocols` loads by default),
read for the API's schema: the studies, their sites, and (crf/apis/codes.py) their forms.

From the files, not the database, so that the schema can be generated without one (a build step, a client
generator, a test at import). A protocol loaded from another file is still accepted by the server; its codes
are not listed. The server judges every code against the protocol at hand (400 naming the field).
"""

import functools
from pathlib import Path

from django.conf import settings

from ..yamltext import yaml_load


@functools.cache
def _shipped(directory: str) -> tuple[dict, ...]:
    return tuple(
        yaml_load(path.read_text(encoding="utf-8")) for path in sorted(Path(directory).glob("*.yaml"))
    )


def shipped_protocols() -> tuple[dict, ...]:
    """Every shipped protocol file, as parsed (read once per directory)."""
    return _shipped(str(settings.PROTOCOL_DIR))


def study_codes() -> list[str]:
    return sorted({str(protocol["code"]) for protocol in shipped_protocols()})


def site_codes() -> list[str]:
    return sorted(
        {str(site["code"]) for protocol in shipped_protocols() for site in protocol.get("sites") or []}
    )
