"""One case per participant and level, and its evidence: a draft's case waits unread; a withdrawn fracture
cancels its case with its history kept and a returning one opens it again; a data manager opens cases by
hand with findings, which join the case already open at that level."""

import datetime

import pytest
from django.apps import apps

from crf.engine.definitions import form_definition
from crf.models import FormRecord
from followup.models import AdjudicationCase, CaseAssignment, CaseEvidence, CaseStatus, Verdict
from followup.selectors.packet import case_packet, reader_cases
from followup.services.adjudication import adjudication_sync
from followup.services.assignment import case_readers_assign
from followup.services.cases import case_open_manual, evidence_withdraw
from followup.services.verdicts import verdict_submit
from trial.errors import Conflict, Forbidden, InvalidInput

from ..conftest import client_for
from ..crf.conftest import PROCEDURE, put
from ..factories import PASSWORD
from .mri_helpers import make_visit, put_mri
from .test_adjudication import mri

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

YES = {
    "fracture": True,
    "levels": ["L3"],
    "acute_signal": True,
    "genant_grade": 2,
    "event_date": datetime.date(2026, 6, 1),
    "confidence": "high",
    "comment": "",
}
MANUAL = {
    "level": "L4",
    "exam_date": datetime.date(2026, 4, 10),
    "modality": "ct",
    "findings": "Unscheduled CT for new back pain: L4 wedge deformity.",
    "reason": "Symptomatic event between visits",
}


def resave(record):
    """The MRI record saved again as it now stands (what crf_save does after a correction)."""
    record.refresh_from_db()
    adjudication_sync(record=record, form=form_definition("followup_mri"))


def test_a_case_supported_only_by_a_draft_waits_unread(draft_cases, readers):
    with pytest.raises(Conflict) as refused:
        case_readers_assign(case=draft_cases[0])
    assert refused.value.code == "case_draft"
    assert not CaseAssignment.objects.exists()


def test_a_withdrawn_fracture_cancels_its_case_keeping_its_history_and_a_returning_one_is_read_afresh(
    cases, readers
):
    case = cases[0]  # L3
    case_readers_assign(case=case)
    verdict_submit(actor=readers["adj_a"], case=case, username="adj_a", password=PASSWORD, **YES)
    record = FormRecord.objects.get(pk=case.record_id)
    l3 = next(row for row in record.data["levels"] if row["level"] == "L3")  # with its derived relation
    record.data["levels"] = [row for row in record.data["levels"] if row["level"] != "L3"]
    record.save()
    resave(record)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert not CaseAssignment.objects.filter(case=case, active=True).exists()
    assert Verdict.objects.filter(case=case).count() == 1  # kept
    assert list(case.evidence.values_list("active", flat=True)) == [False]
    statuses = apps.get_model("followup", "AdjudicationCaseEvent").objects.filter(pgh_obj=case)
    assert list(statuses.order_by("pgh_id").values_list("status", flat=True))[-1] == "cancelled"

    record.data["levels"].append(l3)
    record.save()
    resave(record)
    case.refresh_from_db()
    assert (case.status, case.round) == (CaseStatus.OPEN, 2)  # read before: a new round
    assert AdjudicationCase.objects.filter(participant=case.participant, level="L3").count() == 1
    assert CaseAssignment.objects.filter(case=case, active=True).count() == 2  # the form is complete


def test_a_case_cancelled_before_any_reading_opens_again_in_its_first_round(draft_cases):
    case = draft_cases[1]  # T10
    record = FormRecord.objects.get(pk=case.record_id)
    levels = record.data["levels"]
    record.data["levels"] = [row for row in levels if row["level"] != "T10"]
    record.save()
    resave(record)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    record.data["levels"] = levels
    record.save()
    resave(record)
    case.refresh_from_db()
    assert (case.status, case.round) == (CaseStatus.OPEN, 1)


@pytest.fixture
def treated_participant(make_participant, coordinator):
    participant = make_participant()
    assert put(client_for(coordinator), participant, PROCEDURE).status_code == 200  # treated L1 and T12
    return participant


def test_a_data_manager_opens_a_case_by_hand_and_it_goes_to_two_readers(treated_participant, readers):
    case = case_open_manual(actor=readers["dm"], participant=treated_participant, **MANUAL)
    assert (case.origin, case.level, case.location, case.status, case.record_id) == (
        "manual",
        "L4",
        "remote",
        CaseStatus.OPEN,
        None,
    )
    assert case.opened_by == readers["dm"]
    evidence = case.evidence.get()
    assert (evidence.modality, evidence.findings, evidence.entered_by) == (
        "ct",
        MANUAL["findings"],
        readers["dm"],
    )
    assert CaseAssignment.objects.filter(case=case, active=True).count() == 2
    event = apps.get_model("followup", "CaseEvidenceEvent").objects.select_related("pgh_context").get()
    assert event.pgh_context.metadata == {"user": readers["dm"].pk, "reason": MANUAL["reason"]}


