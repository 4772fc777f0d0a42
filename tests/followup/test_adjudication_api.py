"""The adjudication API: the blinded reader's queue, packet and verdict; the board as each role sees it; the
data manager's steps. Blinding is checked by planting values that must never reach a reader (the study ID,
the site, its staff, the site's classification and grade, PDFF, a risk factor) and searching every answer."""

import datetime
import json
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crf.models import FormRecord, FormStatus
from followup.models import AdjudicationCase, CaseAssignment, CaseStatus
from followup.selectors.packet import Bucket, reader_bucket, reader_cases, reader_counts
from followup.services.assignment import case_readers_assign
from trial.models import Role

from ..conftest import client_for
from ..factories import PASSWORD
from .reading_helpers import reading_code

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

CASES = "/api/v1/adjudication-cases/"
QUEUE = "/api/v1/adjudication/queue/"
YES = {
    "fracture": True,
    "levels": ["L3"],
    "acute_signal": True,
    "genant_grade": 2,
    "event_date": "2026-06-01",
    "confidence": "high",
    "comment": "Clear oedema at L3.",
}
NO = {"fracture": False, "confidence": "moderate", "comment": ""}
PDFF = 47.913  # planted in the pre-operative quantitative MRI: never in a packet
RISK = "prednisone 7.5 mg daily"  # planted in the baseline form


def at(case, reader) -> str:
    """The reader's packet URL: by their reading code, never the case's number."""
    return f"{QUEUE}{reading_code(case, reader)}/"


@pytest.fixture
def people(readers, make_user, study, coordinator):
    return readers | {
        "coordinator": coordinator,
        "pi": make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study),
        "monitor": make_user("mon", role=Role.MONITOR, study=study),
    }


@pytest.fixture
def case(cases, people):
    """Case L3 with its readers adj_a (first) and adj_b (second); the participant's predictors planted."""
    case = cases[0]
    participant = case.participant
    FormRecord.objects.create(
        participant=participant,
        form_code="qmri",
        status=FormStatus.COMPLETE,
        updated_by=people["coordinator"],
        data={"exam_date": "2026-01-05", "levels": [{"level": "L2", "pdff": PDFF, "r2star": 61.7}]},
    )
    FormRecord.objects.create(
        participant=participant,
        form_code="baseline",
        status=FormStatus.COMPLETE,
        updated_by=people["coordinator"],
        data={"glucocorticoids": True, "gc_dose": RISK},
    )
    case_readers_assign(case=case)
    return case


def signed(people, name: str) -> dict:
    """The e-signature fields: the reader's user ID and password again."""
    return {"username": people[name].username, "password": PASSWORD}


def forbidden_texts(case) -> list[str]:
    participant = case.participant
    site = participant.site
    return [
        participant.study_id,
        f'"{site.code}"',
        site.name["en"],
        site.name["zh-hans"],
        "Dr Demo",  # the procedure form's operator
        "Test Coord07",
        "remote",  # the site's classification of L3 (treated L1, T12)
        "adjacent",
        str(PDFF),
        RISK,
        '"genant_grade": "1"',  # the site's grade in the MRI form
    ]


def assert_blind(text: str, case) -> None:
    for value in forbidden_texts(case):
        assert value not in text, value


