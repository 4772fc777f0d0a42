"""The demo's reference-standard readings (followup/demo/reference.py, reference_seed.py): every registered
vertebra read by two demo adjudicators against the demo's hidden truth (trial.demo.truth), each about 0.92
sensitive and 0.94 specific with independent errors, a third reader (about 0.95 right) on each
disagreement; stored as the services store them, once, and nothing for a study that asks no per-vertebra
readings.

The expected agreement, worked by hand at the plan's prevalence p of acute vertebrae (its truth: every acute
case's first level, then 0.35 of an acute case's other levels and 0.10 of a chronic case's): a reader says
acute with q = 0.92 p + 0.06 (1 - p); the two agree with Po = p (0.92² + 0.08²) + (1 - p) (0.94² + 0.06²) and
by chance with Pe = q² + (1 - q)²; kappa = (Po - Pe) / (1 - Pe). At p = 0.378: q = 0.385, Po = 0.874,
Pe = 0.527, kappa = 0.733; the two disagree on 1 - Po = 12.6 % of the vertebrae.
"""

import datetime
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followup.agreement import kappa_main
from followup.demo import Reader, Vertebra, reference_demo_stage, reference_reading_plan
from followup.models import AdjudicationCase, CaseAssignment, CaseStatus, Verdict
from followup.selectors.agreement import study_agreement
from followup.selectors.reference import reference_standard
from trial import hooks
from trial.demo import demo_staff
from trial.demo.truth import vertebra_is_acute
from trial.models import Role, StaffRole

from .reference_helpers import (  # noqa: F401 -- fixtures
    fixture_ref_people,
    fixture_register_case,
    fixture_retro,
)

pytestmark = pytest.mark.frozen
SEED, TODAY = 7, datetime.date(2026, 10, 1)
READERS = [Reader(11, "Reader A"), Reader(12, "Reader B"), Reader(13, "Reader C")]
LEVELS = ("T10", "T11", "T12", "L1", "L2", "L3", "L4")


def synthetic(count: int, *, seed: int = 3) -> list[Vertebra]:
    """`count` cases (half acute, half chronic), 1-3 registered levels each, registered over 2025, at two
    centres."""
    rng = random.Random(seed)
    vertebrae = []
    for n in range(count):
        levels = tuple(rng.sample(LEVELS, rng.choice((1, 1, 2, 2, 3))))
        for level in levels:
            vertebrae.append(
                Vertebra(
                    case=None,
                    participant=n,
                    study_id=f"CQ1-{n:04d}",
                    group="acute" if n % 2 else "chronic",
                    levels=levels,
                    level=level,
                    site="CQ1" if n % 3 else "EXT1",
                    time_zone="Asia/Shanghai",
                    registered=datetime.date(2025, 1, 1) + datetime.timedelta(days=n % 360),
                )
            )
    return vertebrae


def truth(v: Vertebra) -> bool:
    return vertebra_is_acute(
        seed=SEED, study_id=v.study_id, group=v.group, levels=list(v.levels), level=v.level
    )


@pytest.fixture(scope="module")
def plan():
    vertebrae = synthetic(3000)
    return vertebrae, reference_reading_plan(vertebrae, readers=READERS, loads={}, seed=SEED, today=TODAY)


def test_every_vertebra_is_read_to_a_final_answer_by_readers_of_realistic_accuracy(plan):
    vertebrae, readings = plan
    assert all(r.status == CaseStatus.FINAL for r in readings)
    independent = [
        (truth(r.vertebra), r.verdicts[slot]["fracture"]) for r in readings for slot in ("first", "second")
    ]
    acute = [said for real, said in independent if real]
    chronic = [said for real, said in independent if not real]
    prevalence = sum(map(truth, vertebrae)) / len(vertebrae)
    assert 0.35 < prevalence < 0.41
    assert 0.90 < sum(acute) / len(acute) < 0.94  # sensitivity 0.92
    assert 0.925 < 1 - sum(chronic) / len(chronic) < 0.955  # specificity 0.94
    pairs = [(r.verdicts["first"]["fracture"], r.verdicts["second"]["fracture"]) for r in readings]
    kappa = kappa_main(pairs)
    assert 0.70 < kappa.kappa < 0.77, kappa  # 0.733 worked by hand (module docstring)
    disputed = [r for r in readings if "third" in r.verdicts]
    assert 0.11 < len(disputed) / len(readings) < 0.145  # 12.6 %
    right = sum(r.verdicts["third"]["fracture"] == truth(r.vertebra) for r in disputed) / len(disputed)
    assert 0.92 < right < 0.98  # 0.95
    for r in readings:
        expected = r.verdicts["third" if "third" in r.verdicts else "first"]["fracture"]
        assert r.final_fracture == expected
    wrong = sum(r.final_fracture != truth(r.vertebra) for r in readings) / len(readings)
    assert wrong < 0.03


