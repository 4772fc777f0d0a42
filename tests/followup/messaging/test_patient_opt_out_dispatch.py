"""A patient's opt-out from the link page reaches the dispatcher: a reminder already queued on that channel is
cancelled before it is sent, and the other channel's still goes (followup/messaging/dispatch.py re-checks
opt-outs under the message's lock)."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.test import Client

from followup.messaging.dispatch import outbox_dispatch
from followup.messaging.models import OutboxMessage
from followup.messaging.sweep import reminders_sweep
from followup.models import Visit
from followup.services.links import patient_link_issue
from trial.models import ContactOptOut, ParticipantIdentity

pytestmark = pytest.mark.django_db(transaction=True)

OPENS = datetime.date(2027, 1, 1)


def at(text: str):
    zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    return time_machine.travel(datetime.datetime.fromisoformat(text).replace(tzinfo=zone), tick=False)


@pytest.fixture
def followed(make_participant, odi_wording):
    """A participant with a phone and an e-mail address, and M12 (ODI, VAS) opening on 2027-01-01."""
    participant = make_participant()
    ParticipantIdentity.objects.filter(participant=participant).update(email="patient@example.invalid")
    Visit.objects.create(
        participant=participant,
        code="M12",
        label={"en": "12 months", "zh-hans": "术后12个月"},
        sequence=5,
        target_date=OPENS + datetime.timedelta(days=30),
        window_open=OPENS,
        window_close=OPENS + datetime.timedelta(days=60),
        questionnaires=["odi", "vas"],
    )
    return participant


def test_a_queued_reminder_on_the_channel_the_patient_stopped_is_cancelled_and_the_other_goes(
    followed,
    coordinator,
    smtp_server,
    sms_gateway,
):
    visit = followed.visits.get(code="M12")
    with at("2027-01-01 10:00"):
        reminders_sweep()  # four reminders due: ODI and VAS, by SMS and by e-mail
        assert OutboxMessage.objects.filter(state="pending").count() == 4
        _link, token = patient_link_issue(
            actor=coordinator, visit=visit, instrument="odi", language="zh-hans"
        )
        assert Client().post(f"/p/{token}/stop/", {"channel": "sms"}).status_code == 302
        assert ContactOptOut.objects.get().source == "patient"
        assert outbox_dispatch().outcomes == {"cancelled": 2, "sent": 2}
    cancelled = OutboxMessage.objects.filter(state="cancelled")
    assert set(cancelled.values_list("channel", "note")) == {("sms", "sms opted out")}
    assert set(OutboxMessage.objects.filter(state="sent").values_list("channel", flat=True)) == {"email"}
    assert len(smtp_server.wait_for(2)) == 2 and sms_gateway.delivered == {}
