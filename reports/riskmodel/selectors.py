"""Reads of the risk-model workbench shared by the API and the pages, each a fixed number of queries; and the
calculator (a frozen model's risk for one person's values: a read, judged here)."""

import math
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from trial.errors import Conflict, InvalidInput
from trial.i18n import localized
from trial.models import Study

from ..access import study_visible
from ..models import Job, JobKind, JobStatus
from .access import require_read
from .models import RiskModel, RiskModelState, RiskValidation

# --- the specification files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecFile:
    """A shipped specification file of the study: its name, the loaded spec and its text."""

    file: str
    spec: object
    text: str

    @property
    def sha256(self) -> str:
        return self.spec.sha256

    @property
    def label(self) -> str:
        title = getattr(self.spec, "title", None) or getattr(self.spec, "name", None) or self.code
        return localized(title) if isinstance(title, dict) else str(title)

    @property
    def code(self) -> str:
        return str(getattr(self.spec, "code", None) or Path(self.file).stem)

    @property
    def version(self) -> str:
        return str(getattr(self.spec, "version", "") or "")

    def default(self, name: str, fallback: int) -> int:
        """The spec's default bootstrap / imputations / seed (its `validation`/`missing` sections), else
        `fallback`."""
        for owner in (
            self.spec,
            getattr(self.spec, "defaults", None),
            getattr(self.spec, "validation", None),
        ):
            value = getattr(owner, name, None) if owner is not None else None
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return fallback


def spec_dir() -> Path:
    """Where the specification files are: beside the protocols (RISK_MODEL_SPEC_DIR, for the tests' own)."""
    return Path(getattr(settings, "RISK_MODEL_SPEC_DIR", None) or Path(settings.PROTOCOL_DIR) / "models")


def spec_files(study: Study) -> list[SpecFile]:
    """The specification files shipped for the study (trial/protocols/models/*.yaml naming it), by name."""
    from .spec import spec_load

    found = []
    for path in sorted(spec_dir().glob("*.yaml")):
        spec = spec_load(path)
        if str(getattr(spec, "study", "")) == study.code:
            found.append(SpecFile(file=path.name, spec=spec, text=path.read_text(encoding="utf-8")))
    return found


def spec_file(study: Study, name: str) -> SpecFile:
    """One of the study's specification files by its file name; a 400 under `spec` otherwise."""
    for shipped in spec_files(study):
        if shipped.file == name:
            return shipped
    raise InvalidInput(
        _("The request is not valid."),
        field_errors={"spec": [_("Choose one of the study's model specifications.")]},
    )


# --- models, validations, jobs -----------------------------------------------------------------------------


# The JSON columns a list never shows: read only by a model's own page, its downloads and the calculator.
HEAVY = ("model", "result", "spec_text")


def risk_model_list(*, study) -> QuerySet:
    """The study's models, newest first, with who developed and froze them: one query a page."""
    return (
        RiskModel.objects.filter(study=study)
        .select_related("study", "developed_by", "frozen_by", "job")
        .defer(*HEAVY)
        .order_by("-developed_at", "-id")
    )


def risk_model_get(*, user, pk: int, heavy: bool = True) -> RiskModel:
    """One model for a reader: 404 if it does not exist or its study is hidden from the user (an adjudicator
    learns nothing), 403 without a reading role. Two queries (the user's roles read once a request)."""
    found = RiskModel.objects.select_related("study", "study__current_version", "developed_by", "frozen_by")
    if not heavy:
        found = found.defer(*HEAVY)
    risk_model = found.filter(pk=pk).first()
    if risk_model is None or not study_visible(user, risk_model.study):
        raise Http404("No such risk model.")
    require_read(user, risk_model.study)
    return risk_model


def validation_list(*, risk_model: RiskModel) -> QuerySet:
    """A model's validations, newest first, with their cohort and who asked: one query."""
    return (
        RiskValidation.objects.filter(risk_model=risk_model)
        .select_related("cohort_study", "created_by", "job")
        .defer("result")
        .order_by("-created_at", "-id")
    )


def validation_get(*, user, pk: int) -> RiskValidation:
    """One validation for a reader of its model's study (404 / 403 as risk_model_get)."""
    validation = RiskValidation.objects.select_related("risk_model", "risk_model__study", "cohort_study")
    found = validation.defer(*(f"risk_model__{name}" for name in HEAVY)).filter(pk=pk).first()
    if found is None or not study_visible(user, found.risk_model.study):
        raise Http404("No such validation.")
    require_read(user, found.risk_model.study)
    return found


