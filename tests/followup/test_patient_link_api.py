"""The patient-link API (/api/v1/patient/<token>/): the questionnaire in the link's language, partial save and
submit, used or expired links (410), tampered or unknown tokens (404), wrong or out-of-range answers (400),
stale versions (409), each changing nothing; the licensed wording once loaded; no token or answer in the logs.
"""

import datetime
import json
import logging

import pytest
from django.core import signing
from django.utils import timezone

from followup.models import PatientLink, QuestionnaireResponse
from followup.services import links
from followup.services.links import patient_link_issue
from followup.services.questionnaires import instrument_text_load
from trial.clock import site_today

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
