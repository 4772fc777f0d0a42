"""The patient's questionnaire page (no login) in both languages: partial save, review and submit, errors
beside the items, stale windows, the VAS line without numbers, and its friendly refusal pages (used, expired,
revoked, tampered or unknown links)."""

import datetime
import re

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from followup.models import PatientLink, QuestionnaireResponse, ResponseStatus
from followup.services import links

from .patient_page_helpers import ODI_16, fixture_participant, fixture_visit, issue, odi_post, page  # noqa: F401 -- fixtures

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


def checked(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(q\d)" id="[^"]+" value="(\d)" checked', html))


# --- the patient's page -------------------------------------------------------------------------------------


def test_the_page_in_chinese_shows_only_the_questionnaire_privately(coordinator, visit):
    _link, token = issue(coordinator, visit)
    answer = Client().get(page(token))
    assert answer.status_code == 200
    html = answer.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "Oswestry 功能障碍指数" in html and "疼痛程度" in html and "出行" in html and "术后12个月" in html
    assert html.count('type="radio"') == 60 and html.count("<fieldset") == 10
    assert (
        'name="robots" content="noindex, nofollow"' in html
        and 'name="referrer" content="no-referrer"' in html
    )
    # no staff chrome, nothing identifying, no CDN
    assert "Log out" not in html and "mainnav" not in html and participant_id_absent(html, visit)
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)  # every asset is local
    assert "no-store" in answer["Cache-Control"] and answer["Referrer-Policy"] == "no-referrer"
    assert answer["X-Robots-Tag"] == "noindex, nofollow" and answer["Content-Language"] == "zh-hans"
    assert "csrftoken" not in answer.cookies and "sessionid" not in answer.cookies
    link = PatientLink.objects.get()
    assert link.opened_at is not None


def participant_id_absent(html: str, visit) -> bool:
    return visit.participant.study_id not in html


def test_the_language_switch_keeps_the_token(coordinator, visit):
    _link, token = issue(coordinator, visit)
    html = Client().get(page(token)).content.decode()
    assert 'href="?lang=en"' in html and token not in html  # relative: the token stays in the address bar
    english = Client().get(page(token), {"lang": "en"})
    text = english.content.decode()
    assert '<html lang="en">' in text and "Pain intensity" in text and "12 months" in text
    assert "Save and continue later" in text and english["Content-Language"] == "en"
    assert Client().get(page(token), {"lang": "fr"}).content.decode().count('<html lang="zh-hans">') == 1


def test_partial_save_survives_a_reload(coordinator, visit):
    link, token = issue(coordinator, visit)
    client = Client()
    answer = client.post(page(token), odi_post([3, None, 1] + [None] * 7, lang="zh-hans"))
    assert answer.status_code == 302 and answer["Location"] == "?lang=zh-hans&saved=1"
    response = QuestionnaireResponse.objects.get(pk=link.response_id)
    assert (response.answers[:3], response.status, response.version) == ([3, None, 1], "draft", 2)
    html = client.get(page(token) + answer["Location"]).content.decode()
    assert checked(html) == {"q0": "3", "q2": "1"}
    assert 'data-role="saved"' in html and 'name="version" value="2"' in html


def test_invalid_answers_are_shown_next_to_the_item_and_nothing_changes(coordinator, visit):
    link, token = issue(coordinator, visit)
    answer = Client().post(page(token), odi_post([1, 2, 3, 9] + [None] * 6, lang="en"))
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'id="item-3-errors"' in html and 'id="item-0-errors"' not in html
    assert checked(html) == {"q0": "1", "q1": "2", "q2": "3"}  # what was typed is kept
    response = QuestionnaireResponse.objects.get(pk=link.response_id)
    assert (response.answers, response.version) == ([None] * 10, 1)


def test_submit_asks_for_confirmation_then_the_link_refuses_changes(coordinator, visit):
    link, token = issue(coordinator, visit)
    client = Client()
    confirm = client.post(page(token), odi_post(ODI_16, action="review", lang="zh-hans"))
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert 'value="submit"' in html and 'name="version" value="2"' in html
    assert QuestionnaireResponse.objects.get(pk=link.response_id).status == ResponseStatus.DRAFT  # not yet

    done = client.post(page(token), {"action": "submit", "version": "2", "lang": "zh-hans"})
    assert done.status_code == 200 and 'data-role="done"' in done.content.decode()
    response = QuestionnaireResponse.objects.get(pk=link.response_id)
    assert (response.status, str(response.score), response.band, response.answers) == (
        "final",
        "32.0",
        "moderate",
        ODI_16,
    )

    for again in (client.get(page(token)), client.post(page(token), odi_post([5] * 10, action="save"))):
        assert again.status_code == 410
        text = again.content.decode()
        assert 'data-reason="used"' in text and '<html lang="zh-hans">' in text
        assert "疼痛程度" not in text and 'type="radio"' not in text  # nothing of the questionnaire
    after = QuestionnaireResponse.objects.get(pk=link.response_id)
    assert (after.answers, after.version) == (ODI_16, response.version)


def test_a_stale_confirmation_submits_nothing(coordinator, visit):
    link, token = issue(coordinator, visit)
    client = Client()
    client.post(page(token), odi_post(ODI_16, action="review"))
    client.post(page(token), odi_post([5] * 10, action="save", version=2))  # changed in another window
    answer = client.post(page(token), {"action": "submit", "version": "2"})
    assert answer.status_code == 409
    response = QuestionnaireResponse.objects.get(pk=link.response_id)
    assert (response.status, response.answers) == ("draft", [5] * 10)


def test_a_save_from_a_stale_window_keeps_what_was_typed_and_overwrites_nothing(coordinator, visit):
    link, token = issue(coordinator, visit)
    Client().post(page(token), odi_post([1] + [None] * 9, version=1))  # the first window saves
    answer = Client().post(page(token), odi_post([4, 4] + [None] * 8, version=1))  # the second, stale
    assert answer.status_code == 409
    html = answer.content.decode()
    assert checked(html) == {"q0": "4", "q1": "4"} and 'name="version" value="1"' in html
    assert QuestionnaireResponse.objects.get(pk=link.response_id).answers == [1] + [None] * 9


@pytest.mark.parametrize(("state", "status"), [("expired", 410), ("revoked", 410)])
def test_dead_links_get_a_friendly_page_in_the_links_language(coordinator, visit, state, status):
    link, token = issue(coordinator, visit, language="en")
    if state == "expired":
        PatientLink.objects.filter(pk=link.pk).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )
    else:
        issue(coordinator, visit, language="en")
    answer = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").post(page(token), odi_post(ODI_16))
    assert answer.status_code == status
    html = answer.content.decode()
    assert f'data-reason="{state}"' in html and '<html lang="en">' in html
    assert "no-store" in answer["Cache-Control"]
    assert QuestionnaireResponse.objects.get(pk=link.response_id).answers == [None] * 10