RISK_JOB_KINDS = (JobKind.RISK_MODEL_DEVELOP, JobKind.RISK_MODEL_VALIDATE, JobKind.RISK_MODEL_REPORT)


def model_jobs(*, risk_model: RiskModel) -> QuerySet:
    """The jobs of a model, newest first: its development, its reports in other languages and its
    validations (their PDFs, and the progress of those still running). One query."""
    return (
        Job.objects.filter(
            Q(pk=risk_model.job_id) | Q(kind__in=RISK_JOB_KINDS, params__risk_model=risk_model.pk)
        )
        .filter(study_id=risk_model.study_id)
        .select_related("requested_by")
        .order_by("-created_at", "-id")
    )


def developments_pending(*, study) -> QuerySet:
    """The study's development jobs that have not made a model (queued, running or failed), newest first."""
    return (
        Job.objects.filter(study=study, kind=JobKind.RISK_MODEL_DEVELOP, risk_model__isnull=True)
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:20]
    )


def risk_job_get(*, user, pk: int) -> Job:
    """A job of the workbench for a reader of its study's models (404 / 403 as the models)."""
    job = Job.objects.select_related("study", "requested_by").filter(pk=pk, kind__in=RISK_JOB_KINDS).first()
    if job is None or not study_visible(user, job.study):
        raise Http404("No such job.")
    require_read(user, job.study)
    return job


def job_model_id(job: Job) -> int | None:
    """The model a job is of: the one its development made, else the one its params name."""
    if job.kind == JobKind.RISK_MODEL_DEVELOP:
        made = RiskModel.objects.filter(job=job).values_list("pk", flat=True).first()
        return made if job.status == JobStatus.DONE else None
    return job.params.get("risk_model")


# --- the calculator -----------------------------------------------------------------------------------------


def risk_calculate(*, risk_model: RiskModel, user, values: dict) -> dict:
    """The predicted risk at the horizon for one set of predictor values, with its 95 % interval and the
    nomogram's points: a frozen model only (409). Every missing or out-of-range value is a 400 naming it."""
    require_read(user, risk_model.study)
    if risk_model.state != RiskModelState.FROZEN:
        raise Conflict(
            _("Only a frozen model can be used to calculate a risk; freeze it first."), code="not_frozen"
        )
    checked = calculator_values(risk_model.model, values)
    from .stats.nomogram import points_each
    from .stats.predict import risk_interval

    found = risk_interval(risk_model.model, checked)
    risk, low, high = _interval(found)
    each = points_each(risk_model.model, checked)
    return {
        "risk": risk,
        "low": low,
        "high": high,
        "points": sum(each.values()),
        "points_each": each,
        "horizon_days": risk_model.model.get("horizon_days"),
        "values": checked,
    }


def _interval(found) -> tuple[float, float | None, float | None]:
    """(risk, low, high) of stats.predict.risk_interval: a penalised model has no interval (None)."""
    risk, low, high = found
    return float(risk), None if low is None else float(low), None if high is None else float(high)


def calculator_values(model: dict, values: dict) -> dict:
    """The values checked against the model's predictors: each present, a number (binary: 0 or 1) within the
    range the model was developed on. A 400 naming every one at fault; unknown names too."""
    errors: dict[str, list[str]] = {}
    checked: dict[str, float] = {}
    predictors = model.get("design", {}).get("predictors", [])
    known = {p["code"] for p in predictors}
    for name in sorted(set(values) - known):
        errors[name] = [_("Not a predictor of this model.")]
    for predictor in predictors:
        code = predictor["code"]
        value = values.get(code)
        if value is None or value == "":
            errors[code] = [_("Enter a value.")]
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number):
            errors[code] = [_("Enter a number.")]
        elif predictor.get("type") == "binary":
            if number not in (0, 1):
                errors[code] = [_("Choose yes (1) or no (0).")]
            checked[code] = number
        else:
            low, high = (predictor.get("range") or [None, None])[:2]
            if (low is not None and number < low) or (high is not None and number > high):
                errors[code] = [
                    _(
                        "Enter a value from %(low)s to %(high)s %(unit)s (the range the model was developed "
                        "on)."
                    )
                    % {"low": _number(low), "high": _number(high), "unit": predictor.get("unit") or ""}
                ]
            checked[code] = number
    if errors:
        raise InvalidInput(_("Check the values."), field_errors=errors)
    return checked


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)
