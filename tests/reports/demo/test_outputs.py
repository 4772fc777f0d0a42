"""The demo models of an accuracy study: outputs drawn around the hidden truth with the AUCs and Dice the
issue asks for, imported through the real CSV import and locked, once.

The AUCs are checked with scikit-learn's roc_auc_score (an implementation independent of the report's),
against trial.demo.truth, the hidden truth the outputs were drawn around."""

import datetime
import io
import statistics
from collections import Counter, defaultdict

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from sklearn.metrics import roc_auc_score

from reports.demo import Case, OutputRow, csv_bytes, outputs_plan
from reports.indextests.csvfile import csv_rows
from reports.indextests.models import AnalysisLock, ModelImport, ModelOutput
from trial.demo import demo_plan
from trial.demo.rates import FAILURE_WEIGHTS
from trial.demo.truth import vertebra_is_acute
from trial.models import Cohort, Study
from trial.services.protocols import protocol_load_file

from ...trial.test_seed_demo import shipped_criteria

CODE = "NCT07306858"
CLASSIFIERS = ("VGG-16", "DenseNet-121", "ViT-B/16")
AIMS = {"VGG-16": 0.80, "DenseNet-121": 0.86, "ViT-B/16": 0.92}
SEED = 1

pytestmark = pytest.mark.frozen("2026-11-21 09:00")


def demo_cases(participants: int = 276, seed: int = SEED) -> list[Case]:
    """The cases the trial demo registers (its plan, no database): CQ1 development, EXT1 external."""
    plan = demo_plan(
        criteria=shipped_criteria(CODE),
        site_codes=["CQ1", "EXT1"],
        participants=participants,
        seed=seed,
        start=datetime.date(2025, 12, 16),
        end=datetime.date(2026, 11, 20),
        study_id_format="{site}-{number:04d}",
        failure_weights=FAILURE_WEIGHTS[CODE],
        retrospective=True,
        groups={"acute": 138, "chronic": 138},
    )
    return [
        Case(row.enrollment.study_id, row.enrollment.group, row.fracture_levels, row.site == "EXT1")
        for row in plan.screenings
        if row.enrollment
    ]


def aucs_by_centre(rows, cases: dict[str, Case], seed: int = SEED) -> dict[tuple[str, bool], float]:
    """(model, external): sklearn's AUC of the rows' probabilities against the hidden truth."""
    truth, scores = defaultdict(list), defaultdict(list)
    for row in rows:
        case = cases[row.study_id]
        acute = vertebra_is_acute(
            seed=seed, study_id=case.study_id, group=case.group, levels=list(case.levels), level=row.level
        )
        truth[(row.model, case.external)].append(acute)
        scores[(row.model, case.external)].append(row.value)
    return {key: roc_auc_score(truth[key], scores[key]) for key in truth}


def assert_realistic_aucs(aucs: dict[tuple[str, bool], float]) -> None:
    for model, aim in AIMS.items():
        development, external = aucs[(model, False)], aucs[(model, True)]
        assert aim - 0.015 <= development <= aim + 0.015, (model, development)
        assert 0.02 <= development - external <= 0.05, (model, development, external)
    for external in (False, True):  # the models differ, in the same order at both centres
        assert aucs[("VGG-16", external)] < aucs[("DenseNet-121", external)] < aucs[("ViT-B/16", external)]


# --- the plan (no database) --------------------------------------------------------------------------------


def test_the_models_aucs_per_centre_are_as_aimed_against_the_hidden_truth():
    cases = demo_cases()
    plan = outputs_plan(cases, seed=SEED)

    assert_realistic_aucs(aucs_by_centre(plan.classification, {c.study_id: c for c in cases}))
    assert outputs_plan(cases, seed=SEED) == plan
    assert outputs_plan(cases, seed=2).classification != plan.classification


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_other_seeds_aim_as_well(seed):
    cases = demo_cases(seed=seed)
    plan = outputs_plan(cases, seed=seed)
    assert_realistic_aucs(aucs_by_centre(plan.classification, {c.study_id: c for c in cases}, seed=seed))


