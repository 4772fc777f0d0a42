"""Patient links (ePRO): issue, resolve, partial save, submit, and every refusal (used, expired, revoked,
tampered, unknown, wrong or out-of-range answers) changing nothing; the patient-link API and the staff API
that issues and revokes links."""

import datetime
import hashlib
import json
import logging

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
from followup.services.links import (
    LinkRefused,
    patient_link_issue,
    patient_link_resolve,
    patient_link_revoke,
    patient_link_save,
)
from followup.services.questionnaires import instrument_text_load, questionnaire_save
from trial.clock import site_today
from trial.errors import Conflict, Forbidden, InvalidInput
from trial.models import Participant, ParticipantStatus, Role
from trial.selectors import history_for

from ..conftest import client_for, open_visit

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

# Ten ODI sections summing to 16 of 50: 32.0 %, moderate disability (domain.md's worked example).
ODI_16 = [2, 1, 3, 2, 1, 2, 1, 0, 2, 2]


@pytest.fixture
def participant(make_participant, odi_wording):
    """A participant at a site where the ODI's wording is loaded (the demo's), as an ODI link needs."""
    return make_participant()


@pytest.fixture
def visit(participant):
    return open_visit(participant)


@pytest.fixture
def issued(coordinator, visit):
    """An ODI link in Chinese: (link, token)."""
    return patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="zh-hans")


def patient_api() -> APIClient:
    return APIClient()  # no session, no API token: the link's token is the only credential


def api_url(token: str) -> str:
    return f"/api/v1/patient/{token}/"


def snapshot(response_id: int) -> tuple:
    r = QuestionnaireResponse.objects.get(pk=response_id)
    return (r.answers, r.status, r.version, r.score, r.answered, r.language, r.submitted_at)


def links_snapshot() -> list:
    return list(PatientLink.objects.order_by("pk").values_list("pk", "used_at", "revoked_at", "expires_at"))


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


# --- the patient-link API -----------------------------------------------------------------------------------


def test_api_get_gives_the_questionnaire_in_the_links_language(issued):
    _link, token = issued
    answer = patient_api().get(api_url(token))
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["version"], body["language"], body["answered"], body["total"]) == (
        "draft",
        1,
        "zh-hans",
        0,
        10,
    )
    assert answer["ETag"] == '"1"'
    questionnaire = body["questionnaire"]
    assert questionnaire["title"] == "演示文本——不是 Oswestry 功能障碍指数"  # the demo's wording, plainly
    assert (questionnaire["licensed"], questionnaire["demonstration"]) == (False, True)
    assert [item["name"] for item in questionnaire["items"]][:2] == ["疼痛程度（演示）", "生活自理（演示）"]  # noqa: RUF001
    assert [option["value"] for option in questionnaire["items"][0]["options"]] == [0, 1, 2, 3, 4, 5]
    assert questionnaire["items"][0]["options"][0]["text"].startswith("演示文本，不是 ODI")  # noqa: RUF001
    assert body["answers"] == [None] * 10 and body["visit_label"] == "术后12个月"
    assert "no-store" in answer["Cache-Control"] and answer["Referrer-Policy"] == "no-referrer"
    english = patient_api().get(api_url(token), {"lang": "en"}).json()["questionnaire"]
    assert english["items"][0]["name"] == "Pain intensity (demonstration)"


def test_api_partial_save_submit_then_reuse_is_refused_with_410_and_nothing_changed(issued):
    link, token = issued
    client = patient_api()
    partial = [2, 1, 3, 2, 1, None, None, None, None, None]
    answer = client.put(api_url(token), {"answers": partial}, format="json", HTTP_IF_MATCH='"1"')
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["answered"], answer["ETag"]) == ("draft", 5, '"2"')
    assert client.get(api_url(token)).json()["answers"] == partial  # kept for later

    answer = client.put(api_url(token), {"answers": ODI_16, "submit": True}, format="json")
    assert answer.status_code == 200, answer.content
    response = QuestionnaireResponse.objects.get(pk=link.response_id)
    assert (response.status, str(response.score), response.band, response.source) == (
        "final",
        "32.0",
        "moderate",
        "patient",
    )
    assert response.entered_by is None and response.completed_on == site_today(response.participant.site)

    before, links_before = snapshot(response.pk), links_snapshot()
    for method in (client.put, client.get):
        refused = method(api_url(token), {"answers": [5] * 10, "submit": True}, format="json")
        assert refused.status_code == 410
        assert refused.json()["code"] == "used" and "answers" not in refused.json()
    assert snapshot(response.pk) == before and links_snapshot() == links_before


def test_api_expired_link_is_410(issued):
    link, token = issued
    PatientLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    before = snapshot(link.response_id)
    answer = patient_api().put(api_url(token), {"answers": ODI_16}, format="json")
    assert (answer.status_code, answer.json()["code"]) == (410, "expired")
    assert patient_api().get(api_url(token)).status_code == 410
    assert snapshot(link.response_id) == before


def test_api_tampered_and_unknown_tokens_are_404(issued):
    _link, token = issued
    tampered = token[:-2] + ("xy" if not token.endswith("xy") else "zz")
    answer = patient_api().get(api_url(tampered))
    assert (answer.status_code, answer.json()["code"]) == (404, "unknown")
    unknown = signing.Signer(salt=links.SALT, sep=".").sign("Z" * 22)
    same = patient_api().put(api_url(unknown), {"answers": ODI_16}, format="json")
    assert (same.status_code, same.json()) == (404, answer.json())  # the same answer: nothing to tell apart


