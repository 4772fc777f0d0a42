"""Two people saving the same form version at once: exactly one wins, the other gets 409."""

import threading

import pytest
from django.db import connections

from crf.models import FormRecord
from crf.services import crf_save
from trial.errors import Conflict
from trial.services import participant_set_status

from .conftest import PROCEDURE

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = pytest.mark.frozen


@pytest.mark.django_db(transaction=True)
def test_parallel_saves_of_one_version(participant, coordinator):
    crf_save(
        actor=coordinator,
        participant=participant,
        form_code="procedure",
        data=PROCEDURE,
        expected_version=None,
    )
    barrier, outcomes = threading.Barrier(4), []

    def save(operator):
        try:
            barrier.wait()
            crf_save(
                actor=coordinator,
                participant=participant,
                form_code="procedure",
                data=PROCEDURE | {"operator": operator},
                expected_version=1,
            )
            outcomes.append(operator)
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(f"Dr {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o != "conflict"]
    assert len(winners) == 1 and outcomes.count("conflict") == 3
    record = FormRecord.objects.get()
    assert (record.version, record.data["operator"]) == (2, winners[0])


def test_after_withdrawal_existing_forms_can_be_corrected_but_none_started(participant, coordinator):
    import datetime

    crf_save(
        actor=coordinator,
        participant=participant,
        form_code="procedure",
        data=PROCEDURE,
        expected_version=None,
    )
    participant_set_status(
        actor=coordinator,
        participant=participant,
        status="withdrawn",
        date=datetime.date(2026, 2, 1),
        reason="Withdrew consent",
    )
    participant.refresh_from_db()
    record, _ = crf_save(
        actor=coordinator,
        participant=participant,
        form_code="procedure",
        data=PROCEDURE | {"operator": "Dr Fix"},
        expected_version=1,
    )
    assert record.data["operator"] == "Dr Fix"
    with pytest.raises(Conflict, match="withdrawn"):
        crf_save(actor=coordinator, participant=participant, form_code="dxa", data={}, expected_version=None)


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_committed_while_a_new_form_is_saved_refuses_the_save(
    monkeypatch, staff, clients, participant
):
    """The API reads the participant (enrolled), the save queues behind a withdrawal's row lock, the
    withdrawal commits: the save judges the status it finds under the lock, and starts no new form (409)."""
    import datetime

    import time_machine

    from ..races import status_change_during
    from .conftest import put

    with time_machine.travel(datetime.datetime(2026, 3, 1, 4, tzinfo=datetime.UTC), tick=True):
        race = status_change_during(
            monkeypatch,
            lambda: put(clients["coordinator"], participant, {}, form="dxa"),
            actor=staff["coordinator"],
            participant=participant,
            status="withdrawn",
            date=datetime.date(2026, 2, 1),
            reason="Withdrew consent",
        )
    assert race.change_error is None and race.waited  # the save really queued behind the withdrawal
    assert race.outcome.status_code == 409, race.outcome.content
    assert race.outcome.json()["code"] == "withdrawn"
    assert not FormRecord.objects.filter(participant=participant, form_code="dxa").exists()
