"""The workbench's API: the lists in a fixed number of queries, who may do what, the development's bounds,
freezing as an e-signature, validation and the calculator refused for a model not frozen, an imported cohort
refused whole with its problems, and a real development, freeze, validation and calculation end to end
(small: 10 resamples, 2 imputations)."""

import datetime
import hashlib
import io
import math

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from reports.models import Job, JobKind, RiskModel, RiskValidation
from tests.factories import PASSWORD

from ...conftest import frozen_clock
from .workbench import SMALL_MODEL, api_for, stored_model

pytestmark = pytest.mark.django_db
CLINICAL = "NCT06379243-refracture-1y-clinical.yaml"


def models_url(study) -> str:
    return f"/api/v1/studies/{study.code}/risk-models/"


@pytest.mark.parametrize("count", [1, 4])
def test_the_list_runs_a_fixed_number_of_queries(study, people, count, django_assert_num_queries):
    for i in range(count):
        stored_model(study, people["pi"], name=f"model {i}", frozen=i % 2 == 0)
    client = api_for(people["monitor"])
    with django_assert_num_queries(4):
        answer = client.get(models_url(study))
    assert answer.status_code == 200, answer.content
    rows = answer.json()["results"]
    assert [row["name"] for row in rows] == [f"model {i}" for i in reversed(range(count))]
    assert rows[-1]["state"] == "frozen" and rows[-1]["c_corrected"] == 0.68
    assert "model" not in rows[0] and "result" not in rows[0]  # the JSON has its own downloads


def test_validations_list_runs_a_fixed_number_of_queries(study, people, django_assert_num_queries):
    made = stored_model(study, people["pi"], frozen=True)
    for i in range(3):
        RiskValidation.objects.create(
            risk_model=made, source="import", cut_sha256=f"{i}" * 64, file_name=f"c{i}.csv", result={},
            c=0.7, job=stored_model(study, people["pi"], name=f"v{i}").job, created_at=made.developed_at,
            created_by=people["data_manager"],
        )  # fmt: skip
    with django_assert_num_queries(5):
        answer = api_for(people["monitor"]).get(f"/api/v1/risk-models/{made.pk}/validations/")
    assert answer.status_code == 200
    assert [row["file_name"] for row in answer.json()["results"]] == ["c2.csv", "c1.csv", "c0.csv"]


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("pi", 200, 400),
        ("data_manager", 200, 400),
        ("monitor", 200, 403),
        ("investigator", 200, 403),
        ("site_pi", 200, 403),
        ("coordinator", 403, 403),
        ("adjudicator", 404, 404),
    ],
)
def test_who_reads_and_who_develops(study, people, investigator, who, read, write):
    people = {**people, "investigator": investigator}
    made = stored_model(study, people["pi"])
    client = api_for(people[who])
    assert client.get(models_url(study)).status_code == read
    assert client.get(f"/api/v1/risk-models/{made.pk}/").status_code == read
    assert client.get(f"/api/v1/risk-models/{made.pk}/model/").status_code == read
    # An empty body: a 400 for those who may develop, the refusal for the others (never a 500).
    assert client.post(models_url(study), {}, format="json").status_code == write
    assert client.post(f"/api/v1/risk-models/{made.pk}/freeze/", {}, format="json").status_code == write


def test_the_model_json_is_the_stored_one(study, people):
    made = stored_model(study, people["pi"])
    answer = api_for(people["monitor"]).get(f"/api/v1/risk-models/{made.pk}/model/")
    assert answer.status_code == 200 and answer.json() == SMALL_MODEL
    assert answer["Content-Disposition"] == f'attachment; filename="risk-model-{made.pk}-model.json"'


def freeze(client, made, **body):
    return client.post(
        f"/api/v1/risk-models/{made.pk}/freeze/",
        {"password": PASSWORD, "username": "dm", "reason": "final", **body},
        format="json",
    )


def test_freezing_is_signed_with_the_password_and_a_reason(study, people):
    made = stored_model(study, people["pi"])
    client = api_for(people["data_manager"])
    wrong = freeze(client, made, password="not-it")
    assert wrong.status_code == 403 and wrong.json()["code"] == "bad_password" and "password" in wrong.json()
    assert freeze(client, made, reason=" ").json()["code"] == "reason_required"
    assert RiskModel.objects.get(pk=made.pk).state == "developed"
    done = freeze(client, made, reason="Locked for the external validation")
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["state"] == "frozen" and body["frozen_by"] == "dm" and body["frozen_by_name"] == "Test Dm"
    assert body["reason"] == "Locked for the external validation"
    again = freeze(client, made)
    assert again.status_code == 409 and again.json()["code"] == "already_frozen"


