"""seed_demo of a retrospective study (NCT07306858): cases registered from the records with consent waived,
in the protocol's groups, at its two centres, with imaging exams that the real imaging rule judges."""

import datetime
import io
from collections import Counter

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from crf.models import FormRecord
from trial.demo import demo_plan
from trial.demo.rates import FAILURE_WEIGHTS
from trial.eligibility import ExamFact, Facts, closest_interval, imaging_dates, judge
from trial.imaging import imaging_checks, imaging_spec
from trial.levels import level_index
from trial.models import ImagingExam, Outcome, Participant, ParticipantIdentity, Screening, Study
from trial.selectors import imaging_exam_facts, imaging_exams
from trial.services.protocols import protocol_load_file
from trial.services.screening import screening_judge

from ..test_seed_demo import shipped_criteria

CODE = "NCT07306858"
START, END = datetime.date(2025, 12, 16), datetime.date(2026, 11, 20)
GROUPS = {"acute": 138, "chronic": 138}
TL_JUNCTION = {"T11", "T12", "L1", "L2"}

pytestmark = pytest.mark.frozen("2026-11-21 09:00")


def plan(*, seed=1, participants=276):
    return demo_plan(
        criteria=shipped_criteria(CODE),
        site_codes=["CQ1", "EXT1"],
        participants=participants,
        seed=seed,
        start=START,
        end=END,
        study_id_format="{site}-{number:04d}",
        failure_weights=FAILURE_WEIGHTS.get(CODE),  # as demo_seed passes them
        retrospective=True,
        groups=GROUPS,
    )


def facts(row) -> Facts:
    exams = tuple(ExamFact(e.modality, e.study_date, e.body_parts) for e in row.exams)
    return Facts(age=row.age, sex=row.sex, fracture_levels=row.fracture_levels or None, exams=exams)


# --- the plan (no database) --------------------------------------------------------------------------------


def test_a_retrospective_plan_registers_the_target_in_its_groups_with_consent_waived():
    rows = plan().screenings
    registered = [row for row in rows if row.enrollment]

    assert len(registered) == 276
    assert Counter(row.enrollment.group for row in registered) == GROUPS
    assert all(row.enrollment.consent_date is None for row in registered)
    assert all(row.enrollment.status == "enrolled" and row.enrollment.phone == "" for row in registered)
    # Consent is waived: an eligible case is registered, none declines.
    assert all(row.enrollment for row in rows if row.outcome == Outcome.ELIGIBLE)
    assert all(START <= row.screening_date <= row.enrollment.enrollment_date <= END for row in registered)
    assert plan(seed=1) == plan(seed=1) != plan(seed=2)


def test_every_verdict_is_the_rules_verdict_on_the_drawn_exams():
    criteria = shipped_criteria(CODE)
    rows = plan().screenings
    for row in rows:
        verdict = judge(criteria, facts=facts(row), answers=row.answers)
        assert (row.outcome, list(row.failed), list(row.missing)) == (
            verdict.outcome,
            verdict.failed,
            verdict.missing,
        )
    # Records reviewed: about a third excluded, a few waiting for an exam or an answer.
    outcomes = Counter(row.outcome for row in rows)
    assert 0.24 <= outcomes[Outcome.INELIGIBLE] / len(rows) <= 0.36
    assert 1 <= outcomes[Outcome.INCOMPLETE] <= 0.03 * len(rows)


def test_exclusions_have_the_protocols_reasons_and_the_data_to_match():
    spec = imaging_spec(shipped_criteria(CODE))
    rows = plan().screenings
    failed = Counter(code for row in rows for code in row.failed)

    # CT-MRI interval, age, infection or malignancy, cement or hardware, image quality: each a reason.
    assert {"INC2", "INC5", "EXC1", "EXC2", "EXC3"} <= set(failed)
    assert failed.most_common(1)[0][0] == "INC2"  # the exams' dates exclude most often
    for row in rows:
        interval = closest_interval(imaging_dates(spec, facts(row)).values())
        if "INC2" in row.failed:
            assert interval > 14
        elif row.outcome == Outcome.ELIGIBLE:
            assert interval <= 14
        assert ("INC5" in row.failed) == (row.age < 50)
        assert 45 <= row.age <= 98
        # From the records, before the study opened: one CT and one MR of the spine.
        assert sorted(e.modality for e in row.exams) in (["CT", "MR"], ["CT"], ["MR"])
        assert all(e.study_date < START and set(e.body_parts) <= set(spec["body_parts"]) for e in row.exams)


def test_cases_have_one_to_three_levels_most_at_the_thoracolumbar_junction_at_two_centres():
    registered = [row for row in plan().screenings if row.enrollment]
    counts = Counter(len(row.fracture_levels) for row in registered)
    levels = Counter(level for row in registered for level in row.fracture_levels)
    centres = Counter(row.site for row in registered)

    assert set(counts) <= {1, 2, 3} and counts[1] > counts[2] > counts[3]
    assert {level for level, _n in levels.most_common(3)} <= TL_JUNCTION
    assert 0.55 <= centres["CQ1"] / len(registered) <= 0.78  # development about two thirds
    for row in registered:  # stored as screening_create stores them: cranial to caudal
        assert list(row.fracture_levels) == sorted(row.fracture_levels, key=level_index)


