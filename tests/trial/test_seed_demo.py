"""seed_demo: a pure plan, deterministic and true to the protocol, and a writer that stores it faithfully."""

import datetime
import io
from collections import Counter, defaultdict

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from trial.clock import site_today
from trial.demo import (
    DEMO_PASSWORD,
    DEMO_REASON,
    criteria_specs,
    demo_foreign_participants,
    demo_plan,
    demo_seed,
)
from trial.eligibility import CriterionSpec, Facts, judge
from trial.models import (
    Outcome,
    Participant,
    ParticipantIdentity,
    Role,
    Screening,
    Site,
    SiteSequence,
    StaffRole,
    Study,
)
from trial.services import participant_enroll, screening_create
from trial.services.protocols import protocol_load_file, protocol_parse

# seed_demo's default end is the site's yesterday: the clock is stopped on the day after END (2026-11-21), so
# the command seeds the same data as the plans below, and the dates judged against today, on any day.
pytestmark = pytest.mark.frozen("2026-11-21 09:00")

START, END = datetime.date(2023, 12, 1), datetime.date(2026, 11, 20)


def shipped_criteria(code: str) -> list[CriterionSpec]:
    data = protocol_parse((settings.PROTOCOL_DIR / f"{code}.yaml").read_text(encoding="utf-8"))
    return [CriterionSpec(code=str(c["code"]), kind=c["kind"], rule=c.get("rule")) for c in data["criteria"]]


def plan(*, seed=7, participants=200, code="NCT06379243", **extra):
    return demo_plan(
        criteria=shipped_criteria(code),
        site_codes=["07", "91", "92"],
        participants=participants,
        seed=seed,
        start=START,
        end=END,
        study_id_format="{site}-{number:04d}",
        **extra,
    )


def failure_share(outcomes) -> float:
    outcomes = list(outcomes)
    return sum(o == Outcome.INELIGIBLE for o in outcomes) / len(outcomes)


# --- the plan (no database) --------------------------------------------------------------------------------


def test_same_seed_same_plan_other_seed_other_plan():
    assert plan(seed=7) == plan(seed=7)
    assert plan(seed=7) != plan(seed=8)


@pytest.mark.parametrize("code", ["NCT06379243", "NCT06172179"])
def test_plan_follows_the_protocol_rules(code):
    criteria = shipped_criteria(code)
    rows = plan(code=code).screenings

    assert sum(row.enrollment is not None for row in rows) == 200
    assert 0.15 <= failure_share(row.outcome for row in rows) <= 0.25
    for row in rows:
        facts = Facts(age=row.age, sex=row.sex, fracture_levels=row.fracture_levels or None)
        verdict = judge(criteria, facts=facts, answers=row.answers)
        assert (row.outcome, list(row.failed), list(row.missing)) == (
            verdict.outcome,
            verdict.failed,
            verdict.missing,
        )
        assert set(row.answers) == {c.code for c in criteria if not c.computed}
        assert START <= row.screening_date <= END
        if row.enrollment:
            assert row.outcome == Outcome.ELIGIBLE
            assert row.screening_date <= row.enrollment.consent_date <= row.enrollment.enrollment_date <= END


def test_plan_has_the_rows_a_flow_diagram_needs():
    rows = plan(participants=560, seed=1).screenings
    outcomes = Counter(row.outcome for row in rows)
    declined = [row for row in rows if row.outcome == Outcome.ELIGIBLE and row.enrollment is None]
    failed = Counter(code for row in rows for code in row.failed)

    assert 0.01 <= outcomes[Outcome.INCOMPLETE] / len(rows) <= 0.02 + 0.005
    assert 0.03 <= len(declined) / outcomes[Outcome.ELIGIBLE] <= 0.05 + 0.005
    assert all(row.not_enrolled_reason == "declined_consent" for row in declined)
    assert {"INC2", "INC3", "EXC1", "EXC2", "EXC3"} <= set(failed)
    assert all(len(row.fracture_levels) > 3 for row in rows if "INC3" in row.failed)


def test_plan_has_withdrawals_and_losses_after_enrollment():
    enrollments = [row.enrollment for row in plan(participants=2000).screenings if row.enrollment]
    statuses = Counter(e.status for e in enrollments)
    assert 0.005 < statuses["withdrawn"] / len(enrollments) < 0.04
    assert 0.01 < statuses["lost_to_follow_up"] / len(enrollments) < 0.07
    for e in enrollments:
        if e.status == "enrolled":
            assert (e.status_date, e.status_reason) == (None, "")
        else:
            assert e.enrollment_date + datetime.timedelta(days=14) <= e.status_date <= END
            assert e.status_reason


