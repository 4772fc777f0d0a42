"""manage.py risk_model develop | validate on a small real study (fast: 10 resamples, 2 imputations): the
files written, never overwritten, and the same figures as the functions give."""

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command

from reports.exports.analysis import AnalysisDataset
from reports.exports.writers import csv_write
from reports.riskmodel.data import model_data
from reports.riskmodel.spec import spec_load

from ..conftest import frozen_clock
from .test_dataset import seed

CUT = "2026-11-21T02:00:00+00:00"
SPEC = """\
code: NCT06379243-small
version: "1"
title: {en: A small model, zh-hans: 小模型}
study: NCT06379243
outcome: {horizon_days: 365}
model: {type: logistic}
missing: {strategy: mice, imputations: 2, iterations: 3}
validation: {bootstrap: 10, seed: 3, thresholds: {from: 0.05, to: 0.4, step: 0.05}}
predictors:
  - {code: age, label: {en: Age, zh-hans: 年龄}, unit: years, type: continuous, from: age}
  - {code: t_score, label: {en: Lowest T-score, zh-hans: 最低T值}, type: continuous, from: t_score_min}
  - {code: female, label: {en: Female, zh-hans: 女性}, type: binary, from: sex, positive: [female]}
"""

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(study):
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 150)
    study.refresh_from_db()
    return study


def run(*args) -> str:
    out = io.StringIO()
    call_command("risk_model", *args, stdout=out)
    return out.getvalue()


def test_develop_then_validate_write_their_files_once(seeded, tmp_path):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(SPEC, encoding="utf-8")
    out = tmp_path / "model"
    args = ["develop", "--study", seeded.code, "--spec", str(spec_file), "--out", str(out)]
    printed = run(*args, "--bootstrap", "10", "--imputations", "2", "--cut-at", CUT)
    assert "bootstrap: 10/10" in printed
    model = json.loads((out / "model.json").read_text(encoding="utf-8"))
    result = json.loads((out / "performance.json").read_text(encoding="utf-8"))
    spec = spec_load(SPEC)
    data = model_data(seeded, datetime.datetime.fromisoformat(CUT), spec)
    assert result["kind"] == "development" and result["model"] == model
    assert result["flow"] == data.flow and result["cut"]["sha256"] == data.cut["sha256"]
    assert model["spec_sha256"] == spec.sha256 and model["terms"] == ["age", "t_score", "female"]
    assert result["internal"]["resamples"] == 10 and result["reproducibility"]["imputations"] <= 2
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(CommandError, match="never overwritten"):
        run(*args, "--bootstrap", "10", "--cut-at", CUT)

    checked = tmp_path / "later"
    run("validate", "--model", str(out / "model.json"), "--study", seeded.code, "--out", str(checked))
    validation = json.loads((checked / "validation.json").read_text(encoding="utf-8"))
    assert validation["kind"] == "validation" and validation["cohort"]["source"] == "later_cut"
    assert [r["name"] for r in validation["recalibrated"]] == ["intercept", "intercept_slope"]

    export = tmp_path / "analysis.csv"
    with export.open("wb") as file:
        csv_write(AnalysisDataset(seeded).table(cut_at=datetime.datetime.fromisoformat(CUT)), file)
    imported = tmp_path / "imported"
    run("validate", "--model", str(out / "model.json"), "--import", str(export), "--out", str(imported))
    again = json.loads((imported / "validation.json").read_text(encoding="utf-8"))
    assert again["cohort"]["cut"]["sha256"] == data.cut["sha256"]
    assert again["performance"]["c"][0] == pytest.approx(result["apparent"]["c"], abs=0.02)


def test_the_command_refuses_bad_arguments_clearly(seeded, tmp_path):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(SPEC.replace("from: t_score_min", "from: t_score_lowest"), encoding="utf-8")
    develop = ["develop", "--study", seeded.code, "--spec", str(spec_file), "--out", str(tmp_path / "x")]
    with pytest.raises(CommandError, match="has no column t_score_lowest"):
        run(*develop)
    spec_file.write_text(SPEC, encoding="utf-8")
    with pytest.raises(CommandError, match="needs its time zone"):
        run(*develop, "--cut-at", "2026-11-21T02:00")
    with pytest.raises(CommandError, match="no study NCT0"):
        run("develop", "--study", "NCT0", "--spec", str(spec_file), "--out", str(tmp_path / "y"))
    with pytest.raises(CommandError, match="give --study or --import"):
        run("validate", "--model", str(spec_file), "--out", str(tmp_path / "z"))
