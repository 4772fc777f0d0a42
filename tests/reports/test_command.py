"""manage.py interim_report: the report of a seeded study built from the command line, read back from the
PDF in both languages; the same cut prints the same hash; a file is never overwritten."""

import datetime
import re
import subprocess
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from crf.demo import crf_seed
from followup.demo import followup_seed
from trial.demo import demo_seed
from trial.models import Participant, Screening

from ..conftest import frozen_clock

TODAY = datetime.date(2026, 11, 21)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(study):
    with frozen_clock("2026-11-21 09:00"):
        demo_seed(study=study, participants=30, seed=9, end=TODAY - datetime.timedelta(days=1))
        crf_seed(study=study, seed=9, today=TODAY, workers=0)
        followup_seed(study=study, seed=9, today=TODAY)
    return study


def run(*args) -> str:
    out = StringIO()
    call_command("interim_report", *args, stdout=out)
    return out.getvalue()


def pdf_text(path) -> str:
    return subprocess.run(  # noqa: S603 -- a fixed program on a file the test wrote
        ["/usr/bin/pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_command_builds_the_report_in_both_languages_and_the_same_cut_gives_the_same_hash(
    seeded, tmp_path
):
    cut = "2026-11-21T10:00:00+08:00"
    with frozen_clock("2026-11-21 12:00"):
        english = run(
            "--study", seeded.code, "--language", "en", "--out", str(tmp_path / "en.pdf"), "--cut", cut
        )
        chinese = run("--study", seeded.code, "--language", "zh-hans", "--out", str(tmp_path / "zh.pdf"),
                      "--cut", cut)  # fmt: skip
    sha = re.search(r"sha256 ([0-9a-f]{64})", english).group(1)
    assert re.search(r"sha256 ([0-9a-f]{64})", chinese).group(1) == sha
    assert "data cut 2026-11-21T02:00:00+00:00" in english
    screened = str(Screening.objects.filter(study=seeded).count())
    for name in ("en.pdf", "zh.pdf"):
        text = pdf_text(tmp_path / name)
        assert sha in text.replace(" ", "").replace("\n", "") or sha in text
        assert re.search(rf"\b{screened}\b", text)
        assert str(Participant.objects.filter(site__study=seeded).count()) in text
    assert "Interim report" in pdf_text(tmp_path / "en.pdf")
    assert "manage.py interim_report" in pdf_text(tmp_path / "en.pdf")  # who generated it
    assert "期中报告" in pdf_text(tmp_path / "zh.pdf")


def test_the_command_never_overwrites_and_explains_bad_input(seeded, tmp_path):
    existing = tmp_path / "there.pdf"
    existing.write_bytes(b"kept")
    with pytest.raises(CommandError, match="never overwritten"):
        run("--study", seeded.code, "--language", "en", "--out", str(existing))
    assert existing.read_bytes() == b"kept"
    with pytest.raises(CommandError, match="not an ISO 8601"):
        run(
            "--study", seeded.code, "--language", "en", "--out", str(tmp_path / "a.pdf"), "--cut", "yesterday"
        )
    with pytest.raises(CommandError, match="time zone"):
        run(
            "--study",
            seeded.code,
            "--language",
            "en",
            "--out",
            str(tmp_path / "a.pdf"),
            "--cut",
            "2026-01-01T00:00",
        )
    with pytest.raises(CommandError, match="future"):
        run(
            "--study",
            seeded.code,
            "--language",
            "en",
            "--out",
            str(tmp_path / "a.pdf"),
            "--cut",
            "2999-01-01T00:00Z",
        )
    with pytest.raises(CommandError, match="no study"):
        run("--study", "NCT0", "--language", "en", "--out", str(tmp_path / "a.pdf"))
    assert not (tmp_path / "a.pdf").exists()
