"""The model's data: predictors coded as the spec says and the outcome by the endpoint's rule, checked against
the analysis dataset's rows read directly; the CSV export of the same cut imports to the same frame and hash;
a bad file is refused with the line and column named."""

import datetime
import io
import math
from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings

from reports.exports.analysis import AnalysisDataset
from reports.exports.writers import csv_write
from reports.riskmodel.data import model_data, model_data_import, outcome
from reports.riskmodel.spec import spec_load
from trial.errors import InvalidInput

from ...conftest import frozen_clock, load_study
from ..test_dataset import seed

CUT = datetime.datetime(2026, 11, 21, 2, 0, tzinfo=datetime.UTC)
MODELS = Path(settings.PROTOCOL_DIR) / "models"
FULL = spec_load(MODELS / "NCT06379243-refracture-1y.yaml")
H = 365


@pytest.fixture
def seeded(study):
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 40)
    study.refresh_from_db()
    return study


def raw_rows(study) -> list[dict]:
    dataset = AnalysisDataset(study)
    names = [column.name for column in dataset.columns]
    return [dict(zip(names, row, strict=True)) for row in dataset.rows(cut_at=CUT)]


@pytest.mark.parametrize(
    ("event", "days", "censor", "expected"),
    [
        (True, 200, None, (1, 200, 1)),
        (True, 365, None, (1, 365, 1)),
        (True, 400, None, (0, H, 0)),  # after the horizon: event-free at it
        (False, 120, "died", (0, 120, 2)),  # the competing event
        (False, 365, "end_of_follow_up", (0, H, 0)),
        (False, 380, "in_follow_up", (0, H, 0)),
        (False, 100, "withdrawn", (math.nan, 100, 0)),
        (False, 100, "lost", (math.nan, 100, 0)),
        (False, 300, "in_follow_up", (math.nan, 300, 0)),
        (False, None, "no_index_date", (math.nan, math.nan, math.nan)),
    ],
)
def test_the_outcome_at_the_horizon(event, days, censor, expected):
    got = outcome(event=event, days=days, censor=censor, horizon=H)
    assert [(math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(got, expected, strict=True)] == [
        True
    ] * 3


@pytest.mark.django_db
def test_the_frame_codes_each_participant_as_the_dataset_says(seeded):
    data = model_data(seeded, CUT, FULL)
    rows = raw_rows(seeded)
    assert list(data.frame.columns) == [p.code for p in FULL.predictors] + ["y", "time", "status"]
    assert all(dtype.kind == "f" for dtype in data.frame.dtypes)  # numbers only: never a study ID
    pending = [r for r in rows if r["endpoint_pending"]]
    judged = [r for r in rows if not r["endpoint_pending"]]
    analysed = [
        r
        for r in judged
        if r["endpoint_days"] is not None
        and (r["endpoint_event"] or r["endpoint_censor"] == "died" or r["endpoint_days"] >= H)
    ]
    events = [r for r in analysed if r["endpoint_event"] and r["endpoint_days"] <= H]
    assert data.flow == {
        "participants": len(rows),
        "pending": len(pending),
        "no_outcome": len(judged) - len(analysed),
        "competing": sum(r["endpoint_censor"] == "died" for r in analysed),
        "analysed": len(analysed),
        "events": len(events),
    }
    assert 0 < len(events) < len(analysed) < len(rows)
    frame = data.frame
    assert frame["y"].tolist() == [float(r["endpoint_event"] and r["endpoint_days"] <= H) for r in analysed]
    treatments = ["bisphosphonate", "denosumab", "teriparatide", "raloxifene"]
    for row, (_i, coded) in zip(analysed, frame.iterrows(), strict=True):
        assert coded["female"] == (row["sex"] == "female")
        assert coded["age"] == row["age"]
        assert coded["bmi"] == pytest.approx(float(row["baseline_bmi"]))
        assert coded["t_score"] == pytest.approx(float(row["t_score_min"]))
        if row["pdff_mean"] is None:
            assert math.isnan(coded["pdff"])
        else:
            assert coded["pdff"] == pytest.approx(float(row["pdff_mean"]))
        assert coded["leakage"] == row["leakage"]
        assert coded["treatment"] == any(row[f"baseline_current_treatment___{t}"] for t in treatments)
    assert data.cut["source"] == "study" and data.cut["study"] == seeded.code
    assert data.cut["rows"] == len(rows) and data.cut["at"] == CUT.isoformat()


@pytest.mark.django_db
def test_a_temporal_cohort_holds_only_the_participants_enrolled_after_the_day(seeded):
    """enrolled_after (a later cut's validation): the participants enrolled after the day, none on or before
    it; the day is said in the cut."""
    rows = raw_rows(seeded)
    days = sorted(datetime.date.fromisoformat(str(r["enrollment_date"])) for r in rows)
    day = days[len(days) // 2]  # about half were enrolled after it
    later = model_data(seeded, CUT, FULL, "later_cut", enrolled_after=day)
    assert later.flow["participants"] == sum(d > day for d in days) > 0
    assert later.flow["participants"] < len(rows)
    assert later.cut["enrolled_after"] == day.isoformat() and later.cut["source"] == "later_cut"
    assert model_data(seeded, CUT, FULL, "later_cut", enrolled_after=days[-1]).flow["participants"] == 0


def test_the_same_cut_gives_the_same_hash_and_the_export_imports_to_it(seeded):
    data = model_data(seeded, CUT, FULL)
    assert model_data(seeded, CUT, FULL).cut["sha256"] == data.cut["sha256"]
    out = io.BytesIO()
    csv_write(AnalysisDataset(seeded).table(cut_at=CUT), out, bom=True)
    imported = model_data_import(out.getvalue(), FULL)
    pd.testing.assert_frame_equal(imported.frame, data.frame)
    assert imported.flow == data.flow
    assert imported.cut == {**data.cut, "source": "import", "study": None, "at": None}


@pytest.mark.django_db
def test_a_cox_model_keeps_the_participants_censored_before_the_horizon(seeded):
    cox = spec_load(FULL.text.replace("type: logistic", "type: cox"))
    logistic, survival = model_data(seeded, CUT, FULL), model_data(seeded, CUT, cox)
    censored = survival.frame["y"].isna()
    assert censored.sum() == logistic.flow["no_outcome"] - survival.flow["no_outcome"] > 0
    assert (survival.frame.loc[censored, "status"] == 0).all()
    assert (survival.frame.loc[censored, "time"] < H).all()


@pytest.mark.django_db
def test_a_study_without_a_column_the_spec_reads_is_refused_naming_it():
    sister = load_study("NCT06172179")
    with pytest.raises(InvalidInput) as caught:
        model_data(sister, CUT, FULL)
    assert "pdff_mean" in caught.value.message and "r2star_mean" in caught.value.message


HEADER = ",".join(FULL.columns) + ",endpoint_event,endpoint_days,endpoint_censor,endpoint_pending"
GOOD = "70,female,22.5,-3.1,55.0,80.1,1,0,0,0,70,1,0,0,0,0,365,end_of_follow_up,0"


def test_an_import_with_a_missing_column_or_a_bad_value_is_refused_naming_it():
    with pytest.raises(InvalidInput) as caught:
        model_data_import(b"age,sex\n70,female\n", FULL)
    assert caught.value.field_errors["file"][:2] == [
        "missing column baseline_bmi",
        "missing column t_score_min",
    ]
    bad = GOOD.replace("70,female,22.5", "old,female,22.5").replace(",1,0,0,0,70,", ",1,2,0,0,70,")
    with pytest.raises(InvalidInput) as caught:
        model_data_import(f"{HEADER}\n{GOOD}\n{bad}\n".encode(), FULL)
    assert caught.value.field_errors["file"] == [
        "line 3, age: 'old' is not a number",
        "line 3, leakage: '2' is not 1 or 0",
    ]
    with pytest.raises(InvalidInput) as caught:
        model_data_import("é".encode("latin-1"), FULL)
    assert caught.value.field_errors["file"] == ["the file is not UTF-8 text"]


def test_an_import_reads_missing_values_as_missing():
    row = GOOD.replace("55.0,80.1", ",")
    data = model_data_import(f"{HEADER}\n{row}\n{GOOD}\n".encode(), FULL)
    assert data.frame["pdff"].isna().tolist() == [True, False]
    assert data.frame["y"].tolist() == [0.0, 0.0]
    assert data.flow["analysed"] == 2
