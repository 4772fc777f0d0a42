"""The patient stops the reminders on a channel from their link's page (source patient): asked, then done, in
both languages; only through a live link; idempotent; a bad channel a friendly 400; nothing of the token in
the audit trail or any other column; a fixed number of queries; shown to the site's staff."""

import datetime
import logging
import re

import pytest
from django.test import Client
from django.utils import timezone

from followup.models import PatientLink
from followup.services.links import patient_link_issue, patient_link_save
from trial.models import ContactOptOut, ParticipantIdentity
from trial.selectors import history_for
from trial.services import opt_out_end, opt_out_record

from ..conftest import open_visit
from ..trial.test_token_privacy import columns_holding

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

ODI_16 = [2, 1, 3, 2, 1, 2, 1, 0, 2, 2]
TODAY = datetime.date(2026, 10, 1)  # tests/conftest.py FROZEN_AT, at site 07


@pytest.fixture
def participant(make_participant, odi_wording):
    """A participant with a phone and an e-mail address."""
    participant = make_participant()
    ParticipantIdentity.objects.filter(participant=participant).update(email="patient@example.invalid")
    return participant


@pytest.fixture
def visit(participant):
    return open_visit(participant)


def issue(coordinator, visit, language="zh-hans"):
    return patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language=language)


def stop_url(token: str) -> str:
    return f"/p/{token}/stop/"


def reminders_section(html: str) -> str:
    found = re.search(r'<section class="epro-reminders".*?</section>', html, re.S)
    return found.group(0) if found else ""


def offered(html: str) -> list[str]:
    return re.findall(r'data-channel="(\w+)"', reminders_section(html))


WORDING = {
    "zh-hans": {
        "offer": "停止短信提醒",
        "ask": "停止短信提醒？",  # noqa: RUF001
        "yes": "是的，停止短信提醒",  # noqa: RUF001
        "stopped": "短信提醒已停止",
        "back_on": "他们可以重新为您开启提醒",
    },
    "en": {
        "offer": "Stop reminders by SMS",
        "ask": "Stop reminders by SMS?",
        "yes": "Yes, stop reminders by SMS",
        "stopped": "Reminders by SMS are stopped",
        "back_on": "they can turn them back on",
    },
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_patient_stops_sms_reminders_from_the_page(coordinator, participant, visit, language):
    link, token = issue(coordinator, visit, language=language)
    words = WORDING[language]
    client = Client()
    page = client.get(f"/p/{token}/").content.decode()
    assert offered(page) == ["sms", "email"] and words["offer"] in reminders_section(page)
    # Nothing of the addresses on the patient's page: the link may have been forwarded.
    assert "13800000000" not in page and "patient@example.invalid" not in page
    ask_url = re.search(r'href="([^"]+)" data-channel="sms"', page).group(1).replace("&amp;", "&")
    assert ask_url == f"stop/?lang={language}&channel=sms"  # relative: no answer holds the token
    ask_url = f"/p/{token}/{ask_url}"

    ask = client.get(ask_url)
    html = ask.content.decode()
    assert ask.status_code == 200 and 'data-role="stop-ask"' in html and words["ask"] in html
    assert f'<html lang="{language}">' in html and words["yes"] in html
    assert "no-store" in ask["Cache-Control"] and ask["Referrer-Policy"] == "no-referrer"
    assert not ContactOptOut.objects.exists()  # asking changes nothing

    done = client.post(stop_url(token), {"channel": "sms", "lang": language})
    assert done.status_code == 302 and stop_url(token) + done["Location"] == ask_url  # PRG
    opt_out = ContactOptOut.objects.get()
    assert (opt_out.participant, opt_out.channel, opt_out.source, opt_out.recorded_by, opt_out.since) == (
        participant,
        "sms",
        "patient",
        None,
        TODAY,
    )
    assert opt_out.ended_on is None
    stopped = client.get(ask_url)
    html = stopped.content.decode()
    assert stopped.status_code == 200 and 'data-role="stopped"' in html
    assert words["stopped"] in html and words["back_on"] in html and f'<html lang="{language}">' in html
    # The language switch stays on this page.
    other = "en" if language == "zh-hans" else "zh-hans"
    assert f'href="?lang={other}&amp;channel=sms"' in html

    # The link still works, and offers only the channel left.
    page = client.get(f"/p/{token}/")
    assert page.status_code == 200 and offered(page.content.decode()) == ["email"]
    assert PatientLink.objects.get(pk=link.pk).revoked_at is None


def test_the_opt_out_is_audited_as_the_patients_with_no_token_anywhere(coordinator, visit, caplog):
    _link, token = issue(coordinator, visit)
    with caplog.at_level(logging.DEBUG):
        assert Client().post(stop_url(token), {"channel": "email"}).status_code == 302
        assert Client().get(stop_url(token), {"channel": "email"}).status_code == 200
    event = history_for(ContactOptOut.objects.get())[-1]
    assert event["user"] is None and event["reason"] == "opt-out by the patient (link page)"
    assert event["data"]["source"] == "patient"
    key, _signature = token.split(".")
    assert columns_holding(token) == [] and columns_holding(key) == []
    assert "pghistory_context.metadata" in columns_holding("/p/[token]/stop/")  # the URL, masked
    assert token not in caplog.text and key not in caplog.text


def test_stopping_twice_or_a_channel_staff_stopped_shows_the_same_confirmation(
    coordinator, participant, visit
):
    _link, token = issue(coordinator, visit, language="en")
    client = Client()
    for _ in range(2):  # a double click, or a reload that posts again
        answer = client.post(stop_url(token), {"channel": "sms", "lang": "en"})
        assert answer.status_code == 302
    assert ContactOptOut.objects.count() == 1

    opt_out_record(actor=coordinator, participant=participant, channel="email")
    answer = client.post(stop_url(token), {"channel": "email", "lang": "en"})
    assert answer.status_code == 302
    assert 'data-role="stopped"' in client.get(stop_url(token) + answer["Location"]).content.decode()
    staff = ContactOptOut.objects.get(channel="email")
    assert (staff.source, staff.recorded_by) == ("staff", coordinator)  # left as it was
    assert ContactOptOut.objects.count() == 2
    assert reminders_section(client.get(f"/p/{token}/").content.decode()) == ""  # nothing left to stop

    # Staff turn SMS back on: the page offers it again, and the patient may stop it again.
    opt_out_end(actor=coordinator, participant=participant, channel="sms", reason="Patient asked again")
    assert offered(client.get(f"/p/{token}/").content.decode()) == ["sms"]
    assert 'data-role="stop-ask"' in client.get(stop_url(token), {"channel": "sms"}).content.decode()
    client.post(stop_url(token), {"channel": "sms"})
    assert ContactOptOut.objects.filter(channel="sms", ended_on=None, source="patient").count() == 1


def test_only_channels_with_an_address_are_offered(coordinator, participant, visit):
    _link, token = issue(coordinator, visit)
    ParticipantIdentity.objects.filter(participant=participant).update(email="")
    assert offered(Client().get(f"/p/{token}/").content.decode()) == ["sms"]
    ParticipantIdentity.objects.filter(participant=participant).update(phone="  ")
    assert offered(Client().get(f"/p/{token}/").content.decode()) == []


@pytest.mark.parametrize("how", ["expired", "revoked", "superseded", "used"])
def test_a_dead_link_cannot_stop_reminders(coordinator, visit, how):
    link, token = issue(coordinator, visit, language="en")
    if how == "expired":
        PatientLink.objects.filter(pk=link.pk).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )
    elif how == "revoked":
        PatientLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    elif how == "superseded":  # a newer link, issued a minute later (the clock is stopped)
        PatientLink.objects.filter(pk=link.pk).update(
            created_at=link.created_at - datetime.timedelta(minutes=1)
        )
        issue(coordinator, visit)
    else:
        patient_link_save(token, ODI_16, True, expected_version=1)
    for answer in (
        Client().get(stop_url(token), {"channel": "sms"}),
        Client().post(stop_url(token), {"channel": "sms", "lang": "en"}),
    ):
        assert answer.status_code == 410
        html = answer.content.decode()
        assert (
            f'data-reason="{how}"' in html
            and '<html lang="en">' in html
            and "no-store" in answer["Cache-Control"]
        )
        assert 'data-role="stop' not in html and "epro-reminders" not in html
    assert not ContactOptOut.objects.exists()


