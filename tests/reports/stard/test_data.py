"""What the accuracy report reads (reports/stard/data.py) and counts (flow.py): a fixed number of queries,
the STARD flow on the hand-built study (conftest.py) counted by hand, the analysed imports of the lock, and
the JSON's shape."""

import datetime
import json

import pytest

from reports.indextests.services import analysis_lock
from reports.models import ModelImport
from reports.stard.data import accuracy_data_read
from reports.stard.figures import accuracy_figures

from .conftest import reference_case

pytestmark = pytest.mark.django_db
AT = datetime.datetime(2026, 10, 1, 1, 0, tzinfo=datetime.UTC)


def figures_of(study):
    return accuracy_figures(accuracy_data_read(study=study), generated_by="tester", generated_at=AT)


def test_the_data_is_read_in_six_queries_whatever_the_number_of_cases(world, django_assert_num_queries):
    with django_assert_num_queries(6):
        accuracy_data_read(study=world.study)
    cq1 = world.study.sites.get(code="CQ1")
    for i in range(5):
        case = world.case(f"x{i}", cq1, "acute", ["L1", "L2"])
        reference_case(case, "L1", acute=True)
    with django_assert_num_queries(6):
        data = accuracy_data_read(study=world.study)
    assert len(data.vertebrae) == 15 + 6 + 10


def test_the_flow_counts_every_case_and_vertebra_once(world):
    flow = figures_of(world.study)["flow"]
    assert (flow["screened"], flow["eligible"], flow["incomplete"], flow["registered_cases"]) == (
        19,
        16,
        1,
        15,
    )
    assert flow["ineligible"]["n"] == 2
    assert [(r["code"], r["n"]) for r in flow["ineligible"]["reasons"]] == [("INC2", 1), ("INC5", 1)]
    assert flow["ineligible"]["reasons"][0]["label"]["en"].startswith("Both CT and MRI")
    assert flow["not_registered"] == {"n": 1, "reasons": [{"code": "awaiting", "n": 1}]}
    assert flow["registered"] == {
        "vertebrae": 21,
        "cases": 15,
        "arms": [
            {"code": "acute", "vertebrae": 11, "cases": 8},
            {"code": "chronic", "vertebrae": 10, "cases": 7},
        ],
    }
    reasons = lambda part: [(r["code"], r["model"], r["n"]) for r in flow[part]["reasons"]]  # noqa: E731
    assert flow["excluded"]["n"] == 2 and reasons("excluded") == [("withdrawn", "", 1), ("no_centre", "", 1)]
    assert flow["no_index_test"]["n"] == 2
    assert reasons("no_index_test") == [("training", "VGG-16 1.0", 1), ("no_output", "ViT 1.0", 1)]
    assert flow["index_test"]["vertebrae"] == 17
    assert flow["no_reference"]["n"] == 2
    assert reasons("no_reference") == [("no_case", "", 1), ("reading_pending", "", 1)]
    analysed = flow["analysed"]
    assert (analysed["vertebrae"], analysed["cases"]) == (15, 10)
    assert analysed["arms"] == [
        {"code": "acute", "vertebrae": 7, "cases": 5},  # d1 2, d2 1, d5 1, e1 2, e4 1
        {"code": "chronic", "vertebrae": 8, "cases": 5},  # d3 2, d4 2, e2 1, e3 2, e5 1
    ]
    assert analysed["reference"] == {"acute": 8, "chronic": 7}
    assert [(c["cohort"], c["vertebrae"], c["cases"]) for c in analysed["centres"]] == [
        ("development", 8, 5),
        ("external_validation", 7, 5),
    ]
    # Each stage is the next one plus its exits.
    assert flow["screened"] == flow["ineligible"]["n"] + flow["incomplete"] + flow["eligible"]
    assert flow["eligible"] == flow["not_registered"]["n"] + flow["registered_cases"]
    registered = flow["registered"]["vertebrae"]
    assert registered == flow["excluded"]["n"] + flow["no_index_test"]["n"] + flow["index_test"]["vertebrae"]
    assert flow["index_test"]["vertebrae"] == flow["no_reference"]["n"] + analysed["vertebrae"]


