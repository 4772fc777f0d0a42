"""The Chinese catalogue is whole: every message translated, none fuzzy, every placeholder kept.

GNU msgfmt (gettext, installed by `make install`) is the reference: `--check` refuses a translation whose
python-format placeholders differ from the message's, and `--statistics` counts what is not translated.
"""

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

CATALOGUES = sorted(Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/*.po"))


def test_there_is_a_chinese_catalogue():
    assert [path.parent.parent.name for path in CATALOGUES] == ["zh_Hans"]


def test_every_message_is_translated_with_its_placeholders():
    for path in CATALOGUES:
        run = subprocess.run(  # noqa: S603 -- our own catalogue
            [shutil.which("msgfmt"), "--check", "--statistics", "-o", "/dev/null", str(path)],
            capture_output=True,
            text=True,
            env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
        )
        assert run.returncode == 0, run.stderr
        statistics = run.stderr.strip()
        assert re.fullmatch(r"\d+ translated messages?\.", statistics), f"{path}: {statistics}"


# The names xgettext extracts (django's makemessages keywords) and `_`.
EXTRACTED = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
}
SOURCES = [
    path
    for app in ("config", "trial", "crf", "followup", "reports")
    for path in sorted(Path(settings.BASE_DIR, app).rglob("*.py"))
    if "migrations" not in path.parts
]


def catalogue_ids() -> set[str]:
    run = subprocess.run(  # noqa: S603 -- our own catalogue
        [shutil.which("msgcat"), "--no-wrap", str(CATALOGUES[0])], capture_output=True, text=True, check=True
    )
    return {json.loads(f'"{text}"') for text in re.findall(r'^msgid "(.*)"$', run.stdout, re.M)}


def test_every_marked_string_is_in_the_catalogue_under_a_name_makemessages_reads():
    """A translation function imported under another name (`gettext_lazy as _lazy`) is invisible to
    makemessages: its strings fell out of the catalogue and were shown in English on Chinese pages."""
    ids, problems = catalogue_ids(), []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                for alias in node.names:
                    bound = alias.asname or alias.name
                    if alias.name in EXTRACTED and bound not in EXTRACTED:
                        problems.append(f"{path}:{node.lineno}: {alias.name} as {bound}")
                    names[bound] = alias.name
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            function = names.get(node.func.id)
            if function not in EXTRACTED or not node.args:
                continue
            message = node.args[1 if function.startswith("pgettext") else 0]
            if (
                isinstance(message, ast.Constant)
                and isinstance(message.value, str)
                and message.value not in ids
            ):
                problems.append(f"{path}:{node.lineno}: {message.value!r} is not in the catalogue")
    assert problems == [], "\n".join(problems)