# --- seed_demo (database) ----------------------------------------------------------------------------------


@pytest.fixture
def retrospective_study(db) -> Study:
    protocol_load_file(settings.PROTOCOL_DIR / f"{CODE}.yaml")
    return Study.objects.select_related("current_version").get(code=CODE)


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--i-know-this-is-not-production", study=CODE, seed=1, stdout=out, **options)
    return out.getvalue()


def test_seed_demo_registers_the_protocols_target_at_its_two_centres(retrospective_study):
    output = seed()  # no --participants: the protocol's target_enrollment

    participants = list(Participant.objects.filter(site__study=retrospective_study).select_related("site"))
    assert len(participants) == 276 and "acute 138, chronic 138" in output
    assert Counter(p.group for p in participants) == GROUPS
    assert {p.site.code for p in participants} == {"CQ1", "EXT1"}  # the protocol's centres, none added
    assert set(retrospective_study.sites.values_list("code", flat=True)) == {"CQ1", "EXT1"}
    assert all(p.consent_date is None and p.consent_waived for p in participants)
    identities = ParticipantIdentity.objects.filter(participant__in=participants)
    assert not identities.exclude(phone="", email="").exists()  # nobody to contact: no follow-up
    assert all(1 <= len(p.screening.fracture_levels) <= 3 for p in participants)


def test_seeded_verdicts_are_what_the_real_rules_compute_from_the_registered_exams(retrospective_study):
    seed(participants=60)

    screenings = list(Screening.objects.filter(study=retrospective_study).select_related("protocol_version"))
    spec = imaging_spec(retrospective_study.current_version.criteria.all())
    reasons = Counter()
    for screening in screenings:
        verdict = screening_judge(screening)  # its answers and its ImagingExam rows, under its version
        assert (screening.outcome, screening.failed_criteria, screening.missing_criteria) == (
            verdict.outcome,
            verdict.failed,
            verdict.missing,
        )
        exams = imaging_exam_facts(imaging_exams(screening=screening))
        checks = {code for code, _message in imaging_checks(spec, exams)}
        assert ("interval_too_long" in checks) == ("INC2" in screening.failed_criteria)
        reasons.update(screening.failed_criteria)
    assert reasons and set(reasons) <= {f"INC{n}" for n in range(1, 6)} | {"EXC1", "EXC2", "EXC3"}
    assert Participant.objects.filter(site__study=retrospective_study).count() == 60


def test_exams_keep_only_hashed_uids(retrospective_study):
    seed(participants=30)

    exams = list(ImagingExam.objects.filter(study=retrospective_study))
    hashes = [exam.study_uid_hash for exam in exams]
    per_case = Counter(exam.screening_id for exam in exams)
    # A CT and an MR per case; a case waiting for its MR (imaging unknown) has one.
    for screening in Screening.objects.filter(study=retrospective_study):
        assert per_case[screening.pk] == (1 if "INC2" in screening.missing_criteria else 2)
    assert len(set(hashes)) == len(hashes)
    assert all(len(h) == 64 and set(h) <= set("0123456789abcdef") for h in hashes)
    assert all(len(exam.series_uid_hashes) == exam.series_count >= 3 for exam in exams)


def test_registered_cases_get_their_dxa_and_a_second_run_adds_nothing(retrospective_study):
    seed(participants=30)
    forms = FormRecord.objects.filter(participant__site__study=retrospective_study)
    assert set(forms.values_list("form_code", flat=True)) == {"dxa"}
    assert 25 <= forms.count() <= 30  # cases registered in the last days are keyed on a later run
    for record in forms.select_related("participant__screening"):
        first_exam = min(e.study_date for e in record.participant.screening.imaging_exams.all())
        if "exam_date" not in record.data:  # a draft still missing it
            continue
        dxa = datetime.date.fromisoformat(record.data["exam_date"])
        assert abs((dxa - first_exam).days) <= 60  # the DXA of the records, near the CT and MRI
    before = (
        Screening.objects.count(),
        Participant.objects.count(),
        ImagingExam.objects.count(),
        forms.count(),
    )

    output = seed(participants=30)

    assert "already has" in output
    assert (
        Screening.objects.count(),
        Participant.objects.count(),
        ImagingExam.objects.count(),
        forms.count(),
    ) == before


def test_one_run_seeds_several_studies_and_checks_them_all_first(retrospective_study):
    protocol_load_file(settings.PROTOCOL_DIR / "NCT06379243.yaml")
    flag = "--i-know-this-is-not-production"
    with pytest.raises(CommandError, match="Unknown study NCT00000000"):
        call_command("seed_demo", "--study", CODE, "--study", "NCT00000000", flag, stdout=io.StringIO())
    assert not Screening.objects.exists()

    call_command(
        "seed_demo",
        "--study",
        "NCT06379243",
        "--study",
        CODE,
        "--participants",
        "12",
        flag,
        stdout=io.StringIO(),
    )

    counts = Counter(Participant.objects.values_list("site__study__code", flat=True))
    assert counts == {"NCT06379243": 12, CODE: 12}
