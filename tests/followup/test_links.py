"""Patient links (ePRO) through the services: issue (expiry, one live link, refusals changing nothing),
partial save and submit, and every refused token (used, expired, revoked, tampered, unknown); an ODI link
needs its wording loaded; the staff API that issues links."""

import datetime
import hashlib

import pytest
import time_machine
from django.core import signing
from django.utils import timezone, translation
from rest_framework.test import APIClient

from followup.models import (
    PatientLink,
    QuestionnaireResponse,
    ResponseSource,
    ResponseStatus,
    Visit,
    VisitState,
)
from followup.services import links
from followup.services.links import LinkRefused, patient_link_issue, patient_link_resolve, patient_link_save
from followup.services.questionnaires import questionnaire_save
from trial.errors import Conflict, Forbidden, InvalidInput
from trial.models import Participant, ParticipantStatus, Role

from ..conftest import client_for, open_visit
from .link_helpers import ODI_16, fixture_issued, fixture_participant, fixture_visit, snapshot  # noqa: F401 -- fixtures

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


# --- issuing ------------------------------------------------------------------------------------------------


def test_issue_makes_a_draft_and_a_link_that_stores_only_the_keys_hash(coordinator, visit, issued):
    link, token = issued
    key, _, signature = token.partition(".")
    assert len(key) == 22 and signature  # 128 random bits, then the signature
    assert link.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    stored = PatientLink.objects.filter(pk=link.pk).values().get()
    assert not any(token in str(value) or key in str(value) for value in stored.values())
    response = link.response
    assert (response.status, response.source, response.visit_id) == (
        ResponseStatus.DRAFT,
        "patient",
        visit.pk,
    )
    assert response.answers == [None] * 10 and response.entered_by is None
    assert link.language == "zh-hans" and link.created_by == coordinator
    lifetime = link.expires_at - link.created_at
    assert datetime.timedelta(days=14) - lifetime < datetime.timedelta(minutes=1)
    assert patient_link_resolve(token).pk == link.pk


def test_expiry_comes_from_the_setting_read_at_call_time_and_is_capped(settings, coordinator, visit):
    settings.EPRO_LINK_DAYS = 3
    link, _ = patient_link_issue(actor=coordinator, visit=visit, instrument="vas", language="en")
    assert abs((link.expires_at - timezone.now()) - datetime.timedelta(days=3)) < datetime.timedelta(
        minutes=1
    )
    link, _ = patient_link_issue(
        actor=coordinator,
        visit=visit,
        instrument="vas",
        language="en",
        expires_in=datetime.timedelta(days=400),
    )
    assert abs((link.expires_at - timezone.now()) - datetime.timedelta(days=60)) < datetime.timedelta(
        minutes=1
    )


def test_a_new_link_revokes_the_older_live_one(coordinator, visit, issued):
    first, first_token = issued
    second, second_token = patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="en")
    assert second.response_id == first.response_id  # the same draft
    with pytest.raises(LinkRefused) as refused:
        patient_link_resolve(first_token)
    assert (refused.value.code, refused.value.status_code, refused.value.language) == (
        "revoked",
        410,
        "zh-hans",
    )
    assert patient_link_resolve(second_token).pk == second.pk
    assert QuestionnaireResponse.objects.count() == 1


@pytest.mark.parametrize(
    ("setup", "error", "field"),
    [
        ("monitor", Forbidden, None),
        ("other_site", Forbidden, None),
        ("not_listed", InvalidInput, "instrument"),
        ("unknown_instrument", InvalidInput, "instrument"),
        ("language", InvalidInput, "language"),
        ("missed", Conflict, None),
        ("withdrawn", Conflict, None),
        ("died", Conflict, None),
    ],
)
def test_issue_refusals_change_nothing(
    setup, error, field, coordinator, monitor, other_coordinator, participant, visit
):
    actor, instrument, language = coordinator, "odi", "zh-hans"
    if setup == "monitor":
        actor = monitor
    elif setup == "other_site":
        actor = other_coordinator
    elif setup == "not_listed":
        Visit.objects.filter(pk=visit.pk).update(questionnaires=["vas"])
        visit.refresh_from_db()
    elif setup == "unknown_instrument":
        instrument = "sf36"
    elif setup == "language":
        language = "fr"
    elif setup == "missed":
        Visit.objects.filter(pk=visit.pk).update(state=VisitState.MISSED)
        visit.refresh_from_db()
    else:
        Participant.objects.filter(pk=participant.pk).update(status=setup)
        visit = Visit.objects.select_related("participant__site").get(pk=visit.pk)
    with pytest.raises(error) as refused:
        patient_link_issue(actor=actor, visit=visit, instrument=instrument, language=language)
    if field:
        assert field in refused.value.field_errors
    assert not PatientLink.objects.exists()
    assert not QuestionnaireResponse.objects.exists()


