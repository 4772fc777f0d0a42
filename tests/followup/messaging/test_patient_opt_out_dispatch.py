"""A patient's opt-out from the link page reaches the dispatcher: a reminder already queued on that channel is
cancelled before it is sent, and the other channel's still goes (followup/messaging/dispatch.py re-checks
opt-outs under the message's lock)."""

import pytest
from django.test import Client

from followup.messaging.dispatch import outbox_dispatch
from followup.messaging.models import OutboxMessage
from followup.messaging.sweep import reminders_sweep
from followup.services.links import patient_link_issue
from trial.models import ContactOptOut

from .conftest import at, m12_open

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def followed(make_participant, odi_wording):
    """A participant with a phone and an e-mail address, and M12 (ODI, VAS) opening on 2027-01-01."""
    participant = make_participant()
    m12_open(participant, language="zh-hans")
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
    assert {(m.channel, m.note_code, m.note) for m in cancelled} == {
        ("sms", "opted_out", "Not sent: the participant opted out of SMS.")
    }
    assert set(OutboxMessage.objects.filter(state="sent").values_list("channel", flat=True)) == {"email"}
    assert len(smtp_server.wait_for(2)) == 2 and sms_gateway.delivered == {}
