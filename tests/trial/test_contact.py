"""Contact details and opt-outs of messages through the API: the identity's e-mail and message language read
and corrected by own site staff, an opt-out recorded and ended by them, audited, bad input a 400 with the
field named; the patient's own opt-out (the service) and the opt-outs on the participant's page."""

import re

import pytest
from django.test import Client

from trial.errors import Conflict, InvalidInput
from trial.models import ContactOptOut, ParticipantIdentity, Role
from trial.selectors import history_for
from trial.services import opt_out_by_patient, opt_out_end, opt_out_record

from ..conftest import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-10-01 09:00")]


@pytest.fixture
def participant(make_participant):
    return make_participant()


def identity_url(participant) -> str:
    return f"/api/v1/participants/{participant.study_id}/identity/"


def opt_outs_url(participant, channel: str = "") -> str:
    return f"/api/v1/participants/{participant.study_id}/opt-outs/" + (f"{channel}/" if channel else "")


def test_the_identity_reads_and_corrects_the_email_and_the_message_language(api, participant):
    assert api.get(identity_url(participant)).json()["contact_language"] == "zh-hans"
    answer = api.patch(
        identity_url(participant),
        {"email": "patient@example.invalid", "contact_language": "en"},
        format="json",
        HTTP_X_CHANGE_REASON="Patient prefers e-mail in English",
    )
    assert answer.status_code == 200, answer.content
    assert (answer.json()["email"], answer.json()["contact_language"]) == ("patient@example.invalid", "en")
    stored = ParticipantIdentity.objects.get(participant=participant)
    assert (stored.email, stored.contact_language, stored.full_name) == (
        "patient@example.invalid",
        "en",
        "Synthetic Person",
    )
    assert history_for(stored)[-1]["user"] == "coord07"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"email": "not-an-address"}, "email"), ({"contact_language": "fr"}, "contact_language")],
)
def test_bad_contact_details_answer_400_with_the_field(api, participant, body, field):
    answer = api.patch(identity_url(participant), body, format="json", HTTP_X_CHANGE_REASON="x")
    assert answer.status_code == 400 and field in answer.json()
    assert ParticipantIdentity.objects.get(participant=participant).contact_language == "zh-hans"


