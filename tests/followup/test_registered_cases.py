"""The reference standard of NCT07306858 on the adjudication workflow: one case per registered fractured
vertebra, opened at registration with its two readers; the data manager's idempotent step (API, command) for
cases registered before; verdicts on the protocol's question (acute or chronic, the answer alone); the third
reader on a disagreement; and `reference_standard`, the final answers the accuracy report reads."""

import pytest
from django.core.management import call_command

from followup.models import AdjudicationCase, CaseAssignment, CaseOrigin, CaseStatus, Verdict
from followup.selectors.reference import reference_standard
from followup.services.registered import study_registered_cases_open
from tests.conftest import client_for
from trial import hooks
from trial.models import Role, StaffRole

from .reading_helpers import reading_code
from .reference_helpers import (  # noqa: F401 -- fixtures
    ACUTE,
    CHRONIC,
    QUEUE,
    fixture_ref_people,
    fixture_register_case,
    fixture_retro,
    signed,
)

pytestmark = pytest.mark.frozen
OPEN_REGISTERED = "/api/v1/studies/NCT07306858/adjudication-cases/open-registered/"


def cases_of(participant) -> list[AdjudicationCase]:
    return list(AdjudicationCase.objects.filter(participant=participant).order_by("level"))


def readers_of(case) -> dict[str, str]:
    return dict(CaseAssignment.objects.filter(case=case, active=True).values_list("slot", "reader__username"))


def verdict(user, case, body):
    return client_for(user).post(
        f"{QUEUE}{reading_code(case, user)}/verdict/", {**body, **signed(user)}, format="json"
    )


def test_registration_opens_a_case_per_fractured_vertebra_with_two_readers(register_case, ref_people):
    participant = register_case(levels=("T12", "L1", "L2"))
    found = cases_of(participant)
    assert [(c.level, c.origin, c.status, c.location) for c in found] == [
        ("L1", CaseOrigin.REGISTRATION, CaseStatus.OPEN, ""),
        ("L2", CaseOrigin.REGISTRATION, CaseStatus.OPEN, ""),
        ("T12", CaseOrigin.REGISTRATION, CaseStatus.OPEN, ""),
    ]
    # Balanced round-robin: the fewest active assignments, then the lowest id, per slot.
    # Opened in the registration's order (T12, L1, L2), each slot to the least loaded, then the lowest id.
    assert [readers_of(c) for c in found] == [
        {"first": "ref_adj_c", "second": "ref_adj_a"},  # L1
        {"first": "ref_adj_b", "second": "ref_adj_c"},  # L2
        {"first": "ref_adj_a", "second": "ref_adj_b"},  # T12
    ]
    assert not any(c.evidence.exists() for c in found)


def test_an_adjudicator_of_the_centre_never_reads_its_cases(register_case, ref_people, make_user, retro):
    StaffRole.objects.filter(user__username__in=("ref_adj_b", "ref_adj_c")).update(active=False)
    local = make_user("ref_adj_cq1", role=Role.ADJUDICATOR, study=retro)
    StaffRole.objects.create(
        user=local, study=retro, site=retro.sites.get(code="CQ1"), role=Role.INVESTIGATOR
    )
    (ext,) = cases_of(register_case(site_code="EXT1", levels=("L3",)))
    (cq1,) = cases_of(register_case(site_code="CQ1", levels=("L4",)))
    assert readers_of(ext) == {"first": "ref_adj_a", "second": "ref_adj_cq1"}
    # No second reader from another centre is left: the slot waits for the data manager.
    assert readers_of(cq1) == {"first": "ref_adj_a"}


def test_a_prospective_enrollment_opens_no_case(make_participant):
    participant = make_participant()
    assert not AdjudicationCase.objects.filter(participant=participant).exists()


def test_the_data_managers_step_opens_the_cases_registered_before_once(
    register_case, ref_people, retro, monkeypatch
):
    # Registered before followup opened cases at registration: the hook is not there.
    monkeypatch.setattr(hooks.participant_status_changed, "_callables", [])
    before = [register_case(levels=("T11", "T12")), register_case(levels=("L1",), group="chronic")]
    monkeypatch.undo()
    assert not AdjudicationCase.objects.exists()
    dm = client_for(ref_people["dm"])
    first = dm.post(OPEN_REGISTERED)
    assert first.status_code == 200, first.content
    assert first.json() == {"opened": 3, "assigned": 6}
    assert [c.level for p in before for c in cases_of(p)] == ["T11", "T12", "L1"]
    assert all(len(readers_of(c)) == 2 for p in before for c in cases_of(p))
    assert dm.post(OPEN_REGISTERED).json() == {"opened": 0, "assigned": 0}
    call_command("open_registered_cases", "--study", "NCT07306858")
    assert AdjudicationCase.objects.count() == 3 and CaseAssignment.objects.count() == 6