def test_api_answers_to_the_wrong_questionnaire_are_400_and_change_nothing(issued):
    link, token = issued
    before = snapshot(link.response_id)
    answer = patient_api().put(api_url(token), {"answers": {"pain": 40}, "submit": True}, format="json")
    assert answer.status_code == 400
    assert "answers" in answer.json()  # the ODI wants ten answers, not a VAS mark
    assert snapshot(link.response_id) == before
    assert PatientLink.objects.get(pk=link.pk).used_at is None


def test_api_out_of_range_answers_are_400_per_item(coordinator, visit, issued):
    link, token = issued
    before = snapshot(link.response_id)
    bad = [6, 1, "2", -1, None, 2.5, True, [1, 9], None, None]
    answer = patient_api().put(api_url(token), {"answers": bad}, format="json")
    assert answer.status_code == 400
    body = answer.json()
    assert {key for key in body if key.startswith("answers[")} == {
        "answers[0]",
        "answers[2]",
        "answers[3]",
        "answers[5]",
        "answers[6]",
        "answers[7]",
    }
    assert snapshot(link.response_id) == before

    vas_link, vas_token = patient_link_issue(actor=coordinator, visit=visit, instrument="vas", language="en")
    answer = patient_api().put(api_url(vas_token), {"answers": {"pain": 101}}, format="json")
    assert answer.status_code == 400 and "answers.pain" in answer.json()
    answer = patient_api().put(api_url(vas_token), {"answers": {"pain": 37}, "submit": True}, format="json")
    assert answer.status_code == 200
    vas = QuestionnaireResponse.objects.get(pk=vas_link.response_id)
    assert (vas.answers, str(vas.score), vas.status) == ({"pain": 37}, "37.0", "final")


def test_api_input_shape_is_strict(issued):
    _link, token = issued
    answer = patient_api().put(api_url(token), {"answer": ODI_16}, format="json")
    assert answer.status_code == 400 and "answer" in answer.json()  # a typo is refused, not ignored
    answer = patient_api().put(api_url(token), {"answers": ODI_16, "submit": "yes"}, format="json")
    assert answer.status_code == 400 and "submit" in answer.json()  # true or false, nothing coerced
    assert QuestionnaireResponse.objects.get().version == 1


def test_api_stale_version_is_409_and_changes_nothing(issued):
    link, token = issued
    patient_api().put(api_url(token), {"answers": [1] + [None] * 9}, format="json", HTTP_IF_MATCH='"1"')
    before = snapshot(link.response_id)
    answer = patient_api().put(api_url(token), {"answers": ODI_16}, format="json", HTTP_IF_MATCH='"1"')
    assert answer.status_code == 409
    assert snapshot(link.response_id) == before


def test_api_other_language(coordinator, visit):
    link, token = patient_link_issue(actor=coordinator, visit=visit, instrument="vas", language="en")
    body = patient_api().get(api_url(token)).json()
    assert body["language"] == "en"
    assert body["questionnaire"]["scale"] == {
        "minimum": 0,
        "maximum": 100,
        "unit": "mm",
        "low": "No pain",
        "high": "Worst pain imaginable",
    }
    assert body["answers"] == {"pain": None}  # no value preselected
    patient_api().put(api_url(token), {"answers": {"pain": 12}}, format="json")
    assert QuestionnaireResponse.objects.get(pk=link.response_id).language == "en"


def test_api_shows_the_licensed_wording_once_loaded(issued):
    _link, token = issued
    sections = [
        {
            "code": code,
            "title": f"Licensed section {i}",
            "statements": [f"Licensed {i}.{j}" for j in range(6)],
        }
        for i, code in enumerate(
            [
                "pain_intensity",
                "personal_care",
                "lifting",
                "walking",
                "sitting",
                "standing",
                "sleeping",
                "sex_life",
                "social_life",
                "travelling",
            ]
        )
    ]
    raw = json.dumps(
        {
            "instrument": "odi",
            "version": "2.1a",
            "language": "zh-hans",
            "title": "授权标题",
            "instructions": "授权说明",
            "sections": sections,
        }
    ).encode()
    demo = patient_api().get(api_url(token)).json()["questionnaire"]
    assert (demo["licensed"], demo["demonstration"]) == (False, True)
    assert demo["items"][3]["options"][5]["text"] == "演示文本，不是 ODI：行走 第 5 级（共 5 级），最重"  # noqa: RUF001
    # a site's real file replaces the demo's wording
    instrument_text_load(raw=raw, name="odi_zh.json")
    questionnaire = patient_api().get(api_url(token)).json()["questionnaire"]
    assert (questionnaire["title"], questionnaire["licensed"]) == ("授权标题", True)
    assert questionnaire["demonstration"] is False
    assert questionnaire["items"][3]["name"] == "Licensed section 3"
    assert questionnaire["items"][3]["options"][5]["text"] == "Licensed 3.5"


def test_no_token_and_no_answer_is_logged(issued, caplog):
    _link, token = issued
    key = token.partition(".")[0]
    with caplog.at_level(logging.DEBUG):
        client = patient_api()
        client.get(api_url(token))
        client.put(api_url(token), {"answers": [9] * 10}, format="json")  # 400
        client.put(api_url(token), {"answers": ODI_16, "submit": True}, format="json")
        client.get(api_url(token))  # 410
        client.get(api_url(token[:-1] + "x"))  # 404
        client.get(f"/p/{token}/")  # the page: 410
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert key not in logged
    assert "[9, 9" not in logged and "32.0" not in logged


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