def test_plan_demographics_are_realistic():
    rows = plan(participants=2000, seed=3).screenings
    ages = [row.age for row in rows]
    levels = Counter(level for row in rows for level in row.fracture_levels)
    counts = Counter(len(row.fracture_levels) for row in rows if row.outcome == Outcome.ELIGIBLE)

    assert 70 <= sum(ages) / len(ages) <= 74
    assert sum(60 <= age <= 90 for age in ages) / len(ages) > 0.85
    assert 0.73 <= sum(row.sex == "female" for row in rows) / len(rows) <= 0.82
    assert {level for level, _n in levels.most_common(4)} == {"T11", "T12", "L1", "L2"}
    assert counts[1] > counts[2] > counts[3] > 0
    sites = Counter(row.site for row in rows)
    assert sites["07"] > sites["91"] > sites["92"]


def test_study_ids_continue_after_the_given_numbers_without_gaps():
    rows = plan(first_numbers={"07": 5, "92": 1}).screenings
    by_site = defaultdict(list)
    for row in rows:
        if row.enrollment:
            by_site[row.site].append(row.enrollment)

    for site, first in (("07", 5), ("91", 0), ("92", 1)):
        numbers = sorted(e.sequence for e in by_site[site])
        assert numbers == list(range(first + 1, first + 1 + len(numbers)))
        assert all(e.study_id == f"{site}-{e.sequence:04d}" for e in by_site[site])
        dates = [e.enrollment_date for e in sorted(by_site[site], key=lambda e: e.sequence)]
        assert dates == sorted(dates)  # numbers are handed out in enrollment order


# --- the writer (database) ---------------------------------------------------------------------------------


@pytest.fixture
def demo_study(db) -> Study:
    protocol_load_file(settings.PROTOCOL_DIR / "NCT06379243.yaml")
    return Study.objects.select_related("current_version").get(code="NCT06379243")


def seed_command(**options) -> str:
    """seed_demo as the tests run it: DEBUG is off here, so with the explicit not-production flag."""
    out = io.StringIO()
    call_command(
        "seed_demo", "--i-know-this-is-not-production", participants=200, seed=7, stdout=out, **options
    )
    return out.getvalue()


def test_seed_demo_stores_what_the_services_would(demo_study):
    output = seed_command()

    screenings = list(Screening.objects.filter(study=demo_study).select_related("site", "protocol_version"))
    participants = list(
        Participant.objects.filter(site__study=demo_study).select_related("screening", "site")
    )
    assert len(participants) == 200
    assert ParticipantIdentity.objects.filter(participant__in=participants).count() == 200
    assert 0.15 <= failure_share(s.outcome for s in screenings) <= 0.25
    assert "seeded" in output and DEMO_PASSWORD in output and "coord07" in output

    criteria = criteria_specs(demo_study.current_version)
    for screening in screenings:
        facts = Facts(
            age=screening.age, sex=screening.sex, fracture_levels=tuple(screening.fracture_levels) or None
        )
        verdict = judge(criteria, facts=facts, answers=screening.answers)
        assert screening.outcome == verdict.outcome
        assert (screening.failed_criteria, screening.missing_criteria) == (verdict.failed, verdict.missing)
        assert screening.protocol_version_id == demo_study.current_version_id
        assert screening.screening_date < site_today(screening.site)

    assert {s.site.code for s in screenings} == {"07", "91", "92"}
    by_site = defaultdict(list)
    for participant in participants:
        by_site[participant.site].append(participant)
        assert participant.screening.outcome == Outcome.ELIGIBLE
        assert participant.screening.screening_date <= participant.consent_date <= participant.enrollment_date
        assert participant.enrollment_date < site_today(participant.site)
    assert {site.code for site in by_site} == {"07", "91", "92"}
    for site, enrolled in by_site.items():
        assert sorted(p.sequence for p in enrolled) == list(range(1, len(enrolled) + 1))
        assert all(p.study_id == f"{site.code}-{p.sequence:04d}" for p in enrolled)
        assert SiteSequence.objects.get(site=site).last_number == len(enrolled)


def test_seed_demo_creates_logins_with_roles(demo_study):
    seed_command()

    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert users.get(username="coord91").check_password(DEMO_PASSWORD)
    roles = set(
        StaffRole.objects.filter(study=demo_study).values_list("user__username", "role", "site__code")
    )
    assert {
        ("coord07", Role.COORDINATOR, "07"),
        ("inv92", Role.INVESTIGATOR, "92"),
        ("pi", Role.PRINCIPAL_INVESTIGATOR, None),
        ("monitor", Role.MONITOR, None),
        ("datamanager", Role.DATA_MANAGER, None),
        ("adjudicator", Role.ADJUDICATOR, None),
    } <= roles
    # Each screening was recorded by staff of its own site.
    screeners = Screening.objects.values_list("screened_by__trial_roles__site", "site").distinct()
    assert all(role_site == site for role_site, site in screeners)


