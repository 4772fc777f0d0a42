"""manage.py risk_model develop | validate: the risk-model workbench's development and validation, run here
by the same functions as the jobs (reports/riskmodel/develop.py, validate.py).

    manage.py risk_model develop --study CODE --spec FILE --out DIR [--bootstrap N] [--imputations M]
        [--seed S] [--language en|zh-hans] [--cut-at ISO]
      writes DIR/model.json (the model), DIR/performance.json (the development result), DIR/report.pdf
    manage.py risk_model validate --model FILE (--study CODE [--cut-at ISO] | --import CSV) --out DIR
        [--spec FILE] [--seed S] [--language en|zh-hans]
      writes DIR/validation.json and DIR/validation.pdf

Files are never overwritten: a DIR already holding one of them is refused before any work. The spec of a
model is read from --spec, or from the performance.json beside the model file; its hash must be the
model's. The cut defaults to now; an ISO time needs its zone (2026-11-21T02:00Z).
"""

import datetime
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

from trial.errors import DomainError
from trial.models import Study

from ...riskmodel.data import model_data, model_data_import
from ...riskmodel.develop import develop
from ...riskmodel.spec import spec_load
from ...riskmodel.validate import validate

DEVELOP_FILES = ("model.json", "performance.json", "report.pdf")
VALIDATE_FILES = ("validation.json", "validation.pdf")