def test_an_mri_reporting_a_level_opened_by_hand_joins_that_case(treated_participant, readers, coordinator):
    manual = case_open_manual(actor=readers["dm"], participant=treated_participant, **MANUAL)
    make_visit(treated_participant)
    assert put_mri(client_for(coordinator), treated_participant, mri("L4", "T8")).status_code == 200
    assert sorted(AdjudicationCase.objects.values_list("level", "origin")) == [
        ("L4", "manual"),
        ("T8", "mri_form"),
    ]
    assert sorted(manual.evidence.values_list("modality", "exam_date")) == [
        ("ct", datetime.date(2026, 4, 10)),
        ("mri", datetime.date(2026, 6, 1)),
    ]
    # Findings by hand at a level with a case add to it too.
    again = case_open_manual(
        actor=readers["dm"],
        participant=treated_participant,
        **MANUAL | {"exam_date": datetime.date(2026, 5, 2)},
    )
    assert again.pk == manual.pk and manual.evidence.count() == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": "L1"}, "level"),  # treated
        ({"level": "S1"}, "level"),
        ({"exam_date": datetime.date(2027, 1, 1)}, "exam_date"),
        ({"exam_date": None}, "exam_date"),
        ({"findings": "   "}, "findings"),
        ({"modality": "pet"}, "modality"),
    ],
)
def test_bad_findings_by_hand_are_a_400_naming_the_field_and_save_nothing(
    treated_participant, readers, change, field
):
    with pytest.raises(InvalidInput) as refused:
        case_open_manual(actor=readers["dm"], participant=treated_participant, **MANUAL | change)
    assert field in refused.value.field_errors
    assert not AdjudicationCase.objects.exists() and not CaseEvidence.objects.exists()


def test_only_a_data_manager_opens_a_case_by_hand_and_only_once_the_treated_levels_are_known(
    make_participant, treated_participant, readers, coordinator
):
    with pytest.raises(Forbidden):
        case_open_manual(actor=coordinator, participant=treated_participant, **MANUAL)
    with pytest.raises(Conflict) as refused:
        case_open_manual(actor=readers["dm"], participant=make_participant(), **MANUAL)
    assert refused.value.code == "no_treated_levels"
    assert not AdjudicationCase.objects.exists()


def test_withdrawing_the_only_findings_cancels_the_case_and_form_evidence_is_corrected_on_the_form(
    treated_participant, readers, cases
):
    case = case_open_manual(actor=readers["dm"], participant=treated_participant, **MANUAL)
    evidence = case.evidence.get()
    with pytest.raises(Forbidden):
        evidence_withdraw(actor=readers["adj_a"], evidence=evidence, reason="wrong patient")
    evidence_withdraw(actor=readers["dm"], evidence=evidence, reason="The CT belonged to another patient")
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED and not case.assignments.filter(active=True).exists()
    with pytest.raises(Conflict) as refused:
        evidence_withdraw(actor=readers["dm"], evidence=evidence, reason="again")
    assert refused.value.code == "already_withdrawn"
    with pytest.raises(Conflict) as refused:
        evidence_withdraw(actor=readers["dm"], evidence=cases[0].evidence.get(), reason="not on the form")
    assert refused.value.code == "form_evidence"


def test_the_event_date_the_reader_starts_from_follows_the_protocols_rule(treated_participant, readers):
    """NCT06379243 dates an event by the confirming MRI; a protocol that dates it by symptom onset when
    recorded starts the reader from the onset a data manager entered with the findings."""
    onset = datetime.date(2026, 4, 2)
    case = case_open_manual(
        actor=readers["dm"], participant=treated_participant, symptom_onset=onset, **MANUAL
    )
    reader = case.assignments.get(slot="first").reader
    case = reader_cases(user=reader).get(pk=case.pk)
    packet = case_packet(case=case, user=reader)
    assert (packet["event_date_rule"], packet["event_date_suggested"]) == (
        "confirming_mri",
        MANUAL["exam_date"],
    )
    version = treated_participant.site.study.current_version
    version.definition["endpoint"]["event_date"] = "symptom_onset_when_recorded"
    version.save(update_fields=["definition"])
    packet = case_packet(case=case, user=reader)
    assert (packet["event_date_suggested"], packet["findings"][0]["symptom_onset"]) == (onset, onset)


def test_symptoms_cannot_begin_after_the_exam_that_shows_the_fracture(treated_participant, readers):
    with pytest.raises(InvalidInput) as refused:
        case_open_manual(
            actor=readers["dm"],
            participant=treated_participant,
            symptom_onset=datetime.date(2026, 4, 11),
            **MANUAL,
        )
    assert "symptom_onset" in refused.value.field_errors
    assert not AdjudicationCase.objects.exists()
