"""Who reads an adjudication case: two independent adjudicators never of the participant's site, balanced
round-robin, a third who is neither of the first two, and a data manager's reassignment with a reason."""

import pytest
from django.apps import apps

from crf.services import crf_complete
from followup.models import AdjudicationCase, CaseAssignment, CaseStatus
from followup.services.assignment import case_reader_reassign, case_readers_assign, case_tiebreaker_assign
from trial.errors import Conflict, Forbidden, InvalidInput, ReasonRequired
from trial.models import StaffRole

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


def readers_of(case) -> dict[str, str]:
    return {a.slot: a.reader.username for a in CaseAssignment.objects.filter(case=case, active=True)}


def test_two_readers_never_of_the_participants_site_balanced_across_cases(cases, readers):
    for case in cases:
        assert len(case_readers_assign(case=case)) == 2
    assigned = [readers_of(case) for case in cases]
    assert all(set(slots) == {"first", "second"} and len(set(slots.values())) == 2 for slots in assigned)
    load = [name for slots in assigned for name in slots.values()]
    assert "adj_07" not in load  # a coordinator at the participant's site never reads its cases
    # Six readings over three eligible readers, in round-robin order: two each.
    assert sorted(load) == ["adj_a", "adj_a", "adj_b", "adj_b", "adj_c", "adj_c"]
    assert assigned[0] == {"first": "adj_a", "second": "adj_b"}  # least loaded, then lowest id
    assert case_readers_assign(case=cases[0]) == []  # both slots filled: nothing more


def test_the_tie_breaker_is_neither_of_the_first_two_and_is_refused_when_none_is_left(cases, readers):
    case = cases[0]
    case_readers_assign(case=case)
    third = case_tiebreaker_assign(case=case)
    assert third.slot == "third" and third.reader.username == "adj_c"
    assert case_tiebreaker_assign(case=case) is None  # already there
    StaffRole.objects.filter(user=readers["adj_c"]).update(active=False)
    other = cases[1]
    case_readers_assign(case=other)
    with pytest.raises(Conflict) as refused:  # adj_a and adj_b read it; adj_c left; adj_07 is of the site
        case_tiebreaker_assign(case=other)
    assert refused.value.code == "no_eligible_reader"
    assert not CaseAssignment.objects.filter(case=other, slot="third").exists()


def test_a_data_manager_reassigns_a_slot_with_a_reason_and_the_trail_keeps_both(cases, readers):
    case = cases[0]
    case_readers_assign(case=case)
    dm = readers["dm"]
    new = case_reader_reassign(actor=dm, case=case, slot="first", reader=readers["adj_c"], reason="on leave")
    assert readers_of(case) == {"first": "adj_c", "second": "adj_b"}
    ended = CaseAssignment.objects.get(case=case, slot="first", active=False)
    assert ended.reader.username == "adj_a" and ended.ended_at is not None and new.active
    event = apps.get_model("followup", "CaseAssignmentEvent").objects.filter(pgh_obj=ended).last()
    assert (event.active, event.pgh_context.metadata["reason"]) == (False, "on leave")


@pytest.mark.parametrize(
    ("who", "slot", "reader", "reason", "error"),
    [
        ("adj_a", "first", "adj_c", "on leave", Forbidden),  # only a data manager
        ("dm", "first", "adj_07", "on leave", InvalidInput),  # of the participant's site
        ("dm", "first", "adj_b", "on leave", InvalidInput),  # already the second reader
        ("dm", "fourth", "adj_c", "on leave", InvalidInput),
        ("dm", "first", "adj_c", " ", ReasonRequired),
    ],
)
def test_reassignment_refusals_change_nothing(cases, readers, who, slot, reader, reason, error):
    case = cases[0]
    case_readers_assign(case=case)
    with pytest.raises(error):
        case_reader_reassign(actor=readers[who], case=case, slot=slot, reader=readers[reader], reason=reason)
    assert readers_of(case) == {"first": "adj_a", "second": "adj_b"}


def test_a_cancelled_case_is_not_read(cases, readers):
    AdjudicationCase.objects.filter(pk=cases[0].pk).update(status=CaseStatus.CANCELLED)
    with pytest.raises(Conflict):
        case_readers_assign(case=cases[0])
    assert not CaseAssignment.objects.exists()


def test_completing_the_mri_form_sends_its_open_cases_to_two_readers(draft_cases, readers, coordinator):
    cases = draft_cases
    assert not CaseAssignment.objects.exists()  # a draft MRI's cases wait, unread
    participant = cases[0].participant
    visit = cases[0].visit
    crf_complete(actor=coordinator, participant=participant, form_code="followup_mri", visit=visit)
    assert all(set(readers_of(case)) == {"first", "second"} for case in cases)
    assert "adj_07" not in {name for case in cases for name in readers_of(case).values()}


def test_no_eligible_reader_does_not_stop_the_mri_form_being_completed(draft_cases, coordinator):
    """No adjudicator in the study yet: the form is completed, the cases wait for the data manager."""
    cases = draft_cases
    participant = cases[0].participant
    record = crf_complete(
        actor=coordinator, participant=participant, form_code="followup_mri", visit=cases[0].visit
    )
    assert record.status == "complete" and not CaseAssignment.objects.exists()