def test_a_reader_sees_their_queue_and_a_blind_packet(case, people):
    reader = client_for(people["adj_a"])
    queue = reader.get(QUEUE)
    assert queue.status_code == 200
    code = reading_code(case, people["adj_a"])
    assert [(row["code"], row["level"], row["slot"], row["bucket"]) for row in queue.json()["results"]] == [
        (code, "L3", "first", "awaiting_me")
    ]
    assert reader.get(f"{QUEUE}counts/").json() == {
        "awaiting_me": 1,
        "awaiting_other": 0,
        "awaiting_tiebreak": 0,
        "final": 0,
    }
    packet = reader.get(f"{QUEUE}{code}/")
    assert packet.status_code == 200
    body = packet.json()
    assert body["case"]["code"] == code and "id" not in body["case"]
    assert body["treated_levels"] == ["L1", "T12"] and body["procedure_date"] == "2026-01-08"
    assert [exam["form"] for exam in body["exams"]] == ["procedure", "followup_mri"]
    mri = body["exams"][1]
    assert [cell["code"] for cell in mri["rows"][0]] == ["level", "new_fracture", "acute_signal"]
    assert [row[0]["value"] for row in mri["rows"]] == ["L3", "T10", "T8"]
    assert body["verdicts"] == []
    for answer in (queue, packet):
        assert_blind(json.dumps(answer.json(), ensure_ascii=False), case)
    # Another reader's code, or the case's number: a 404, as for a case that does not exist.
    assert client_for(people["adj_c"]).get(f"{QUEUE}{code}/").status_code == 404
    assert reader.get(f"{QUEUE}{reading_code(case, people['adj_b'])}/").status_code == 404
    assert reader.get(f"{QUEUE}{case.pk}/").status_code == 404
    assert reader.get(f"{QUEUE}{code.lower()}/").status_code == 200  # typed in lower case


def test_readers_see_the_other_verdict_only_once_both_are_in_and_the_third_sees_both(case, people):
    first, second, third = (client_for(people[name]) for name in ("adj_a", "adj_b", "adj_c"))
    answer = first.post(
        f"{at(case, people['adj_a'])}verdict/", {**YES, **signed(people, "adj_a")}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    assert [v["slot"] for v in answer.json()["verdicts"]] == ["first"]
    assert answer.json()["verdicts"][0]["locations"] == {"L3": "remote"}  # the derived check, after signing
    assert second.get(at(case, people["adj_b"])).json()["verdicts"] == []  # blind to the first
    assert first.get(f"{QUEUE}counts/").json()["awaiting_other"] == 1
    answer = second.post(
        f"{at(case, people['adj_b'])}verdict/", {**NO, **signed(people, "adj_b")}, format="json"
    )
    assert answer.status_code == 201
    assert sorted(v["slot"] for v in answer.json()["verdicts"]) == ["first", "second"]
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPUTED
    assert first.get(f"{QUEUE}counts/").json()["awaiting_tiebreak"] == 1
    packet = third.get(at(case, people["adj_c"])).json()
    assert packet["case"]["slot"] == "third" and len(packet["verdicts"]) == 2
    assert all("reader" not in v for v in packet["verdicts"])  # by slot, never by name
    assert_blind(json.dumps(packet, ensure_ascii=False).replace('"remote"', ""), case)
    answer = third.post(
        f"{at(case, people['adj_c'])}verdict/", {**YES, **signed(people, "adj_c")}, format="json"
    )
    assert answer.status_code == 201
    case.refresh_from_db()
    assert (case.status, case.final_fracture, case.final_levels) == (CaseStatus.FINAL, True, ["L3"])
    assert third.get(f"{QUEUE}counts/").json()["final"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "wrong"}, None),
        ({"username": "adj_b"}, None),  # another reader's user ID
        ({"username": ""}, None),  # none on the session's first signing
        ({"levels": ["S1"]}, "levels"),
        ({"genant_grade": 7}, "genant_grade"),
        ({"event_date": "June"}, "event_date"),
        ({"confidence": "sure"}, "confidence"),
        ({"fracture": "maybe"}, "fracture"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_verdict_is_refused_naming_the_field_and_saves_nothing(case, people, change, field):
    answer = client_for(people["adj_a"]).post(
        f"{at(case, people['adj_a'])}verdict/", {**YES, **signed(people, "adj_a"), **change}, format="json"
    )
    if field is None:
        assert answer.status_code == 403
    else:
        assert answer.status_code == 400 and field in json.dumps(answer.json()), answer.json()
    assert not case.verdicts.exists()


def test_what_each_role_sees_of_the_board(case, people):
    client_for(people["adj_a"]).post(
        f"{at(case, people['adj_a'])}verdict/", {**YES, **signed(people, "adj_a")}, format="json"
    )
    seen = {}
    for role in ("coordinator", "pi", "monitor", "dm", "adj_a"):
        answer = client_for(people[role]).get(f"{CASES}{case.pk}/")
        seen[role] = answer
    assert seen["adj_a"].status_code == 404  # readers use the queue, blind
    site = seen["coordinator"].json()
    assert (site["view"], site["status"], site["final_fracture"]) == ("site", "in_review", None)
    assert not {"round", "readers_assigned", "verdicts_in", "assignments", "verdicts"} & set(site)
    for role in ("pi", "monitor"):
        board = seen[role].json()
        assert (board["view"], board["status"], board["readers_assigned"], board["verdicts_in"]) == (
            "oversight",
            "open",
            2,
            1,
        )
        text = json.dumps(board, ensure_ascii=False)
        assert "Adj_A" not in text and "Adj_B" not in text and "assignments" not in board
    managed = seen["dm"].json()
    assert managed["view"] == "manage"
    assert [(a["slot"], a["reader"], a["reading_code"]) for a in managed["assignments"]] == [
        ("first", "Test Adj_A", reading_code(case, people["adj_a"])),
        ("second", "Test Adj_B", reading_code(case, people["adj_b"])),
    ]  # a data manager finds the case a reader names by their code
    assert [v["reader"] for v in managed["verdicts"]] == ["Test Adj_A"]


def test_the_board_and_the_queue_run_a_fixed_number_of_queries(
    case, cases, people, django_assert_num_queries
):
    for other in cases[1:]:
        case_readers_assign(case=other)
    counts = {}
    for name, url in (("dm", CASES), ("pi", CASES), ("coordinator", CASES), ("adj_a", QUEUE)):
        api = client_for(people[name])
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url).status_code == 200
        counts[name] = len(ctx.captured_queries)
    AdjudicationCase.objects.filter(pk__in=[c.pk for c in cases]).update(status=CaseStatus.OPEN)
    # Three more cases of another participant: the counts do not move.
    more = AdjudicationCase.objects.get(pk=cases[0].pk)
    for level in ("T6", "T5", "T4"):
        extra = AdjudicationCase.objects.create(
            participant=more.participant, level=level, location="remote", exam_date=more.exam_date
        )
        CaseAssignment.objects.create(case=extra, reader=people["adj_a"], slot="first")
    for name, url in (("dm", CASES), ("pi", CASES), ("coordinator", CASES), ("adj_a", QUEUE)):
        api = client_for(people[name])
        with django_assert_num_queries(counts[name]):
            assert api.get(url).status_code == 200


