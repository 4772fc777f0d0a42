"""Parallel enrollment against PostgreSQL: no duplicate study ID and no gap."""

import datetime
import threading

import pytest
from django.db import connections

from trial.errors import Conflict
from trial.models import Participant, SiteSequence
from trial.services import participant_enroll

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = pytest.mark.frozen

WORKERS = 8
IDENTITY = {"full_name": "Synthetic Person"}


@pytest.mark.django_db(transaction=True)
def test_parallel_enrollments_get_distinct_gap_free_ids(make_screening, coordinator):
    screenings = [make_screening() for _ in range(WORKERS * 2)]
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def worker(batch):
        try:
            barrier.wait()
            for screening in batch:
                participant_enroll(
                    actor=coordinator,
                    screening=screening,
                    consent_date=datetime.date(2026, 1, 6),
                    enrollment_date=datetime.date(2026, 1, 7),
                    identity=IDENTITY,
                )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(screenings[i::WORKERS],)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = sorted(Participant.objects.values_list("sequence", flat=True))
    assert numbers == list(range(1, len(screenings) + 1))
    ids = list(Participant.objects.values_list("study_id", flat=True))
    assert len(set(ids)) == len(ids)
    assert SiteSequence.objects.get().last_number == len(screenings)


@pytest.mark.django_db(transaction=True)
def test_the_same_screening_enrolled_in_parallel_enrolls_once(make_screening, coordinator):
    screening = make_screening()
    barrier = threading.Barrier(WORKERS)
    outcomes: list[str] = []

    def worker():
        try:
            barrier.wait()
            participant_enroll(
                actor=coordinator,
                screening=screening,
                consent_date=datetime.date(2026, 1, 6),
                enrollment_date=datetime.date(2026, 1, 7),
                identity=IDENTITY,
            )
            outcomes.append("enrolled")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # anything else is a failure the assertion below shows
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * (WORKERS - 1) + ["enrolled"]
    assert Participant.objects.get().study_id == "07-0001"
    assert SiteSequence.objects.get().last_number == 1