def test_an_unknown_link_cannot_stop_reminders(visit):
    answer = Client().post(stop_url("x" * 22 + ".abc"), {"channel": "sms"})
    assert answer.status_code == 404 and not ContactOptOut.objects.exists()


@pytest.mark.parametrize(
    ("method", "data"),
    [
        ("get", {"channel": "fax"}),
        ("get", {}),
        ("post", {"channel": "fax"}),
        ("post", {}),
        ("post", {"channel": "SMS"}),
        ("post", {"channel": "sms\x00"}),
    ],
)
def test_a_bad_channel_gets_a_friendly_400_page(coordinator, visit, method, data):
    _link, token = issue(coordinator, visit)
    answer = getattr(Client(), method)(stop_url(token), data)
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'data-role="stop-bad"' in html and "我们无法确定您想停止哪一种提醒" in html
    assert '<html lang="zh-hans">' in html and "no-store" in answer["Cache-Control"]
    assert 'href="../?lang=zh-hans"' in html  # back to the questionnaire
    assert not ContactOptOut.objects.exists()
    english = getattr(Client(), method)(stop_url(token), {**data, "lang": "en"})
    assert english.status_code == 400 and "We could not tell which reminders" in english.content.decode()


def test_other_methods_are_refused(coordinator, visit):
    _link, token = issue(coordinator, visit)
    assert Client().put(stop_url(token), {"channel": "sms"}).status_code == 405
    assert not ContactOptOut.objects.exists()


def test_the_pages_run_a_fixed_number_of_queries(coordinator, participant, visit, django_assert_num_queries):
    _link, token = issue(coordinator, visit)
    client = Client()
    client.get(f"/p/{token}/")  # the first opening notes the time
    with django_assert_num_queries(3):  # the link, the wording, the channels open
        client.get(f"/p/{token}/")
    with django_assert_num_queries(2):  # the link, the opt-out in force
        client.get(stop_url(token), {"channel": "sms"})
    # The link (the view's, the service's), then in one transaction: the participant locked, the link locked
    # and checked again, the opt-out in force, the insert (with the audit context), the savepoint's release.
    with django_assert_num_queries(8):
        client.post(stop_url(token), {"channel": "email"})
    # Opt-outs pile up (each ended by staff): the pages read no more.
    for _ in range(5):
        client.post(stop_url(token), {"channel": "sms"})
        opt_out_end(actor=coordinator, participant=participant, channel="sms", reason="asked again")
    with django_assert_num_queries(3):
        client.get(f"/p/{token}/")
    with django_assert_num_queries(2):
        client.get(stop_url(token), {"channel": "sms"})
