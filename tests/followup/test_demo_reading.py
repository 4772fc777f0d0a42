"""followup.demo.reading: the demo's reading of its cases follows the assignment rules (pure, no database)."""

import dataclasses
import datetime
from collections import Counter

from followup.demo.plan import Exam, Reported
from followup.demo.reading import Reader, reading_plan
from followup.models import CaseStatus, ReaderSlot

TODAY = datetime.date(2026, 11, 21)
UTC = datetime.UTC


def reported(count: int = 60, *, draft_every: int = 0) -> list[Reported]:
    """Cases of sites 07 and 91 that went to review over the 300 days before TODAY, of grades 1, 2, 3."""
    cases = []
    for n in range(count):
        entered = datetime.datetime(2026, 1, 25, 7, tzinfo=UTC) + datetime.timedelta(days=5 * n)
        draft = bool(draft_every) and n % draft_every == 0
        exam = Exam(exam_date=entered.date(), entered_at=entered, completed_at=None if draft else entered)
        cases.append(
            Reported(
                participant=n + 1,
                study_id=f"07-{n:04d}",
                site="07" if n % 2 else "91",
                time_zone="Asia/Shanghai",
                level="L3",
                grade=1 + n % 3,
                acute=True,
                exams=(exam,),
            )
        )
    return cases


READERS = [
    Reader(1, "Wei Zhang"),
    Reader(2, "Wei Wu"),
    Reader(3, "Jun Li", frozenset({"07"})),  # also staff of site 07
    Reader(4, "Fang Liu"),
]


def test_the_same_cases_are_read_the_same_way():
    first = reading_plan(reported(), readers=READERS, loads={}, seed=3, today=TODAY)
    again = reading_plan(reported(), readers=READERS, loads={}, seed=3, today=TODAY)
    assert first == again
    other = reading_plan(reported(), readers=READERS, loads={}, seed=4, today=TODAY)
    assert [r.verdicts for r in other] != [r.verdicts for r in first]


def test_readers_are_never_of_the_participant_site_and_are_balanced():
    readings = reading_plan(reported(), readers=READERS, loads={4: (30, 40)}, seed=3, today=TODAY)

    loads = Counter()
    for reading in readings:
        readers = [reader for reader, _at in reading.assigned.values()]
        assert len(readers) == len(set(readers)) and len(readers) >= 2
        if reading.case.site == "07":
            assert 3 not in readers
        loads.update(readers)
    # Reader 4 came with 30 active assignments: the others are given cases first, until they catch up.
    assert loads[4] < loads[1] and abs(loads[1] - loads[2]) <= 1


def test_a_case_only_drafts_report_is_not_read():
    readings = reading_plan(reported(draft_every=5), readers=READERS, loads={}, seed=3, today=TODAY)

    for reading in readings:
        if reading.case.review_from is None:
            assert (reading.status, reading.assigned, reading.verdicts) == (CaseStatus.OPEN, {}, {})
    assert sum(reading.case.review_from is None for reading in readings) == 12


def test_without_a_third_eligible_reader_no_pair_is_left_disputed():
    two = READERS[:2]
    readings = reading_plan(reported(), readers=two, loads={}, seed=3, today=TODAY)

    assert not any(ReaderSlot.THIRD in reading.assigned for reading in readings)
    assert not any(reading.status == CaseStatus.DISPUTED for reading in readings)
    assert sum(reading.status == CaseStatus.FINAL for reading in readings) > 40


def test_verdicts_are_signed_after_review_began_and_before_today():
    for reading in reading_plan(reported(), readers=READERS, loads={}, seed=3, today=TODAY):
        for slot, verdict in reading.verdicts.items():
            assert reading.assigned[slot][1] < verdict["signed_at"]
            assert verdict["signed_at"] < datetime.datetime(2026, 11, 20, 16, tzinfo=UTC)  # TODAY in Shanghai
            assert verdict["printed_name"] == next(
                r.printed_name for r in READERS if r.user == verdict["reader"]
            )


def test_the_final_verdict_is_the_truth_and_the_readers_disagree_on_the_way():
    """The demo's true model decides the endpoint: every final case finds what the generator drew (a new
    fracture, or none where the site reported one), dated by the horizon; the read pairs still disagree."""
    cases = []
    for n, case in enumerate(reported()):
        later = Exam(
            exam_date=case.exams[0].exam_date + datetime.timedelta(days=20),
            entered_at=case.exams[0].entered_at + datetime.timedelta(days=20),
            completed_at=case.exams[0].entered_at + datetime.timedelta(days=20),
        )
        until = case.exams[0].exam_date + datetime.timedelta(days=10)  # the later MRI is past the horizon
        cases.append(
            dataclasses.replace(
                case,
                study_id=f"07-{n:04d}",
                fracture=n % 4 != 0,
                exams=(*case.exams, later),
                date_until=until,
            )
        )
    answers = Counter()
    for seed in range(5):
        readings = reading_plan(cases, readers=READERS, loads={}, seed=seed, today=TODAY)
        final = [r for r in readings if r.status == CaseStatus.FINAL]
        assert len(final) > 30
        for reading in final:
            assert reading.final_fracture == reading.case.fracture
            if reading.final_fracture:
                assert reading.final_event_date <= reading.case.date_until
        pairs = [r for r in readings if ReaderSlot.FIRST in r.verdicts and ReaderSlot.SECOND in r.verdicts]
        answers.update(
            (r.verdicts["first"]["fracture"], r.verdicts["second"]["fracture"], r.case.fracture)
            for r in pairs
        )
    assert (
        answers[(True, False, True)] + answers[(False, True, True)] > 0
    )  # a true fracture one reader missed
    assert (
        answers[(True, False, False)] + answers[(False, True, False)] > 0
    )  # a false report one reader called
    assert (
        answers[(False, False, True)] == 0 and answers[(True, True, False)] == 0
    )  # agreeing pairs: the truth
