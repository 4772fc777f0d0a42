"""The CRF life cycle through the API: save, complete, verify, sign, lock, unlock; ETags; roles; audit."""

import hashlib
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crf.models import DataQuery, FormRecord, Signature

from ..factories import PASSWORD
from .conftest import FRACTURES, PROCEDURE, act, canonical_sha256, form_url, put

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = pytest.mark.frozen


def test_full_life_cycle(clients, participant):
    coordinator, monitor, investigator, dm = (
        clients[r] for r in ("coordinator", "monitor", "investigator", "data_manager")
    )
    saved = put(coordinator, participant, PROCEDURE)
    assert saved.status_code == 200, saved.json()
    assert (saved.json()["status"], saved["ETag"]) == ("draft", '"1"')
    assert act(coordinator, participant, "complete").json()["status"] == "complete"
    assert act(monitor, participant, "verify").json()["status"] == "verified"
    signed = act(
        investigator, participant, "sign", {"username": "inv07", "password": PASSWORD, "meaning": "approval"}
    )
    assert signed.status_code == 201
    assert signed.json()["printed_name"] == "Test Inv07" and signed.json()["valid"] is True
    assert act(dm, participant, "lock").json()["status"] == "locked"
    locked_edit = put(coordinator, participant, PROCEDURE | {"operator": "Dr B"}, version=5, reason="typo")
    assert locked_edit.status_code == 409
    assert act(dm, participant, "unlock").status_code == 400  # a reason is required
    unlocked = act(dm, participant, "unlock", HTTP_X_CHANGE_REASON="Correct the operator")
    assert unlocked.json()["status"] == "signed"


def test_editing_a_signed_form_needs_a_reason_and_resets_verification_and_signature(
    clients, staff, participant
):
    put(clients["coordinator"], participant, PROCEDURE)
    act(clients["coordinator"], participant, "complete")
    act(clients["monitor"], participant, "verify")
    body = {"username": "inv07", "password": PASSWORD, "meaning": "approval"}
    act(clients["investigator"], participant, "sign", body)
    version = FormRecord.objects.get().version
    no_reason = put(clients["coordinator"], participant, PROCEDURE | {"operator": "Dr B"}, version=version)
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    edited = put(
        clients["coordinator"],
        participant,
        PROCEDURE | {"operator": "Dr B"},
        version=version,
        reason="Operator misread",
    )
    assert edited.json()["status"] == "complete"
    record = FormRecord.objects.get()
    assert record.verified_by is None
    assert Signature.objects.get().invalidated_at is not None
    assert edited.json()["signatures"][0]["valid"] is False


