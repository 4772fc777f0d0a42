"""Behaviour the CRF review asked for: hostile numbers and keys, racing first saves, queries that respect
people's decisions, and checks across forms re-run when the form they read changes."""

import json
import threading
import time

import pytest
from django.db import connections

from crf.engine.definitions import form_definition
from crf.engine.validate import clean_data
from crf.models import DataQuery, FormRecord
from crf.services import crf_save, query_step
from trial.errors import Conflict

from .conftest import FRACTURES, PROCEDURE, act, current_version, form_url, put

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = pytest.mark.frozen

QMRI = {
    "exam_date": "2026-01-09",
    "field_strength": "3.0",
    "manufacturer": "ge",
    "scanner_model": "X",
    "sequence": "ideal_iq",
    "reader": "R",
    "software": "S",
    "software_version": "1",
    "vertebrae": [{"level": "L2", "pdff": 50, "r2star": 60, "fractured": False, "cemented": False}],
}


@pytest.mark.parametrize("value", ["1e400000", "9" * 40, "٣٠", "\uff13\uff10", "1_0", "NaN"])
def test_hostile_numbers_are_refused_quickly(clients, participant, value):
    started = time.perf_counter()
    response = clients["coordinator"].put(
        form_url(participant), {"data": {"operative_time": value}}, format="json"
    )
    assert response.status_code == 400 and "operative_time" in response.json()
    assert time.perf_counter() - started < 2


def test_non_finite_floats_are_refused():
    form = form_definition("procedure")
    for value in (float("inf"), float("nan"), 1e300):
        assert "operative_time" in clean_data(form, {"operative_time": value})[1].errors


def test_trailing_zeros_do_not_count_as_decimals(clients, participant):
    row = {**PROCEDURE["levels"][0], "cement_volume": "4.50"}
    assert put(clients["coordinator"], participant, PROCEDURE | {"levels": [row]}).status_code == 200


@pytest.mark.parametrize("data", [{"nope\udfff": 1}, {"levels": [{"level": "\ud800"}]}, {"levels": [{1: 2}]}])
def test_unencodable_or_odd_keys_are_a_400(client, staff, participant, data):
    client.force_login(staff["coordinator"])
    body = json.dumps(
        {"data": data}
    )  # the test client's own encoder refuses lone surrogates; a socket does not
    response = client.put(form_url(participant), body, content_type="application/json")
    assert response.status_code == 400
    assert not FormRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_first_saves_give_one_record_and_conflicts(participant, coordinator):
    barrier, outcomes = threading.Barrier(4), []

    def save(n):
        try:
            barrier.wait()
            crf_save(
                actor=coordinator,
                participant=participant,
                form_code="procedure",
                data=PROCEDURE | {"operator": f"Dr {n}"},
                expected_version=0,
            )
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # shown by the assertion below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["saved"]
    assert FormRecord.objects.count() == 1


def test_a_closed_query_is_not_raised_again_for_the_same_value(clients, participant, staff):
    long = PROCEDURE | {"operative_time": 200}
    put(clients["coordinator"], participant, long)
    query = DataQuery.objects.get()
    query_step(actor=staff["coordinator"], query=query, action="answer", text="Confirmed: a difficult case.")
    query_step(actor=staff["monitor"], query=query, action="close", text="Accepted.")
    put(clients["coordinator"], participant, long | {"operator": "Dr B"}, version=1)  # unrelated change
    assert DataQuery.objects.count() == 1
    put(clients["coordinator"], participant, long | {"operator": "Dr B", "operative_time": 210}, version=2)
    assert DataQuery.objects.filter(status="open").count() == 1  # a new value: asked again


def test_a_reopened_query_is_closed_only_by_a_person(clients, participant, staff):
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200})
    query = DataQuery.objects.get()
    query_step(actor=staff["monitor"], query=query, action="close", text="ok")
    query_step(
        actor=staff["monitor"], query=query, action="reopen", text="Please check the anaesthesia chart."
    )
    put(clients["coordinator"], participant, PROCEDURE, version=1)  # the warning goes away
    query.refresh_from_db()
    assert query.status == "open"


def test_reopening_a_superseded_automatic_query_is_a_conflict(clients, participant, staff):
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200})
    put(clients["coordinator"], participant, PROCEDURE, version=1)  # resolved by the data
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200}, version=2)  # raised again
    first = DataQuery.objects.order_by("id").first()
    with pytest.raises(Conflict, match="newer query"):
        query_step(actor=staff["monitor"], query=first, action="reopen", text="?")


def test_checks_across_forms_run_again_when_the_form_they_read_changes(clients, participant):
    coordinator = clients["coordinator"]
    put(coordinator, participant, QMRI, form="qmri")  # exam on 01-09, no procedure yet: nothing to compare
    assert not DataQuery.objects.exists()
    put(coordinator, participant, PROCEDURE)  # procedure on 01-08: the pre-operative MRI is after it
    assert DataQuery.objects.filter(record__form_code="qmri", check_code="QMRI_AFTER_PROCEDURE").exists()

    put(coordinator, participant, FRACTURES, form="fracture_levels")
    assert not DataQuery.objects.filter(check_code="LEVEL_NOT_FRACTURED").exists()
    only_l4 = FRACTURES | {"fractures": [{**FRACTURES["fractures"][0], "level": "L4"}]}
    put(coordinator, participant, only_l4, form="fracture_levels", version=1)
    flagged = set(
        DataQuery.objects.filter(check_code="LEVEL_NOT_FRACTURED").values_list("field_path", flat=True)
    )
    assert flagged == {"levels[L1].level", "levels[T12].level"}


def test_adjudicators_do_not_read_the_crfs(clients, participant, make_user, study):
    from ..conftest import client_for

    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200})
    adjudicator = client_for(make_user("adj", role="adjudicator", study=study))
    assert adjudicator.get(form_url(participant)).status_code == 404
    # the list of queries is participants' data: the permission matrix refuses it (403), no empty list
    refused = adjudicator.get("/api/v1/queries/")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


def test_study_wide_coordinators_do_not_enter_data_and_monitors_do_not_verify_their_own(
    clients, participant, make_user, study, site, staff
):
    from django.db import IntegrityError, transaction

    from crf.services import crf_verify
    from trial.errors import Forbidden

    from ..conftest import client_for

    # No study-wide coordinator can exist to enter data anywhere (tests/trial/test_access.py).
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user("roaming", role="coordinator", study=study)
    both = make_user("both", role="monitor", study=study)
    from trial.models import StaffRole

    StaffRole.objects.create(user=both, study=study, site=site, role="coordinator")
    put(client_for(both), participant, PROCEDURE)
    act(clients["coordinator"], participant, "complete")
    with pytest.raises(Forbidden, match="another monitor"):
        crf_verify(
            actor=both,
            participant=participant,
            form_code="procedure",
            expected_version=current_version(participant),
        )
    assert (
        crf_verify(
            actor=staff["monitor"],
            participant=participant,
            form_code="procedure",
            expected_version=current_version(participant),
        ).status
        == "verified"
    )
