"""Revoking a patient link: at once, keeping the answers, audited and idempotent; replaced, expired and used
links; who may revoke; the staff API's revoke endpoint and its refusals; a revocation between reading the
token and saving."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from followup.models import PatientLink, QuestionnaireResponse, ResponseSource, ResponseStatus
from followup.services import links
from followup.services.links import (
    LinkRefused,
    patient_link_issue,
    patient_link_resolve,
    patient_link_revoke,
    patient_link_save,
)
from followup.services.questionnaires import questionnaire_save
from trial.errors import Conflict, Forbidden
from trial.models import Role
from trial.selectors import history_for

from ..conftest import client_for
from .link_helpers import (  # noqa: F401 -- fixtures
    ODI_16,
    api_url,
    fixture_issued,
    fixture_participant,
    fixture_visit,
    links_snapshot,
    patient_api,
    snapshot,
)

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


# --- revoking a link ----------------------------------------------------------------------------------------


def revoke_url(link, instrument="odi", visit_code="M12") -> str:
    study_id = link.response.participant.study_id
    questionnaire = f"/api/v1/participants/{study_id}/visits/{visit_code}/questionnaires/{instrument}"
    return f"{questionnaire}/links/{link.pk}/revoke/"


def test_revoke_kills_the_link_at_once_keeps_the_answers_and_is_audited(coordinator, issued):
    link, token = issued
    patient_link_save(token, [3] + [None] * 9, False, expected_version=1)  # the patient had started
    revoked = patient_link_revoke(actor=coordinator, link=link)
    assert revoked.revoked_at is not None and revoked.used_at is None
    with pytest.raises(LinkRefused) as refused:
        patient_link_resolve(token)
    assert (refused.value.code, refused.value.status_code, refused.value.language) == (
        "revoked",
        410,
        "zh-hans",
    )
    before = snapshot(link.response_id)
    assert before[0] == [3] + [None] * 9 and before[1] == ResponseStatus.DRAFT  # what was saved stays
    with pytest.raises(LinkRefused):
        patient_link_save(token, ODI_16, True, expected_version=2)
    assert snapshot(link.response_id) == before

    event = history_for(PatientLink.objects.get(pk=link.pk))[-1]
    assert (event["event"], event["user"], event["reason"]) == ("update", "coord07", links.REVOKED_BY_STAFF)
    assert [change["field"] for change in event["changes"]] == ["revoked_at"]
    assert token.partition(".")[0] not in str(event["data"])  # the trail holds the key's hash only

    # Idempotent: a second revocation changes nothing, records nothing.
    again = patient_link_revoke(actor=coordinator, link=link, reason="twice")
    assert again.revoked_at == revoked.revoked_at
    assert len(history_for(PatientLink.objects.get(pk=link.pk))) == 2  # insert, one revocation


def test_an_investigator_revokes_with_a_reason(make_user, study, site, issued):
    link, _token = issued
    investigator = make_user("inv01", role=Role.INVESTIGATOR, study=study, site=site)
    patient_link_revoke(actor=investigator, link=link, reason="  Sent to the wrong phone ")
    event = history_for(link)[-1]
    assert (event["user"], event["reason"]) == ("inv01", "Sent to the wrong phone")


def test_revoking_a_replaced_or_expired_link_changes_nothing(coordinator, visit, issued):
    first, _ = issued
    second, _ = patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="en")
    replaced_at = PatientLink.objects.get(pk=first.pk).revoked_at
    assert patient_link_revoke(actor=coordinator, link=first).revoked_at == replaced_at
    PatientLink.objects.filter(pk=second.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    before = links_snapshot()
    assert (
        patient_link_revoke(actor=coordinator, link=PatientLink.objects.get(pk=second.pk)).revoked_at is None
    )
    assert links_snapshot() == before


@pytest.mark.parametrize("how", ["patient", "staff"])
def test_a_used_link_cannot_be_revoked(how, coordinator, participant, visit, issued):
    link, token = issued
    if how == "patient":
        patient_link_save(token, ODI_16, True, expected_version=1)
    else:
        questionnaire_save(
            actor=coordinator,
            participant=participant,
            visit=visit,
            instrument="odi",
            answers=ODI_16,
            source=ResponseSource.INTERVIEW,
            language="zh-hans",
            submit=True,
            expected_version=1,
        )
    before = links_snapshot()
    with pytest.raises(Conflict) as refused:
        patient_link_revoke(actor=coordinator, link=link)
    assert (refused.value.code, refused.value.status_code) == ("used", 409)
    assert links_snapshot() == before


@pytest.mark.parametrize("who", ["monitor", "other_coordinator"])
def test_only_the_sites_coordinators_and_investigators_revoke(who, request, issued):
    link, token = issued
    with pytest.raises(Forbidden):
        patient_link_revoke(actor=request.getfixturevalue(who), link=link)
    assert PatientLink.objects.get(pk=link.pk).revoked_at is None
    assert patient_link_resolve(token).pk == link.pk


def test_staff_api_revokes_a_link(api, issued):
    link, token = issued
    answer = api.post(revoke_url(link), HTTP_X_CHANGE_REASON="Wrong phone number")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["id"], body["state"], body["language"], body["used_at"]) == (
        link.pk,
        "revoked",
        "zh-hans",
        None,
    )
    assert body["revoked_at"] and "token" not in body and "url" not in body
    assert history_for(link)[-1]["reason"] == "Wrong phone number"
    refused = patient_api().put(api_url(token), {"answers": ODI_16, "submit": True}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (410, "revoked")
    assert snapshot(link.response_id)[1] == ResponseStatus.DRAFT

    again = api.post(revoke_url(link))  # idempotent
    assert again.status_code == 200 and again.json()["revoked_at"] == body["revoked_at"]


def test_staff_api_revoke_refusals(
    api, make_user, study, monitor, other_coordinator, coordinator, visit, issued
):
    link, token = issued
    url = revoke_url(link)
    assert client_for(monitor).post(url).status_code == 403
    assert client_for(other_coordinator).post(url).status_code == 404
    adjudicator = make_user("adj", role=Role.ADJUDICATOR, study=study)
    assert client_for(adjudicator).post(url).status_code == 404
    assert APIClient().post(url).status_code in (401, 403)
    assert api.post(revoke_url(link, instrument="vas")).status_code == 404  # not this questionnaire's link
    assert api.post(revoke_url(link, visit_code="M6")).status_code == 404
    assert api.post(url.replace(f"/links/{link.pk}/", "/links/999999/")).status_code == 404
    assert PatientLink.objects.get(pk=link.pk).revoked_at is None

    patient_link_save(token, ODI_16, True, expected_version=1)
    used = api.post(url)
    assert (used.status_code, used.json()["code"]) == (409, "used")
    assert PatientLink.objects.get(pk=link.pk).revoked_at is None


def test_a_revocation_after_the_token_was_read_still_stops_the_save(monkeypatch, issued):
    """The link is checked again under the save's locks: a revocation between reading and saving wins."""
    link, token = issued
    resolve = links.patient_link_resolve

    def resolve_then_revoke(raw):
        found = resolve(raw)
        PatientLink.objects.filter(pk=found.pk).update(revoked_at=timezone.now())  # staff, meanwhile
        return found

    monkeypatch.setattr(links, "patient_link_resolve", resolve_then_revoke)
    with pytest.raises(links.LinkRefused) as refused:
        links.patient_link_save(token, [1] * 10, True)
    assert refused.value.code == "revoked"
    response = QuestionnaireResponse.objects.get(pk=link.response_id)
    assert response.status == "draft" and response.answers != [1] * 10
