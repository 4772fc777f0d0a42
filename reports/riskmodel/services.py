"""Writes of the risk-model workbench that people make: ask for a development, freeze a model (an
e-signature), ask for a validation or for a report in another language; and the jobs' runners, what the
worker does: `model_develop_run`, `model_validate_run` and `model_report_run`. The calculator, a read, is
in selectors.py.

Who: access.py. Every request is a reports.Job (202 and progress), run by the worker; the rows of models and
validations are made by their jobs only.
"""

import datetime
import hashlib
import math

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from followup.selectors.endpoint import study_today
from trial.audit import audit_context, reason_required
from trial.errors import Conflict, DomainError, InvalidInput
from trial.i18n import LANGUAGES
from trial.models import Study

from ..access import visible_study
from ..jobs import JobOutput, job_request, job_state
from ..models import Download, Job, JobKind, JobStatus, JobTrigger
from .access import require_read, require_work
from .models import CohortSource, RiskModel, RiskModelState, RiskValidation
from .selectors import spec_dir, spec_file

# Internal validation by bootstrap: at least 200 resamples (the issue; Harrell), at most 2,000 (the time
# limit of a job at the demo's size). Tests lower the floor with the setting RISK_MODEL_MIN_BOOTSTRAP.
BOOTSTRAP_MAX = 2000
IMPUTATIONS_MIN, IMPUTATIONS_MAX = 1, 50
SEED_MAX = 2**31 - 1
# An imported cohort for validation: the analysis export's CSV; the same bound as the model-output imports.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
IMPORT_DIR = "riskmodel-imports"


def bootstrap_min() -> int:
    return int(getattr(settings, "RISK_MODEL_MIN_BOOTSTRAP", 200))


# --- development --------------------------------------------------------------------------------------------


def risk_job_download(*, job: Job, user, via: str):
    """A workbench job's PDF, opened, after logging who downloaded it and how (`via`: "api" or "page"): the
    models' readers (403), a job done (409)."""
    require_read(user, job.study)
    if job_state(job).status != JobStatus.DONE or not job.file:
        raise Conflict(
            _("The job has no file yet: it is %(status)s.") % {"status": job_state(job).status_text}
        )
    opened = job.file.open("rb")  # opened first: a missing file logs no download
    Download.objects.create(job=job, user=user, via=via)
    return opened