def test_no_link_for_a_questionnaire_already_submitted(coordinator, visit, issued):
    _link, token = issued
    patient_link_save(token, ODI_16, True, expected_version=1)
    with pytest.raises(Conflict):
        patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="zh-hans")
    assert PatientLink.objects.count() == 1


# --- saving through the services ----------------------------------------------------------------------------


def test_partial_save_then_submit_then_the_link_is_used(issued):
    link, token = issued
    partial = [2, 1, 3, None, None, None, None, None, None, None]
    saved = patient_link_save(token, partial, False, expected_version=1)
    assert (saved.status, saved.answers, saved.answered, saved.score) == ("draft", partial, 3, None)
    assert saved.entered_by is None and saved.source == ResponseSource.PATIENT

    final = patient_link_save(token, ODI_16, True, expected_version=saved.version)
    assert (final.status, str(final.score), final.band, final.answered) == ("final", "32.0", "moderate", 10)
    link.refresh_from_db()
    assert link.used_at == final.submitted_at

    before = snapshot(final.pk)
    with pytest.raises(LinkRefused) as refused:
        patient_link_save(token, [5] * 10, True, expected_version=final.version)
    assert (refused.value.code, refused.value.status_code) == ("used", 410)
    assert snapshot(final.pk) == before


def test_a_response_submitted_by_staff_makes_the_link_used(coordinator, participant, visit, issued):
    _link, token = issued
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
    with pytest.raises(LinkRefused) as refused:
        patient_link_resolve(token)
    assert refused.value.code == "used"


def test_a_visit_missed_or_a_withdrawal_after_issue_kills_the_link(participant, visit, issued):
    _link, token = issued
    Participant.objects.filter(pk=participant.pk).update(status=ParticipantStatus.WITHDRAWN)
    with pytest.raises(LinkRefused) as refused:
        patient_link_resolve(token)
    assert refused.value.code == "revoked"
    Participant.objects.filter(pk=participant.pk).update(status=ParticipantStatus.ENROLLED)
    Visit.objects.filter(pk=visit.pk).update(state=VisitState.NOT_APPLICABLE)
    with pytest.raises(LinkRefused):
        patient_link_resolve(token)


def test_expiry_with_time_travel(issued):
    link, token = issued
    with time_machine.travel(link.expires_at - datetime.timedelta(minutes=1)):
        assert patient_link_resolve(token).pk == link.pk
    with time_machine.travel(link.expires_at + datetime.timedelta(seconds=1)):
        with pytest.raises(LinkRefused) as refused:
            patient_link_save(token, ODI_16, False, expected_version=1)
        assert (refused.value.code, refused.value.status_code) == ("expired", 410)
    assert snapshot(link.response_id)[0] == [None] * 10


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature altered
        lambda token: ("B" if token[0] != "B" else "C") + token[1:],  # the key altered
        lambda token: token.partition(".")[0],  # no signature
        lambda token: "x" * 300,  # absurdly long
        lambda token: "not-a-token",
    ],
)
def test_tampered_tokens_are_unknown_after_the_same_lookup(issued, mangle, django_assert_num_queries):
    """An altered token is answered as a well-signed unknown key is, after the same one lookup: neither the
    answer nor its time tells whether the signature held (nothing to enumerate)."""
    _link, token = issued
    with django_assert_num_queries(1), pytest.raises(LinkRefused) as refused:
        patient_link_resolve(mangle(token))
    assert (refused.value.code, refused.value.status_code) == ("unknown", 404)
    forged = signing.Signer(salt=links.SALT, sep=".").sign("A" * 22)
    with django_assert_num_queries(1), pytest.raises(LinkRefused) as unknown:
        patient_link_resolve(forged)
    assert (unknown.value.code, unknown.value.message) == (refused.value.code, refused.value.message)


