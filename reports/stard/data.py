"""What the accuracy report reads: the study's screenings, its registered vertebrae, the index tests (model
outputs of the analysed imports) and the reference standard (final adjudication cases). Six queries, whatever
the number of cases, in one REPEATABLE READ snapshot (reports/replica.py).

- **Vertebrae**: each registered participant's ``Screening.fracture_levels``, with the participant's group
  (the arm, ``Participant.group``) and centre (the site's ``cohort``: development or external_validation).
- **Index tests**: the imports the analysis lock recorded (``AnalysedImport``); if the analysis is not
  locked, the current import of each model and version (the report then says "not locked" on its first page).
- **Reference standard** (the contract of followup's adjudication): one ``AdjudicationCase`` per
  (participant, level); a final one (``status == CaseStatus.FINAL``) answers with ``final_fracture``, True
  for acute.

No name, no identifying data: the study IDs are read only for the dataset's hash, never printed.
"""

import datetime
from dataclasses import dataclass, field

from followup.models import AdjudicationCase, CaseOrigin
from trial.models import Participant, Screening, Study

from ..indextests.models import AnalysisLock, ModelImport, ModelOutput
from ..replica import read_snapshot


@dataclass(frozen=True)
class Vertebra:
    """One registered vertebra: its patient (the cluster), level, arm, centre and the patient's status."""

    participant: int
    study_id: str
    level: str
    group: str
    cohort: str
    withdrawn: bool


@dataclass(frozen=True)
class Import:
    """One analysed import of a model's outputs (its data version)."""

    id: int
    model: str
    model_version: str
    version: int
    kind: str  # classification | segmentation
    sha256: str
    rows: int
    imported_at: str  # ISO, UTC
    file_name: str

    @property
    def label(self) -> str:
        """The model as the report names it: "DenseNet-121 1.0"."""
        return f"{self.model} {self.model_version}"


@dataclass(frozen=True)
class Output:
    split: str
    probability: float | None
    dice: float | None


@dataclass(frozen=True)
class Reading:
    status: str
    acute: bool | None


@dataclass(frozen=True)
class AccuracyData:
    """Everything the report is computed from (the figures are a pure function of it)."""

    study: dict
    # (outcome, failed criteria, reason not registered, registered) per screening
    screenings: list[tuple[str, list[str], str, bool]]
    vertebrae: list[Vertebra]
    imports: list[Import]
    # (participant, level) -> {import id: output}
    outputs: dict[tuple[int, str], dict[int, Output]] = field(default_factory=dict)
    # (participant, level) -> the adjudication case's status and answer
    readings: dict[tuple[int, str], Reading] = field(default_factory=dict)
    lock: dict | None = None


def accuracy_data_read(*, study: Study) -> AccuracyData:
    """The accuracy report's data for `study` (its current protocol version loaded): six queries."""
    with read_snapshot(read_only=True):
        return _read(study)


def _read(study: Study) -> AccuracyData:
    version = study.current_version
    definition = version.definition
    screenings = [
        (outcome, list(failed or []), reason or "", participant is not None)
        for outcome, failed, reason, participant in Screening.objects.filter(study=study)
        .order_by("pk")
        .values_list("outcome", "failed_criteria", "not_enrolled_reason", "participant__id")
    ]
    vertebrae = [
        Vertebra(pk, study_id, level, group or "", cohort or "", status == "withdrawn")
        for pk, study_id, group, status, cohort, levels in Participant.objects.filter(site__study=study)
        .order_by("study_id")
        .values_list("pk", "study_id", "group", "status", "site__cohort", "screening__fracture_levels")
        for level in (levels or [])
    ]
    lock = AnalysisLock.objects.select_related("locked_by").filter(study=study).first()
    imports_qs = (
        ModelImport.objects.filter(analysed__lock=lock)
        if lock
        else ModelImport.objects.filter(study=study, current=True)
    )
    imports = [
        Import(
            m.pk,
            m.model_name,
            m.model_version,
            m.version,
            m.kind,
            m.sha256,
            m.row_count,
            m.imported_at.astimezone(datetime.UTC).isoformat(),
            m.file_name,
        )
        for m in imports_qs.order_by("model_name", "model_version", "pk")
    ]
    outputs: dict[tuple[int, str], dict[int, Output]] = {}
    rows = ModelOutput.objects.filter(model_import__in=[m.id for m in imports]).values_list(
        "model_import_id", "participant_id", "level", "split", "probability", "dice"
    )
    for import_id, participant, level, split, probability, dice in rows.order_by("pk"):
        outputs.setdefault((participant, level), {})[import_id] = Output(split, probability, dice)
    readings = {
        (participant, level): Reading(status, acute)
        # The reference standard's readings only: cases opened for registered vertebrae, never a case of
        # another question (a follow-up MRI's new fracture) that a protocol could also hold.
        for participant, level, status, acute in AdjudicationCase.objects.filter(
            site__study=study, origin=CaseOrigin.REGISTRATION
        ).values_list("participant_id", "level", "status", "final_fracture")
    }
    return AccuracyData(
        study={
            "code": study.code,
            "title": study.title,
            "protocol_version": version.label,
            "unit": (definition.get("design") or {}).get("unit", "participant"),
            "groups": [{"code": g["code"], "label": g["label"]} for g in version.groups],
            "criteria": [{"code": c["code"], "text": c["text"]} for c in definition.get("criteria", [])],
        },
        screenings=screenings,
        vertebrae=vertebrae,
        imports=imports,
        outputs=outputs,
        readings=readings,
        lock=_lock(lock),
    )


def _lock(lock: AnalysisLock | None) -> dict | None:
    if lock is None:
        return None
    user = lock.locked_by
    full = user.get_full_name().strip()
    return {
        "locked_at": lock.locked_at.astimezone(datetime.UTC).isoformat(),
        "locked_by": f"{full} ({user.get_username()})" if full else user.get_username(),
        "reason": lock.reason,
    }
