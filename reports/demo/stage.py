"""The reports stage of seed_demo (trial.hooks.demo_stages): an accuracy study's model outputs, imported
through the real import from CSV files as its data manager would, then its analysis locked."""

from collections import defaultdict
from statistics import mean

from trial.audit import audit_context
from trial.demo import DEMO_COMMAND, DEMO_REASON, demo_inserted, demo_staff
from trial.hooks import DemoAdded
from trial.models import Cohort, Participant, Role, Study

from ..indextests.models import AnalysisLock, ModelImport
from ..indextests.services import analysis_lock, model_outputs_import
from .plan import DEVELOPMENT, EXTERNAL, Case, OutputsPlan, csv_bytes, outputs_plan

LOCK_REASON = "Model outputs complete for the analysis plan's models: frozen before the accuracy analysis."
VERTEBRA = "vertebra"


def _cases(study: Study) -> list[Case]:
    """The study's demo cases with their registered levels (one query): never a real participant's."""
    rows = (
        Participant.objects.filter(demo_inserted(), site__study=study)
        .values_list("study_id", "group", "screening__fracture_levels", "site__cohort")
        .order_by("study_id")
    )
    return [
        Case(study_id, group, tuple(levels), cohort == Cohort.EXTERNAL_VALIDATION)
        for study_id, group, levels, cohort in rows
        if levels
    ]


def _summary(plan: OutputsPlan) -> str:
    aucs = ", ".join(
        f"{model} {plan.aucs[(model, DEVELOPMENT)]:.2f}/{plan.aucs[(model, EXTERNAL)]:.2f}"
        for model in dict.fromkeys(model for model, _centre in plan.aucs)
        if (model, EXTERNAL) in plan.aucs and (model, DEVELOPMENT) in plan.aucs
    )
    dice = defaultdict(list)
    for row in plan.segmentation:
        dice[row.model].append(row.value)
    dices = ", ".join(f"{model} {mean(values):.2f}" for model, values in dice.items())
    return f"AUC development/external {aucs or '-'}; mean Dice {dices or '-'}"


def reports_demo_stage(*, study: Study, seed: int) -> DemoAdded:
    """trial.hooks.demo_stages: for a study whose protocol's unit is the vertebra, every demo vertebra's
    output from three classification and three segmentation models (reports/demo/rates.py), imported by the
    demo data manager through model_outputs_import (the CSV format of reports/README.md), then the analysis
    locked. Nothing when the study has an import or a lock already (a second run adds nothing)."""
    name = "reports"
    version = study.current_version
    if (version.definition.get("design") or {}).get("unit") != VERTEBRA:
        return DemoAdded(name=name, line=f"{study.code} model outputs: none (not a study of vertebrae)")
    if ModelImport.objects.filter(study=study).exists() or AnalysisLock.objects.filter(study=study).exists():
        return DemoAdded(
            name=name, line=f"{study.code} model outputs: nothing to add", counts={"model_outputs_added": 0}
        )
    cases = _cases(study)
    if not cases:
        return DemoAdded(name=name, line=f"{study.code} model outputs: no demo cases", counts={})
    plan = outputs_plan(cases, seed=seed)
    # Each service is atomic and durable on its own: the files are imported, then the analysis locked.
    with audit_context(reason=DEMO_REASON, command=DEMO_COMMAND):
        manager = demo_staff(study, list(study.sites.filter(active=True)))[(Role.DATA_MANAGER, "*")]
        imports = model_outputs_import(
            study=study,
            actor=manager,
            content=csv_bytes(plan.classification, column="probability"),
            file_name="demo-classification.csv",
        )
        imports += model_outputs_import(
            study=study,
            actor=manager,
            content=csv_bytes(plan.segmentation, column="dice"),
            file_name="demo-segmentation.csv",
        )
        analysis_lock(study=study, actor=manager, reason=LOCK_REASON)
    rows = len(plan.classification) + len(plan.segmentation)
    return DemoAdded(
        name=name,
        line=(
            f"{study.code} model outputs: {len(imports)} models imported ({rows:,} rows for "
            f"{len(cases):,} cases), analysis locked; {_summary(plan)}"
        ),
        counts={"model_outputs_added": rows},
    )
