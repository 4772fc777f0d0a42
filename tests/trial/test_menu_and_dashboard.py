"""What each role is offered (menu and buttons), the dashboard's sites against the study target, the warning
before enrolling beyond the target, landing on the new participant, and finding a participant by study ID."""

import re

import pytest
from django.test import Client

from trial.models import Participant, ProtocolVersion, Role

from ..conftest import ELIGIBLE_ANSWERS
from .test_pages import enroll_data, logged_in

pytestmark = pytest.mark.django_db

NAV = re.compile(r'<nav class="mainnav".*?</nav>', re.S)
LINK = re.compile(r'href="([^"]+)"')


def menu_links(client: Client) -> list[str]:
    page = client.get("/")
    assert page.status_code == 200
    return LINK.findall(NAV.search(page.content.decode()).group(0))


@pytest.fixture
def people(make_user, study, site, coordinator, monitor):
    return {
        "coordinator": coordinator,
        "monitor": monitor,
        "investigator": make_user("inv07", role=Role.INVESTIGATOR, site=site),
        "pi": make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study),
        "data_manager": make_user("dm", role=Role.DATA_MANAGER, study=study),
        "adjudicator": make_user("adj", role=Role.ADJUDICATOR, study=study),
    }


@pytest.mark.parametrize(
    "who", ["coordinator", "investigator", "monitor", "pi", "data_manager", "adjudicator"]
)
def test_every_menu_item_opens_for_the_role_that_sees_it(people, make_participant, who):
    make_participant()
    client = logged_in(people[who])
    links = menu_links(client)
    assert links and links[0] == "/"
    for url in links:
        assert client.get(url).status_code == 200, url


def test_only_site_staff_are_offered_a_new_screening(people):
    for who in ("coordinator", "investigator"):
        assert "/screenings/new/" in menu_links(logged_in(people[who]))
    for who in ("monitor", "pi", "data_manager", "adjudicator"):
        client = logged_in(people[who])
        assert "/screenings/new/" not in menu_links(client)
        assert "/screenings/new/" not in client.get("/").content.decode()  # nor the dashboard's button
    assert "/screenings/new/" not in logged_in(people["monitor"]).get("/screenings/").content.decode()
    assert "/screenings/new/" in logged_in(people["coordinator"]).get("/screenings/").content.decode()


def test_adjudicators_are_offered_no_research_data(people):
    """Only their own cases to read, blind (followup's queue)."""
    assert menu_links(logged_in(people["adjudicator"])) == ["/", "/adjudication/", "/api/docs/"]


def test_a_site_sees_its_share_of_the_study_target_not_the_studys_progress(
    people, other_site, make_participant
):
    make_participant()
    coordinator = logged_in(people["coordinator"]).get("/").content.decode()
    assert 'data-scope="sites"' in coordinator
    assert "Your site: <strong>1</strong> enrolled toward the study's target of 560" in coordinator
    assert "not the study's progress" in coordinator
    monitor = logged_in(people["monitor"]).get("/").content.decode()
    assert 'data-scope="study"' in monitor
    assert "Study: <strong>1</strong> of 560 enrolled" in monitor
    # Each site's row is against the study's target: 1 of 560 is 0.2 %.
    assert re.search(r'<td class="num">0\.2%</td>', monitor)


def test_the_dashboard_in_chinese_labels_the_share(people, other_site, make_participant):
    make_participant()
    html = logged_in(people["coordinator"], "zh-hans").get("/").content.decode()
    assert "研究总目标" in html and "不是整个研究的进度" in html


@pytest.fixture
def target_of_one(study):
    ProtocolVersion.objects.filter(study=study).update(target_enrollment=1)


def test_enrolling_beyond_the_target_needs_a_confirmation_in_the_api(
    api, make_participant, make_screening, target_of_one
):
    make_participant()
    screening = make_screening()
    body = {
        "consent_date": "2026-01-06",
        "enrollment_date": "2026-01-07",
        "identity": {"full_name": "Synthetic B"},
    }
    refused = api.post(f"/api/v1/screenings/{screening.pk}/enroll/", body, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "beyond_target"
    assert Participant.objects.count() == 1
    done = api.post(
        f"/api/v1/screenings/{screening.pk}/enroll/", {**body, "beyond_target": True}, format="json"
    )
    assert done.status_code == 201 and Participant.objects.count() == 2


def test_the_page_warns_before_enrolling_beyond_the_target(
    people, make_participant, make_screening, target_of_one
):
    make_participant()
    screening = make_screening()
    client = logged_in(people["coordinator"])
    page = client.get(f"/screenings/{screening.pk}/").content.decode()
    assert 'data-role="beyond-target"' in page and "already enrolled its target of 1" in page
    refused = client.post(f"/screenings/{screening.pk}/enroll/", enroll_data())
    assert refused.status_code == 409 and Participant.objects.count() == 1
    assert "must be confirmed" in refused.content.decode()
    done = client.post(f"/screenings/{screening.pk}/enroll/", enroll_data(beyond_target="on"))
    participant = Participant.objects.get(screening=screening)
    assert done.status_code == 302 and done["Location"] == f"/participants/{participant.study_id}/"


def test_below_the_target_there_is_no_warning(people, make_screening):
    screening = make_screening(answers=ELIGIBLE_ANSWERS)
    client = logged_in(people["coordinator"])
    assert 'data-role="beyond-target"' not in client.get(f"/screenings/{screening.pk}/").content.decode()
    done = client.post(f"/screenings/{screening.pk}/enroll/", enroll_data())
    # The coordinator lands on the new participant's page, where forms and follow-up start.
    assert done["Location"] == f"/participants/{Participant.objects.get().study_id}/"


def test_participants_are_found_by_study_id(people, make_participant, api):
    first, second, third = (make_participant() for _ in range(3))
    client = logged_in(people["coordinator"])
    html = client.get("/participants/", {"q": second.study_id[-4:]}).content.decode()
    assert second.study_id in html and first.study_id not in html and third.study_id not in html
    api_ids = [
        row["study_id"] for row in api.get("/api/v1/participants/", {"q": second.study_id}).json()["results"]
    ]
    assert api_ids == [second.study_id]
    assert 'role="search"' in html and 'name="q"' in html
