"""The workbench's pages: the list and a model's page in a fixed number of queries, who sees what (the forms
only for those who may use them), freezing from the page as an e-signature, the calculator refused before
freezing and its field messages; a real development from the page in test_browser.py."""

import pytest
from django.utils import translation

from reports.models import RiskModel
from tests.factories import PASSWORD
from trial.models import StaffRole

from .workbench import page_for, stored_model

pytestmark = pytest.mark.django_db
LIST = "/reports/risk-models/"


def chinese_catalogue(language: str) -> None:
    """Skip a Chinese check until the catalogue holds the workbench's messages (in /work/po27/f.json, which
    the lead merges into locale/)."""
    if language == "zh-hans":
        with translation.override("zh-hans"):
            if translation.gettext("Risk models") == "Risk models":
                pytest.skip("the Chinese of the workbench's messages is not merged into the catalogue yet")


@pytest.mark.parametrize("count", [1, 4])
def test_the_list_runs_a_fixed_number_of_queries(study, people, count, django_assert_num_queries):
    for i in range(count):
        stored_model(study, people["pi"], name=f"model {i}", frozen=i == 0)
    client = page_for(people["pi"])
    with django_assert_num_queries(9):
        answer = client.get(LIST, {"study": study.code})
    assert answer.status_code == 200
    text = answer.content.decode()
    assert all(f"model {i}" in text for i in range(count))
    assert "0.680" in text  # the corrected C-statistic
    assert 'id="develop-form"' in text


@pytest.mark.parametrize(
    ("who", "status"),
    [("pi", 200), ("monitor", 200), ("investigator", 200), ("coordinator", 403), ("adjudicator", 404)],
)
def test_who_sees_the_pages(study, people, investigator, who, status):
    people = {**people, "investigator": investigator}
    made = stored_model(study, people["pi"], frozen=True)
    client = page_for(people[who])
    assert client.get(LIST, {"study": study.code}).status_code == status
    assert client.get(f"/reports/risk-models/{made.pk}/").status_code == status
    assert client.get(f"/reports/risk-models/{made.pk}/calculator/").status_code == status
    assert client.get(f"/reports/risk-models/{made.pk}/model.json").status_code == status


def test_readers_see_no_forms(study, people):
    made = stored_model(study, people["pi"])
    text = page_for(people["monitor"]).get(f"/reports/risk-models/{made.pk}/").content.decode()
    assert 'id="freeze-form"' not in text and 'id="validate-form"' not in text
    assert "develop-form" not in page_for(people["monitor"]).get(LIST, {"study": study.code}).content.decode()


def test_the_model_page_shows_its_figures(study, people, django_assert_num_queries):
    made = stored_model(study, people["pi"])
    client = page_for(people["pi"])
    with django_assert_num_queries(9):
        answer = client.get(f"/reports/risk-models/{made.pk}/")
    text = answer.content.decode()
    assert answer.status_code == 200
    assert "1.05 (1.03\u20131.08)" in text  # the odds ratio of age with its interval (an en dash)
    assert "-6.0000" in text  # the intercept
    assert 'id="freeze-form"' in text and "Risk calculator" not in text


def test_freezing_from_the_page(study, people):
    made = stored_model(study, people["pi"])
    client = page_for(people["pi"])
    url = f"/reports/risk-models/{made.pk}/freeze/"
    wrong = client.post(url, {"freeze-reason": "final", "freeze-username": "pi", "freeze-password": "no"})
    assert wrong.status_code == 403
    assert "The password is not correct; the model was not frozen." in wrong.content.decode()
    assert 'value="no"' not in wrong.content.decode()  # the password is never drawn back
    assert RiskModel.objects.get(pk=made.pk).state == "developed"
    done = client.post(url, {"freeze-reason": "final", "freeze-username": "pi", "freeze-password": PASSWORD})
    assert done.status_code == 302
    made.refresh_from_db()
    assert made.state == "frozen" and made.frozen_by == people["pi"] and made.reason == "final"
    text = client.get(f"/reports/risk-models/{made.pk}/").content.decode()
    assert 'id="freeze-form"' not in text and "Risk calculator" in text and 'id="validate-form"' in text


def test_the_calculator_is_for_frozen_models(study, people):
    made = stored_model(study, people["pi"])
    answer = page_for(people["monitor"]).get(f"/reports/risk-models/{made.pk}/calculator/")
    assert answer.status_code == 409
    assert "Only a frozen model can be used to calculate a risk" in answer.content.decode()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_calculators_field_messages(study, people, language):
    chinese_catalogue(language)
    made = stored_model(study, people["pi"], frozen=True)
    client = page_for(people["monitor"], language)
    url = f"/reports/risk-models/{made.pk}/calculator/"
    page = client.get(url).content.decode()
    research = {"en": "For research use only; not for clinical decisions.", "zh-hans": "仅供研究使用"}[
        language
    ]
    assert research in page
    answer = client.post(url, {"age": "120", "female": ""})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert text.count('class="errorlist') == 2
    assert {"en": "Enter a value.", "zh-hans": "请输入"}[language] in text


def test_the_menu_offers_risk_models_where_a_study_has_an_endpoint(study, people, make_user):
    from ...conftest import load_study

    accuracy = load_study("NCT07306858")  # analyses vertebrae: no endpoint to predict
    there = page_for(people["monitor"]).get(LIST, {"study": study.code}).content.decode()
    assert 'href="/reports/risk-models/"' in there
    monitor = make_user("monitor-acc", role="monitor", study=accuracy)
    home = page_for(monitor).get("/", follow=True).content.decode()
    assert "mainnav" in home and 'href="/reports/' in home  # the menu is drawn, with the reports' own
    assert 'href="/reports/risk-models/"' not in home
    # An investigator has it at their site without the menu asking (no query more on their pages); the page
    # of a study without an endpoint says so and offers nothing to develop.
    investigator = make_user("inv-acc", role="investigator", site=accuracy.sites.order_by("code").first())
    assert 'href="/reports/risk-models/"' in page_for(investigator).get("/", follow=True).content.decode()
    text = page_for(people["data_manager"]).get(LIST, {"study": study.code}).content.decode()
    assert 'id="no-endpoint"' not in text and 'id="develop-form"' in text
    dm = make_user("dm-acc", role="data_manager", study=accuracy)
    text = page_for(dm).get(LIST, {"study": accuracy.code}).content.decode()
    assert 'id="no-endpoint"' in text and 'id="develop-form"' not in text
    # An investigator at a site who is also a study-wide monitor: the entry once, not once a role.
    both = make_user("inv-mon", role="investigator", site=study.sites.order_by("code").first())
    StaffRole.objects.create(user=both, study=study, role="monitor", active=True)
    home = page_for(both).get("/", follow=True).content.decode()
    assert home.count('href="/reports/risk-models/"') == 1


def test_a_bad_cohort_file_is_refused_beside_the_field(study, people, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reports.models import Job

    settings.MEDIA_ROOT = tmp_path
    made = stored_model(study, people["data_manager"], frozen=True)
    upload = SimpleUploadedFile("cohort.csv", b"age,sex\n70,female\n", content_type="text/csv")
    answer = page_for(people["data_manager"]).post(
        f"/reports/risk-models/{made.pk}/validate/",
        {"validate-source": "import", "validate-language": "en", "validate-file": upload},
    )
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "missing column t_score_min" in text and 'id="validate-form"' in text
    assert not Job.objects.filter(kind="risk_model_validate").exists() and not list(tmp_path.iterdir())