def test_site_staff_record_and_end_an_opt_out(api, participant):
    answer = api.post(opt_outs_url(participant), {"channel": "sms", "since": "2026-09-30"}, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json() == {
        "channel": "sms",
        "since": "2026-09-30",
        "source": "staff",
        "ended_on": None,
        "created_at": answer.json()["created_at"],
    }
    opt_out = ContactOptOut.objects.get(participant=participant)
    assert opt_out.recorded_by.username == "coord07" and history_for(opt_out)[-1]["user"] == "coord07"
    again = api.post(opt_outs_url(participant), {"channel": "sms"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_opted_out"
    # Ending it needs a reason, like every change of a saved record.
    assert api.delete(opt_outs_url(participant, "sms")).status_code == 400
    ended = api.delete(opt_outs_url(participant, "sms"), HTTP_X_CHANGE_REASON="Patient asked for SMS again")
    assert ended.status_code == 200 and ended.json()["ended_on"] == "2026-10-01"
    opt_out.refresh_from_db()
    assert opt_out.ended_on.isoformat() == "2026-10-01"
    assert history_for(opt_out)[-1]["reason"] == "Patient asked for SMS again"
    assert api.delete(opt_outs_url(participant, "sms"), HTTP_X_CHANGE_REASON="x").status_code == 409
    # The ended one stays in the list; a new opt-out can be recorded.
    assert api.post(opt_outs_url(participant), {"channel": "sms"}, format="json").status_code == 201
    listed = api.get(opt_outs_url(participant)).json()
    assert [(row["channel"], row["ended_on"]) for row in listed] == [("sms", None), ("sms", "2026-10-01")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({}, "channel"),
        ({"channel": "sms", "since": "2026-10-02"}, "since"),  # tomorrow at the site
        ({"channel": "sms", "since": "yesterday"}, "since"),
        ({"channel": "sms", "source": "patient"}, "source"),  # staff record as staff
    ],
)
def test_bad_opt_outs_answer_400_with_the_field(api, participant, body, field):
    answer = api.post(opt_outs_url(participant), body, format="json")
    assert answer.status_code == 400 and field in answer.json()
    assert not ContactOptOut.objects.exists()
    assert api.delete(opt_outs_url(participant, "fax"), HTTP_X_CHANGE_REASON="x").status_code == 400


@pytest.mark.parametrize("role", [Role.MONITOR, Role.DATA_MANAGER, Role.PRINCIPAL_INVESTIGATOR])
def test_only_own_site_staff_touch_opt_outs(participant, make_user, study, other_coordinator, role):
    for user in (make_user(f"u-{role}", role=role, study=study), other_coordinator):
        client = client_for(user)
        assert client.post(opt_outs_url(participant), {"channel": "sms"}, format="json").status_code in (
            403,
            404,
        )
        assert client.get(opt_outs_url(participant)).status_code in (403, 404)
        assert client.delete(opt_outs_url(participant, "sms"), HTTP_X_CHANGE_REASON="x").status_code in (
            403,
            404,
        )
    assert not ContactOptOut.objects.exists()


# --- the patient's own opt-out (the page that takes it: tests/followup/test_patient_opt_out.py) -------------


def test_a_patients_opt_out_is_recorded_once_as_theirs(participant):
    opt_out = opt_out_by_patient(participant=participant, channel="email")
    assert (opt_out.source, opt_out.recorded_by, opt_out.since.isoformat(), opt_out.ended_on) == (
        "patient",
        None,
        "2026-10-01",
        None,
    )
    assert opt_out_by_patient(participant=participant, channel="email") == opt_out  # no error, no second row
    assert ContactOptOut.objects.count() == 1
    event = history_for(opt_out)[-1]
    assert (event["user"], event["reason"]) == (None, "opt-out by the patient (link page)")
    with pytest.raises(InvalidInput):
        opt_out_by_patient(participant=participant, channel="fax")
    assert ContactOptOut.objects.count() == 1


def test_a_refusing_guard_writes_nothing(participant):
    def refuse():
        raise Conflict("the link died meanwhile", code="gone")

    with pytest.raises(Conflict):
        opt_out_by_patient(participant=participant, channel="sms", guard=refuse)
    assert not ContactOptOut.objects.exists()


def page(user, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def opt_outs_section(html: str) -> str:
    found = re.search(r'<section[^>]*id="opt-outs".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_the_participant_page_shows_the_opt_outs_and_who_recorded_them(
    participant, coordinator, monitor, django_assert_num_queries
):
    url = f"/participants/{participant.study_id}/"
    english = page(coordinator, "en")
    assert "None: reminders may use every channel" in opt_outs_section(english.get(url).content.decode())
    opt_out_by_patient(participant=participant, channel="sms")
    opt_out_record(actor=coordinator, participant=participant, channel="email")
    english.get(url)
    # Seven reads and one INSERT: the identity shown is logged (trial.models.IdentityRead). The user's roles
    # are read once (trial.access.user_roles) for the matrix, the menu and the roles at the site (roles_at),
    # which were two queries of their own. Three more for the follow-up imaging exams
    # (trial/views/participants.py, _imaging_context: the exams, the screening, its protocol version).
    with django_assert_num_queries(11):
        section = opt_outs_section(english.get(url).content.decode())
    assert section.count("<tr data-channel=") == 2
    assert re.search(r'data-source="patient">\s*<td>SMS</td>\s*<td[^>]*>2026-10-01</td>', section)
    assert "The patient (link page)" in section and "Recorded by staff · coord07" in section
    chinese = opt_outs_section(page(coordinator, "zh-hans").get(url).content.decode())
    assert "拒收消息记录" in chinese and "患者本人（链接页面）" in chinese and "短信" in chinese  # noqa: RUF001
    assert "由研究人员记录 · coord07" in chinese
    # More rows, the same queries.
    for _ in range(3):
        opt_out_end(actor=coordinator, participant=participant, channel="sms", reason="asked again")
        opt_out_by_patient(participant=participant, channel="sms")
    with django_assert_num_queries(11):
        assert opt_outs_section(english.get(url).content.decode()).count("<tr data-channel=") == 5
    # Contact data, as the identity: not for a monitor.
    assert opt_outs_section(page(monitor, "en").get(url).content.decode()) == ""