def test_stale_version_is_a_conflict_and_overwrites_nothing(clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    first = put(clients["coordinator"], participant, PROCEDURE | {"operator": "Dr A"}, version=1)
    assert first.status_code == 200 and first["ETag"] == '"2"'
    stale = put(clients["coordinator"], participant, PROCEDURE | {"operator": "Dr B"}, version=1)
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    assert FormRecord.objects.get().data["operator"] == "Dr A"
    assert put(clients["coordinator"], participant, PROCEDURE).status_code == 428  # no If-Match on an edit
    bad = clients["coordinator"].put(
        form_url(participant), {"data": PROCEDURE}, format="json", HTTP_IF_MATCH="yesterday"
    )
    assert bad.status_code == 400


def test_complete_refuses_missing_fields_with_field_messages(clients, participant):
    put(clients["coordinator"], participant, {"procedure_date": "2026-01-08"})
    response = act(clients["coordinator"], participant, "complete")
    assert response.status_code == 400
    assert "technique" in response.json() and "levels" in response.json()
    assert FormRecord.objects.get().status == "draft"


def test_soft_warning_opens_one_query_that_closes_when_the_value_is_fixed(clients, participant):
    high = PROCEDURE | {"levels": [{**PROCEDURE["levels"][0], "cement_volume": 12}]}
    put(clients["coordinator"], participant, high)
    put(
        clients["coordinator"], participant, high | {"operator": "Dr A"}, version=1
    )  # saved again: same query
    query = DataQuery.objects.get()
    assert (query.auto, query.field_path, query.status) == (True, "levels[L1].cement_volume", "open")
    put(clients["coordinator"], participant, PROCEDURE, version=2)
    query.refresh_from_db()
    assert query.status == "closed"
    assert [m.action for m in query.messages.all()] == ["raise", "close"]


@pytest.mark.parametrize(
    ("role", "step", "status"),
    [
        ("coordinator", "verify", 403),
        ("monitor", "complete", 403),
        ("coordinator", "lock", 403),
        ("monitor", "lock", 403),
        ("data_manager", "verify", 403),
    ],
)
def test_roles_are_enforced(clients, participant, role, step, status):
    put(clients["coordinator"], participant, PROCEDURE)
    act(clients["coordinator"], participant, "complete")
    assert act(clients[role], participant, step).status_code == status


def test_transitions_out_of_order_are_conflicts(clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    assert act(clients["monitor"], participant, "verify").status_code == 409  # still a draft
    assert act(clients["data_manager"], participant, "lock").status_code == 409
    assert act(clients["coordinator"], participant, "complete", form="dxa").status_code == 409  # not started


def test_signing_needs_the_password_and_the_signer_role(clients, staff, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    act(clients["coordinator"], participant, "complete")
    act(clients["monitor"], participant, "verify")

    def sign(role, password, meaning):
        body = {"username": staff[role].username, "password": password, "meaning": meaning}
        return act(clients[role], participant, "sign", body).status_code

    assert sign("investigator", "wrong", "approval") == 403
    assert sign("investigator", PASSWORD, "liking") == 400
    assert sign("coordinator", PASSWORD, "approval") == 403
    assert sign("pi", PASSWORD, "responsibility") == 201
    assert Signature.objects.get().record_version == FormRecord.objects.get().version


# A small discharge form, and by hand the canonical text its signature hashes: keys in sorted order, ", "
# between items and ": " after keys (json.dumps' defaults), the Chinese as itself (not \uXXXX), then UTF-8.
DISCHARGE = {
    "discharge_date": "2026-01-11",
    "vas_discharge": 25,
    "ambulation": "walking_aid",
    "complications": ["none"],
    "medication": ["calcitonin", "other"],
    "medication_other": "仙灵骨葆胶囊",
    "brace": True,
    "destination": "home",
}
DISCHARGE_TEXT = (
    '{"ambulation": "walking_aid", "brace": true, "complications": ["none"], "destination": "home", '
    '"discharge_date": "2026-01-11", "medication": ["calcitonin", "other"], '
    '"medication_other": "仙灵骨葆胶囊", "vas_discharge": 25}'
)


def test_signature_hashes_the_stored_data_as_canonical_json(clients, participant):
    def sign(data, **edit):
        put(clients["coordinator"], participant, data, form="discharge", **edit)
        if not edit:
            act(clients["coordinator"], participant, "complete", form="discharge")
        act(clients["monitor"], participant, "verify", form="discharge")
        signed = act(
            clients["investigator"],
            participant,
            "sign",
            {"username": "inv07", "password": PASSWORD, "meaning": "approval"},
            form="discharge",
        )
        assert signed.status_code == 201, signed.json()
        signature = Signature.objects.get(invalidated_at=None)
        return signature, FormRecord.objects.get(form_code="discharge")

    signature, record = sign(DISCHARGE)
    # the data read back from the database is the hand-written text, and the signature hashes that text
    assert record.data == json.loads(DISCHARGE_TEXT)
    assert signature.data_sha256 == hashlib.sha256(DISCHARGE_TEXT.encode("utf-8")).hexdigest()
    assert canonical_sha256(record.data) == signature.data_sha256  # the helper other tests use agrees

    # when one value changes (a reason given, the form verified and signed again), so does the hash
    changed, record_version = DISCHARGE | {"vas_discharge": 30}, record.version
    resigned, record = sign(changed, version=record_version, reason="VAS misread")
    changed_text = DISCHARGE_TEXT.replace('"vas_discharge": 25', '"vas_discharge": 30')
    assert record.data == json.loads(changed_text)
    assert resigned.data_sha256 == hashlib.sha256(changed_text.encode("utf-8")).hexdigest()
    assert resigned.data_sha256 != signature.data_sha256


def test_per_field_audit_trail(clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    changed = PROCEDURE | {
        "levels": [{**PROCEDURE["levels"][0], "cement_volume": 5.0}, PROCEDURE["levels"][1]]
    }
    put(clients["coordinator"], participant, changed, version=1)
    history = (
        clients["monitor"]
        .get(form_url(participant, step="history"), {"field": "levels[L1].cement_volume"})
        .json()
    )
    assert [(e["event"], e["user"]) for e in history] == [("insert", "coord07"), ("update", "coord07")]
    assert history[1]["changes"] == [{"field": "levels[L1].cement_volume", "old": 4.5, "new": 5.0}]


@pytest.mark.parametrize("body", [{"data": []}, {"data": "x"}, {}, {"data": {}, "extra": 1}])
def test_malformed_bodies_are_400(clients, participant, body):
    response = clients["coordinator"].put(form_url(participant), body, format="json")
    assert response.status_code == 400
    assert not FormRecord.objects.exists()


def test_unknown_form_and_other_site(clients, participant, other_coordinator):
    from ..conftest import client_for

    assert put(clients["coordinator"], participant, {}, form="odi").status_code == 400
    assert put(client_for(other_coordinator), participant, PROCEDURE).status_code == 404
    assert put(clients["monitor"], participant, PROCEDURE).status_code == 403


def test_cross_form_check_uses_the_fracture_levels_form(clients, participant):
    put(clients["coordinator"], participant, FRACTURES, form="fracture_levels")
    other_level = PROCEDURE | {"levels": [{**PROCEDURE["levels"][0], "level": "L3"}]}
    response = put(clients["coordinator"], participant, other_level)
    assert [w["check"] for w in response.json()["warnings"]] == ["LEVEL_NOT_FRACTURED"]


def test_saving_runs_a_fixed_number_of_queries(clients, participant, make_participant):
    """Whatever the number of levels, warnings or participants: opening queries is one bulk insert each."""

    def count(target, data, version=None):
        with CaptureQueriesContext(connection) as ctx:
            assert put(clients["coordinator"], target, data, version=version).status_code == 200
        return len(ctx.captured_queries)

    def levels(*names):
        return PROCEDURE | {
            "levels": [{**PROCEDURE["levels"][0], "level": n, "cement_volume": 11} for n in names]
        }

    small = count(participant, levels("L1"))
    for _ in range(5):
        make_participant()
    assert count(make_participant(), levels("T11", "T12", "L1")) == small
    # Editing: one warning replaced by three (one closed, three opened) costs the same as one by one.
    edit_one = count(participant, levels("L2"), version=1)
    other = make_participant()
    count(other, levels("L1"))
    assert count(other, levels("T10", "T11", "L2"), version=1) == edit_one


def test_attesting_steps_need_the_version_that_was_read(clients, participant):
    """A monitor verifies, an investigator signs, a data manager locks what they saw: no If-Match, no step."""
    put(clients["coordinator"], participant, PROCEDURE)
    act(clients["coordinator"], participant, "complete")
    assert clients["monitor"].post(form_url(participant, step="verify")).status_code == 428
    put(
        clients["coordinator"], participant, PROCEDURE | {"operator": "Dr Late"}, version=2, reason="late fix"
    )
    stale = clients["monitor"].post(form_url(participant, step="verify"), HTTP_IF_MATCH='"2"')
    assert stale.status_code == 409  # the monitor read version 2; the form is now at 3
    assert act(clients["monitor"], participant, "verify").status_code == 200


def test_no_signature_without_a_printed_name(clients, staff, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    act(clients["coordinator"], participant, "complete")
    act(clients["monitor"], participant, "verify")
    staff["investigator"].first_name = staff["investigator"].last_name = ""
    staff["investigator"].save(update_fields=["first_name", "last_name"])
    refused = act(clients["investigator"], participant, "sign", {"password": PASSWORD, "meaning": "approval"})
    assert refused.status_code == 400 and "printed_name" in refused.json()
    assert not Signature.objects.exists()


def test_wrong_signing_passwords_lock_signing_for_a_while(clients, staff, participant):
    from django.core.cache import cache

    from crf.services.signatures import SIGNING_ATTEMPTS, _attempts_key

    cache.delete(_attempts_key(staff["investigator"]))
    put(clients["coordinator"], participant, PROCEDURE)
    act(clients["coordinator"], participant, "complete")
    act(clients["monitor"], participant, "verify")
    for _ in range(SIGNING_ATTEMPTS):
        wrong = act(
            clients["investigator"], participant, "sign", {"password": "guess", "meaning": "approval"}
        )
        assert wrong.json()["code"] == "bad_password"
    blocked = act(clients["investigator"], participant, "sign", {"password": PASSWORD, "meaning": "approval"})
    assert blocked.status_code == 403 and blocked.json()["code"] == "signing_locked_out"
    assert not Signature.objects.exists()
    cache.delete(_attempts_key(staff["investigator"]))