def test_without_a_lock_the_current_imports_are_used_and_with_one_the_analysed(world, staff):
    figures = figures_of(world.study)
    assert figures["lock"] == {"locked": False}
    used = [(i["model"], i["version"]) for i in figures["imports"]]
    assert used == [("U-Net", 1), ("VGG-16", 2), ("ViT", 1)]  # VGG-16's first import superseded
    analysis_lock(study=world.study, actor=staff["pi"], reason="Outputs final.")
    locked = figures_of(world.study)
    assert locked["lock"]["locked"] and locked["lock"]["reason"] == "Outputs final."
    assert locked["lock"]["locked_by"] == "Test Apipi (apipi)"
    assert [(i["model"], i["version"]) for i in locked["imports"]] == used
    assert locked["imports"][1]["sha256"] == ModelImport.objects.get(model_name="VGG-16", version=2).sha256
    assert locked["dataset_sha256"] != figures["dataset_sha256"]  # the lock is part of the data


def test_the_json_holds_every_estimate_with_its_interval_and_no_study_id(world):
    figures = figures_of(world.study)
    text = json.dumps(figures, allow_nan=False, ensure_ascii=False)
    assert "CQ1-0001" not in text and "EXT1-" not in text
    assert set(figures) == {
        "format", "study", "generated", "lock", "imports", "dataset_sha256", "methods", "flow", "models",
        "comparisons", "segmentation",
    }  # fmt: skip
    assert figures["format"] == "spinetrial-accuracy-report/1"
    assert figures["methods"]["proportions"] == "wilson" and figures["methods"]["auc"] == "delong"
    assert set(figures["imports"][0]) == {
        "id", "model", "model_version", "version", "kind", "sha256", "rows", "imported_at", "file_name",
    }  # fmt: skip
    for m in figures["models"]:
        assert set(m) == {"import_id", "model", "model_version", "label", "threshold", "centres"}
        for c in m["centres"]:
            assert set(c) == {
                "cohort", "vertebrae", "cases", "acute", "chronic", "auc", "matrix", "estimates", "clustered",
                "roc",
            }  # fmt: skip
            for name in ("sensitivity", "specificity", "accuracy", "ppv", "npv"):
                assert {"value", "lo", "hi", "numerator", "denominator", "method"} <= set(
                    c["estimates"][name]
                )
                assert {"estimate", "lo", "hi", "valid_resamples"} <= set(c["clustered"][name])
            assert {"auc", "se", "lo", "hi"} <= set(c["auc"]) and c["clustered"]["auc"]["lo"] is not None
            assert c["roc"]["fpr"][0] == 0 and c["roc"]["tpr"][-1] == 1
    # The same data give the same hash, whatever the time of the report.
    again = accuracy_figures(
        accuracy_data_read(study=world.study), generated_by="other", generated_at=AT + datetime.timedelta(1)
    )
    assert again["dataset_sha256"] == figures["dataset_sha256"]


def test_a_study_with_no_model_output_yet_gives_a_report_of_its_flow(accuracy_study, staff):
    from .conftest import World

    world = World(accuracy_study, staff["coordinator"], staff["data_manager"])
    case = world.case("d1", accuracy_study.sites.get(code="CQ1"), "acute", ["L1"])
    reference_case(case, "L1", acute=True)
    figures = figures_of(accuracy_study)
    assert figures["models"] == [] and figures["comparisons"] == [] and figures["segmentation"] == []
    assert figures["flow"]["no_index_test"] == {
        "n": 1,
        "reasons": [{"code": "no_model", "model": "", "n": 1}],
    }
    assert figures["flow"]["analysed"]["vertebrae"] == 0