class Command(BaseCommand):
    help = "Develop a risk model on a study, or validate a developed model on a cohort."

    def add_arguments(self, parser):
        languages = [code for code, _name in settings.LANGUAGES]
        actions = parser.add_subparsers(dest="action", required=True)
        dev = actions.add_parser("develop", help="develop and validate internally (bootstrap)")
        dev.add_argument("--study", required=True, help="the study's registration number")
        dev.add_argument("--spec", required=True, type=Path, help="the model specification (YAML)")
        dev.add_argument("--out", required=True, type=Path, help="the directory to write into")
        dev.add_argument("--bootstrap", type=int, help="resamples (default: the spec's)")
        dev.add_argument("--imputations", type=int, help="imputations (default: the spec's)")
        dev.add_argument("--seed", type=int, help="random seed (default: the spec's)")
        dev.add_argument("--language", choices=languages, default="en")
        dev.add_argument(
            "--cut-at", dest="cut_at", help="the data cut, ISO time with its zone (default: now)"
        )
        val = actions.add_parser("validate", help="validate a developed model on another cohort")
        val.add_argument("--model", required=True, type=Path, help="the model.json develop wrote")
        val.add_argument("--study", help="the cohort's study (not with --import)")
        val.add_argument("--import", dest="imported", type=Path, help="a CSV in the analysis export's format")
        val.add_argument(
            "--spec", type=Path, help="the model's spec (default: from performance.json beside it)"
        )
        val.add_argument("--out", required=True, type=Path, help="the directory to write into")
        val.add_argument("--seed", type=int, default=0)
        val.add_argument("--language", choices=languages, default="en")
        val.add_argument(
            "--cut-at", dest="cut_at", help="the data cut, ISO time with its zone (default: now)"
        )

    def handle(self, *args, action, **options):
        try:
            if action == "develop":
                self.develop(**options)
            else:
                self.validate(**options)
        except DomainError as refused:
            lines = [line for lines in refused.field_errors.values() for line in lines]
            raise CommandError("; ".join(lines) or refused.message) from refused

    def develop(self, *, study, spec, out, bootstrap, imputations, seed, language, cut_at, **options):
        found = _study(study)
        model_spec = spec_load(_read(spec), study=found)
        if model_spec.study != found.code:
            raise CommandError(f"the spec is for study {model_spec.study}, not {found.code}")
        for name, value in (("bootstrap", bootstrap), ("imputations", imputations)):
            if value is not None and value < (0 if name == "bootstrap" else 1):
                raise CommandError(f"--{name} must be {'0' if name == 'bootstrap' else '1'} or more")
        _free(out, DEVELOP_FILES)
        at = _cut_at(cut_at)
        data = model_data(found, at, model_spec)
        self.stdout.write(f"{data.flow['analysed']} participants analysed, {data.flow['events']} events")
        developed = develop(
            model_spec,
            data,
            bootstrap=bootstrap,
            imputations=imputations,
            seed=seed,
            progress=self._progress,
            study={"code": found.code, "title": found.title},
        )
        _write(out / "model.json", _json(developed.model))
        _write(out / "performance.json", _json(developed.result))
        self._pdf(out / "report.pdf", "render_development", developed.result, language)
        internal = developed.result["internal"]
        self.stdout.write(
            f"C {developed.result['apparent']['c']:.3f} apparent, "
            f"{_shown(internal['corrected']['c'])} corrected; shrinkage {internal['shrinkage']:.3f}"
        )

    def validate(self, *, model, study, imported, spec, out, seed, language, cut_at, **options):
        if (study is None) == (imported is None):
            raise CommandError("give --study or --import (one of them)")
        frozen = json.loads(_read(model))
        text = _read(spec) if spec else _spec_beside(model)
        found = _study(study) if study else None
        model_spec = spec_load(text, study=found)
        if model_spec.sha256 != frozen.get("spec_sha256"):
            raise CommandError("the spec is not the one the model was developed from (its sha256 differs)")
        _free(out, VALIDATE_FILES)
        if imported is not None:
            data = model_data_import(_read(imported), model_spec)
        else:
            source = "later_cut" if found.code == model_spec.study else "study"
            data = model_data(found, _cut_at(cut_at), model_spec, source=source)
        result = validate(
            frozen,
            data,
            seed=seed,
            progress=self._progress,
            about={"id": None, "name": model_spec.code},
            thresholds=model_spec.validation.thresholds.values(),
        )
        _write(out / "validation.json", _json(result))
        self._pdf(out / "validation.pdf", "render_validation", result, language)
        c = result["performance"]["c"]
        self.stdout.write(f"C {c[0]:.3f}; written to {out}")

    def _progress(self, step: str, done: int, total: int) -> None:
        # Every step's start and end, and the bootstrap every tenth of the way.
        if done in (0, total) or (step == "bootstrap" and done % max(total // 10, 1) == 0):
            self.stdout.write(f"{step}: {done}/{total}")

    def _pdf(self, path: Path, renderer: str, result: dict, language: str) -> None:
        try:
            from ...pdf import riskmodel as pdf
        except ImportError:
            self.stdout.write(
                f"{path.name} skipped: the PDF renderer (reports.pdf.riskmodel) is not installed"
            )
            return
        with translation.override(language):
            _write(path, getattr(pdf, renderer)(result, language))


def _study(code: str) -> Study:
    found = Study.objects.select_related("current_version").filter(code=code).first()
    if found is None or not found.current_version_id:
        raise CommandError(f"no study {code} with a protocol loaded")
    return found


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None


def _spec_beside(model: Path) -> bytes:
    performance = model.parent / "performance.json"
    if not performance.is_file():
        raise CommandError(f"give --spec: there is no {performance} to read the model's spec from")
    return json.loads(_read(performance))["spec"]["text"].encode()


def _free(out: Path, names: tuple[str, ...]) -> None:
    if out.exists() and not out.is_dir():
        raise CommandError(f"{out} is not a directory")
    taken = [name for name in names if (out / name).exists()]
    if taken:
        raise CommandError(f"{out} already holds {', '.join(taken)}: never overwritten")
    out.mkdir(parents=True, exist_ok=True)


def _cut_at(text: str | None) -> datetime.datetime:
    if text is None:
        return timezone.now()
    try:
        at = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--cut-at {text!r} is not an ISO time") from None
    if at.tzinfo is None:
        raise CommandError("--cut-at needs its time zone, e.g. 2026-11-21T02:00Z")
    return at


def _json(value: dict) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1) + "\n").encode()


def _write(path: Path, content: bytes) -> None:
    with open(path, "xb") as file:  # exclusive creation: never overwritten
        file.write(content)


def _shown(value) -> str:
    return "-" if value is None else f"{value:.3f}"