def _bounded(errors: dict, name: str, value, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        errors[name] = [_("Give a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}]


def model_develop_request(
    *,
    study: Study,
    actor,
    spec: str,
    language: str,
    name: str = "",
    bootstrap: int | None = None,
    imputations: int | None = None,
    seed: int | None = None,
    cut: datetime.datetime | None = None,
) -> Job:
    """Ask for a model to be developed from one of the study's specification files (202: the job).

    Study-wide PIs and data managers (403). The resamples, imputations and seed default to the spec's; each
    out of its bounds is a 400 naming it, all at once. The data cut is now, or an earlier time `cut` (a
    temporal validation later takes the participants enrolled after it). The job keeps the spec's SHA-256: a
    file changed before the worker runs fails the job rather than fit another specification than the one
    asked for."""
    require_work(actor, study)
    shipped = spec_file(study, spec)
    bootstrap = shipped.default("bootstrap", 200) if bootstrap is None else bootstrap
    imputations = shipped.default("imputations", 5) if imputations is None else imputations
    seed = shipped.default("seed", 20240101) if seed is None else seed
    errors: dict[str, list[str]] = {}
    _bounded(errors, "bootstrap", bootstrap, bootstrap_min(), BOOTSTRAP_MAX)
    _bounded(errors, "imputations", imputations, IMPUTATIONS_MIN, IMPUTATIONS_MAX)
    _bounded(errors, "seed", seed, 0, SEED_MAX)
    if language not in LANGUAGES:
        errors["language"] = [_("Unknown language: %(language)s.") % {"language": language}]
    if cut is not None and timezone.is_naive(cut):
        errors["cut"] = [_("Give the data cut with its time zone, e.g. 2027-01-31T23:59+08:00.")]
    elif cut is not None and cut > timezone.now():
        errors["cut"] = [_("The data cut cannot be in the future.")]
    if errors:
        raise InvalidInput(_("The request is not valid."), field_errors=errors)
    params = {
        "cut": cut.astimezone(datetime.UTC).isoformat() if cut else None,
        "language": language,
        "spec": shipped.file,
        "spec_sha256": shipped.sha256,
        "name": (name or "").strip()[:120] or shipped.label[:120],
        "bootstrap": bootstrap,
        "imputations": imputations,
        "seed": seed,
    }
    return job_request(
        study=study, kind=JobKind.RISK_MODEL_DEVELOP, params=params, actor=actor, trigger=JobTrigger.ON_DEMAND
    )


def _figure(result: dict, *path):
    """A number of the result's (None when absent or not finite): the lists' copies of the key figures."""
    value = result
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, list) and value:
        value = value[0]  # [estimate, low, high]
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def model_develop_run(job: Job, progress) -> JobOutput:
    """The development job: read the data cut, develop and validate internally, draw the PDF, store the
    model."""
    from ..pdf.riskmodel import render_development
    from .data import model_data
    from .develop import develop
    from .spec import spec_load

    params = job.params
    path = spec_dir() / params["spec"]
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    spec = spec_load(text) if text else None
    if spec is None or spec.sha256 != params["spec_sha256"]:
        raise Conflict(
            _("The model specification %(file)s changed since the development was asked for; ask again.")
            % {"file": params["spec"]},
            code="spec_changed",
        )
    progress("data", 0, 1)
    cut_at = datetime.datetime.fromisoformat(params["cut"]) if params.get("cut") else timezone.now()
    data = model_data(job.study, cut_at, spec, CohortSource.STUDY)
    developed = develop(
        spec,
        data,
        bootstrap=params["bootstrap"],
        imputations=params["imputations"],
        seed=params["seed"],
        progress=progress,
        study={"code": job.study.code, "title": job.study.title},
    )
    result = developed.result
    progress("render", 0, 1)
    content = render_development(result, params["language"])
    cut = data.cut
    with transaction.atomic(), audit_context(actor=job.requested_by, reason="risk model developed"):
        made = RiskModel.objects.create(
            study=job.study,
            name=params["name"],
            spec_file=params["spec"],
            spec_code=str(getattr(spec, "code", "") or path.stem)[:120],
            spec_version=str(getattr(spec, "version", "") or "")[:32],
            spec_text=text,
            spec_sha256=spec.sha256,
            model_type=str(developed.model.get("type", ""))[:16],
            job=job,
            cut_sha256=cut.get("sha256", ""),
            cut_at=_when(cut.get("at")),
            seed=params["seed"],
            resamples=params["bootstrap"],
            imputations=params["imputations"],
            model=developed.model,
            result=result,
            c_apparent=_figure(result, "apparent", "c"),
            c_corrected=_figure(result, "internal", "corrected", "c"),
            analysed=_count(data.flow.get("analysed")),
            outcome_events=_count(data.flow.get("events")),
            developed_at=timezone.now(),
            developed_by=job.requested_by,
        )
    return JobOutput(content, f"risk-model-{made.pk}-{params['language']}.pdf", "application/pdf")


def _when(value) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _count(value) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# --- freezing -----------------------------------------------------------------------------------------------


def model_freeze(
    *, risk_model: RiskModel, actor, password: str, reason: str, username: str = "", session=None
):
    """Freeze a developed model: from now on the database refuses any change of it (trigger).

    A data manager or principal investigator, study-wide (403), signing as for a form (21 CFR 11.200: the user
    ID at the first signing of the session, the password again, the lock-out; crf's signer_confirm), with a
    reason (400). Already frozen: 409. Atomic under the model's row lock so two freezes never both sign."""
    from crf.services.signatures import signer_confirm

    require_work(actor, risk_model.study)
    reason = reason_required(reason)
    printed_name = signer_confirm(
        actor=actor,
        session=session,
        username=username,
        password=password,
        refused=_("The password is not correct; the model was not frozen."),
        not_your_user_id=_("This is not your user ID; the model was not frozen."),
    )
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=f"risk model frozen: {reason}"):
        locked = RiskModel.objects.select_for_update().get(pk=risk_model.pk)
        if locked.state == RiskModelState.FROZEN:
            raise Conflict(_("This model is frozen already."), code="already_frozen")
        locked.state, locked.frozen_at, locked.frozen_by = RiskModelState.FROZEN, timezone.now(), actor
        locked.frozen_by_name, locked.reason = printed_name[:150], reason
        locked.save(update_fields=["state", "frozen_at", "frozen_by", "frozen_by_name", "reason"])
    if session is not None:
        session.record_signing(actor)
    return locked


def _require_frozen(risk_model: RiskModel, message: str) -> None:
    if risk_model.state != RiskModelState.FROZEN:
        raise Conflict(message, code="not_frozen")


# --- validation ---------------------------------------------------------------------------------------------


def model_validate_request(
    *,
    risk_model: RiskModel,
    actor,
    source: str,
    language: str,
    study: str = "",
    cut: datetime.datetime | None = None,
    content: bytes | None = None,
    file_name: str = "",
) -> Job:
    """Ask for a validation of a frozen model (409 before it is frozen) on a cohort (202: the job):

    - `study`: another study of this installation, by code; its data are read, so the actor must be a
      study-wide PI or data manager there too (403; 404 if they cannot see it);
    - `later_cut`: the model's own study at a later data cut `cut` (None: now), the participants enrolled
      after the development's cut (temporal validation);
    - `import`: a CSV in the analysis export's format (`content`, at most 5 MB), read whole here: every
      problem is a 400 under `file` and nothing is stored.
    """
    require_work(actor, risk_model.study)
    _require_frozen(risk_model, _("Only a frozen model can be validated; freeze it first."))
    errors: dict[str, list[str]] = {}
    if language not in LANGUAGES:
        errors["language"] = [_("Unknown language: %(language)s.") % {"language": language}]
    params: dict = {"language": language, "risk_model": risk_model.pk, "source": source}
    if source == CohortSource.STUDY:
        params["study"] = _cohort_study(risk_model, actor, study, errors)
    elif source == CohortSource.LATER_CUT:
        params["cut"] = _later_cut(risk_model, cut, errors)
    elif source == CohortSource.IMPORT:
        params.update(_imported(risk_model, content, file_name, errors))
    else:
        errors["cohort"] = [_("Choose another study, a later data cut or an imported file.")]
    if errors:
        raise InvalidInput(_("The request is not valid."), field_errors=errors)
    if source == CohortSource.IMPORT:
        _store_import(params["file"], content)
    return job_request(
        study=risk_model.study,
        kind=JobKind.RISK_MODEL_VALIDATE,
        params=params,
        actor=actor,
        trigger=JobTrigger.ON_DEMAND,
    )


def _cohort_study(risk_model: RiskModel, actor, code: str, errors: dict) -> str:
    code = (code or "").strip()
    if not code:
        errors["study"] = [_("Choose the study to validate the model on.")]
        return ""
    if code == risk_model.study.code:
        errors["study"] = [_("This is the model's own study: validate it on a later data cut instead.")]
        return ""
    from .spec import spec_check_columns, spec_load

    cohort = visible_study(actor, code)  # 404 for a study the actor cannot see
    require_work(actor, cohort)  # its data are read: only those who read them whole
    try:  # the cohort's analysis dataset must have every column the model's predictors are read from
        spec_check_columns(spec_load(risk_model.spec_text), cohort)
    except DomainError as lacking:
        errors["study"] = list(lacking.field_errors.get("spec") or [lacking.message])
    return cohort.code


def _later_cut(risk_model: RiskModel, cut: datetime.datetime | None, errors: dict) -> str:
    cut = cut or timezone.now()
    if timezone.is_naive(cut):
        errors["cut"] = [_("Give the data cut with its time zone, e.g. 2027-01-31T23:59+08:00.")]
    elif cut > timezone.now():
        errors["cut"] = [_("The data cut cannot be in the future.")]
    elif risk_model.cut_at is not None and cut <= risk_model.cut_at:
        errors["cut"] = [
            _("Choose a data cut after the model's development cut (%(cut)s).")
            % {"cut": timezone.localtime(risk_model.cut_at).strftime("%Y-%m-%d %H:%M")}
        ]
    return cut.astimezone(datetime.UTC).isoformat() if not errors.get("cut") else ""


def _imported(risk_model: RiskModel, content: bytes | None, file_name: str, errors: dict) -> dict:
    """The import's params, once the file has been read whole with the model's specification."""
    if not content:
        errors["file"] = [_("Choose the CSV file of the cohort (the analysis export's format).")]
        return {}
    if len(content) > MAX_IMPORT_BYTES:
        errors["file"] = [_("The file is larger than %(size)s MB.") % {"size": MAX_IMPORT_BYTES // 2**20}]
        return {}
    problems = _import_problems(risk_model, content)
    if problems:
        errors["file"] = problems
        return {}
    digest = hashlib.sha256(content).hexdigest()
    # Named by its hash: no study ID or file name in a stored path.
    return {"file": f"{IMPORT_DIR}/{digest}.csv", "file_sha256": digest, "file_name": (file_name or "")[:200]}


def _import_problems(risk_model: RiskModel, content: bytes) -> list[str]:
    """What is wrong with an imported cohort, read with the model's own specification ([] if nothing)."""
    from .data import model_data_import
    from .spec import spec_load

    try:
        data = model_data_import(content, spec_load(risk_model.spec_text))
    except DomainError as refused:
        found = [m for messages in refused.field_errors.values() for m in messages]
        return [str(m) for m in found] or [refused.message]
    except (ValueError, UnicodeDecodeError) as refused:
        return [str(refused) or _("The file could not be read as the analysis export's CSV.")]
    if not data.flow.get("analysed"):
        return [_("No participant of the file has an outcome at the horizon: there is nothing to validate.")]
    return []


def _store_import(name: str, content: bytes) -> None:
    if not default_storage.exists(name):  # the same bytes, the same name: stored once
        default_storage.save(name, ContentFile(content))


def _validation_data(risk_model: RiskModel, spec, params: dict):
    from .data import model_data, model_data_import

    if params["source"] == CohortSource.IMPORT:
        with default_storage.open(params["file"], "rb") as stored:
            return model_data_import(stored.read(), spec)
    if params["source"] == CohortSource.STUDY:
        cohort = Study.objects.get(code=params["study"])
        return model_data(cohort, timezone.now(), spec, CohortSource.STUDY)
    # Temporal: the study at the later cut, only the participants enrolled after the development's cut (its
    # day at the study's sites), none of whom the model saw.
    cut = datetime.datetime.fromisoformat(params["cut"])
    after = study_today(sites=risk_model.study.sites.all(), at=risk_model.cut_at)
    return model_data(risk_model.study, cut, spec, CohortSource.LATER_CUT, enrolled_after=after)


def model_validate_run(job: Job, progress) -> JobOutput:
    """The validation job: read the cohort, validate the frozen model, draw the PDF, store the validation."""
    from ..pdf.riskmodel import render_validation
    from .spec import spec_load
    from .validate import validate

    params = job.params
    risk_model = RiskModel.objects.select_related("study").get(pk=params["risk_model"])
    spec = spec_load(risk_model.spec_text)
    progress("data", 0, 1)
    data = _validation_data(risk_model, spec, params)
    result = validate(
        risk_model.model,
        data,
        seed=risk_model.seed,
        progress=progress,
        about={"id": risk_model.pk, "name": risk_model.name},
        thresholds=spec.validation.thresholds.values(),
    )
    after = risk_model.cut_at if params["source"] == CohortSource.LATER_CUT else None
    progress("render", 0, 1)
    content = render_validation(result, params["language"])
    cohort = Study.objects.filter(code=params.get("study")).first() if params.get("study") else None
    cut = data.cut or {}
    with transaction.atomic(), audit_context(actor=job.requested_by, reason="risk model validated"):
        made = RiskValidation.objects.create(
            risk_model=risk_model,
            source=params["source"],
            cohort_study=cohort,
            cut_sha256=params.get("file_sha256") or cut.get("sha256", ""),
            cut_at=_when(cut.get("at")) if params["source"] != CohortSource.IMPORT else None,
            enrolled_after=after,
            file_name=params.get("file_name", ""),
            result=result,
            c=_figure(result, "performance", "c"),
            slope=_figure(result, "performance", "slope"),
            analysed=_count((result.get("flow") or {}).get("analysed")),
            job=job,
            created_at=timezone.now(),
            created_by=job.requested_by,
        )
    return JobOutput(content, f"risk-validation-{made.pk}-{params['language']}.pdf", "application/pdf")


# --- a report again, in another language --------------------------------------------------------------------


def model_report_request(
    *, risk_model: RiskModel, actor, language: str, validation: RiskValidation | None = None
) -> Job:
    """Ask for the PDF of a stored development (or of one of its validations) in `language`, drawn again from
    the stored result: no refit, so the figures are those of the first report. PIs and data managers (403)."""
    require_work(actor, risk_model.study)
    if language not in LANGUAGES:
        raise InvalidInput(
            _("The request is not valid."),
            field_errors={"language": [_("Unknown language: %(language)s.") % {"language": language}]},
        )
    if validation is not None and validation.risk_model_id != risk_model.pk:
        raise InvalidInput(
            _("The request is not valid."),
            field_errors={"validation": [_("Not a validation of this model.")]},
        )
    params = {"language": language, "risk_model": risk_model.pk, "validation": validation and validation.pk}
    return job_request(
        study=risk_model.study,
        kind=JobKind.RISK_MODEL_REPORT,
        params=params,
        actor=actor,
        trigger=JobTrigger.ON_DEMAND,
    )


def model_report_run(job: Job, progress) -> JobOutput:
    from ..pdf.riskmodel import render_development, render_validation

    params = job.params
    language = params["language"]
    progress("render", 0, 1)
    if params.get("validation"):
        validation = RiskValidation.objects.get(pk=params["validation"], risk_model_id=params["risk_model"])
        content = render_validation(validation.result, language)
        return JobOutput(content, f"risk-validation-{validation.pk}-{language}.pdf", "application/pdf")
    risk_model = RiskModel.objects.get(pk=params["risk_model"])
    content = render_development(risk_model.result, language)
    return JobOutput(content, f"risk-model-{risk_model.pk}-{language}.pdf", "application/pdf")