def test_tampered_and_unknown_links_are_404_in_the_browsers_language(coordinator, visit):
    _link, token = issue(coordinator, visit)
    tampered = token[:-1] + ("x" if token[-1] != "x" else "y")
    answer = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").get(page(tampered))
    assert answer.status_code == 404
    html = answer.content.decode()
    assert 'data-reason="unknown"' in html and '<html lang="zh-hans">' in html
    unknown = signing.Signer(salt=links.SALT, sep=".").sign("Q" * 22)
    answer = Client().get(page(unknown), {"lang": "en"})
    assert answer.status_code == 404 and 'data-reason="unknown"' in answer.content.decode()
    assert '<html lang="en">' in answer.content.decode()


def vas_fieldset(html: str) -> str:
    return re.search(r'<fieldset class="epro-item epro-vas[^>]*>.*?</fieldset>', html, flags=re.S).group(0)


def shown_text(html: str) -> str:
    """What a sighted reader sees of some HTML: no comments, tags, attributes or screen-reader-only text."""
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    html = re.sub(r'<p class="epro-sr-only".*?</p>', "", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_vas_line_starts_with_no_value_and_shows_no_number(coordinator, visit):
    link, token = issue(coordinator, visit, instrument="vas", language="en")
    html = Client().get(page(token)).content.decode()
    vas = vas_fieldset(html)
    assert "No pain" in vas and "Worst pain imaginable" in vas
    assert not re.search(r"\d", shown_text(vas))  # no numbered ends, no ticks, no value
    assert 'type="number"' not in html and " mm" not in html  # no number box, no readout
    assert "0-100" not in html  # nor in the title (the registry's name says "0-100 mm": staff only)
    slider = re.search(r'<input type="range"[^>]*>', vas, flags=re.S).group(0)
    assert "value=" not in slider and 'name="pain_mark"' in slider
    assert 'aria-valuetext="No mark yet"' in slider  # the screen reader hears no number either
    assert 'aria-labelledby="item-pain-question"' in slider  # named by the question
    assert 'name="pain_marked"' in vas and " checked" not in vas

    # the line's value counts once the mark is said to be placed, in whole millimetres
    answer = Client().post(
        page(token), {"action": "save", "version": "1", "pain_mark": "37", "pain_marked": "1"}
    )
    assert answer.status_code == 302
    assert QuestionnaireResponse.objects.get(pk=link.response_id).answers == {"pain": 37}
    saved = vas_fieldset(Client().get(page(token)).content.decode())
    assert 'value="37"' in saved and 'aria-valuetext="Mark placed"' in saved and " checked" in saved
    assert not re.search(r"\d", shown_text(saved))

    # an untouched line (its middle) is no answer, and a value off the line is refused by item
    Client().post(page(token), {"action": "save", "version": "2", "pain_mark": "50"})
    assert QuestionnaireResponse.objects.get(pk=link.response_id).answers == {"pain": None}
    refused = Client().post(
        page(token), {"action": "save", "version": "3", "pain_mark": "101", "pain_marked": "1"}
    )
    assert refused.status_code == 400 and 'id="item-pain-errors"' in refused.content.decode()
