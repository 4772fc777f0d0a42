"""The patient's questionnaire page (no login) in both languages, its friendly refusal pages, and the
coordinator's page: entry on the patient's behalf, issuing a link (shown once) and revoking one."""

import datetime
import re

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from followup.models import InstrumentText, PatientLink, QuestionnaireResponse, ResponseStatus
from followup.services import links
from followup.services.links import patient_link_issue, patient_link_save
from trial.models import Role

from ..conftest import open_visit
from ..factories import StaffRoleFactory

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

ODI_16 = [2, 1, 3, 2, 1, 2, 1, 0, 2, 2]  # 16 of 50: 32.0 %


@pytest.fixture
def participant(make_participant, odi_wording):
    """A participant at a site where the ODI's wording is loaded (the demo's), as an ODI link needs."""
    return make_participant()


@pytest.fixture
def visit(participant):
    return open_visit(participant)


def issue(coordinator, visit, instrument="odi", language="zh-hans"):
    return patient_link_issue(actor=coordinator, visit=visit, instrument=instrument, language=language)


def page(token: str) -> str:
    return f"/p/{token}/"


def odi_post(answers, action="save", version=1, **extra) -> dict:
    data = {"action": action, "version": str(version), **extra}
    for i, value in enumerate(answers):
        if value is not None:
            data[f"q{i}"] = str(value)
    return data


def logged_in(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


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
