"""Shared by the workbench's tests (models, API, pages): the people of the study in every role, and stored
models made as their development job makes them, for the tests that are about the rows, the access and the
pages rather than the computation (those run the real development: test_api.py, test_browser.py).

The stored model is a small logistic model of two predictors whose numbers are written here, so that a list
or a permission test does not fit a model first.
"""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from reports.models import Job, JobKind, JobStatus, JobTrigger, RiskModel, RiskModelState
from trial.models import Role

from ..conftest import api_for, people  # noqa: F401 -- the people of the study in every role

# b0 + b_age * age + b_female * female; covariance of (b0, b_age, b_female).
SMALL_MODEL = {
    "format": 1,
    "type": "logistic",
    "spec_sha256": "a" * 64,
    "cut_sha256": "b" * 64,
    "horizon_days": 365,
    "design": {
        "predictors": [
            {"code": "age", "label": {"en": "Age", "zh-hans": "年龄"}, "unit": "years", "type": "continuous",
             "transform": "linear", "knots": [], "terms": ["age"], "range": [50, 95]},
            {"code": "female", "label": {"en": "Female sex", "zh-hans": "女性"}, "unit": "",
             "type": "binary", "transform": "linear", "knots": [], "terms": ["female"], "range": [0, 1]},
        ]
    },
    "terms": ["age", "female"],
    "intercept": -6.0,
    "coefficients": [0.05, 0.4],
    "covariance": [[1.0, -0.012, -0.02], [-0.012, 0.00016, 0.0], [-0.02, 0.0, 0.09]],
    "baseline_survival": None,
    "lp_mean": None,
    "shrinkage": 1.0,
    "penalty": {"kind": "none", "lambda": None},
    "imputations": 2,
    "seed": 7,
}  # fmt: skip
SMALL_RESULT = {
    "kind": "development",
    "apparent": {"c": 0.71, "brier": 0.08, "slope": 1.0, "citl": 0.0},
    "internal": {"resamples": 10, "corrected": {"c": 0.68, "brier": 0.085, "slope": 0.9, "citl": 0.0},
                 "optimism": {"c": 0.03, "brier": -0.005, "slope": 0.1, "citl": 0.0}, "shrinkage": 0.9},
    "coefficients": [
        {"term": "(intercept)", "predictor": None, "estimate": -6.0, "se": 1.0, "low": -7.96, "high": -4.04,
         "ratio": None, "ratio_low": None, "ratio_high": None, "p": None},
        {"term": "age", "predictor": "age", "estimate": 0.05, "se": 0.0126, "low": 0.025, "high": 0.075,
         "ratio": 1.051, "ratio_low": 1.025, "ratio_high": 1.078, "p": 0.0001},
        {"term": "female", "predictor": "female", "estimate": 0.4, "se": 0.3, "low": -0.19, "high": 0.99,
         "ratio": 1.49, "ratio_low": 0.83, "ratio_high": 2.69, "p": 0.18},
    ],
}  # fmt: skip


# A small specification of the study (three predictors, age as a spline of 3 knots) with small settings,
# shipped for the tests in a directory of their own (RISK_MODEL_SPEC_DIR): a real development in seconds.
SMALL_SPEC = """\
code: NCT06379243-small
version: "1"
title: {en: A small model, zh-hans: 小模型}
study: NCT06379243
outcome: {horizon_days: 365}
model: {type: logistic}
missing: {strategy: mice, imputations: 2, iterations: 3}
validation: {bootstrap: 10, seed: 3, thresholds: {from: 0.05, to: 0.4, step: 0.05}}
predictors:
  - {code: age, label: {en: Age, zh-hans: 年龄}, unit: years, type: continuous, from: age,
     transform: rcs, knots: 3}
  - {code: t_score, label: {en: Lowest T-score, zh-hans: 最低T值}, unit: SD, type: continuous,
     from: t_score_min}
  - {code: female, label: {en: Female, zh-hans: 女性}, type: binary, from: sex, positive: [female]}
"""


def stored_model(study, user, *, name="Small model", frozen=False) -> RiskModel:
    """A model as its development job stores it (the job done, the row made), frozen or not."""
    now = timezone.now()
    job = Job.objects.create(
        study=study, kind=JobKind.RISK_MODEL_DEVELOP, trigger=JobTrigger.ON_DEMAND, status=JobStatus.DONE,
        params={"language": "en", "name": name}, requested_by=user, finished_at=now,
    )  # fmt: skip
    extra = {"state": RiskModelState.FROZEN, "frozen_at": now, "frozen_by": user, "frozen_by_name": "Test Pi",
             "reason": "final"} if frozen else {}  # fmt: skip
    return RiskModel.objects.create(
        study=study, name=name, spec_file="small.yaml", spec_code="small", spec_version="1.0",
        spec_text=SMALL_SPEC, spec_sha256="a" * 64, model_type="logistic", job=job, cut_sha256="b" * 64,
        cut_at=now - datetime.timedelta(days=1), seed=7, resamples=10, imputations=2, model=SMALL_MODEL,
        result=SMALL_RESULT, c_apparent=0.71, c_corrected=0.68, analysed=120, outcome_events=14,
        developed_at=now, developed_by=user, **extra,
    )  # fmt: skip


@pytest.fixture
def investigator(make_user, study, site):
    return make_user("inv07", role=Role.INVESTIGATOR, study=study, site=site)


def page_for(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def small_specs(settings, tmp_path):
    """The small spec as the study's only one; 10 resamples allowed; files under a fresh MEDIA_ROOT."""
    directory = tmp_path / "models"
    directory.mkdir()
    (directory / "small.yaml").write_text(SMALL_SPEC, encoding="utf-8")
    settings.RISK_MODEL_SPEC_DIR = directory
    settings.RISK_MODEL_MIN_BOOTSTRAP = 10
    settings.MEDIA_ROOT = tmp_path / "media"
    return directory


@pytest.fixture
def seeded(study):
    """The study with 150 participants and their outcomes (the demo's generator, as the engine's tests)."""
    from ...conftest import frozen_clock
    from ..test_dataset import seed

    with frozen_clock("2026-11-21 09:00"):
        seed(study, 150)
    study.refresh_from_db()
    return study
