"""followup.demo: realistic follow-up stored as the services would store it, deterministic and idempotent."""

import datetime
from collections import Counter, defaultdict

import pytest
from django.apps import apps

from crf.demo import crf_seed
from crf.models import FormRecord, FormStatus
from followup.agreement import kappa_main
from followup.demo import followup_seed
from followup.demo.course.draws import midnight
from followup.instruments import score_answers
from followup.models import (
    AdjudicationCase,
    CaseAssignment,
    CaseEvidence,
    CaseStatus,
    QuestionnaireResponse,
    ReaderSlot,
    ResponseStatus,
    Verdict,
    Visit,
    VisitState,
)
from followup.schedule import visit_status
from trial.demo import DEMO_COMMAND, DEMO_REASON, demo_seed
from trial.levels import level_index
from trial.models import Role, StaffRole

TODAY = datetime.date(2026, 11, 21)
PARTICIPANTS = 400

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(study):
    demo_seed(study=study, participants=PARTICIPANTS, seed=7, end=TODAY - datetime.timedelta(days=1))
    crf_seed(study=study, seed=7, today=TODAY, workers=0)
    result = followup_seed(study=study, seed=7, today=TODAY)
    return study, result


def test_every_participant_has_a_schedule_and_realistic_statuses(seeded):
    _study, result = seeded
    assert result.participants == PARTICIPANTS
    assert Visit.objects.filter(code="BL").count() == PARTICIPANTS
    procedures = {
        pk: data["procedure_date"]
        for pk, data in FormRecord.objects.filter(form_code="procedure", visit_code="")
        .exclude(status="draft")
        .values_list("participant_id", "data")
    }
    m1 = dict(Visit.objects.filter(code="M1").values_list("participant_id", "target_date"))
    assert set(m1) == set(procedures)  # procedure-anchored visits exactly when the procedure is recorded
    for pk, day in procedures.items():
        assert m1[pk] == datetime.date.fromisoformat(day) + datetime.timedelta(days=30)
    statuses = Counter(
        visit_status(v.state, v.window_open, v.window_close, TODAY) for v in Visit.objects.all()
    )
    for status in ("completed", "missed", "overdue", "open", "upcoming"):
        assert statuses[status] > 0, status
    assert statuses["completed"] > 5 * (statuses["missed"] + statuses["overdue"])
    for visit in Visit.objects.filter(state=VisitState.COMPLETED):
        assert visit.window_open <= visit.visit_date <= min(visit.window_close, TODAY)
    assert not Visit.objects.filter(state=VisitState.MISSED, reason="").exists()


def test_about_fifteen_percent_new_fractures_with_cases(seeded):
    followed = set(
        Visit.objects.filter(code="M12", state=VisitState.COMPLETED).values_list("participant", flat=True)
    )
    with_case = set(AdjudicationCase.objects.values_list("participant", flat=True))
    rate = len(with_case & followed) / len(followed)
    assert 0.07 < rate < 0.25, rate  # domain.md: 12-20% within one year
    locations = Counter(AdjudicationCase.objects.values_list("location", flat=True))
    assert locations["adjacent"] > locations["remote"] > 0
    for case in AdjudicationCase.objects.select_related("record"):
        treated = {
            row["level"]
            for row in FormRecord.objects.get(
                participant_id=case.participant_id, form_code="procedure", visit_code=""
            ).data["levels"]
        }
        distance = min(abs(level_index(case.level) - level_index(level)) for level in treated)
        assert distance >= 1 and case.location == ("adjacent" if distance == 1 else "remote")
        row = next(r for r in case.record.data["levels"] if r["level"] == case.level)
        assert row["new_fracture"] and not row["treated"] and row["relation"] == case.location


def test_scores_are_what_the_instruments_compute(seeded):
    responses = list(QuestionnaireResponse.objects.select_related("visit"))
    assert {r.instrument for r in responses} == {"odi", "vas"}
    for response in responses:
        result = score_answers(response.instrument, response.answers)
        assert (response.score, response.band or None, response.answered) == (
            result.score,
            result.band,
            result.answered,
        )
    finals = [r for r in responses if r.status == ResponseStatus.FINAL]
    assert all(r.completed_on and r.submitted_at for r in finals)
    baseline = [float(r.score) for r in finals if r.instrument == "vas" and r.visit.code == "BL"]
    later = [float(r.score) for r in finals if r.instrument == "vas" and r.visit.code == "M6"]
    assert 70 < sum(baseline) / len(baseline) < 90  # domain.md: about 87 mm before augmentation
    assert 10 < sum(later) / len(later) < 35


def test_a_second_run_adds_nothing(seeded):
    study, _ = seeded
    visits = Visit.objects.count()
    again = followup_seed(study=study, seed=7, today=TODAY)
    assert again.participants == 0 and Visit.objects.count() == visits


