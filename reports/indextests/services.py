"""Writes of model outputs: an import from CSV (validated whole), a heatmap attached to a vertebra's output,
and the analysis lock. Each takes the study's row lock first, so an import, a heatmap and the lock of one
study run one after another: an import that started before the lock cannot land after it."""

import hashlib
import re
from collections import defaultdict

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trial.audit import audit_context, reason_required
from trial.errors import Conflict, InvalidInput
from trial.models import Participant, Study

from .access import IMPORT_ROLES, LOCK_ROLES, require_study_role
from .csvfile import InvalidCsv, csv_decode, csv_rows, kind_problems, vertebra_problems
from .images import MAX_HEATMAP_BYTES, image_type
from .models import AnalysedImport, AnalysisLock, ModelImport, ModelOutput

MAX_CSV_BYTES = 5 * 1024 * 1024


def _locked_study(study: Study) -> Study:
    """The study under its row lock, refused (409) if its analysis is locked (read under the lock)."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    if AnalysisLock.objects.filter(study=study).exists():
        raise Conflict(
            _(
                "The analysis of study %(study)s is locked: model outputs can no longer be imported or "
                "changed."
            )
            % {"study": study.code},
            code="analysis_locked",
        )
    return study


def _refused(problems: list[str]) -> InvalidInput:
    return InvalidInput(
        _("The file was not imported (%(count)d problem(s)); nothing was saved.") % {"count": len(problems)},
        field_errors={"csv": problems},
        code="invalid_csv",
    )


def model_outputs_import(*, study: Study, actor, content: bytes, file_name: str = "") -> list[ModelImport]:
    """Import a CSV of model outputs (reports/README.md, "Model outputs"): one ModelImport per (model,
    version) in the file, each the next version of that model's imports (the previous one kept, superseded).

    Data managers only (403). Every problem of the file is a 400 listing each with its line number, and
    nothing is saved; a locked analysis is a 409. Atomic: all the file's imports or none.
    """
    require_study_role(actor, study, IMPORT_ROLES)
    if len(content) > MAX_CSV_BYTES:
        raise _refused([_("the file is larger than %(mb)d MB") % {"mb": MAX_CSV_BYTES // (1024 * 1024)}])
    try:
        rows, problems = csv_rows(csv_decode(content))
    except InvalidCsv as error:
        raise _refused(error.problems) from None
    kinds, mixed = kind_problems(rows)
    participants = {
        p.study_id: p
        for p in Participant.objects.filter(site__study=study, study_id__in={row.study_id for row in rows})
        .select_related("screening", "site")
        .only("pk", "study_id", "screening__fracture_levels", "site__cohort")
    }
    levels = {study_id: list(p.screening.fracture_levels or []) for study_id, p in participants.items()}
    cohorts = {study_id: p.site.cohort for study_id, p in participants.items()}
    problems = sorted(problems + mixed + vertebra_problems(rows, levels, cohorts), key=_line_of)
    if problems:
        raise _refused(problems)
    sha256 = hashlib.sha256(content).hexdigest()
    groups = defaultdict(list)
    for row in rows:
        groups[(row.model, row.version)].append(row)
    with transaction.atomic(durable=True), audit_context(actor=actor, reason="model outputs imported"):
        study = _locked_study(study)
        now = timezone.now()
        made = []
        for (model, version), group in groups.items():
            previous = ModelImport.objects.filter(study=study, model_name=model, model_version=version)
            number = (previous.order_by("-version").values_list("version", flat=True).first() or 0) + 1
            previous.filter(current=True).update(current=False)
            made_import = ModelImport.objects.create(
                study=study, model_name=model, model_version=version, kind=kinds[(model, version)],
                version=number, current=True, file_name=file_name[:200], sha256=sha256,
                row_count=len(group), imported_by=actor, imported_at=now,
            )  # fmt: skip
            ModelOutput.objects.bulk_create(
                ModelOutput(
                    model_import=made_import,
                    participant=participants[row.study_id],
                    level=row.level,
                    split=row.split,
                    probability=row.probability,
                    dice=row.dice,
                    line=row.line,
                )
                for row in group
            )
            made.append(made_import)
        return made


def _line_of(problem: str) -> int:
    """The line a problem names: its first number, in every language ("line 7: ...", "第 7 行 ...")."""
    found = re.search(r"\d+", problem)
    return int(found.group()) if found else 0


def heatmap_attach(*, output: ModelOutput, actor, content: bytes) -> ModelOutput:
    """Attach a Grad-CAM heatmap (PNG or JPEG, judged by its bytes) to one vertebra's output, replacing any
    before. Data managers only (403); not an image or too large: 400 beside `heatmap`; locked: 409.
    Atomic under the study's lock, so no heatmap lands after the analysis is locked."""
    study = output.model_import.study
    require_study_role(actor, study, IMPORT_ROLES)
    found = image_type(content) if len(content) <= MAX_HEATMAP_BYTES else None
    if found is None:
        raise InvalidInput(
            _("The heatmap was not saved."),
            field_errors={"heatmap": [_("Upload a PNG or JPEG image of at most 5 MB.")]},
        )
    with transaction.atomic(durable=True), audit_context(actor=actor, reason="heatmap attached"):
        _locked_study(study)
        output = ModelOutput.objects.select_for_update().get(pk=output.pk)
        extension = "png" if found == "image/png" else "jpg"
        name = f"{output.model_import_id}-{output.pk}.{extension}"  # no study ID in a stored name
        output.heatmap.save(name, ContentFile(content), save=False)
        output.heatmap_type = found
        output.save(update_fields=["heatmap", "heatmap_type"])
        return output


def analysis_lock(*, study: Study, actor, reason: str) -> AnalysisLock:
    """Lock the study's analysis: model outputs frozen from now on, the current import of each model
    recorded as the analysed one. Data managers and principal investigators (403); a reason is required
    (400); already locked: 409. There is no unlock. Atomic under the study's row lock."""
    require_study_role(actor, study, LOCK_ROLES)
    reason = reason_required(reason)
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason):
        study = Study.objects.select_for_update().get(pk=study.pk)
        if AnalysisLock.objects.filter(study=study).exists():
            raise Conflict(
                _("The analysis of study %(study)s is already locked; it cannot be unlocked.")
                % {"study": study.code},
                code="analysis_locked",
            )
        lock = AnalysisLock.objects.create(
            study=study, reason=reason, locked_by=actor, locked_at=timezone.now()
        )
        AnalysedImport.objects.bulk_create(
            AnalysedImport(lock=lock, model_import=made)
            for made in ModelImport.objects.filter(study=study, current=True).order_by("pk")
        )
        return lock
