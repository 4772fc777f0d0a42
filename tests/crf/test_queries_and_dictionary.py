"""Data queries (open -> answered -> closed, reopen; threads; ages; scoping) and the data dictionary."""

import csv
import io

import pytest

from crf.models import DataQuery

from ..conftest import client_for
from .conftest import PROCEDURE, current_version, put

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = pytest.mark.frozen

QUERIES = "/api/v1/queries/"


def raise_query(client, participant, field="operator", text="Please confirm the operator."):
    return client.post(
        QUERIES,
        {"study_id": participant.study_id, "form": "procedure", "field": field, "text": text},
        format="json",
    )


def test_query_life_cycle_with_its_thread(clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    raised = raise_query(clients["monitor"], participant)
    assert raised.status_code == 201, raised.json()
    url = f"{QUERIES}{raised.json()['id']}/"
    assert clients["coordinator"].post(f"{url}close/", {"text": "x"}, format="json").status_code == 403
    answered = clients["coordinator"].post(
        f"{url}answer/", {"text": "Checked against the op note."}, format="json"
    )
    assert answered.json()["status"] == "answered"
    assert clients["coordinator"].post(f"{url}answer/", {"text": "again"}, format="json").status_code == 409
    reopened = clients["monitor"].post(f"{url}reopen/", {"text": "The note says Dr B."}, format="json")
    assert reopened.json()["status"] == "open"
    clients["coordinator"].post(f"{url}answer/", {"text": "Corrected."}, format="json")
    closed = clients["data_manager"].post(f"{url}close/", {"text": "Resolved."}, format="json").json()
    assert closed["status"] == "closed" and closed["closed_at"]
    assert [m["action"] for m in closed["messages"]] == ["raise", "answer", "reopen", "answer", "close"]
    assert closed["messages"][1]["author"] == "coord07"
    assert closed["age_days"] == 0


def test_raising_needs_a_monitor_a_field_and_a_message(clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    assert raise_query(clients["coordinator"], participant).status_code == 403
    assert raise_query(clients["monitor"], participant, field="shoe_size").status_code == 400
    assert raise_query(clients["monitor"], participant, text=" ").status_code == 400
    not_started = clients["monitor"].post(
        QUERIES,
        {"study_id": participant.study_id, "form": "dxa", "field": "exam_date", "text": "?"},
        format="json",
    )
    assert not_started.status_code == 400
    assert not DataQuery.objects.exists()


def test_query_list_per_site_filters_and_fixed_queries(
    clients, participant, make_participant, other_coordinator, other_site, django_assert_max_num_queries
):
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200})  # one automatic query
    theirs = make_participant(actor=other_coordinator, on_site=other_site)
    put(client_for(other_coordinator), theirs, PROCEDURE | {"operative_time": 200})
    assert clients["coordinator"].get(QUERIES).json()["count"] == 1
    assert clients["monitor"].get(QUERIES).json()["count"] == 2
    assert clients["monitor"].get(QUERIES, {"site": "91"}).json()["count"] == 1
    assert clients["monitor"].get(QUERIES, {"status": "closed"}).json()["count"] == 0
    assert clients["monitor"].get(QUERIES, {"status": "nope"}).status_code == 400
    for _ in range(6):
        put(clients["coordinator"], make_participant(), PROCEDURE | {"operative_time": 200})
    with django_assert_max_num_queries(6):
        assert clients["monitor"].get(QUERIES).json()["count"] == 8


