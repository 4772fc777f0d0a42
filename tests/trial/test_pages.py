"""Coordinator pages: both languages, login, site scoping, forms mapped onto services, fixed query counts."""

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from trial.clock import site_today
from trial.models import Participant, ParticipantIdentity, ParticipantStatus, Screening

from ..conftest import ELIGIBLE_ANSWERS
from ..factories import PASSWORD

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

FORM_URL = "/screenings/new/?study=NCT06379243"


def logged_in(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def form_data(site_obj, **overrides) -> dict:
    data = {
        "site": site_obj.code,
        "screening_date": (site_today(site_obj) - datetime.timedelta(days=1)).isoformat(),
        "age": "72",
        "sex": "female",
        "fracture_levels": ["T12", "L1"],
        "answer_INC1": "yes",
        "answer_INC2": "yes",
        "answer_EXC1": "no",
        "answer_EXC2": "no",
        "answer_EXC3": "no",
        "notes": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def enroll_data(**overrides) -> dict:
    data = {
        "consent_date": "2026-01-06",
        "enrollment_date": "2026-01-07",
        "full_name": "Synthetic Person",
        "phone": "13800000000",
        "hospital_record_number": "H-1",
        "national_id": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def pages(make_participant, make_screening):
    """One URL of every page, with a participant and an ineligible screening on site 07."""
    participant = make_participant()
    make_screening(answers={**ELIGIBLE_ANSWERS, "EXC2": True})
    return [
        "/",
        FORM_URL,
        "/screenings/",
        f"/screenings/{participant.screening_id}/",
        "/participants/",
        f"/participants/{participant.study_id}/",
    ]


# --- rendering and languages ---------------------------------------------------------------------------


def test_urls_have_the_page_names():
    assert reverse("dashboard") == "/"
    assert reverse("screening-new") == "/screenings/new/"
    assert reverse("screening-log") == "/screenings/"
    assert reverse("screening-detail", kwargs={"pk": 3}) == "/screenings/3/"
    assert reverse("participant-list") == "/participants/"
    assert reverse("login") == "/login/" and reverse("logout") == "/logout/"


def test_every_page_renders_in_english(coordinator, pages):
    client = logged_in(coordinator)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="en">' in html
        assert "Screening log" in html  # the nav bar
        assert re.search(r"/static/css/app(\.[0-9a-f]+)?\.css", html)  # hashed when DEBUG is off


def test_every_page_renders_in_chinese_from_the_cookie(coordinator, pages):
    client = logged_in(coordinator, "zh-hans")
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="zh-hans">' in html
        assert "筛选日志" in html, url  # "Screening log" in the nav bar
        assert "Screening log" not in html, url


def test_chinese_from_accept_language(coordinator):
    response = logged_in(coordinator).get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.status_code == 200
    assert "仪表板" in response.content.decode()


def test_protocol_texts_follow_the_language(coordinator):
    english = logged_in(coordinator).get(FORM_URL).content.decode()
    chinese = logged_in(coordinator, "zh-hans").get(FORM_URL).content.decode()
    assert "History of severe scoliosis" in english
    assert "既往有严重脊柱侧弯" in chinese
    assert "由数据判定" in chinese  # "Decided from the data" on the computed criterion


def test_language_switch_posts_to_set_language(coordinator):
    client = logged_in(coordinator)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/screenings/"})
    assert response.status_code == 302 and response["Location"] == "/screenings/"
    assert "筛选日志" in client.get("/screenings/").content.decode()


# --- login ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/", FORM_URL, "/screenings/", "/screenings/1/", "/participants/", "/participants/07-0001/"]
)
def test_pages_need_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_login_and_logout(client, coordinator):
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "coord07", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/logout/").status_code == 405  # logging out is a POST
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_shows_an_error(client, coordinator):
    response = client.post("/login/", {"username": "coord07", "password": "wrong"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


# --- dashboard -----------------------------------------------------------------------------------------


def test_dashboard_shows_enrollment_and_failure_reasons(coordinator, make_participant, make_screening):
    make_participant()
    make_screening(answers={**ELIGIBLE_ANSWERS, "EXC2": True})
    make_screening(answers={**ELIGIBLE_ANSWERS, "EXC2": True})
    html = logged_in(coordinator).get("/").content.decode()
    assert "NCT06379243" in html
    assert "<strong>1</strong> of 560 enrolled" in html
    assert 'aria-valuenow="1"' in html
    assert "EXC2" in html and "Spinal infection or malignant neoplastic disease." in html


def test_dashboard_without_roles_says_so(make_user):
    html = logged_in(make_user("nobody")).get("/").content.decode()
    assert "You have no role in any study" in html


# --- screening form ------------------------------------------------------------------------------------


def test_screening_form_shows_sites_levels_and_criteria(coordinator, other_site):
    response = logged_in(coordinator).get("/screenings/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["study"].code == "NCT06379243"
    assert list(response.context["form"].fields["site"].queryset) == [coordinator.trial_roles.get().site]
    assert 'value="91"' not in html  # a site where the user may not screen
    assert html.count('name="fracture_levels"') == 17
    for code in ("INC1", "INC2", "EXC1", "EXC2", "EXC3"):
        assert f'name="answer_{code}"' in html
    assert 'name="answer_INC3"' not in html  # computed from the levels
    assert 'data-eligibility-url="/api/v1/studies/NCT06379243/eligibility/"' in html


def test_screening_form_creates_one_screening(coordinator, site):
    client = logged_in(coordinator)
    response = client.post(FORM_URL, form_data(site))
    screening = Screening.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/screenings/{screening.pk}/"
    assert screening.outcome == "eligible"
    assert screening.fracture_levels == ["T12", "L1"]
    assert screening.answers == ELIGIBLE_ANSWERS
    assert screening.screened_by == coordinator
    assert "eligible" in client.get(response["Location"]).content.decode()


def test_screening_form_keeps_unknown_answers_and_exclusions(coordinator, site):
    client = logged_in(coordinator)
    client.post(FORM_URL, form_data(site, answer_INC2="unknown", answer_EXC1="yes"))
    screening = Screening.objects.get()
    assert screening.outcome == "ineligible"
    assert screening.failed_criteria == ["EXC1"]
    assert screening.missing_criteria == ["INC2"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"screening_date": "2999-01-01"}, "screening_date"),
        ({"site": None}, "site"),
        ({"age": "150"}, "age"),
        ({"fracture_levels": ["T13"]}, "fracture_levels"),
        ({"sex": None}, "sex"),
    ],
)
def test_bad_screening_input_shows_field_errors_and_saves_nothing(coordinator, site, overrides, field):
    response = logged_in(coordinator).post(FORM_URL, form_data(site, **overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert 'aria-invalid="true"' in response.content.decode()
    assert Screening.objects.count() == 0


def test_future_date_error_comes_from_the_service(coordinator, site):
    response = logged_in(coordinator).post(FORM_URL, form_data(site, screening_date="2999-01-01"))
    assert response.context["form"].errors["screening_date"] == [
        "The screening date cannot be in the future."
    ]


def test_bad_input_keeps_the_answers_and_previews_the_verdict(coordinator, site):
    response = logged_in(coordinator).post(FORM_URL, form_data(site, age="150", answer_EXC2="yes"))
    html = response.content.decode()
    assert 'value="yes" id="id_answer_EXC2_0" checked' in html or 'id="id_answer_EXC2_0" checked' in html
    assert response.context["verdict"].outcome == "ineligible"


def test_user_without_a_writable_site_cannot_screen(monitor):
    assert logged_in(monitor).get("/screenings/new/").status_code == 403


def test_unknown_study_is_404(coordinator):
    assert logged_in(coordinator).get("/screenings/new/?study=NCT00000000").status_code == 404


# --- scoping -------------------------------------------------------------------------------------------


def test_other_site_sees_none_of_the_first_sites_data(other_coordinator, make_participant, make_screening):
    participant = make_participant()
    screening = make_screening(age=81)
    client = logged_in(other_coordinator)
    log = client.get("/screenings/")
    assert log.status_code == 200 and log.context["rows"] == []
    assert client.get(f"/screenings/{screening.pk}/").status_code == 404
    assert client.get(f"/screenings/{participant.screening_id}/").status_code == 404
    assert client.get("/participants/").context["rows"] == []
    assert client.get(f"/participants/{participant.study_id}/").status_code == 404
    assert client.post(f"/screenings/{screening.pk}/enroll/", enroll_data()).status_code == 404
    response = client.post(FORM_URL, form_data(screening.site))  # site 07 is not among its choices
    assert "site" in response.context["form"].errors
    assert Screening.objects.count() == 2


def test_names_only_for_the_participants_own_site(coordinator, monitor, make_participant):
    participant = make_participant()
    assert "Synthetic Person" in logged_in(coordinator).get("/participants/").content.decode()
    assert (
        "Synthetic Person"
        in logged_in(coordinator).get(f"/participants/{participant.study_id}/").content.decode()
    )
    for url in ("/participants/", f"/participants/{participant.study_id}/"):
        response = logged_in(monitor).get(url)
        assert response.status_code == 200
        assert "Synthetic Person" not in response.content.decode()
        assert "13800000000" not in response.content.decode()


# --- detail, enrollment, correction --------------------------------------------------------------------


def test_detail_shows_data_verdict_version_and_history(coordinator, make_screening):
    screening = make_screening(answers={**ELIGIBLE_ANSWERS, "EXC2": True})
    response = logged_in(coordinator).get(f"/screenings/{screening.pk}/")
    html = response.content.decode()
    assert response.context["verdict"].outcome == "ineligible"
    assert "Spinal infection or malignant neoplastic disease." in html
    assert "1.0" in html  # protocol version label
    assert "Audit trail" in html and response.context["history"][0]["user"] == "coord07"
    assert response.context["enroll_form"] is None  # ineligible
    assert response.context["correct_form"] is not None


def test_enrollment_through_the_detail_page(coordinator, make_screening):
    screening = make_screening()
    client = logged_in(coordinator)
    page = client.get(f"/screenings/{screening.pk}/")
    assert page.context["enroll_form"] is not None
    response = client.post(f"/screenings/{screening.pk}/enroll/", enroll_data(), follow=True)
    # The coordinator lands on the new participant's page.
    assert response.redirect_chain == [("/participants/07-0001/", 302)]
    html = response.content.decode()
    assert "Enrolled. The participant&#x27;s study ID is 07-0001." in html
    assert "07-0001" in html and "Synthetic Person" in html
    participant = Participant.objects.get()
    assert participant.study_id == "07-0001"
    assert ParticipantIdentity.objects.get(participant=participant).hospital_record_number == "H-1"

    again = client.post(f"/screenings/{screening.pk}/enroll/", enroll_data())
    assert again.status_code == 409
    assert "This screening is already enrolled." in again.content.decode()
    assert Participant.objects.count() == 1
    detail = client.get(f"/screenings/{screening.pk}/")
    assert detail.context["enroll_form"] is None and detail.context["correct_form"] is None
    assert "07-0001" in detail.content.decode()


def test_enrollment_errors_map_to_fields(coordinator, make_screening):
    screening = make_screening()
    client = logged_in(coordinator)
    response = client.post(
        f"/screenings/{screening.pk}/enroll/",
        enroll_data(consent_date="2026-01-08", enrollment_date="2026-01-07"),
    )
    assert response.status_code == 400
    assert response.context["enroll_form"].errors["consent_date"] == [
        "Consent must be given on or before the enrollment date."
    ]
    response = client.post(f"/screenings/{screening.pk}/enroll/", enroll_data(full_name=""))
    assert "full_name" in response.context["enroll_form"].errors
    response = client.post(
        f"/screenings/{screening.pk}/enroll/",
        enroll_data(enrollment_date="2026-01-01", consent_date="2026-01-01"),
    )
    assert "enrollment_date" in response.context["enroll_form"].errors  # before the screening date
    assert Participant.objects.count() == 0


def test_ineligible_screening_cannot_be_enrolled(coordinator, make_screening):
    screening = make_screening(answers={**ELIGIBLE_ANSWERS, "EXC1": True})
    response = logged_in(coordinator).post(f"/screenings/{screening.pk}/enroll/", enroll_data())
    assert response.status_code == 409
    assert "Only an eligible screening can be enrolled" in response.content.decode()
    assert Participant.objects.count() == 0


def test_correction_needs_a_reason_and_rejudges(coordinator, make_screening, site):
    screening = make_screening(answers={**ELIGIBLE_ANSWERS, "EXC1": True})
    client = logged_in(coordinator)
    data = form_data(site, screening_date="2026-01-05", site=None)
    response = client.post(f"/screenings/{screening.pk}/correct/", {**data, "reason": ""})
    assert response.status_code == 400 and "reason" in response.context["correct_form"].errors
    screening.refresh_from_db()
    assert screening.outcome == "ineligible"

    response = client.post(
        f"/screenings/{screening.pk}/correct/", {**data, "reason": "EXC1 was entered by mistake"}, follow=True
    )
    assert response.redirect_chain == [(f"/screenings/{screening.pk}/", 302)]
    screening.refresh_from_db()
    assert screening.outcome == "eligible" and screening.answers["EXC1"] is False
    history = response.context["history"]
    assert history[-1]["reason"] == "EXC1 was entered by mistake"
    assert "EXC1 was entered by mistake" in response.content.decode()


def test_withdrawal_from_the_participant_page(coordinator, make_participant):
    participant = make_participant()
    client = logged_in(coordinator)
    url = f"/participants/{participant.study_id}/status/"
    response = client.post(url, {"status": "withdrawn", "date": "2026-01-08", "reason": ""})
    assert response.status_code == 400 and "reason" in response.context["status_form"].errors
    response = client.post(
        url, {"status": "withdrawn", "date": "2026-01-08", "reason": "Moved away"}, follow=True
    )
    assert response.redirect_chain == [(f"/participants/{participant.study_id}/", 302)]
    participant.refresh_from_db()
    assert participant.status == ParticipantStatus.WITHDRAWN
    assert response.context["status_form"] is None


def test_a_lost_participant_is_offered_reinstatement_only_from_the_page(coordinator, make_participant):
    participant = make_participant()
    client = logged_in(coordinator)
    url = f"/participants/{participant.study_id}/status/"
    client.post(url, {"status": "lost_to_follow_up", "date": "2026-03-01", "reason": "No answer"})
    choices = [
        value
        for value, _label in client.get(f"/participants/{participant.study_id}/")
        .context["status_form"]
        .fields["status"]
        .choices
    ]
    assert choices == ["enrolled", "withdrawn", "died"]
    refused = client.post(url, {"status": "lost_to_follow_up", "date": "2026-03-02", "reason": "again"})
    assert "status" in refused.context["status_form"].errors
    client.post(url, {"status": "enrolled", "date": "2026-04-01", "reason": "Came back to clinic"})
    participant.refresh_from_db()
    assert participant.status == ParticipantStatus.ENROLLED


# --- lists: filters, pagination, fixed query counts ----------------------------------------------------


def test_screening_log_filters_and_pages(coordinator, make_screening):
    for day in range(1, 4):
        make_screening(day=datetime.date(2026, 1, day))
    make_screening(answers={**ELIGIBLE_ANSWERS, "EXC3": True}, day=datetime.date(2026, 1, 9))
    client = logged_in(coordinator)
    assert len(client.get("/screenings/").context["rows"]) == 4
    assert len(client.get("/screenings/?outcome=ineligible").context["rows"]) == 1
    rows = client.get("/screenings/?date_from=2026-01-02&date_to=2026-01-03").context["rows"]
    assert [row["screening"].screening_date.day for row in rows] == [3, 2]
    response = client.get("/screenings/?date_from=not-a-date")
    # Shown and refused (400, nothing listed), never the whole log as if unfiltered.
    assert response.status_code == 400 and "date_from" in response.context["form"].errors
    assert response.context["rows"] == []


def test_screening_log_paginates_by_fifty(coordinator, make_screening):
    for _ in range(51):
        make_screening()
    client = logged_in(coordinator)
    first = client.get("/screenings/")
    assert len(first.context["rows"]) == 50 and first.context["page"].has_next()
    assert len(client.get("/screenings/?page=2").context["rows"]) == 1


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


# The participant list shows its own site staff the names: one INSERT more logs them (trial.IdentityRead).
@pytest.mark.parametrize(("url", "most"), [("/screenings/", 9), ("/participants/", 10)])
def test_lists_run_a_fixed_number_of_queries(coordinator, make_participant, url, most):
    client = logged_in(coordinator)
    for _ in range(3):
        make_participant()
    with_3 = queries_for(client, url)
    for _ in range(27):
        make_participant()
    with_30 = queries_for(client, url)
    assert len(client.get(url).context["rows"]) == 30
    assert with_3 == with_30, (with_3, with_30)
    # the rows' queries, and one for the user's roles (the menu shows what they may open)
    assert with_30 <= most


def test_an_enrolled_screening_cannot_be_corrected(coordinator, make_participant, site):
    participant = make_participant()
    data = {**form_data(site, screening_date="2026-01-05", site=None), "reason": "late correction"}
    response = logged_in(coordinator).post(f"/screenings/{participant.screening_id}/correct/", data)
    assert response.status_code == 409  # the state refuses it, as the API says
    assert "can no longer be changed" in response.content.decode()
    assert response.context["may_correct"] is False


def test_correction_records_why_an_eligible_patient_was_not_enrolled(coordinator, make_screening, site):
    screening = make_screening()
    data = {**form_data(site, screening_date="2026-01-05", site=None), "reason": "patient said no"}
    client = logged_in(coordinator)
    response = client.post(
        f"/screenings/{screening.pk}/correct/",
        {**data, "not_enrolled_reason": "declined_consent"},
        follow=True,
    )
    screening.refresh_from_db()
    assert screening.not_enrolled_reason == "declined_consent"
    assert "Declined consent" in response.content.decode()
    assert "Declined consent" in client.get("/screenings/").content.decode()

    response = client.post(  # an ineligible screening has no reason for not enrolling
        f"/screenings/{screening.pk}/correct/",
        {**data, "answer_EXC1": "yes", "not_enrolled_reason": "declined_consent"},
    )
    assert "not_enrolled_reason" in response.context["correct_form"].errors
    screening.refresh_from_db()
    assert screening.outcome == "eligible"
