"""YAML files (protocols, forms, instrument wording) read safely, with libyaml's C parser.

PyYAML's wheels ship libyaml: CSafeLoader builds the same plain values as yaml.safe_load (the same safe
constructor, no Python objects) about ten times faster, which counts where a protocol is parsed per request
or per test. Errors are the same yaml.YAMLError family.
"""

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def yaml_load(text: str):
    """The document in `text` as plain values (dicts, lists, str, int, float, bool, None, dates)."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 -- a safe loader
