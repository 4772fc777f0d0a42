"""The Chinese catalogue is whole: every message translated, none fuzzy, every placeholder kept.

GNU msgfmt (gettext, installed by `make install`) is the reference: `--check` refuses a translation whose
python-format placeholders differ from the message's, and `--statistics` counts what is not translated.
"""

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
