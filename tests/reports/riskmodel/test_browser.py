"""A principal investigator develops a model from the workbench (small: 10 resamples, 2 imputations),
watches the job's page turn done, opens the model, freezes it with their password, validates it on a later
cut and uses the calculator, in English and Chinese, in Debian's chromium. The jobs are run by this process
(job_execute, as the worker would): the tests' small specification and bounds are settings a worker process
would not share.

Screenshots to look at, in /work/shots27/f/: {list,job,model,frozen,validated,calculator,
calculator_refused}_{en,zh}.png.
"""

import re

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from reports.exports.analysis import AnalysisDataset
from reports.exports.writers import csv_write
from reports.jobs import job_execute
from reports.models import Job, RiskModel
from tests.factories import PASSWORD

from ...browser import BROWSER_MARKS, SHOTS
from .test_api import by_hand

pytestmark = BROWSER_MARKS


def _sign_in(page, live_server, user, language):
    session = Client()
    session.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url},
            {"name": "django_language", "value": language, "url": live_server.url},
        ]
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_pi_develops_freezes_and_uses_the_calculator(
    live_server, people, seeded, small_specs, page, language, tmp_path
):
    short = language[:2]
    _sign_in(page, live_server, people["pi"], language)
    page.goto(f"{live_server.url}/reports/risk-models/?study={seeded.code}")
    page.screenshot(path=str(SHOTS / f"list_{short}.png"), full_page=True)

    form = page.locator("#develop-form")
    form.locator("select[name=spec]").select_option("small.yaml")
    form.locator("input[name=bootstrap]").fill("10")
    form.locator("input[name=imputations]").fill("2")
    form.locator("input[name=seed]").fill("3")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/reports/risk-models/jobs/\d+/$"))
    job = Job.objects.get(kind="risk_model_develop")
    assert job.params["language"] == language and job.params["bootstrap"] == 10
    page.screenshot(path=str(SHOTS / f"job_{short}.png"), full_page=True)

    assert job_execute(job.pk) == "done", Job.objects.get(pk=job.pk).error_params  # the worker's part
    card = page.locator("#job")
    card.locator("[data-role=status].job-state-done").wait_for(timeout=15_000)  # the page's poll
    card.locator("[data-role=download] a.btn-primary").click()  # the job's page goes on to the model
    made = RiskModel.objects.get()
    page.wait_for_url(re.compile(rf".*/reports/risk-models/{made.pk}/$"))
    assert page.locator("#coefficients tbody tr").count() == len(made.result["coefficients"])
    page.screenshot(path=str(SHOTS / f"model_{short}.png"), full_page=True)

    freeze = page.locator("#freeze-form")
    freeze.locator("textarea").fill("Ready for external validation")
    freeze.locator("input[name=freeze-username]").fill("pi")
    freeze.locator("input[type=password]").fill(PASSWORD)
    freeze.locator("button[type=submit]").click()
    page.locator("#validate-form").wait_for()
    made.refresh_from_db()
    assert made.state == "frozen" and made.frozen_by == people["pi"]
    page.screenshot(path=str(SHOTS / f"frozen_{short}.png"), full_page=True)

    # Validated on an imported cohort (the analysis export's CSV; here the study's own, for the flow of the
    # pages): the job's page, then the model's with the validation's figures. (A later cut holds only the
    # participants enrolled after the model's cut: none here; tests/reports/riskmodel/test_data.py.)
    cohort = tmp_path / "cohort.csv"
    with cohort.open("wb") as out, transaction.atomic():  # the export's server-side cursor needs one
        csv_write(AnalysisDataset(seeded).table(cut_at=timezone.now()), out, bom=True)
    validate = page.locator("#validate-form")
    validate.locator("input[name=validate-source][value=import]").check()
    validate.locator("input[name=validate-file]").set_input_files(str(cohort))
    validate.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/reports/risk-models/jobs/\d+/$"))
    job = Job.objects.get(kind="risk_model_validate")
    assert job_execute(job.pk) == "done", Job.objects.get(pk=job.pk).error_params
    page.locator("#job [data-role=status].job-state-done").wait_for(timeout=15_000)
    page.locator("#job [data-role=download] a.btn-primary").click()
    page.wait_for_url(re.compile(rf".*/reports/risk-models/{made.pk}/$"))
    assert page.locator("#validations tbody tr").count() == 1
    page.screenshot(path=str(SHOTS / f"validated_{short}.png"), full_page=True)

    page.locator(f"a[href$='/reports/risk-models/{made.pk}/calculator/']").click()
    calculator = page.locator("#calculator-form")
    calculator.locator("input[name=age]").fill("130")
    calculator.locator("button[type=submit]").click()
    assert page.locator("#calculator-form .errorlist").count() == 3  # age out of range, two missing
    page.screenshot(path=str(SHOTS / f"calculator_refused_{short}.png"), full_page=True)
    calculator.locator("input[name=age]").fill("78")
    calculator.locator("input[name=t_score]").fill("-3.1")
    calculator.locator("select[name=female]").select_option("1")
    calculator.locator("button[type=submit]").click()
    risk, low, high = by_hand(made.model, {"age": 78, "t_score": -3.1, "female": 1})
    shown = page.locator("#risk").inner_text()
    assert shown == f"{100 * risk:.1f} %"
    assert page.locator("#risk-interval").inner_text() == f"{100 * low:.1f}–{100 * high:.1f} %"  # noqa: RUF001
    assert page.locator("#research-only").is_visible()
    assert page.locator("#points-each tbody tr").count() == 3  # one row of points per predictor
    page.screenshot(path=str(SHOTS / f"calculator_{short}.png"), full_page=True)
