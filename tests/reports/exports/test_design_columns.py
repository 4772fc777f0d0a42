"""The analysis dataset's design columns (reports/exports/analysis.py, _design_columns): a retrospective study
with groups and centre cohorts (NCT07306858) exports each case's cohort, group and consent waiver; a
prospective study without them (NCT06379243) exports none of the three."""

import datetime

import pyreadstat
import pytest

from reports.exports import formats as F
from reports.exports.analysis import AnalysisDataset
from trial.services import participant_enroll

from ...trial.retro_helpers import (  # noqa: F401 -- fixtures
    IDENTITY,
    fixture_make_case,
    fixture_retro,
    fixture_retro_coordinator,
)
from .test_run import build

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]
CUT = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def test_a_retrospective_case_exports_its_cohort_group_and_waiver(
    make_case, retro, retro_coordinator, make_user
):
    for group in ("acute", "chronic"):
        participant_enroll(
            actor=retro_coordinator,
            screening=make_case(),
            enrollment_date=datetime.date(2026, 1, 6),
            identity=IDENTITY,
            group=group,
        )
    dataset = AnalysisDataset(retro)
    names = [column.name for column in dataset.columns]
    assert names[:7] == ["study_id", "site", "cohort", "group", "consent_waived", "sex", "age"]
    group = dataset.columns[3]
    assert group.choices == (
        ("acute", {"en": "Acute fracture", "zh-hans": "急性骨折"}),
        ("chronic", {"en": "Chronic fracture", "zh-hans": "慢性骨折"}),
    )
    rows = [dict(zip(names, row, strict=True)) for row in dataset.table(cut_at=CUT).rows]
    assert [
        (r["study_id"], r["cohort"], r["group"], r["consent_waived"], r["consent_date"]) for r in rows
    ] == [
        ("CQ1-0001", "development", "acute", True, None),
        ("CQ1-0002", "development", "chronic", True, None),
    ]


def test_a_prospective_study_without_groups_or_cohorts_has_none_of_them(study):
    names = [column.name for column in AnalysisDataset(study).columns]
    assert names[:4] == ["study_id", "site", "sex", "age"]
    assert not {"cohort", "group", "consent_waived"} & set(names)


def test_the_design_columns_reach_every_tabular_format_with_their_labels(
    make_case, retro_coordinator, retro, tmp_path
):
    participant_enroll(
        actor=retro_coordinator,
        screening=make_case(),
        enrollment_date=datetime.date(2026, 1, 6),
        identity=IDENTITY,
        group="chronic",
    )
    _built, archive = build(retro, tmp_path, format=F.CSV_LABELS, language="zh-hans")
    header, row = archive.read("analysis.csv").decode("utf-8").splitlines()[:2]
    assert header.startswith(
        "study_id,site,cohort,group,consent_waived,sex,age,enrollment_date,consent_date,"
    )
    assert row.startswith("CQ1-0001,CQ1,开发集,慢性骨折,是,女,68,2026-01-06,,")
    dictionary = archive.read("dictionary.csv").decode("utf-8")
    assert "analysis,group,group,Group,分组,choice,," in dictionary
    assert '"acute, 急性骨折 | chronic, 慢性骨折",1 = acute | 2 = chronic' in dictionary
    for fmt, read in ((F.DTA, pyreadstat.read_dta), (F.SAV, pyreadstat.read_sav)):
        _built, archive = build(retro, tmp_path, format=fmt, language="zh-hans")
        path = tmp_path / f"analysis.{fmt}"
        path.write_bytes(archive.read(path.name))
        frame, meta = read(str(path))
        assert list(frame.columns[:5]) == ["study_id", "site", "cohort", "group", "consent_waived"]
        assert frame.loc[0, ["cohort", "group", "consent_waived"]].tolist() == [1, 2, 1]
        assert meta.variable_value_labels["group"] == {1: "急性骨折", 2: "慢性骨折"}
        assert meta.variable_value_labels["cohort"][1] == "开发集"
