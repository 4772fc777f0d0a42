"""The coordinator's questionnaire page: entry on the patient's behalf, issuing a patient link (shown once)
and revoking one, who may read, enter or issue, and a fixed number of queries whatever the number of links."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from followup.models import InstrumentText, PatientLink, QuestionnaireResponse, ResponseStatus
from followup.services.links import patient_link_save
from trial.models import Role

from ..factories import StaffRoleFactory
from .patient_page_helpers import ODI_16, fixture_participant, fixture_visit, issue, odi_post, page  # noqa: F401 -- fixtures

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


def logged_in(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


# --- the coordinator's page ---------------------------------------------------------------------------------


def entry_url(visit, instrument="odi", suffix="") -> str:
    return (
        f"/participants/{visit.participant.study_id}/visits/{visit.code}/questionnaires/{instrument}/{suffix}"
    )


def test_coordinator_enters_a_paper_odi_and_corrects_it_with_a_reason(coordinator, visit):
    client = logged_in(coordinator, "zh-hans")
    html = client.get(entry_url(visit)).content.decode()
    assert "疼痛程度" in html and html.count('type="checkbox"') == 60
    assert 'class="mainnav"' in html  # the staff pages' chrome
    data = odi_post(ODI_16, action="submit", version=0, source="paper", language="zh-hans")
    data["q0"] = ["1", "2"]  # two statements ticked on paper: the highest counts
    answer = client.post(entry_url(visit), data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    response = QuestionnaireResponse.objects.get()
    assert (response.status, response.source, str(response.score), response.entered_by) == (
        "final",
        "paper",
        "32.0",
        coordinator,
    )
    assert response.answers[0] == [1, 2]

    corrected = odi_post([0, *ODI_16[1:]], action="save", version=1, source="paper", language="zh-hans")
    refused = client.post(entry_url(visit), corrected)
    assert refused.status_code == 400 and 'id="id_reason"' in refused.content.decode()
    assert QuestionnaireResponse.objects.get().version == 1
    answer = client.post(entry_url(visit), {**corrected, "reason": "转录错误"})
    assert answer.status_code == 302
    response.refresh_from_db()
    assert (response.version, str(response.score)) == (2, "28.0")


def test_coordinator_enters_a_vas_interview_draft(coordinator, visit):
    client = logged_in(coordinator, "en")
    html = client.get(entry_url(visit, "vas")).content.decode()
    assert 'type="number" name="pain"' in html and "data-vas " not in html  # a number box for staff
    answer = client.post(
        entry_url(visit, "vas"),
        {"action": "save", "version": "0", "source": "interview", "language": "en", "pain": "64"},
    )
    assert answer.status_code == 302
    response = QuestionnaireResponse.objects.get(instrument="vas")
    assert (response.answers, response.status, response.source) == ({"pain": 64}, "draft", "interview")
    bad = client.post(
        entry_url(visit, "vas"),
        {"action": "save", "version": "1", "source": "patient", "language": "en", "pain": "64"},
    )
    assert bad.status_code == 400  # staff never claim the patient's own source


def test_a_link_is_issued_from_the_page_and_shown_once(coordinator, visit):
    client = logged_in(coordinator, "en")
    answer = client.post(entry_url(visit, suffix="link/"), {"language": "zh-hans"})
    assert answer.status_code in (302, 303)  # Post/Redirect/Get: a refresh issues nothing
    assert answer["Location"] == entry_url(visit) + "#new-link"
    assert "/p/" not in answer.content.decode()
    link = PatientLink.objects.get()

    shown = client.get(answer["Location"])
    assert shown.status_code == 200
    html = shown.content.decode()
    url = re.search(r'id="patient-link-url" value="([^"]+)"', html).group(1)
    assert url.startswith("http://testserver/p/") and '<svg class="qr"' in html
    assert "no-store" in shown["Cache-Control"]
    path = url.removeprefix("http://testserver")
    assert Client().get(path).status_code == 200
    assert 'data-link-state="live"' in html

    again = client.get(entry_url(visit))  # a refresh: the URL is gone, and no other link was issued
    text = again.content.decode()
    assert again.status_code == 200 and 'id="patient-link-url"' not in text and "<svg" not in text
    assert url not in text and path.split("/")[2] not in text
    assert not any(path.split("/")[2] in str(value) for value in client.session.values())
    assert list(PatientLink.objects.values_list("pk", flat=True)) == [link.pk]
    assert Client().get(path).status_code == 200  # still the live link

    replaced = client.post(entry_url(visit, suffix="link/"), {"language": "en"})
    assert replaced.status_code in (302, 303)
    assert Client().get(path).status_code == 410  # replaced
    states = client.get(entry_url(visit)).content.decode()
    assert states.count('data-link-state="revoked"') == 1 and states.count('data-link-state="live"') == 1
    assert 'id="patient-link-url"' in states and url not in states  # the new URL once, never the old one


def test_a_held_url_is_shown_only_on_its_own_page_and_only_while_its_link_lives(coordinator, visit):
    client = logged_in(coordinator, "en")
    client.post(entry_url(visit, suffix="link/"), {"language": "en"})
    other = client.get(entry_url(visit, "vas"))  # another questionnaire's page does not take it
    assert 'id="patient-link-url"' not in other.content.decode()
    PatientLink.objects.update(revoked_at=timezone.now())  # revoked in another tab meanwhile
    html = client.get(entry_url(visit)).content.decode()
    assert 'id="patient-link-url"' not in html and 'data-link-state="revoked"' in html


def test_a_coordinator_revokes_a_link_from_the_page(coordinator, visit):
    link, token = issue(coordinator, visit)
    patient = Client()
    patient.post(page(token), odi_post([4, 4] + [None] * 8, lang="zh-hans"))  # the patient had started
    client = logged_in(coordinator, "en")
    html = client.get(entry_url(visit)).content.decode()
    revoke = entry_url(visit, suffix=f"links/{link.pk}/revoke/")
    assert f'action="{revoke}"' in html and "Revoke" in html
    form = re.search(rf'<form method="post" action="{re.escape(revoke)}".*?</form>', html, re.S).group(0)
    assert "csrfmiddlewaretoken" in form
    chinese = logged_in(coordinator, "zh-hans").get(entry_url(visit)).content.decode()
    assert ">撤销</button>" in chinese and "患者已打开" in chinese

    answer = client.post(revoke)
    assert answer.status_code == 302 and answer["Location"] == entry_url(visit) + "#links"
    link.refresh_from_db()
    assert link.revoked_at is not None and link.used_at is None
    after = client.get(answer["Location"]).content.decode()
    assert "The link was revoked" in after and 'data-link-state="revoked"' in after
    assert f'action="{revoke}"' not in after  # nothing left to revoke
    assert "Create a patient link" in after  # a new link may still be sent

    # The patient's page: the friendly refusal, in the link's language; saving changes nothing.
    before = QuestionnaireResponse.objects.get(pk=link.response_id)
    for refused in (
        patient.get(page(token)),
        patient.post(page(token), odi_post(ODI_16, action="save", version=2)),
    ):
        assert refused.status_code == 410
        text = refused.content.decode()
        assert (
            'data-reason="revoked"' in text and '<html lang="zh-hans">' in text and 'type="radio"' not in text
        )
    done = patient.post(page(token), {"action": "submit", "version": "2", "lang": "zh-hans"})
    assert done.status_code == 410
    response = QuestionnaireResponse.objects.get(pk=link.response_id)
    assert (response.answers, response.version, response.status) == (before.answers, 2, "draft")

    again = client.post(revoke)  # a double click: nothing more
    assert again.status_code == 302
    assert "already revoked" in client.get(again["Location"]).content.decode()
    assert PatientLink.objects.get(pk=link.pk).revoked_at == link.revoked_at


def test_a_used_link_is_not_revoked_from_the_page(coordinator, visit):
    link, token = issue(coordinator, visit)
    client = logged_in(coordinator, "en")
    html = client.get(entry_url(visit)).content.decode()
    assert html.count('data-role="revoke-link"') == 1
    patient_link_save(token, ODI_16, True, expected_version=1)
    html = client.get(entry_url(visit)).content.decode()
    assert 'data-role="revoke-link"' not in html and 'data-link-state="used"' in html
    answer = client.post(entry_url(visit, suffix=f"links/{link.pk}/revoke/"))
    assert answer.status_code == 409 and "can no longer be revoked" in answer.content.decode()
    assert PatientLink.objects.get(pk=link.pk).revoked_at is None


def test_monitors_and_other_sites_cannot_revoke(
    make_user, study, monitor, other_coordinator, coordinator, visit
):
    link, token = issue(coordinator, visit)
    revoke = entry_url(visit, suffix=f"links/{link.pk}/revoke/")
    html = logged_in(monitor, "en").get(entry_url(visit)).content.decode()
    assert 'data-role="revoke-link"' not in html and 'data-link-state="live"' in html
    assert logged_in(monitor).post(revoke).status_code == 403
    assert logged_in(other_coordinator).post(revoke).status_code == 404
    adjudicator = make_user("adj", role=Role.ADJUDICATOR, study=study)
    assert logged_in(adjudicator).post(revoke).status_code == 404
    assert Client().post(revoke).status_code == 302  # to the login page
    assert logged_in(coordinator).get(revoke).status_code == 405
    assert logged_in(coordinator).post(entry_url(visit, "vas", f"links/{link.pk}/revoke/")).status_code == 404
    assert PatientLink.objects.get(pk=link.pk).revoked_at is None
    assert Client().get(page(token)).status_code == 200


def test_revoking_needs_the_csrf_token(coordinator, visit):
    link, _token = issue(coordinator, visit)
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    assert client.post(entry_url(visit, suffix=f"links/{link.pk}/revoke/")).status_code == 403
    assert PatientLink.objects.get(pk=link.pk).revoked_at is None


def test_no_link_once_submitted(coordinator, visit):
    _link, token = issue(coordinator, visit)
    patient_link_save(token, ODI_16, True, expected_version=1)
    client = logged_in(coordinator, "en")
    assert "Create a patient link" not in client.get(entry_url(visit)).content.decode()
    answer = client.post(entry_url(visit, suffix="link/"), {"language": "en"})
    assert answer.status_code == 409
    assert PatientLink.objects.count() == 1


def test_monitors_read_but_neither_enter_nor_issue(monitor, coordinator, visit):
    _link, token = issue(coordinator, visit)
    patient_link_save(token, ODI_16, True, expected_version=1)
    client = logged_in(monitor, "en")
    html = client.get(entry_url(visit)).content.decode()
    assert "32.0%" in html and "disabled" in html and 'name="action"' not in html
    assert (
        client.post(entry_url(visit), odi_post(ODI_16, version=1, source="paper", language="en")).status_code
        == 403
    )
    assert client.post(entry_url(visit, suffix="link/"), {"language": "en"}).status_code == 403
    assert QuestionnaireResponse.objects.get().version == 2


def test_other_sites_adjudicators_and_strangers_see_nothing(make_user, study, other_coordinator, visit):
    assert logged_in(other_coordinator).get(entry_url(visit)).status_code == 404
    adjudicator = make_user("adj", role=Role.ADJUDICATOR, study=study)
    assert logged_in(adjudicator).get(entry_url(visit)).status_code == 404
    assert Client().get(entry_url(visit)).status_code == 302  # to the login page
    assert (
        logged_in(other_coordinator).post(entry_url(visit, suffix="link/"), {"language": "en"}).status_code
        == 404
    )
    coordinator_of_both = other_coordinator
    StaffRoleFactory(
        user=coordinator_of_both, study=study, site=visit.participant.site, role=Role.COORDINATOR
    )
    assert logged_in(coordinator_of_both).get(entry_url(visit, "sf36")).status_code == 404
    assert not PatientLink.objects.exists()


def test_the_entry_page_reads_a_fixed_number_of_rows_whatever_the_number_of_links(coordinator, visit):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged_in(coordinator, "en")
    issue(coordinator, visit)
    client.get(entry_url(visit))  # warm up: session, caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(entry_url(visit)).status_code == 200
    for _ in range(4):
        issue(coordinator, visit)
    with CaptureQueriesContext(connection) as five:
        html = client.get(entry_url(visit)).content.decode()
    assert html.count("data-link-state=") == 5
    assert len(five) == len(one)


def test_without_odi_wording_the_page_says_how_to_load_it_and_paper_entry_still_works(coordinator, visit):
    InstrumentText.objects.filter(language="zh-hans").delete()  # the demo's English wording stays
    client = logged_in(coordinator, "zh-hans")
    refused = client.post(entry_url(visit, suffix="link/"), {"language": "zh-hans"})
    assert refused.status_code == 409
    html = refused.content.decode()
    assert "manage.py load_instrument_text FILE" in html and "尚未载入" in html
    assert not PatientLink.objects.exists() and not QuestionnaireResponse.objects.exists()
    # an English link is issued (its wording is loaded), and staff enter a paper form in any language
    assert client.post(entry_url(visit, suffix="link/"), {"language": "en"}).status_code == 302
    paper = odi_post(ODI_16, action="submit", version=1, source="paper", language="zh-hans")
    assert client.post(entry_url(visit), paper).status_code == 302
    assert QuestionnaireResponse.objects.get().status == ResponseStatus.FINAL
