"""A patient link is judged under the participant's row lock: a withdrawal committed while a coordinator
issues a link leaves no live link (the patient could otherwise answer for a withdrawn participant)."""

import datetime

import pytest
import time_machine

from followup.models import PatientLink
from followup.services.links import patient_link_issue
from trial.errors import Conflict

from ..conftest import open_visit
from ..races import status_change_during

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_withdrawal_committed_while_a_link_is_issued_leaves_no_live_link(
    monkeypatch, coordinator, make_participant, odi_wording
):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 4, tzinfo=datetime.UTC), tick=True):
        participant = make_participant()
        visit = open_visit(participant)
        # A first link: the draft response exists, so the second issue needs no new response (whose own
        # service already re-reads the status under its lock).
        patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="en")
        race = status_change_during(
            monkeypatch,
            lambda: patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="en"),
            actor=coordinator,
            participant=participant,
            status="withdrawn",
            date=datetime.date(2026, 2, 1),
            reason="Withdrew consent",
        )
    assert race.change_error is None and race.waited  # the issue really queued behind the withdrawal
    assert isinstance(race.outcome, Conflict), race.outcome
    assert race.outcome.code in {"participant_closed", "visit_closed"}
    # The first link was revoked with the visit (not applicable after a withdrawal) or is the only one left;
    # no second one was made.
    assert PatientLink.objects.count() == 1