def test_the_step_fills_the_slots_no_adjudicator_could_take_at_registration(
    register_case, ref_people, make_user, retro
):
    StaffRole.objects.filter(role=Role.ADJUDICATOR).update(active=False)
    (case,) = cases_of(register_case(levels=("L2",)))
    assert readers_of(case) == {}
    make_user("ref_adj_new1", role=Role.ADJUDICATOR, study=retro)
    make_user("ref_adj_new2", role=Role.ADJUDICATOR, study=retro)
    opened = study_registered_cases_open(study=retro, actor=ref_people["dm"])
    assert (opened.cases, opened.assigned) == (0, 2)
    assert readers_of(case) == {"first": "ref_adj_new1", "second": "ref_adj_new2"}


@pytest.mark.parametrize(
    ("who", "expected"), [("coord_cq1", 403), ("pi", 403), ("ref_adj_a", 404), ("dm", 200)]
)
def test_only_the_studys_data_managers_take_the_step(register_case, ref_people, who, expected):
    assert client_for(ref_people[who]).post(OPEN_REGISTERED).status_code == expected


def test_the_step_is_a_409_for_a_study_whose_cases_come_from_follow_up_mris(make_user, study):
    dm = make_user("dm", role=Role.DATA_MANAGER, study=study)
    answer = client_for(dm).post(f"/api/v1/studies/{study.code}/adjudication-cases/open-registered/")
    assert answer.status_code == 409 and answer.json()["code"] == "not_registered_levels"
    assert (
        client_for(dm).post("/api/v1/studies/NCT00000000/adjudication-cases/open-registered/").status_code
        == 404
    )


def test_agreement_makes_the_case_final_with_the_answer(register_case, ref_people):
    (case,) = cases_of(register_case(levels=("L1",)))
    readers = readers_of(case)
    for slot in ("first", "second"):
        answer = verdict(ref_people[readers[slot]], case, ACUTE)
        assert answer.status_code == 201, answer.content
    case.refresh_from_db()
    assert (case.status, case.final_fracture, case.final_levels, case.final_event_date) == (
        CaseStatus.FINAL,
        True,
        [],
        None,
    )
    stored = Verdict.objects.filter(case=case).values_list("fracture", "levels", "genant_grade", "event_date")
    assert list(stored) == [(True, [], None, None)] * 2


def test_a_disagreement_goes_to_the_third_reader_whose_answer_is_final(register_case, ref_people):
    (case,) = cases_of(register_case(levels=("L1",)))
    readers = readers_of(case)
    verdict(ref_people[readers["first"]], case, ACUTE)
    verdict(ref_people[readers["second"]], case, CHRONIC)
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPUTED
    third = readers_of(case)["third"]
    assert third not in (readers["first"], readers["second"])
    assert verdict(ref_people[third], case, CHRONIC).status_code == 201
    case.refresh_from_db()
    assert (case.status, case.final_fracture) == (CaseStatus.FINAL, False)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"genant_grade": 2}, "genant_grade"),
        ({"levels": ["L1"]}, "levels"),
        ({"event_date": "2026-01-04"}, "event_date"),
        ({"acute_signal": True}, "acute_signal"),
    ],
)
def test_a_part_the_question_does_not_ask_is_refused_at_its_field(register_case, ref_people, extra, field):
    (case,) = cases_of(register_case(levels=("L1",)))
    reader = ref_people[readers_of(case)["first"]]
    answer = verdict(reader, case, {**ACUTE, **extra})
    assert answer.status_code == 400, answer.content
    assert list(answer.json()) != [] and field in answer.json()
    assert not Verdict.objects.exists()


def test_the_reference_standard_maps_final_cases_to_their_answer_in_one_query(
    register_case, ref_people, retro, django_assert_num_queries
):
    one = register_case(levels=("T12", "L1"))
    two = register_case(levels=("L2",), group="chronic", site_code="EXT1")
    answers = {("T12", one): True, ("L1", one): False, ("L2", two): False}
    for (level, participant), acute in answers.items():
        case = AdjudicationCase.objects.get(participant=participant, level=level)
        if level == "L1":
            continue  # still open: no reference answer yet
        for username in readers_of(case).values():
            verdict(ref_people[username], case, ACUTE if acute else CHRONIC)
    with django_assert_num_queries(1):
        found = reference_standard(retro)
    assert found == {(one.pk, "T12"): True, (two.pk, "L2"): False}