def _reported_levels(record: FormRecord) -> dict[str, dict]:
    """The rows of a follow-up MRI that open a case: new fractures at levels that were not treated."""
    return {
        row["level"]: row
        for row in record.data.get("levels") or ()
        if row["new_fracture"] and not row["treated"]
    }


def _final_by_the_rules(verdicts: dict[str, Verdict]) -> tuple:
    """(status, fracture, levels, event date, finalized at) from a case's verdicts by slot, by the rules of
    services/verdicts.py restated: the third's verdict is final as given; two agreeing on the main question
    make it final with the union of their levels and the earliest date; two disagreeing, disputed."""
    if ReaderSlot.THIRD in verdicts:
        deciding = [verdicts[ReaderSlot.THIRD]]
    elif ReaderSlot.FIRST in verdicts and ReaderSlot.SECOND in verdicts:
        deciding = [verdicts[ReaderSlot.FIRST], verdicts[ReaderSlot.SECOND]]
        if deciding[0].fracture != deciding[1].fracture:
            return CaseStatus.DISPUTED, None, [], None, None
    else:
        return CaseStatus.OPEN, None, [], None, None
    fracture = deciding[0].fracture
    return (
        CaseStatus.FINAL,
        fracture,
        sorted({level for v in deciding for level in v.levels}) if fracture else [],
        min(v.event_date for v in deciding) if fracture else None,
        max(v.signed_at for v in deciding),
    )


def test_one_case_per_level_with_every_mri_reporting_it_as_evidence_and_in_the_audit_trail(seeded):
    records = defaultdict(list)  # (participant, level) -> the MRI records reporting it
    for record in FormRecord.objects.filter(form_code="followup_mri"):
        for level in _reported_levels(record):
            records[(record.participant_id, level)].append(record)
    cases = {(c.participant_id, c.level): c for c in AdjudicationCase.objects.all()}
    assert set(cases) == set(records)
    evidence = defaultdict(list)
    for item in CaseEvidence.objects.select_related("record"):
        evidence[item.case_id].append(item)
    for key, case in cases.items():
        reporting = sorted(records[key], key=lambda r: r.created_at)
        assert {e.record_id for e in evidence[case.pk]} == {r.pk for r in reporting}
        for item in evidence[case.pk]:
            row = _reported_levels(item.record)[case.level]
            assert (item.modality, item.active, item.findings, item.entered_by_id) == ("mri", True, "", None)
            assert item.exam_date.isoformat() == item.record.data["exam_date"]
            assert item.location == row["relation"] == case.location
            assert item.created_at == item.record.created_at
        assert case.record_id == reporting[0].pk  # opened by the first MRI entered that reports it
        assert case.exam_date == min(e.exam_date for e in evidence[case.pk])
        assert case.created_at == reporting[0].created_at
    # An unscheduled MRI's fracture seen again at M12 is one case with both MRIs as evidence.
    assert any(len(items) > 1 for items in evidence.values())
    # The rows of the reading too are in the audit trail, inserted by seed_demo (its raw SQL goes through
    # Django's cursor inside seed_demo's audit context, as the other demo rows), as left, never changed after.
    for model in (AdjudicationCase, CaseEvidence, CaseAssignment, Verdict):
        events = apps.get_model("followup", f"{model.__name__}Event").objects
        inserted = events.filter(
            pgh_label="insert",
            pgh_context__metadata__command=DEMO_COMMAND,
            pgh_context__metadata__reason=DEMO_REASON,
        )
        assert sorted(inserted.values_list("pgh_obj_id", flat=True)) == sorted(
            model.objects.values_list("pk", flat=True)
        ), model
        assert not events.exclude(pgh_label="insert").exists(), model