def test_readers_are_given_by_balanced_round_robin_and_sign_in_order(plan):
    _vertebrae, readings = plan
    load = {reader.user: 0 for reader in READERS}
    midnight_today = datetime.datetime(2026, 9, 30, 16, tzinfo=datetime.UTC)  # 2026-10-01 00:00 in Shanghai
    for r in readings:
        readers = [reader for reader, _at in r.assigned.values()]
        assert len(set(readers)) == len(readers) == len(r.verdicts)
        for reader in readers:
            load[reader] += 1
        first, second = (r.verdicts[slot]["signed_at"] for slot in ("first", "second"))
        assert r.opened_at < min(first, second) and max(first, second) < midnight_today
        if "third" in r.verdicts:
            assert (
                r.assigned["third"][1]
                == max(first, second)
                < r.verdicts["third"]["signed_at"]
                < midnight_today
            )
        assert r.finalized_at == max(v["signed_at"] for v in r.verdicts.values())
    assert max(load.values()) - min(load.values()) <= 2, load


def test_a_reader_never_reads_their_own_centres_cases_and_a_draw_is_its_own():
    vertebrae = synthetic(200)
    readers = [*READERS, Reader(14, "Reader at CQ1", frozenset({"CQ1"}))]
    readings = reference_reading_plan(vertebrae, readers=readers, loads={}, seed=SEED, today=TODAY)
    assert any(14 in [u for u, _at in r.assigned.values()] for r in readings)
    for r in readings:
        if r.vertebra.site == "CQ1":
            assert 14 not in [u for u, _at in r.assigned.values()]
    # A vertebra's answers do not depend on the other vertebrae planned with it.
    alone = reference_reading_plan(vertebrae[:5], readers=readers, loads={}, seed=SEED, today=TODAY)
    answers = [{s: v["fracture"] for s, v in r.verdicts.items()} for r in readings[:5]]
    assert [{s: v["fracture"] for s, v in r.verdicts.items()} for r in alone] == answers


def test_a_case_registered_today_waits_for_its_readers():
    (vertebra,) = [v for v in synthetic(1) if v.participant == 0][:1] or synthetic(1)[:1]
    today = vertebra.registered
    (reading,) = reference_reading_plan([vertebra], readers=READERS, loads={}, seed=SEED, today=today)
    assert (reading.status, reading.verdicts, len(reading.assigned)) == (CaseStatus.OPEN, {}, 2)


def test_the_stage_reads_the_registered_vertebrae_of_the_study_once(register_case, retro, monkeypatch):
    StaffRole.objects.filter(user__username__startswith="ref_adj").update(active=False)
    staff = demo_staff(retro, list(retro.sites.order_by("code")))
    coordinator = staff[(Role.COORDINATOR, "CQ1")]
    # One registered before followup opened cases at registration (its cases are opened by the stage), two
    # after (their cases opened and assigned at registration).
    monkeypatch.setattr(hooks.participant_status_changed, "_callables", [])
    early = register_case(levels=("T12", "L1", "L2"), actor=coordinator)
    monkeypatch.undo()
    later = [
        register_case(levels=("L1",), group="chronic", actor=coordinator),
        register_case(
            levels=("T11", "L3"), group="acute", site_code="EXT1", actor=staff[(Role.COORDINATOR, "EXT1")]
        ),
    ]
    assert not AdjudicationCase.objects.filter(participant=early).exists()
    assert CaseAssignment.objects.count() == 6
    added = reference_demo_stage(study=retro, seed=SEED)
    assert added.name == "reference_standard" and added.counts["reference_cases_read"] == 6
    assert "6 registered vertebrae read" in added.line and "3 cases opened here" in added.line
    cases = AdjudicationCase.objects.filter(participant__in=[early, *later])
    assert sorted((c.participant_id, c.level) for c in cases) == sorted(
        (p.pk, level) for p in [early, *later] for level in p.screening.fracture_levels
    )
    adjudicators = {staff[(Role.ADJUDICATOR, "*")].pk} | set(
        StaffRole.objects.filter(role=Role.ADJUDICATOR, active=True).values_list("user_id", flat=True)
    )
    for case in cases:
        verdicts = list(Verdict.objects.filter(case=case).select_related("assignment"))
        assert {v.reader_id for v in verdicts} <= adjudicators
        assert all(
            v.assignment.case_id == case.pk and v.assignment.reader_id == v.reader_id for v in verdicts
        )
        assert all((v.levels, v.genant_grade, v.event_date, v.round) == ([], None, None, 1) for v in verdicts)
        if case.status == CaseStatus.FINAL:
            decisive = [v for v in verdicts if v.assignment.slot == "third"] or verdicts
            assert case.final_fracture == decisive[0].fracture and case.finalized_at is not None
        else:
            assert case.status == CaseStatus.DISPUTED
    final = {(c.participant_id, c.level): c.final_fracture for c in cases if c.status == CaseStatus.FINAL}
    assert reference_standard(retro) == final
    assert study_agreement(study=retro).main.n == 6
    # A second run reads nothing and writes nothing.
    again = reference_demo_stage(study=retro, seed=SEED)
    assert again.counts["reference_cases_read"] == 0 and Verdict.objects.count() == sum(
        len(Verdict.objects.filter(case=c)) for c in cases
    )


def test_the_stage_does_nothing_for_a_study_that_asks_no_per_vertebra_readings(study, make_participant):
    make_participant()
    with CaptureQueriesContext(connection) as queries:
        added = reference_demo_stage(study=study, seed=SEED)
    assert added.counts == {} and "no per-vertebra readings asked" in added.line
    assert len(queries) <= 4  # the transaction and the study's protocol: nothing read of its participants
    assert not AdjudicationCase.objects.exists()