def test_data_dictionary_json_csv_and_redcap(clients):
    rows = clients["coordinator"].get("/api/v1/forms/").json()
    volume = next(r for r in rows if r["form"] == "procedure" and r["field"] == "cement_volume")
    assert (volume["group"], volume["unit"], volume["max"], volume["soft_max"]) == ("levels", "mL", 20, 10)
    assert volume["label_zh_hans"]
    text = clients["coordinator"].get("/api/v1/forms/", {"export": "csv"}).content.decode("utf-8-sig")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == len(rows) and parsed[0]["form"] == "baseline"
    redcap = clients["coordinator"].get("/api/v1/forms/", {"export": "redcap"}).content.decode("utf-8-sig")
    redcap_rows = list(csv.DictReader(io.StringIO(redcap)))
    assert list(redcap_rows[0])[:4] == ["Variable / Field Name", "Form Name", "Section Header", "Field Type"]
    assert redcap_rows[0]["Variable / Field Name"] == "record_id"  # REDCap's record ID comes first
    bmi = next(r for r in redcap_rows if r["Variable / Field Name"] == "baseline_bmi")
    assert (bmi["Field Type"], bmi["Choices, Calculations, OR Slider Labels"]) == (
        "calc",
        "round([baseline_weight]/(([baseline_height]/100)^2),1)",
    )
    assert clients["coordinator"].get("/api/v1/forms/", {"export": "xls"}).status_code == 400


def test_queries_name_existing_values_and_block_locking(clients, participant, staff):
    from crf.services import crf_lock

    put(clients["coordinator"], participant, PROCEDURE)
    for path in ("levels[ZZ].level", "levels[L1].nonsense", "levels[L1].level.deeper", "nope"):
        assert raise_query(clients["monitor"], participant, field=path).status_code == 400, path
    assert raise_query(clients["monitor"], participant, field="levels[L1].cement_volume").status_code == 201
    record = DataQuery.objects.get().record
    record.status = "signed"  # reach the lock step directly: the life cycle has its own tests
    record.save(update_fields=["status"])
    import pytest

    from trial.errors import Conflict

    with pytest.raises(Conflict, match="not closed"):
        crf_lock(
            actor=staff["data_manager"],
            participant=participant,
            form_code="procedure",
            expected_version=current_version(participant),
        )


def test_the_dictionary_has_the_follow_up_mri_with_unique_redcap_names(clients):
    rows = clients["coordinator"].get("/api/v1/forms/").json()
    relation = next(r for r in rows if r["form"] == "followup_mri" and r["field"] == "relation")
    assert (relation["group"], relation["derived"], relation["choices"]) == (
        "levels",
        "yes",
        "treated, Treated level | adjacent, Adjacent | remote, Remote",
    )
    assert relation["derivation"] == "level_relation(level in procedure.levels.level)"
    redcap = clients["coordinator"].get("/api/v1/forms/", {"export": "redcap"}).content.decode("utf-8-sig")
    redcap_rows = list(csv.DictReader(io.StringIO(redcap)))
    names = [r["Variable / Field Name"] for r in redcap_rows]
    assert len(names) == len(set(names))  # REDCap refuses a dictionary with a name twice
    assert "levels_level" in names and "followup_mri_levels_level" in names  # the procedure's keeps its name
    treated = next(r for r in redcap_rows if r["Variable / Field Name"] == "followup_mri_levels_treated")
    assert (treated["Field Type"], treated["Form Name"]) == ("yesno", "followup_mri_levels")
    assert treated["Field Annotation"].startswith("@READONLY")  # filled from the procedure, not a calculation


def test_each_redcap_instrument_opens_with_its_visit_field(clients):
    """A form collected at several visits is a repeating instrument in REDCap: its instances, and its group
    rows, keep their visit in `<instrument>_visit`, a read-only text field the export fills."""
    redcap = clients["coordinator"].get("/api/v1/forms/", {"export": "redcap"}).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(redcap)))[1:]  # after the record ID
    firsts = {}
    for row in rows:
        firsts.setdefault(row["Form Name"], row)
    assert {"followup_mri", "followup_mri_levels", "procedure_levels"} <= set(firsts)
    for instrument, row in firsts.items():
        assert row["Variable / Field Name"] == f"{instrument}_visit"
        assert (row["Field Type"], row["Text Validation Type OR Show Slider Number"]) == ("text", "")
        assert row["Field Annotation"].startswith("@READONLY")