def test_seeded_rows_are_attributed_in_the_audit_trail(demo_study):
    seed_command()

    events = apps.get_model("trial", "ScreeningEvent").objects.filter(pgh_label="insert")
    assert events.count() == Screening.objects.count()
    assert events.exclude(pgh_context__metadata__reason=DEMO_REASON).count() == 0
    assert events.filter(pgh_context__metadata__command="seed_demo").count() == events.count()


def test_seeding_again_is_a_no_op(demo_study):
    seed_command()
    counts = (Screening.objects.count(), Participant.objects.count(), get_user_model().objects.count())

    output = seed_command()

    assert "already has" in output
    assert (
        Screening.objects.count(),
        Participant.objects.count(),
        get_user_model().objects.count(),
    ) == counts
    assert demo_seed(study=demo_study, participants=200, seed=7) is None


def test_topping_up_continues_the_study_ids(demo_study):
    seed_command()

    result = demo_seed(study=demo_study, participants=50, seed=8, add=True)

    assert result.participants == 50
    for sequence in SiteSequence.objects.select_related("site"):
        numbers = sorted(Participant.objects.filter(site=sequence.site).values_list("sequence", flat=True))
        assert numbers == list(range(1, sequence.last_number + 1))
    assert Participant.objects.count() == 250


def test_a_second_study_gets_its_own_demo_site_codes(study, study2):
    flag = "--i-know-this-is-not-production"
    call_command("seed_demo", "--participants", "20", "--seed", "3", flag, stdout=io.StringIO())
    call_command(
        "seed_demo",
        "--participants",
        "20",
        "--seed",
        "3",
        "--study",
        "NCT06172179",
        flag,
        stdout=io.StringIO(),
    )
    codes = {s.code: s.study.code for s in Site.objects.select_related("study")}
    assert sum(1 for owner in codes.values() if owner == "NCT06172179") == 3
    assert Participant.objects.filter(site__study=study2).count() == 20


# --- the guard: never on a production database ------------------------------------------------------------


def written() -> tuple[int, ...]:
    return (get_user_model().objects.count(), Screening.objects.count(), Participant.objects.count())


def test_without_debug_or_the_flag_it_refuses_and_writes_nothing(demo_study, settings):
    settings.DEBUG = False
    before = written()
    with pytest.raises(CommandError, match="--i-know-this-is-not-production") as refused:
        call_command("seed_demo", participants=20, seed=7, stdout=io.StringIO())
    assert DEMO_PASSWORD in str(refused.value)  # says what it would have published
    assert written() == before
    assert not get_user_model().objects.filter(username="admin").exists()


def test_with_debug_on_it_needs_no_flag(demo_study, settings):
    settings.DEBUG = True
    call_command("seed_demo", participants=20, seed=7, stdout=io.StringIO())
    assert Participant.objects.filter(site__study=demo_study).count() == 20


def test_a_study_with_a_real_participant_is_never_touched_even_with_the_flag(study, make_participant):
    real = make_participant()  # enrolled by coord07 of the test factories, not by a demo login
    before = written()
    with pytest.raises(CommandError, match="1 participants that neither seed_demo nor a demo login"):
        seed_command()
    assert written() == before
    assert not get_user_model().objects.filter(email__endswith="@demo.invalid").exists()
    assert list(demo_foreign_participants(study)) == [real]


def test_participants_a_demo_login_enrolled_are_the_demos_own(demo_study):
    """Trying the pages of `make run` (a demo coordinator enrolls someone) does not stop the next run."""
    seed_command()
    coordinator = get_user_model().objects.get(username="coord07")
    screening = screening_create(
        actor=coordinator,
        study=demo_study,
        site=demo_study.sites.get(code="07"),
        data={
            "screening_date": site_today(demo_study.sites.get(code="07")) - datetime.timedelta(days=1),
            "age": 70,
            "sex": "female",
            "fracture_levels": ["L1"],
            "answers": {"INC1": True, "INC2": True, "EXC1": False, "EXC2": False, "EXC3": False},
        },
    )
    day = screening.screening_date
    participant_enroll(
        actor=coordinator,
        screening=screening,
        consent_date=day,
        enrollment_date=day,
        identity={"full_name": "Tried In The Demo", "phone": "13800000000"},
    )
    assert not demo_foreign_participants(demo_study).exists()

    output = seed_command()

    assert "already has" in output