def test_every_demo_case_is_left_as_its_verdicts_decide(seeded):
    study, _ = seeded
    adjudicators = set(
        StaffRole.objects.filter(study=study, role=Role.ADJUDICATOR, active=True).values_list(
            "user", flat=True
        )
    )
    assert len(adjudicators) >= 3
    roles_at = defaultdict(set)
    for user_id, site_id in StaffRole.objects.filter(site__isnull=False).values_list("user", "site"):
        roles_at[site_id].add(user_id)
    assignments = defaultdict(dict)
    for assignment in CaseAssignment.objects.select_related("reader"):
        assert assignment.active and assignment.ended_at is None
        assignments[assignment.case_id][assignment.slot] = assignment
    verdicts = defaultdict(dict)
    for verdict in Verdict.objects.select_related("assignment", "reader"):
        assert (
            verdict.assignment.case_id == verdict.case_id
            and verdict.assignment.reader_id == verdict.reader_id
        )
        assert verdict.round == 1
        verdicts[verdict.case_id][verdict.assignment.slot] = verdict
    cases = list(AdjudicationCase.objects.select_related("participant__site"))
    statuses = Counter()
    for case in cases:
        statuses[case.status] += 1
        evidence = list(CaseEvidence.objects.filter(case=case).select_related("record"))
        complete = [e.record for e in evidence if e.record.status != FormStatus.DRAFT]
        slots, read = assignments[case.pk], verdicts[case.pk]
        if not complete:  # only a draft reports it: not read yet
            assert (case.status, slots, read) == (CaseStatus.OPEN, {}, {})
            continue
        # The first two readers were given when the first complete MRI was; eligible and distinct.
        went_to_review = min(r.completed_at for r in complete)
        assert {a.assigned_at for slot, a in slots.items() if slot != ReaderSlot.THIRD} == {went_to_review}
        readers = [a.reader_id for a in slots.values()]
        assert len(set(readers)) == len(readers) and set(readers) <= adjudicators
        assert not set(readers) & roles_at[case.site_id]
        cut = midnight(case.participant.site.time_zone, TODAY)
        for slot, verdict in read.items():
            assert verdict.printed_name == verdict.reader.get_full_name() != ""
            assert slots[slot].assigned_at < verdict.signed_at < cut
            assert verdict.signed_at > midnight(case.participant.site.time_zone, case.exam_date)
            if verdict.fracture:
                assert verdict.levels == [case.level] and 1 <= verdict.genant_grade <= 3
                assert case.exam_date <= verdict.event_date < TODAY
            else:
                assert (verdict.levels, verdict.genant_grade, verdict.event_date) == ([], 0, None)
        status, fracture, levels, event_date, finalized_at = _final_by_the_rules(read)
        assert (case.status, case.final_fracture, case.final_levels) == (status, fracture, levels)
        assert (case.final_event_date, case.finalized_at) == (event_date, finalized_at)
        # A disagreement brings the third reader when the later of the two verdicts is in.
        disputed = ReaderSlot.FIRST in read and ReaderSlot.SECOND in read
        disputed = disputed and read[ReaderSlot.FIRST].fracture != read[ReaderSlot.SECOND].fracture
        assert (ReaderSlot.THIRD in slots) == disputed
        if disputed:
            second_in = max(read[ReaderSlot.FIRST].signed_at, read[ReaderSlot.SECOND].signed_at)
            assert slots[ReaderSlot.THIRD].assigned_at == second_in
        if ReaderSlot.THIRD in read:
            assert read[ReaderSlot.THIRD].signed_at > slots[ReaderSlot.THIRD].assigned_at
    assert statuses[CaseStatus.FINAL] > statuses[CaseStatus.OPEN] > 0 and statuses[CaseStatus.DISPUTED] > 0


def test_the_readers_agree_as_readers_do(seeded):
    verdicts = defaultdict(dict)
    for verdict in Verdict.objects.select_related("assignment"):
        verdicts[verdict.case_id][verdict.assignment.slot] = verdict
    thirds = set(CaseAssignment.objects.filter(slot=ReaderSlot.THIRD).values_list("case", flat=True))
    assigned = set(CaseAssignment.objects.values_list("case", flat=True))
    pairs, awaiting = [], Counter()
    disputes_by_grade, read_by_grade = Counter(), Counter()
    for case in AdjudicationCase.objects.select_related("record"):
        read = verdicts[case.pk]
        grade = int(_reported_levels(case.record)[case.level]["genant_grade"])  # the site's, on the first MRI
        if ReaderSlot.FIRST in read and ReaderSlot.SECOND in read:
            first, second = read[ReaderSlot.FIRST].fracture, read[ReaderSlot.SECOND].fracture
            pairs.append((first, second))
            read_by_grade[grade] += 1
            disputes_by_grade[grade] += first != second
            if first != second and ReaderSlot.THIRD not in read:
                awaiting["third"] += 1
        elif case.pk in assigned:  # in review, awaiting the first two verdicts
            awaiting[len(read)] += 1
    kappa = kappa_main(pairs)
    assert 0.6 <= kappa.kappa <= 0.8, kappa
    third_share = len(thirds) / len(pairs)
    assert 0.10 <= third_share <= 0.20, third_share
    share = {grade: disputes_by_grade[grade] / read_by_grade[grade] for grade in read_by_grade}
    assert share[1] > share[2] and share[1] > share[3], share  # mild deformities split the readers most
    # Still being read: some awaiting both verdicts, some one, some disputed awaiting the third reader.
    assert awaiting[0] >= 2 and awaiting[1] >= 2 and awaiting["third"] >= 2, awaiting
    # Balanced round-robin: the readers' loads differ by a case or two.
    loads = Counter(CaseAssignment.objects.values_list("reader", flat=True))
    assert max(loads.values()) - min(loads.values()) <= 2, loads
