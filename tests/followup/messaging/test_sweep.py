"""The sweep plans today's reminders once each, by the site's own date, and nothing that no longer applies;
a bounded number of queries whatever the number of participants."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followup.messaging.models import OutboxMessage
from followup.messaging.sweep import reminders_sweep
from followup.models import QuestionnaireResponse, ResponseStatus, Visit, VisitState
from trial.models import ContactOptOut, ParticipantIdentity, ParticipantStatus

from .conftest import OPENS, at, m12_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def followed(make_participant):
    """A participant with a phone and an e-mail address, English messages, and M12 opening on 2027-01-01."""
    participant = make_participant()
    m12_open(participant, language="en")
    return participant


def planned() -> list[tuple]:
    return sorted(OutboxMessage.objects.values_list("channel", "instrument", "step", "language", "state"))


def test_a_window_opening_at_site_midnight_plans_each_questionnaire_on_each_channel_once(followed):
    with at("2026-12-31 23:59:59"):
        assert reminders_sweep().planned == 0  # the day before, at the site
    with at("2027-01-01 00:00:00"):
        result = reminders_sweep()
    assert result.planned == 4 and planned() == [
        ("email", "odi", "open+0", "en", "pending"),
        ("email", "vas", "open+0", "en", "pending"),
        ("sms", "odi", "open+0", "en", "pending"),
        ("sms", "vas", "open+0", "en", "pending"),
    ]
    message = OutboxMessage.objects.first()
    assert message.site_id == followed.site_id and message.key.startswith(f"reminder:v{message.visit_id}:")
    with at("2027-01-01 15:00:00"):
        again = reminders_sweep()
    assert (again.planned, again.existing, OutboxMessage.objects.count()) == (0, 4, 4)


def test_the_next_steps_are_planned_on_their_days_and_nothing_in_between(followed):
    for day in ("2027-01-01", "2027-01-02", "2027-02-22", "2027-02-23", "2027-03-02", "2027-03-03"):
        with at(f"{day} 10:00"):
            reminders_sweep()
    assert sorted({step for *_rest, step, _l, _s in planned()}) == ["close-7", "last_day", "open+0"]
    assert OutboxMessage.objects.count() == 12  # 3 steps x 2 questionnaires x 2 channels


def test_nothing_is_planned_that_no_longer_applies(followed, make_participant):
    visit = Visit.objects.get(participant=followed, code="M12")
    QuestionnaireResponse.objects.create(
        participant=followed,
        visit=visit,
        instrument="vas",
        instrument_version="1.0",
        source="paper",
        answers={"pain": 20},
        status=ResponseStatus.FINAL,
    )
    ContactOptOut.objects.create(participant=followed, channel="sms", since=OPENS, source="staff")
    with at("2027-01-01 10:00"):
        result = reminders_sweep()
    assert planned() == [("email", "odi", "open+0", "en", "pending")]
    assert result.skipped == {  # the operator's summary: VAS submitted (on both channels), ODI's SMS refused
        "submitted": 2,
        "opted_out sms": 1,
    }
    # Missed visits, and participants no longer followed, are not swept at all.
    OutboxMessage.objects.all().delete()
    Visit.objects.filter(pk=visit.pk).update(state=VisitState.MISSED)
    with at("2027-01-01 10:00"):
        assert reminders_sweep().planned == 0
    Visit.objects.filter(pk=visit.pk).update(state=VisitState.PENDING)
    followed.__class__.objects.filter(pk=followed.pk).update(status=ParticipantStatus.LOST_TO_FOLLOW_UP)
    with at("2027-01-01 10:00"):
        assert reminders_sweep().planned == 0


def test_a_participant_without_an_address_on_a_channel_is_skipped_on_it(followed):
    ParticipantIdentity.objects.filter(participant=followed).update(email="")
    with at("2027-01-01 10:00"):
        result = reminders_sweep()
    assert {channel for channel, *_ in planned()} == {"sms"} and result.skipped == {"no_contact email": 2}


def test_the_sweep_runs_the_same_queries_for_one_participant_or_many(followed, make_participant):
    def sweep_queries() -> int:
        OutboxMessage.objects.all().delete()
        with at("2027-01-01 10:00"), CaptureQueriesContext(connection) as queries:
            reminders_sweep()
        return len(queries)

    one = sweep_queries()
    for _ in range(6):
        participant = make_participant()
        Visit.objects.create(
            participant=participant,
            code="M12",
            label={"en": "12 months"},
            sequence=5,
            target_date=OPENS,
            window_open=OPENS,
            window_close=OPENS + datetime.timedelta(days=60),
            questionnaires=["odi", "vas"],
        )
    assert sweep_queries() == one
    assert OutboxMessage.objects.count() == 4 + 6 * 2  # the others have a phone only
