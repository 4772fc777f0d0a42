"""manage.py accuracy_report: the PDF and the JSON written, never over an existing file; a study that does not
analyse vertebrae refused."""

import json
import subprocess
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("accuracy_report", *args, stdout=out)
    return out.getvalue()


def test_the_command_writes_the_pdf_and_the_json(world, tmp_path):
    pdf, data = tmp_path / "report.pdf", tmp_path / "report.json"
    said = run("--study", "NCT07306858", "--language", "en", "--out", str(pdf), "--json", str(data),
               "--interval", "clopper-pearson")  # fmt: skip
    figures = json.loads(data.read_text(encoding="utf-8"))
    assert f"sha256 {figures['dataset_sha256']}" in said and "analysis NOT LOCKED" in said
    assert f"wrote {pdf}" in said and f"wrote {data}" in said
    assert figures["methods"]["proportions"] == "clopper-pearson"
    assert figures["generated"]["by"].startswith("manage.py accuracy_report (")
    text = subprocess.run(  # noqa: S603 -- a fixed program on a file the test wrote
        ["/usr/bin/pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Diagnostic accuracy report (STARD 2015)" in text and figures["dataset_sha256"] in text


def test_a_file_is_never_overwritten(world, tmp_path):
    pdf, data = tmp_path / "report.pdf", tmp_path / "report.json"
    data.write_text("kept")
    with pytest.raises(CommandError, match="exists"):
        run("--study", "NCT07306858", "--language", "zh-hans", "--out", str(pdf), "--json", str(data))
    assert data.read_text() == "kept" and not pdf.exists()
    pdf.write_bytes(b"kept")
    with pytest.raises(CommandError, match="never overwritten"):
        run("--study", "NCT07306858", "--language", "en", "--out", str(pdf))
    assert pdf.read_bytes() == b"kept"


def test_unknown_study_and_a_study_without_vertebrae(study, tmp_path):
    with pytest.raises(CommandError, match="no study NCT00000000"):
        run("--study", "NCT00000000", "--language", "en", "--out", str(tmp_path / "a.pdf"))
    with pytest.raises(CommandError, match="does not analyse vertebrae"):
        run("--study", "NCT06379243", "--language", "en", "--out", str(tmp_path / "b.pdf"))
    assert not (tmp_path / "b.pdf").exists()