def test_every_registered_vertebra_has_one_row_per_model_in_its_cases_split():
    cases = demo_cases()
    plan = outputs_plan(cases, seed=SEED)
    vertebrae = {(c.study_id, level) for c in cases for level in c.levels}
    external = {c.study_id for c in cases if c.external}

    for rows in (plan.classification, plan.segmentation):
        per_model = Counter(row.model for row in rows)
        assert all(count == len(vertebrae) for count in per_model.values()) and len(per_model) == 3
        assert {(row.study_id, row.level) for row in rows} == vertebrae
    splits = {}
    for row in plan.classification + plan.segmentation:
        assert splits.setdefault(row.study_id, row.split) == row.split  # a patient's vertebrae together
        assert (row.split == "external") == (row.study_id in external)
    development = Counter(split for study_id, split in splits.items() if study_id not in external)
    total = sum(development.values())
    assert development["train"] / total == pytest.approx(0.6, abs=0.02)
    assert development["validation"] / total == pytest.approx(0.2, abs=0.02)
    assert development["test"] / total == pytest.approx(0.2, abs=0.02)


def test_segmentation_dice_means_and_spread_are_realistic():
    plan = outputs_plan(demo_cases(), seed=SEED)
    dice = defaultdict(list)
    for row in plan.segmentation:
        dice[row.model].append(row.value)

    means = {model: statistics.mean(values) for model, values in dice.items()}
    assert 0.85 <= means["U-Net"] < means["U-Mamba"] < means["UNETR++"] <= 0.915
    assert all(0.03 <= statistics.stdev(values) <= 0.05 for values in dice.values())
    assert all(0 < value < 1 for values in dice.values() for value in values)


def test_the_files_pass_the_import_checks_of_a_row():
    plan = outputs_plan(demo_cases(participants=40), seed=SEED)
    for rows, column in ((plan.classification, "probability"), (plan.segmentation, "dice")):
        parsed, problems = csv_rows(csv_bytes(rows, column=column).decode("utf-8"))
        assert problems == [] and len(parsed) == len(rows)
        assert {row.version for row in parsed} == {"1.0"}


# --- the stage through seed_demo (database) ----------------------------------------------------------------


@pytest.fixture
def accuracy_study(db) -> Study:
    protocol_load_file(settings.PROTOCOL_DIR / f"{CODE}.yaml")
    return Study.objects.select_related("current_version").get(code=CODE)


def seed(code: str = CODE, **options) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--i-know-this-is-not-production", study=code, seed=SEED, stdout=out, **options)
    return out.getvalue()


def test_seed_demo_imports_the_models_through_the_csv_import_and_locks_the_analysis(accuracy_study):
    output = seed()

    imports = ModelImport.objects.filter(study=accuracy_study, current=True)
    assert {(i.model_name, i.model_version, i.kind) for i in imports} == {
        *((model, "1.0", "classification") for model in CLASSIFIERS),
        *((model, "1.0", "segmentation") for model in ("U-Net", "U-Mamba", "UNETR++")),
    }
    assert all(i.imported_by.username == "datamanager" for i in imports)
    lock = AnalysisLock.objects.get(study=accuracy_study)
    assert lock.locked_by.username == "datamanager"
    assert set(lock.imports.all()) == set(imports)
    assert "analysis locked" in output

    outputs = ModelOutput.objects.filter(model_import__kind="classification").select_related(
        "participant__screening", "participant__site", "model_import"
    )
    cases, rows = {}, []
    for output_row in outputs:
        participant = output_row.participant
        external = participant.site.cohort == Cohort.EXTERNAL_VALIDATION
        cases[participant.study_id] = Case(
            participant.study_id, participant.group, tuple(participant.screening.fracture_levels), external
        )
        assert (output_row.split == "external") == external
        model = output_row.model_import.model_name
        rows.append(
            OutputRow(participant.study_id, output_row.level, model, output_row.split, output_row.probability)
        )
    assert_realistic_aucs(aucs_by_centre(rows, cases))


def test_the_imports_are_the_demos_in_the_audit_trail_and_a_second_run_adds_nothing(accuracy_study):
    seed(participants=30)  # small: about ten external cases, still both classes at each centre
    counts = (ModelImport.objects.count(), ModelOutput.objects.count(), AnalysisLock.objects.count())
    assert counts[0] == 6 and counts[2] == 1

    output = seed(participants=30)

    assert "model outputs: nothing to add" in output
    assert (ModelImport.objects.count(), ModelOutput.objects.count(), AnalysisLock.objects.count()) == counts
    events = apps.get_model("reports", "ModelImportEvent").objects.filter(pgh_label="insert")
    assert events.count() == 6
    assert all(event.pgh_context.metadata["command"] == "seed_demo" for event in events)


def test_a_study_whose_unit_is_not_the_vertebra_gets_no_model_outputs(db):
    protocol_load_file(settings.PROTOCOL_DIR / "NCT06379243.yaml")
    output = seed("NCT06379243", participants=20)

    assert "model outputs: none" in output
    assert not ModelImport.objects.exists() and not AnalysisLock.objects.exists()
