"""The dispatcher against a real SMTP server and a real HTTP SMS gateway on loopback: each reminder sent
once, in the patient's language, with a fresh link; held in quiet hours; checked again before sending;
retried after a transient failure; never re-sent after a crash left its outcome unknown."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import translation

from followup.messaging.dispatch import SENDING_TIMEOUT, outbox_dispatch
from followup.messaging.models import MessageState, OutboxMessage
from followup.messaging.sweep import reminders_sweep
from followup.models import PatientLink, QuestionnaireResponse, ResponseStatus, Visit
from followup.services.links import patient_link_resolve
from trial.errors import DomainError

from .conftest import OPENS, SHANGHAI, at, m12_open

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def followed(make_participant, odi_wording, smtp_server, sms_gateway):
    """A participant with a phone and an e-mail address, Chinese messages, and M12 opening on 2027-01-01."""
    participant = make_participant()
    m12_open(participant, language="zh-hans")
    return participant


def states() -> dict[str, int]:
    found: dict[str, int] = {}
    for state in OutboxMessage.objects.values_list("state", flat=True):
        found[state] = found.get(state, 0) + 1
    return found


def token_of(text: str) -> str:
    return text.split("/p/", 1)[1].split("/", 1)[0]


def test_each_reminder_is_delivered_once_in_the_patients_language_with_a_live_link(
    followed, smtp_server, sms_gateway
):
    with at("2027-01-01 10:00"):
        reminders_sweep()
        assert outbox_dispatch().outcomes == {"sent": 4}
        assert outbox_dispatch().outcomes == {}  # nothing left to send
    mails, texts = smtp_server.wait_for(2), list(sms_gateway.delivered.values())
    assert len(mails) == 2 and len(texts) == 2
    keys = set(OutboxMessage.objects.values_list("key", flat=True))
    assert {mail.key for mail in mails} | set(sms_gateway.delivered) == keys  # the outbox key travels along
    body = next(mail.body for mail in mails if ":odi:" in mail.key)
    assert "请在" in body and "术后12个月" in body and "NCT06379243" in body
    assert "Synthetic Person" not in body and "13800000000" not in body  # nothing identifying in the text
    # The newest message's link opens the questionnaire; each questionnaire has one live link.
    with at("2027-01-01 10:05"):
        link = patient_link_resolve(token_of(body))
    assert link.response.instrument == "odi" and link.language == "zh-hans"
    # The SMS of the same reminder carries its own link, and both work: one channel does not revoke the
    # other's (only the links of earlier reminders are revoked).
    sms_text = next(sent["json"]["text"] for key, sent in sms_gateway.delivered.items() if ":odi:" in key)
    with at("2027-01-01 10:05"):
        assert patient_link_resolve(token_of(sms_text)).response_id == link.response_id
    assert OutboxMessage.objects.filter(state="sent", sent_at__isnull=False).count() == 4


def test_a_message_due_in_quiet_hours_is_held_until_they_end(followed, smtp_server, sms_gateway):
    with at("2027-01-01 22:30"):
        reminders_sweep()
        assert outbox_dispatch().outcomes == {"held": 4}
    held = OutboxMessage.objects.first()
    assert held.due_at == datetime.datetime(2027, 1, 2, 8, 0, tzinfo=SHANGHAI) and held.attempts == 0
    with at("2027-01-02 07:59"):
        assert outbox_dispatch().outcomes == {}
    with at("2027-01-02 08:00"):
        assert outbox_dispatch().outcomes == {"sent": 4}
    assert len(smtp_server.messages) == 2 and len(sms_gateway.delivered) == 2


def test_a_reminder_that_no_longer_applies_is_not_sent(followed, smtp_server, sms_gateway):
    with at("2027-01-01 10:00"):
        reminders_sweep()
    QuestionnaireResponse.objects.create(
        participant=followed,
        visit=Visit.objects.get(participant=followed, code="M12"),
        instrument="vas",
        instrument_version="1.0",
        source="paper",
        answers={"pain": 20},
        status=ResponseStatus.FINAL,
    )
    with at("2027-01-01 10:01"):
        assert outbox_dispatch().outcomes == {"cancelled": 2, "sent": 2}
    cancelled = OutboxMessage.objects.filter(state="cancelled")
    assert {(m.note_code, m.note) for m in cancelled} == {
        ("submitted", "Not sent: the questionnaire was submitted.")
    }
    with translation.override("zh-hans"):
        assert cancelled[0].note == "未发送：问卷已提交。"  # noqa: RUF001 -- Chinese punctuation
    assert all(":odi:" in key for key in sms_gateway.delivered)


def test_a_newer_reminder_revokes_the_older_link(followed, smtp_server, sms_gateway):
    with at("2027-01-01 10:00"):
        reminders_sweep()
        outbox_dispatch()
    first = next(m.body for m in smtp_server.messages if ":odi:" in m.key)
    # A window closing on 2027-01-12, so that the next reminder (7 days before) comes while the first link
    # is still within its 14 days.
    Visit.objects.filter(participant=followed, code="M12").update(
        target_date=datetime.date(2027, 1, 6), window_close=datetime.date(2027, 1, 12)
    )
    with at("2027-01-05 10:00"):
        reminders_sweep()
        assert outbox_dispatch().outcomes == {"sent": 4}
    second = next(m.body for m in smtp_server.messages if ":odi:" in m.key and m.key.endswith(":close-7"))
    with at("2027-01-05 10:05"):
        with pytest.raises(DomainError) as refused:
            patient_link_resolve(token_of(first))
        assert refused.value.code == "superseded"
        assert patient_link_resolve(token_of(second)).revoked_at is None
    # The ODI's live links are the second reminder's two (SMS and e-mail); the first reminder's are revoked.
    live = PatientLink.objects.filter(response__instrument="odi", revoked_at__isnull=True)
    assert live.count() == 2 and all(link.created_at.date() == datetime.date(2027, 1, 5) for link in live)
    # The patient who opens the older message's link is told a newer one was sent, in their language.
    with at("2027-01-05 10:06"):
        page = Client().get(f"/p/{token_of(first)}/")
    assert page.status_code == 410 and "我们已向您发送了此问卷的新链接" in page.content.decode()


def test_a_transient_failure_is_retried_after_a_backoff_and_sent_once(followed, smtp_server, sms_gateway):
    smtp_server.stop()
    sms_gateway.fail(500)
    with at("2027-01-01 10:00"):
        reminders_sweep()
        outcome = outbox_dispatch().outcomes
    assert outcome == {"pending": 3, "sent": 1}  # the gateway failed one SMS; the other went
    retry = OutboxMessage.objects.filter(state="pending").first()
    assert retry.attempts == 1 and retry.due_at == datetime.datetime(2027, 1, 1, 10, 5, tzinfo=SHANGHAI)
    smtp_server.start()
    with at("2027-01-01 10:04"):
        assert outbox_dispatch().outcomes == {}  # not before its backoff
    with at("2027-01-01 10:05"):
        assert outbox_dispatch().outcomes == {"sent": 3}
    assert len(smtp_server.messages) == 2 and len(sms_gateway.delivered) == 2


def test_a_permanent_refusal_fails_visibly(followed, smtp_server, sms_gateway):
    smtp_server.refuse("patient@example.invalid")
    sms_gateway.fail(400, times=2)
    with at("2027-01-01 10:00"):
        reminders_sweep()
        assert outbox_dispatch().outcomes == {"failed": 4}
    refusals = {(m.channel, m.note) for m in OutboxMessage.objects.all()}
    assert {channel for channel, _note in refusals} == {"sms", "email"}
    assert all(note.startswith("Refused by the gateway: ") and len(note) > 24 for _c, note in refusals)
    assert not smtp_server.messages and not sms_gateway.delivered


def test_a_message_left_sending_by_a_crash_becomes_unconfirmed_and_is_not_sent_again(
    followed, smtp_server, sms_gateway
):
    with at("2027-01-01 10:00"):
        reminders_sweep()
        OutboxMessage.objects.update(
            state=MessageState.SENDING, claimed_at=datetime.datetime.now(datetime.UTC)
        )
        assert outbox_dispatch().outcomes == {}  # claimed by a sender that may still be at it
    with at("2027-01-01 10:00") as clock:
        clock.shift(SENDING_TIMEOUT + datetime.timedelta(seconds=1))
        assert outbox_dispatch().outcomes == {"unconfirmed": 4}
        assert outbox_dispatch().outcomes == {}
    assert not smtp_server.messages and not sms_gateway.delivered


def test_two_dispatchers_at_once_send_each_message_once(followed, make_participant, smtp_server, sms_gateway):
    for _ in range(5):
        other = make_participant()
        Visit.objects.create(
            participant=other,
            code="M12",
            label={"en": "12 months", "zh-hans": "术后12个月"},
            sequence=5,
            target_date=OPENS,
            window_open=OPENS,
            window_close=OPENS + datetime.timedelta(days=60),
            questionnaires=["odi", "vas"],
        )
    with at("2027-01-01 10:00"):
        reminders_sweep()
        total = OutboxMessage.objects.count()
        start = threading.Barrier(2)

        def dispatch():
            try:
                start.wait()
                outbox_dispatch(limit=3)
                while outbox_dispatch(limit=3).outcomes:
                    pass
            finally:
                connection.close()

        threads = [threading.Thread(target=dispatch) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert states() == {"sent": total}
    delivered = smtp_server.keys() + [request.json["client_message_id"] for request in sms_gateway.sent()]
    assert len(delivered) == len(set(delivered)) == total


def test_each_row_is_claimed_just_before_it_is_sent(followed, make_participant):
    """Claiming 100 rows at once, then sending them one by one behind 10-second timeouts, would leave the
    last ones `sending` past SENDING_TIMEOUT (or after a crash): marked unconfirmed without being tried."""
    for _ in range(4):
        other = make_participant()
        Visit.objects.create(
            participant=other,
            code="M12",
            label={"en": "12 months", "zh-hans": "术后12个月"},
            sequence=5,
            target_date=OPENS,
            window_open=OPENS,
            window_close=OPENS + datetime.timedelta(days=60),
            questionnaires=["odi", "vas"],
        )
    start = datetime.datetime(2027, 1, 1, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(start, tick=True):  # the clock runs: each claim has its own time
        reminders_sweep()
        total = OutboxMessage.objects.count()
        assert outbox_dispatch().outcomes == {"sent": total}
    claims = OutboxMessage.objects.values_list("claimed_at", flat=True)
    assert total == 12 and len(set(claims)) == total  # one claim a message