def test_a_data_manager_opens_reassigns_and_reopens(case, people):
    dm = client_for(people["dm"])
    readers = dm.get(f"{CASES}{case.pk}/eligible-readers/")
    assert [r["name"] for r in readers.json()] == ["Test Adj_C"]  # not adj_07 (site 07), not the two on it
    assert client_for(people["pi"]).get(f"{CASES}{case.pk}/eligible-readers/").status_code == 403
    moved = dm.post(
        f"{CASES}{case.pk}/reassign/",
        {"slot": "second", "reader": people["adj_c"].pk, "reason": "Adj B on leave"},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    assert [(a["slot"], a["reader"], a["active"]) for a in moved.json()["assignments"]] == [
        ("first", "Test Adj_A", True),
        ("second", "Test Adj_B", False),
        ("second", "Test Adj_C", True),
    ]
    assert (
        dm.post(f"{CASES}{case.pk}/reassign/", {"slot": "second", "reader": 0, "reason": "x"}).status_code
        == 400
    )
    assert dm.post(f"{CASES}{case.pk}/reopen/", {"reason": "recheck"}).status_code == 409  # not final
    for name in ("adj_a", "adj_c"):
        client_for(people[name]).post(
            f"{at(case, people[name])}verdict/", {**NO, **signed(people, name)}, format="json"
        )
    reopened = dm.post(f"{CASES}{case.pk}/reopen/", {"reason": "New CT shows L3 wedge"}, format="json")
    assert reopened.status_code == 200 and (reopened.json()["status"], reopened.json()["round"]) == (
        "open",
        2,
    )
    assert dm.post(f"{CASES}{case.pk}/reopen/", {"reason": ""}, format="json").status_code == 400


def test_a_data_manager_opens_a_case_by_hand_and_bad_input_is_a_400(case, people):
    dm = client_for(people["dm"])
    body = {
        "study_id": case.participant.study_id,
        "level": "L5",
        "exam_date": "2026-04-10",
        "modality": "ct",
        "findings": "Unscheduled CT: L5 wedge.",
        "reason": "Symptomatic event",
    }
    opened = dm.post(CASES, body, format="json")
    assert opened.status_code == 201, opened.json()
    assert (opened.json()["origin"], opened.json()["level"], len(opened.json()["assignments"])) == (
        "manual",
        "L5",
        2,
    )
    for change, field in (
        ({"level": "L9"}, "level"),
        ({"exam_date": "2027-01-01"}, "exam_date"),
        ({"findings": ""}, "findings"),
    ):
        answer = dm.post(CASES, body | change, format="json")
        assert answer.status_code == 400 and field in json.dumps(answer.json()), (change, answer.json())
    assert (
        client_for(people["coordinator"]).post(CASES, body | {"level": "L4"}, format="json").status_code
        == 403
    )
    assert dm.post(CASES, body | {"study_id": "99-9999"}, format="json").status_code == 404
    evidence = opened.json()["evidence"][0]["id"]
    withdrawn = dm.post(
        f"{CASES}{opened.json()['id']}/evidence/{evidence}/withdraw/",
        {"reason": "wrong patient"},
        format="json",
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "cancelled"
    assert AdjudicationCase.objects.filter(level="L4").count() == 0
    assert datetime.date(2026, 4, 10) == AdjudicationCase.objects.get(level="L5").exam_date


def test_site_staff_cannot_tell_a_dispute_by_filtering(case, people):
    """A row says "in review" to site staff; a status filter must not tell them more."""
    for name in ("adj_a", "adj_b"):
        answer = YES if name == "adj_a" else NO
        client_for(people[name]).post(
            f"{at(case, people[name])}verdict/", {**answer, **signed(people, name)}, format="json"
        )
    coordinator = client_for(people["coordinator"])
    refused = coordinator.get(CASES, {"status": "disputed"})
    assert refused.status_code == 403 and "in_review" in refused.json()["status"][0]
    assert coordinator.get(CASES, {"status": "open"}).status_code == 403
    in_review = coordinator.get(CASES, {"status": "in_review"}).json()
    assert case.pk in [row["id"] for row in in_review["results"]]
    assert {row["status"] for row in in_review["results"]} == {"in_review"}
    assert [
        row["id"] for row in client_for(people["pi"]).get(CASES, {"status": "disputed"}).json()["results"]
    ] == [case.pk]


def test_the_queue_tabs_and_their_counts_agree_with_where_each_case_stands(case, cases, people):
    """The counts (one aggregate) and each tab (its own filter) against the per-case rule, in every state."""
    for other in cases[1:]:
        case_readers_assign(case=other)
    post = {name: client_for(people[name]) for name in ("adj_a", "adj_b", "adj_c")}
    post["adj_a"].post(
        f"{at(case, people['adj_a'])}verdict/", {**YES, **signed(people, "adj_a")}, format="json"
    )
    post["adj_b"].post(
        f"{at(case, people['adj_b'])}verdict/", {**NO, **signed(people, "adj_b")}, format="json"
    )  # disputed
    t10 = cases[1]
    first = CaseAssignment.objects.get(case=t10, slot="first").reader.username
    post[first].post(f"{at(t10, people[first])}verdict/", {**NO, **signed(people, first)}, format="json")
    for name in ("adj_a", "adj_b", "adj_c"):
        reader = people[name]
        by_case = Counter(reader_cases(user=reader).values_list("bucket", flat=True))
        tabs = {bucket: reader_bucket(user=reader, bucket=bucket).count() for bucket in Bucket.ALL}
        assert reader_counts(user=reader) == tabs == {b: by_case.get(b, 0) for b in Bucket.ALL}, name
        for bucket, size in tabs.items():  # each tab's page says its size (from the counts) and lists them
            listed = post[name].get(QUEUE, {"bucket": bucket}).json()
            assert listed["count"] == len(listed["results"]) == size, (name, bucket)
    assert sum(reader_counts(user=people["adj_c"]).values()) >= 1