def test_a_model_not_frozen_is_neither_validated_nor_used(study, people):
    made = stored_model(study, people["pi"])
    client = api_for(people["pi"])
    answer = client.post(
        f"/api/v1/risk-models/{made.pk}/validations/", {"cohort": "later_cut"}, format="json"
    )
    assert answer.status_code == 409 and answer.json()["code"] == "not_frozen"
    answer = client.post(
        f"/api/v1/risk-models/{made.pk}/calculate/", {"values": {"age": 70, "female": 1}}, format="json"
    )
    assert answer.status_code == 409 and answer.json()["code"] == "not_frozen"
    assert not Job.objects.filter(kind=JobKind.RISK_MODEL_VALIDATE).exists()


def test_the_calculator_names_each_value_missing_or_out_of_range(study, people):
    made = stored_model(study, people["pi"], frozen=True)
    answer = api_for(people["monitor"]).post(
        f"/api/v1/risk-models/{made.pk}/calculate/", {"values": {"age": 120, "bmi": 20}}, format="json"
    )
    assert answer.status_code == 400, answer.content
    values = answer.json()["values"]
    assert set(values) == {"age", "female", "bmi"}
    assert "50" in values["age"][0] and "95" in values["age"][0]


def test_the_calculator_gives_the_models_own_formula(study, people):
    """The stored coefficients put in the logistic formula by hand: 1 / (1 + exp(-(b0 + x.b))); the interval
    by the delta method on the logit scale, from the stored covariance."""
    made = stored_model(study, people["pi"], frozen=True)
    answer = api_for(people["monitor"]).post(
        f"/api/v1/risk-models/{made.pk}/calculate/", {"values": {"age": 80, "female": 1}}, format="json"
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    lp = -6.0 + 0.05 * 80 + 0.4 * 1  # -1.6
    assert body["risk"] == pytest.approx(1 / (1 + math.exp(-lp)), rel=1e-9)  # 0.16798...
    x = (1, 80, 1)
    cov = SMALL_MODEL["covariance"]
    se = math.sqrt(sum(x[i] * cov[i][j] * x[j] for i in range(3) for j in range(3)))
    assert body["low"] == pytest.approx(1 / (1 + math.exp(-(lp - 1.959963984540054 * se))), rel=1e-6)
    assert body["high"] == pytest.approx(1 / (1 + math.exp(-(lp + 1.959963984540054 * se))), rel=1e-6)
    assert body["note"] == "For research use only; not for clinical decisions."


def test_a_bad_imported_cohort_is_refused_whole_and_nothing_is_kept(study, people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    made = stored_model(study, people["pi"], frozen=True)
    answer = api_for(people["pi"]).post(
        f"/api/v1/risk-models/{made.pk}/validations/",
        {"cohort": "import", "csv": "age,sex\n70,female\n", "file_name": "cohort.csv"},
        format="json",
    )
    assert answer.status_code == 400, answer.content
    missing = ["t_score_min", "endpoint_event", "endpoint_days", "endpoint_censor", "endpoint_pending"]
    assert answer.json()["file"] == [f"missing column {name}" for name in missing]  # by the model's spec
    assert not Job.objects.filter(kind=JobKind.RISK_MODEL_VALIDATE).exists()
    assert not default_storage.exists("riskmodel-imports")


def by_hand(model: dict, values: dict) -> tuple[float, float, float]:
    """The model's own formula, written here: Harrell's spline of age (normalised by (t3 - t1)^2, as rms), the
    logistic risk 1 / (1 + exp(-(b0 + x.b))), and its 95 % interval on the logit scale from the stored
    covariance of (b0, b)."""
    x = []
    for predictor in model["design"]["predictors"]:
        v = values[predictor["code"]]
        x.append(v)
        if predictor["transform"] == "rcs":
            t1, t2, t3 = predictor["knots"]

            def cube(u):
                return max(u, 0.0) ** 3

            term = cube(v - t1) - cube(v - t2) * (t3 - t1) / (t3 - t2) + cube(v - t3) * (t2 - t1) / (t3 - t2)
            x.append(term / (t3 - t1) ** 2)
    lp = model["intercept"] + sum(b * xi for b, xi in zip(model["coefficients"], x, strict=True))
    g = [1.0, *x]
    cov = model["covariance"]
    se = math.sqrt(sum(g[i] * cov[i][j] * g[j] for i in range(len(g)) for j in range(len(g))))

    def expit(z):
        return 1 / (1 + math.exp(-z))

    return expit(lp), expit(lp - 1.959963984540054 * se), expit(lp + 1.959963984540054 * se)


def test_develop_freeze_validate_report_and_calculate(people, seeded, small_specs):
    """A principal investigator develops (10 resamples, 2 imputations), freezes, validates on an imported
    cohort (the study's analysis export), asks for the report in Chinese and uses the calculator."""
    from reports.exports.analysis import AnalysisDataset
    from reports.exports.writers import csv_write
    from reports.jobs import job_execute

    client = api_for(people["pi"])
    answer = client.post(
        models_url(seeded),
        {"spec": "small.yaml", "bootstrap": 10, "imputations": 2, "seed": 3},
        format="json",
    )
    assert answer.status_code == 202, answer.content
    assert answer.json()["kind"] == "risk_model_develop" and answer["Location"].endswith(
        f"/jobs/{answer.json()['id']}/"
    )
    assert job_execute(answer.json()["id"]) == "done", Job.objects.get(pk=answer.json()["id"]).error_params
    made = RiskModel.objects.get(job_id=answer.json()["id"])
    job = made.job
    assert job.file.read(5) == b"%PDF-" and job.file_name == f"risk-model-{made.pk}-en.pdf"
    assert made.state == "developed" and made.resamples == 10 and made.imputations == 2 and made.seed == 3
    assert made.c_corrected == made.result["internal"]["corrected"]["c"]
    assert made.cut_sha256 == made.result["cut"]["sha256"] == made.model["cut_sha256"]
    assert made.spec_sha256 == made.model["spec_sha256"]
    assert made.analysed == made.result["flow"]["analysed"] > 0

    detail = client.get(f"/api/v1/risk-models/{made.pk}/").json()
    assert detail["c_corrected"] == made.c_corrected and detail["events"] == made.outcome_events

    answer = client.post(
        f"/api/v1/risk-models/{made.pk}/freeze/",
        {"password": PASSWORD, "username": "pi", "reason": "For the external validation"},
        format="json",
    )
    assert answer.status_code == 200 and answer.json()["state"] == "frozen"

    out = io.BytesIO()
    csv_write(AnalysisDataset(seeded).table(cut_at=timezone.now()), out, bom=True)
    answer = client.post(
        f"/api/v1/risk-models/{made.pk}/validations/",
        {"cohort": "import", "csv": out.getvalue().decode("utf-8-sig"), "file_name": "cohort.csv"},
        format="json",
    )
    assert answer.status_code == 202, answer.content
    assert job_execute(answer.json()["id"]) == "done", Job.objects.get(pk=answer.json()["id"]).error_params
    validation = RiskValidation.objects.get(job_id=answer.json()["id"])
    assert (
        validation.result["model"]["id"] == made.pk
        and validation.c == validation.result["performance"]["c"][0]
    )
    assert validation.cut_sha256 == hashlib.sha256(out.getvalue().decode("utf-8-sig").encode()).hexdigest()
    rows = client.get(f"/api/v1/risk-models/{made.pk}/validations/").json()["results"]
    assert [row["id"] for row in rows] == [validation.pk] and rows[0]["file_name"] == "cohort.csv"

    answer = client.post(f"/api/v1/risk-models/{made.pk}/reports/", {"language": "zh-hans"}, format="json")
    assert answer.status_code == 202 and job_execute(answer.json()["id"]) == "done"
    again = Job.objects.get(pk=answer.json()["id"])
    assert again.file_name == f"risk-model-{made.pk}-zh-hans.pdf" and again.file.read(5) == b"%PDF-"
    assert RiskModel.objects.count() == 1  # drawn again from the stored result: no refit

    values = {"age": 78, "t_score": -3.1, "female": 1}
    answer = client.post(f"/api/v1/risk-models/{made.pk}/calculate/", {"values": values}, format="json")
    assert answer.status_code == 200, answer.content
    risk, low, high = by_hand(made.model, values)
    body = answer.json()
    assert body["risk"] == pytest.approx(risk, rel=1e-9)
    assert body["low"] == pytest.approx(low, rel=1e-6) and body["high"] == pytest.approx(high, rel=1e-6)
    assert body["points"] >= 0
    # Each predictor's points: 0 to 100 (the widest predictor spans 100), one per predictor, summing to
    # the total.
    codes = [p["code"] for p in made.model["design"]["predictors"]]
    assert list(body["points_each"]) == codes
    assert all(0 <= v <= 100 + 1e-9 for v in body["points_each"].values())
    assert sum(body["points_each"].values()) == pytest.approx(body["points"])


def test_validation_on_the_sister_study_and_on_a_later_cut(people, seeded, study2, small_specs, make_user):
    """The frozen model validated on NCT06172179 (which has the small model's predictors) by a PI of both
    studies (the demo's "pi"), and on a later cut of its own study; a PI of one study only cannot read the
    other's data."""
    from reports.jobs import job_execute

    from ..test_dataset import seed

    with frozen_clock("2026-11-21 09:00"):
        seed(study2, 120)
    client = api_for(people["pi"])
    answer = client.post(
        models_url(seeded), {"spec": "small.yaml", "bootstrap": 10, "imputations": 2}, format="json"
    )
    assert job_execute(answer.json()["id"]) == "done", Job.objects.get(pk=answer.json()["id"]).error_params
    made = RiskModel.objects.get()
    freeze(api_for(people["data_manager"]), made)
    url = f"/api/v1/risk-models/{made.pk}/validations/"

    only_here = api_for(make_user("pi-one", role="principal_investigator", study=seeded))
    refused = only_here.post(url, {"cohort": "study", "study": study2.code}, format="json")
    assert refused.status_code == 404  # a PI of NCT06379243 alone does not see NCT06172179
    own = client.post(url, {"cohort": "study", "study": seeded.code}, format="json")
    assert own.status_code == 400 and "later data cut" in own.json()["study"][0]
    answer = client.post(url, {"cohort": "study", "study": study2.code}, format="json")
    assert answer.status_code == 202, answer.content
    assert job_execute(answer.json()["id"]) == "done", Job.objects.get(pk=answer.json()["id"]).error_params
    sister = RiskValidation.objects.get(job_id=answer.json()["id"])
    assert sister.cohort_study == study2 and sister.result["cohort"]["study"] == study2.code
    assert sister.analysed == sister.result["flow"]["analysed"] > 0

    early = client.post(url, {"cohort": "later_cut", "cut": "2026-01-01T00:00:00+08:00"}, format="json")
    assert early.status_code == 400 and "after the model's development cut" in early.json()["cut"][0]
    # A later cut takes only the participants enrolled after the model's cut: none here (the model was
    # developed on everyone), so the job fails saying why, and no validation is stored.
    answer = client.post(url, {"cohort": "later_cut"}, format="json")
    assert answer.status_code == 202, answer.content
    assert job_execute(answer.json()["id"]) == "failed"
    assert (
        "participants with and without the event"
        in Job.objects.get(pk=answer.json()["id"]).error_params["message"]
    )
    assert not RiskValidation.objects.filter(job_id=answer.json()["id"]).exists()


def test_the_developments_options_are_bounded_and_named(study, people):
    """The shipped specifications of the study, their defaults, and each option out of bounds named."""
    client = api_for(people["data_manager"])
    specs = client.get(f"/api/v1/studies/{study.code}/risk-model-specs/").json()
    files = {row["file"]: row for row in specs}
    clinical = files[CLINICAL]
    assert clinical["bootstrap"] == 200 and clinical["imputations"] == 5 and clinical["seed"] == 20240501
    answer = client.post(
        models_url(study), {"spec": CLINICAL, "bootstrap": 10, "imputations": 51, "seed": -1}, format="json"
    )
    assert answer.status_code == 400
    assert set(answer.json()) >= {"bootstrap", "imputations", "seed"}
    assert "200" in answer.json()["bootstrap"][0] and "2000" in answer.json()["bootstrap"][0]
    answer = client.post(models_url(study), {"spec": "other.yaml"}, format="json")
    assert answer.status_code == 400 and "spec" in answer.json()
    answer = client.post(models_url(study), {"spec": CLINICAL, "stepwise": True}, format="json")
    assert answer.status_code == 400 and "stepwise" in answer.json()
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    answer = client.post(models_url(study), {"spec": CLINICAL, "cut": future}, format="json")
    assert answer.status_code == 400 and "future" in answer.json()["cut"][0]
    assert not Job.objects.filter(kind=JobKind.RISK_MODEL_DEVELOP).exists()
    earlier = {"spec": CLINICAL, "cut": "2026-06-30T23:59:00+08:00"}
    answer = client.post(models_url(study), earlier, format="json")
    assert answer.status_code == 202  # an earlier cut: kept for the job, in UTC
    assert Job.objects.get(kind=JobKind.RISK_MODEL_DEVELOP).params["cut"] == "2026-06-30T15:59:00+00:00"
