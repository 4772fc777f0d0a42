"""Verdicts: independent, e-signed readings; agreement makes a case final, disagreement brings a third reader
whose verdict is final; only assigned readers, once a round; a data manager reopens with a reason."""

import datetime

import pytest
from django.apps import apps

from followup.models import CaseAssignment, CaseStatus, Verdict
from followup.services.assignment import case_reader_reassign, case_readers_assign
from followup.services.verdicts import case_reopen, verdict_submit
from trial.errors import Conflict, Forbidden, InvalidInput

from ..factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

YES = {
    "fracture": True,
    "levels": ["L3"],
    "acute_signal": True,
    "genant_grade": 1,
    "event_date": datetime.date(2026, 6, 1),
    "confidence": "high",
    "comment": "",
}
NO = {"fracture": False, "confidence": "moderate"}


@pytest.fixture
def case(cases, readers):
    """Case L3, read by adj_a (first) and adj_b (second); adj_c is left for the third slot."""
    case = cases[0]
    case_readers_assign(case=case)
    return case


def read(readers, name, case, verdict, password=PASSWORD):
    return verdict_submit(
        actor=readers[name], case=case, username=readers[name].username, password=password, **verdict
    )


def test_agreement_makes_the_case_final_with_the_union_of_levels_and_the_earlier_date(case, readers):
    read(readers, "adj_a", case, YES)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN  # waiting for the second reader
    read(readers, "adj_b", case, YES | {"levels": ["L3", "L4"], "event_date": datetime.date(2026, 5, 20)})
    case.refresh_from_db()
    assert (case.status, case.final_fracture, case.final_levels, case.final_event_date) == (
        CaseStatus.FINAL,
        True,
        ["L3", "L4"],
        datetime.date(2026, 5, 20),
    )
    assert not CaseAssignment.objects.filter(case=case, slot="third").exists()
    verdict = Verdict.objects.get(case=case, reader=readers["adj_a"])
    assert verdict.printed_name == "Test Adj_A" and verdict.signed_at is not None
    event = (
        apps.get_model("followup", "VerdictEvent").objects.select_related("pgh_context").get(pgh_obj=verdict)
    )
    assert event.pgh_context.metadata == {"user": readers["adj_a"].pk, "reason": "signature: adjudication"}


def test_disagreement_brings_a_third_reader_whose_verdict_is_final(case, readers):
    read(readers, "adj_a", case, YES)
    read(readers, "adj_b", case, NO)
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPUTED
    third = CaseAssignment.objects.get(case=case, slot="third", active=True)
    assert third.reader == readers["adj_c"]  # neither of the first two, nor of the participant's site
    with pytest.raises(Forbidden):  # the first two have read: the third's turn only
        read(readers, "adj_a", case, NO)
    read(readers, "adj_c", case, NO)
    case.refresh_from_db()
    assert (case.status, case.final_fracture, case.final_levels, case.final_event_date) == (
        CaseStatus.FINAL,
        False,
        [],
        None,
    )


def test_only_an_assigned_reader_reads_once_and_with_the_right_password(case, readers):
    with pytest.raises(Forbidden) as refused:
        read(readers, "adj_c", case, YES)  # not (yet) assigned
    assert refused.value.code == "not_assigned"
    with pytest.raises(Forbidden) as refused:
        read(readers, "adj_a", case, YES, password="wrong")
    assert refused.value.code == "bad_password" and "password" in refused.value.field_errors
    assert not Verdict.objects.exists()
    read(readers, "adj_a", case, YES)
    with pytest.raises(Conflict):
        read(readers, "adj_a", case, NO)
    assert Verdict.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"levels": []}, "levels"),
        ({"levels": ["S1"]}, "levels"),
        ({"genant_grade": 4}, "genant_grade"),
        ({"event_date": None}, "event_date"),
        ({"event_date": datetime.date(2099, 1, 1)}, "event_date"),
        ({"confidence": "sure"}, "confidence"),
        ({"fracture": "yes"}, "fracture"),
        ({"fracture": False}, "fracture"),  # no fracture, yet levels, a grade and a date
    ],
)
def test_an_incomplete_verdict_is_a_400_naming_the_field_and_saves_nothing(case, readers, change, field):
    with pytest.raises(InvalidInput) as refused:
        read(readers, "adj_a", case, YES | change)
    assert field in refused.value.field_errors
    assert not Verdict.objects.exists()


def test_a_reader_who_has_read_keeps_the_slot(case, readers):
    read(readers, "adj_a", case, YES)
    with pytest.raises(Conflict):
        case_reader_reassign(
            actor=readers["dm"], case=case, slot="first", reader=readers["adj_c"], reason="on leave"
        )


def test_a_data_manager_reopens_a_final_case_for_a_new_round(case, readers):
    read(readers, "adj_a", case, YES)
    read(readers, "adj_b", case, NO)
    read(readers, "adj_c", case, YES)
    with pytest.raises(Forbidden):
        case_reopen(actor=readers["adj_a"], case=case, reason="new images")
    reopened = case_reopen(actor=readers["dm"], case=case, reason="new images")
    assert (reopened.status, reopened.round, reopened.final_fracture) == (CaseStatus.OPEN, 2, None)
    assert not CaseAssignment.objects.filter(case=case, slot="third", active=True).exists()
    with pytest.raises(Conflict):
        case_reopen(actor=readers["dm"], case=case, reason="again")  # not final
    # The same first and second readers read again; the first round's verdicts stay.
    read(readers, "adj_a", case, NO)
    read(readers, "adj_b", case, NO)
    case.refresh_from_db()
    assert (case.status, case.final_fracture) == (CaseStatus.FINAL, False)
    assert Verdict.objects.filter(case=case).count() == 5