def test_a_well_signed_but_unknown_key_is_unknown(issued):
    forged = signing.Signer(salt=links.SALT, sep=".").sign("A" * 22)
    with pytest.raises(LinkRefused) as refused:
        patient_link_resolve(forged)
    assert (refused.value.code, refused.value.status_code) == ("unknown", 404)
    # A token signed for another purpose (another salt) does not open a link either.
    key = issued[1].partition(".")[0]
    with pytest.raises(LinkRefused) as refused:
        patient_link_resolve(signing.Signer(sep=".").sign(key))
    assert refused.value.code == "unknown"


# --- no ODI link without wording ----------------------------------------------------------------------------


def test_an_odi_link_needs_wording_loaded_in_its_language(coordinator, make_participant):
    visit = open_visit(make_participant())
    with pytest.raises(Conflict) as refused:
        patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="en")
    assert refused.value.code == "wording_not_loaded" and refused.value.status_code == 409
    assert "`manage.py load_instrument_text FILE`" in refused.value.message
    assert "English" in refused.value.message
    assert not QuestionnaireResponse.objects.exists() and not PatientLink.objects.exists()  # nothing written
    # the VAS is not licensed: its link needs no loaded wording
    assert patient_link_issue(actor=coordinator, visit=visit, instrument="vas", language="en")[0].pk
    # staff entry from a paper form needs no wording either
    paper = questionnaire_save(
        actor=coordinator,
        participant=visit.participant,
        visit=visit,
        instrument="odi",
        answers=ODI_16,
        source=ResponseSource.PAPER,
        language="en",
        submit=True,
        expected_version=None,
    )
    assert str(paper.score) == "32.0"


def test_wording_in_one_language_allows_links_in_that_language_only(coordinator, make_participant):
    from followup.demo_wording import DEMO_WORDING, demo_wording_load

    visit = open_visit(make_participant())
    demo_wording_load(DEMO_WORDING / "odi-2.1a-demo-en.yaml")
    assert patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="en")[0].pk
    with translation.override("zh-hans"), pytest.raises(Conflict) as refused:
        patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="zh-hans")
    assert "manage.py load_instrument_text FILE" in refused.value.message
    assert "简体中文" in refused.value.message and "尚未载入" in refused.value.message


def test_staff_api_refuses_an_odi_link_without_wording(coordinator, make_participant):
    visit = open_visit(make_participant())
    url = f"/api/v1/participants/{visit.participant.study_id}/visits/M12/questionnaires/odi/link/"
    answer = client_for(coordinator).post(url, {"language": "zh-hans"}, format="json")
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "wording_not_loaded" and "manage.py load_instrument_text FILE" in body["detail"]
    assert not PatientLink.objects.exists()


# --- the staff API that issues links ------------------------------------------------------------------------


def test_staff_api_issues_a_link(api, participant, visit):
    url = f"/api/v1/participants/{participant.study_id}/visits/M12/questionnaires/odi/link/"
    answer = api.post(url, {"language": "en", "expires_in_days": 7}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["url"].endswith(f"/p/{body['token']}/") and body["language"] == "en"
    assert "no-store" in answer["Cache-Control"]
    link = patient_link_resolve(body["token"])
    assert link.pk == body["id"]
    assert abs((link.expires_at - timezone.now()) - datetime.timedelta(days=7)) < datetime.timedelta(
        minutes=1
    )

    assert api.post(url, {"language": "fr"}, format="json").status_code == 400
    assert api.post(url.replace("/odi/", "/sf36/"), {"language": "en"}, format="json").status_code == 400
    assert api.post(url.replace("M12", "M99"), {"language": "en"}, format="json").status_code == 404


def test_staff_api_refuses_monitors_and_hides_other_sites(
    make_user, study, monitor, other_coordinator, visit
):
    url = f"/api/v1/participants/{visit.participant.study_id}/visits/M12/questionnaires/odi/link/"
    assert client_for(monitor).post(url, {"language": "en"}, format="json").status_code == 403
    assert client_for(other_coordinator).post(url, {"language": "en"}, format="json").status_code == 404
    adjudicator = make_user("adj", role=Role.ADJUDICATOR, study=study)
    assert client_for(adjudicator).post(url, {"language": "en"}, format="json").status_code == 404
    assert APIClient().post(url, {"language": "en"}, format="json").status_code in (401, 403)
    assert not PatientLink.objects.exists()
