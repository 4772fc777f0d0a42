"""Synthetic demo data: a screening log and enrollment that the real rules would have produced.

`demo_plan` is a pure function of its arguments and a seed (plain rows, no database), so a seed gives the
same data every time; `demo_write` bulk-inserts a plan; `demo_seed` ties the two to a loaded study. The
services (screening_create, participant_enroll) are the normal write path but cost several queries per row,
so the writer inserts in batches and stores what they would: the verdict of eligibility.judge, study IDs from
the protocol's study_id_format, SiteSequence.last_number equal to the participants per site, consent <=
enrollment, and no date after yesterday. Nothing here is real: names come from a short list, phones and
record numbers are made up.
"""

import datetime
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Exists, OuterRef

from .audit import audit_context
from .clock import site_today
from .eligibility import CriterionSpec, Facts, evaluate_rule, judge
from .levels import LEVELS, level_index
from .models import (
    NotEnrolledReason,
    Participant,
    ParticipantIdentity,
    ParticipantStatus,
    ProtocolVersion,
    Role,
    Screening,
    Site,
    SiteSequence,
    StaffRole,
    Study,
)

DEMO_PASSWORD = "spinetrial-demo"  # noqa: S105 -- printed on purpose: synthetic demo logins only
DEMO_REASON = "synthetic demo data"
DEMO_COMMAND = "seed_demo"  # the audit context's command of every row the demo writes
# Every demo login's e-mail domain: .invalid is reserved (RFC 2606), so no real account has an address there.
DEMO_EMAIL_DOMAIN = "demo.invalid"
DEMO_SITE_CODES = tuple(str(n) for n in range(91, 100))  # site codes are unique across studies: next free
DEMO_SITE_COUNT = 3
# Share of screenings per site, largest first (the protocol's own site leads); more sites get 1/k weights.
SITE_WEIGHTS = (0.5, 0.3, 0.2)
SITE_OPENING_GAP_DAYS = 90  # each further site starts screening about a quarter later
RAMP_UP_DAYS = 120  # a site's screening rate grows over its first months
WEEKEND_ACCEPT = 0.25  # screening happens mostly on weekdays
# 2,000 rows x 16 columns stays well under PostgreSQL's 65,535 bind parameters per statement and keeps a
# statement (and its RETURNING list) under a megabyte, while 56,000 participants with their screenings and
# identities still take only ~100 statements (each row also fires its pghistory trigger).
BATCH_SIZE = 2000

# How often each criterion is the reason for a screen failure. Demo realism, not a protocol fact: criteria of
# other studies fail equally often, and a code not listed gets the average weight of those listed.
FAILURE_WEIGHTS: Mapping[str, Mapping[str, float]] = {
    "NCT06379243": {
        "INC1": 0.03,  # not an osteoporotic fracture (high-energy trauma)
        "INC2": 0.25,  # no marrow oedema on MRI (chronic fracture)
        "INC3": 0.20,  # more than 3 fractured levels (computed)
        "EXC1": 0.20,  # prior vertebroplasty or spinal fixation
        "EXC2": 0.14,  # malignancy or spinal infection
        "EXC3": 0.18,  # cognitive impairment or critical illness
    },
}
SECOND_FAILURE_SHARE = 0.10  # failures that break a second criterion too
STOPPED_ASKING_SHARE = 0.20  # failures whose later questions were left unanswered

# Fracture levels cluster at the thoracolumbar junction (T11-L2); 1 level most often, 3 rarely.
LEVEL_WEIGHTS: Mapping[str, float] = dict(
    zip(LEVELS, (0.1, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 1.6, 1.8, 2.5, 6, 12, 13, 7, 4, 2.5, 1.2), strict=True)
)  # T1 ... T12, L1 ... L5
LEVEL_COUNT_WEIGHTS = {1: 0.70, 2: 0.22, 3: 0.08}
AGE_MEAN, AGE_SD, AGE_RANGE = 72.0, 7.5, (50, 98)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹"
# Two-character given names common in the patients' generation, run together and cut in pairs.
_GIVEN = {
    "female": "秀英桂英秀兰玉兰桂兰秀珍凤英玉珍玉英兰英淑珍淑英玉梅秀芳丽华美华月娥金凤",
    "male": "建国建华国华志明国强德明文华建军永康志强国平德华明华家明振华永明福生金山",
}
GIVEN_NAMES = {sex: tuple(names[i : i + 2] for i in range(0, len(names), 2)) for sex, names in _GIVEN.items()}


@dataclass(frozen=True)
class EnrollmentRow:
    sequence: int
    study_id: str
    consent_date: datetime.date
    enrollment_date: datetime.date
    full_name: str
    phone: str
    hospital_record_number: str
    status: str = ParticipantStatus.ENROLLED
    status_date: datetime.date | None = None
    status_reason: str = ""


@dataclass(frozen=True)
class ScreeningRow:
    site: str
    screening_date: datetime.date
    age: int
    sex: str
    fracture_levels: tuple[str, ...]
    answers: dict[str, bool | None]
    outcome: str
    failed: tuple[str, ...]
    missing: tuple[str, ...]
    screener: str  # Role.COORDINATOR or Role.INVESTIGATOR of the site
    notes: str = ""
    not_enrolled_reason: str = ""
    enrollment: EnrollmentRow | None = None


@dataclass(frozen=True)
class DemoPlan:
    """What the seeder will insert, in screening (date) order; the rates are the ones drawn from the seed."""

    screenings: tuple[ScreeningRow, ...]
    failure_rate: float
    incomplete_rate: float
    decline_rate: float
    female_share: float

    @property
    def participants(self) -> list[EnrollmentRow]:
        return [row.enrollment for row in self.screenings if row.enrollment]


@dataclass
class _Draft:
    """A screening being drawn; frozen into a ScreeningRow once its study ID is known."""

    site: str
    day: datetime.date
    intent: str
    declined: bool = False
    facts: Facts = field(default_factory=Facts)
    answers: dict[str, bool | None] = field(default_factory=dict)
    screener: str = Role.COORDINATOR.value
    consent: datetime.date | None = None
    enrolled: datetime.date | None = None
    identity: tuple[str, str] = ("", "")


# Over a year of follow-up, about 3% of participants withdraw and 5% are lost (elderly patients moving in with
# family, long travel to the hospital); both grow with the time followed. Demo realism, not protocol facts.
WITHDRAWAL_PER_YEAR = 0.03
LOSS_PER_YEAR = 0.05
WITHDRAWAL_REASONS = ("Withdrew consent", "Too ill to continue", "Moved to another city")
LOSS_REASONS = ("Three calls and a letter unanswered", "Phone number no longer in service")


def _draw_status(
    rng: random.Random, enrolled: datetime.date, end: datetime.date
) -> tuple[str, datetime.date | None, str]:
    """Whether a participant has withdrawn or been lost by `end`, with the date and reason."""
    followed = min((end - enrolled).days, 365)
    draw = rng.random() * 365
    if followed < 14 or draw >= followed * (WITHDRAWAL_PER_YEAR + LOSS_PER_YEAR):
        return ParticipantStatus.ENROLLED, None, ""
    day = enrolled + datetime.timedelta(days=rng.randint(14, followed))
    if draw < followed * WITHDRAWAL_PER_YEAR:
        return ParticipantStatus.WITHDRAWN, day, rng.choice(WITHDRAWAL_REASONS)
    return ParticipantStatus.LOST_TO_FOLLOW_UP, day, rng.choice(LOSS_REASONS)


def demo_plan(
    *,
    criteria: Sequence[CriterionSpec],
    site_codes: Sequence[str],
    participants: int,
    seed: int,
    start: datetime.date,
    end: datetime.date,
    study_id_format: str,
    first_numbers: Mapping[str, int] | None = None,
    failure_weights: Mapping[str, float] | None = None,
) -> DemoPlan:
    """Draw a screening log in which exactly `participants` screenings are enrolled.

    Screen failures are 16-24% of screenings, incomplete screenings 1-2%, and 3-5% of eligible patients
    decline consent (rates drawn from the seed). Every outcome is eligibility.judge's verdict on the drawn
    data. Study IDs continue per site after first_numbers (default 0) in enrollment order. Dates lie in
    [start, end].
    """
    if participants < 1:
        raise ValueError("participants must be at least 1")
    if not site_codes:
        raise ValueError("give at least one site")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    rng = random.Random(seed)
    failure_rate = rng.uniform(0.16, 0.24)
    incomplete_rate = rng.uniform(0.01, 0.02)
    decline_rate = rng.uniform(0.03, 0.05)
    female_share = rng.uniform(0.75, 0.80)

    eligible = math.ceil(participants / (1 - decline_rate))
    passing = 1 - failure_rate - incomplete_rate
    intents = (
        ["eligible"] * eligible
        + ["ineligible"] * round(eligible * failure_rate / passing)
        + ["incomplete"] * round(eligible * incomplete_rate / passing)
    )
    declined = set(
        rng.sample([i for i, intent in enumerate(intents) if intent == "eligible"], eligible - participants)
    )
    drafts = [
        _Draft(site="", day=start, intent=intent, declined=i in declined) for i, intent in enumerate(intents)
    ]
    rng.shuffle(drafts)
    for draft, (day, site) in zip(
        drafts, sorted(_draw_visits(rng, site_codes, len(drafts), start, end)), strict=True
    ):
        draft.site, draft.day = site, day

    people = _People(
        rng=rng, criteria=criteria, female_share=female_share, failure_weights=failure_weights or {}
    )
    for draft in drafts:
        people.fill(draft)
        if draft.intent == "eligible" and not draft.declined:
            lag = rng.choices((0, 1, 2, 3, 5), weights=(35, 35, 15, 10, 5))[0]
            draft.enrolled = min(draft.day + datetime.timedelta(days=lag), end)
            waited = (draft.enrolled - draft.day).days
            draft.consent = draft.day + datetime.timedelta(days=rng.randint(0, waited))
            draft.identity = (people.name(draft.facts.sex), "138" + "".join(rng.choices("0123456789", k=8)))

    numbers = dict(first_numbers or {})
    study_ids: dict[int, tuple[int, str]] = {}
    enrolled = sorted((i for i, d in enumerate(drafts) if d.enrolled), key=lambda i: (drafts[i].enrolled, i))
    for i in enrolled:
        site = drafts[i].site
        numbers[site] = numbers.get(site, 0) + 1
        study_ids[i] = (numbers[site], study_id_format.format(site=site, number=numbers[site]))

    # A stream of its own, so that adding status changes left every earlier draw of a seed as it was.
    status_rng = random.Random(seed * 1_000_003 + 17)
    rows = []
    for i, draft in enumerate(drafts):
        verdict = judge(criteria, facts=draft.facts, answers=draft.answers)
        if verdict.outcome != draft.intent:  # a bug in the generator, never a property of the data
            raise AssertionError(f"drew a {verdict.outcome} screening for a planned {draft.intent} one")
        enrollment = None
        if i in study_ids:
            sequence, study_id = study_ids[i]
            status, status_date, status_reason = _draw_status(status_rng, draft.enrolled, end)
            enrollment = EnrollmentRow(
                sequence=sequence,
                study_id=study_id,
                consent_date=draft.consent,
                enrollment_date=draft.enrolled,
                full_name=draft.identity[0],
                phone=draft.identity[1],
                hospital_record_number=f"DEMO-{draft.site}{sequence:06d}",
                status=status,
                status_date=status_date,
                status_reason=status_reason,
            )
        rows.append(
            ScreeningRow(
                site=draft.site,
                screening_date=draft.day,
                age=draft.facts.age,
                sex=draft.facts.sex,
                fracture_levels=draft.facts.fracture_levels or (),
                answers=draft.answers,
                outcome=verdict.outcome,
                failed=tuple(verdict.failed),
                missing=tuple(verdict.missing),
                screener=draft.screener,
                notes="Eligible; declined consent (synthetic demo)." if draft.declined else "",
                not_enrolled_reason=NotEnrolledReason.DECLINED_CONSENT if draft.declined else "",
                enrollment=enrollment,
            )
        )
    return DemoPlan(
        screenings=tuple(rows),
        failure_rate=failure_rate,
        incomplete_rate=incomplete_rate,
        decline_rate=decline_rate,
        female_share=female_share,
    )


def _draw_visits(
    rng: random.Random, site_codes: Sequence[str], count: int, start: datetime.date, end: datetime.date
) -> list[tuple[datetime.date, str]]:
    """(date, site) of each screening: unequal site shares, staggered openings, ramp-up, mostly weekdays."""
    weights = (
        SITE_WEIGHTS
        if len(site_codes) == len(SITE_WEIGHTS)
        else [1 / (k + 1) for k in range(len(site_codes))]
    )
    span = (end - start).days
    opens = {
        code: start + datetime.timedelta(days=min(k * SITE_OPENING_GAP_DAYS, span // 3))
        for k, code in enumerate(site_codes)
    }
    visits = []
    for site in rng.choices(site_codes, weights=weights, k=count):
        first = opens[site]
        days = (end - first).days
        ramp = min(RAMP_UP_DAYS, days + 1)
        while True:  # rejection sampling: accepts about half of the draws at worst
            offset = rng.randint(0, days)
            day = first + datetime.timedelta(days=offset)
            accept = min(1.0, (offset + 1) / ramp) * (1.0 if day.weekday() < 5 else WEEKEND_ACCEPT)
            if rng.random() < accept:
                break
        visits.append((day, site))
    return visits


class _People:
    """Draws realistic patients whose data gives the planned outcome under the protocol's criteria."""

    def __init__(
        self,
        *,
        rng: random.Random,
        criteria: Sequence[CriterionSpec],
        female_share: float,
        failure_weights: Mapping[str, float],
    ):
        self.rng, self.criteria, self.female_share = rng, list(criteria), female_share
        self.asked = [c for c in self.criteria if not c.computed]
        self.computed = [c for c in self.criteria if c.computed]
        # A criterion can be a failure reason if an answer can break it, or drawn data can break its rule.
        failable = [c for c in self.criteria if not c.computed or self._can_fail(c)]
        default = sum(failure_weights.values()) / len(failure_weights) if failure_weights else 1.0
        self.failable = [c for c in failable if failure_weights.get(c.code, default) > 0]
        self.failure_weights = [failure_weights.get(c.code, default) for c in self.failable]

    def fill(self, draft: _Draft) -> None:
        rng = self.rng
        draft.facts = self._passing_facts()
        draft.answers = {c.code: c.kind == "inclusion" for c in self.asked}
        draft.screener = (Role.COORDINATOR if rng.random() < 0.8 else Role.INVESTIGATOR).value
        if draft.intent == "ineligible":
            reasons = [rng.choices(self.failable, weights=self.failure_weights)[0]]
            if len(self.failable) > 1 and rng.random() < SECOND_FAILURE_SHARE:
                others = [
                    (c, w)
                    for c, w in zip(self.failable, self.failure_weights, strict=True)
                    if c is not reasons[0]
                ]
                reasons.append(rng.choices([c for c, _w in others], weights=[w for _c, w in others])[0])
            for criterion in reasons:
                if criterion.computed:
                    draft.facts = self._failing_facts(criterion, draft.facts)
                else:
                    draft.answers[criterion.code] = criterion.kind != "inclusion"
            if rng.random() < STOPPED_ASKING_SHARE:  # excluded early: the later questions were never asked
                first = min(self.criteria.index(c) for c in reasons)
                for criterion in self.asked:
                    if self.criteria.index(criterion) > first and criterion not in reasons:
                        draft.answers[criterion.code] = None
        elif draft.intent == "incomplete":
            if self.asked:
                draft.answers[rng.choice(self.asked).code] = None
            else:  # only computed criteria: an unrecorded fracture level leaves them unknown
                draft.facts = replace(draft.facts, fracture_levels=None)

    def name(self, sex: str) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES[sex])

    def _levels(self, count: int, pool: Sequence[str] = LEVELS) -> tuple[str, ...]:
        chosen: list[str] = []
        pool = list(pool)
        for _ in range(min(count, len(pool))):
            level = self.rng.choices(pool, weights=[LEVEL_WEIGHTS[x] for x in pool])[0]
            chosen.append(level)
            pool.remove(level)
        return tuple(sorted(chosen, key=level_index))

    def _random_facts(self) -> Facts:
        rng = self.rng
        age = round(min(max(rng.gauss(AGE_MEAN, AGE_SD), AGE_RANGE[0]), AGE_RANGE[1]))
        sex = "female" if rng.random() < self.female_share else "male"
        count = rng.choices(list(LEVEL_COUNT_WEIGHTS), weights=list(LEVEL_COUNT_WEIGHTS.values()))[0]
        return Facts(age=age, sex=sex, fracture_levels=self._levels(count))

    def _passing_facts(self) -> Facts:
        for _ in range(1000):
            facts = self._random_facts()
            verdict = judge(self.computed, facts=facts, answers={})
            if not verdict.failed and not verdict.missing:
                return facts
        raise ValueError("the computed criteria reject nearly every realistic patient; check the rules")

    def _breaks(self, criterion: CriterionSpec, facts: Facts) -> bool:
        return evaluate_rule(criterion.rule, facts) == (criterion.kind != "inclusion")

    def _can_fail(self, criterion: CriterionSpec) -> bool:
        probe = Facts(age=72, sex="female", fracture_levels=("L1",))
        return any(self._breaks(criterion, facts) for facts in self._variants(criterion.rule, probe))

    def _failing_facts(self, criterion: CriterionSpec, facts: Facts) -> Facts:
        variants = [v for v in self._variants(criterion.rule, facts) if self._breaks(criterion, v)]
        return self.rng.choice(variants) if variants else facts

    def _variants(self, rule: Mapping, facts: Facts) -> list[Facts]:
        """Realistic changes of the data that may break a rule: more levels, a level outside, age, sex."""
        rng, variants = self.rng, []
        count = rule.get("fracture_count", {})
        if "max" in count:
            too_many = count["max"] + rng.choice((1, 1, 2))
            variants.append(replace(facts, fracture_levels=self._levels(too_many)))
        if count.get("min", 1) > 1:
            variants.append(replace(facts, fracture_levels=self._levels(count["min"] - 1)))
        if "fracture_levels" in rule:
            low, high = (level_index(b) for b in rule["fracture_levels"]["within"])
            outside = [x for x in LEVELS if not low <= level_index(x) <= high]
            if outside:
                variants.append(replace(facts, fracture_levels=self._levels(1, outside)))
        age = rule.get("age", {})
        if "min" in age and age["min"] > AGE_RANGE[0]:
            variants.append(replace(facts, age=age["min"] - rng.randint(1, 5)))
        if "max" in age and age["max"] < AGE_RANGE[1]:
            variants.append(replace(facts, age=age["max"] + rng.randint(1, 5)))
        if "sex" in rule:
            variants += [replace(facts, sex=s) for s in ("female", "male") if s not in rule["sex"]["in"]]
        return variants


# --- the database side -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    where: str


@dataclass(frozen=True)
class SeedResult:
    screenings: int
    participants: int
    plan: DemoPlan


def criteria_specs(version: ProtocolVersion) -> list[CriterionSpec]:
    return [CriterionSpec(code=c.code, kind=c.kind, rule=c.rule) for c in version.criteria.order_by("order")]


def demo_sites(study: Study) -> list[Site]:
    """The study's active sites, with synthetic ones added up to three; the protocol's sites come first."""
    sites = list(study.sites.filter(active=True).order_by("code"))
    taken = set(Site.objects.exclude(study=study).values_list("code", flat=True))
    for code in DEMO_SITE_CODES:
        if len(sites) >= DEMO_SITE_COUNT:
            break
        if code in taken:
            continue
        name = {"en": f"Demo site {code} (synthetic)", "zh-hans": f"演示中心 {code}（模拟）"}  # noqa: RUF001
        site, _created = Site.objects.get_or_create(
            study=study, code=code, defaults={"name": name, "time_zone": "Asia/Shanghai"}
        )
        if site.active and site not in sites:
            sites.append(site)
    return sites


DEMO_GIVEN = ("Wei", "Fang", "Jun", "Min", "Hua", "Lei", "Yan", "Qiang", "Ling", "Tao")
DEMO_FAMILY = ("Li", "Wang", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou")


def demo_person_name(username: str) -> tuple[str, str]:
    """A synthetic full name for a demo account, printed on its e-signatures; the same for a username."""
    digest = sum(ord(c) * (i + 1) for i, c in enumerate(username))
    return DEMO_GIVEN[digest % len(DEMO_GIVEN)], f"{DEMO_FAMILY[digest // 7 % len(DEMO_FAMILY)]} (demo)"


def demo_logins(sites: Sequence[Site]) -> list[DemoLogin]:
    """Who the demo users are: per site a coordinator and an investigator, study-wide roles, and an admin."""
    logins = []
    for site in sites:
        code = site.code.lower()
        logins += [
            DemoLogin(f"coord{code}", Role.COORDINATOR, site.code),
            DemoLogin(f"inv{code}", Role.INVESTIGATOR, site.code),
        ]
    logins += [
        DemoLogin("pi", Role.PRINCIPAL_INVESTIGATOR, "*"),
        DemoLogin("monitor", Role.MONITOR, "*"),
        DemoLogin("datamanager", Role.DATA_MANAGER, "*"),
        DemoLogin("adjudicator", Role.ADJUDICATOR, "*"),
        DemoLogin("admin", "superuser", "*"),
    ]
    return logins


def demo_staff(study: Study, sites: Sequence[Site]) -> dict[tuple[str, str], object]:
    """Create the demo users and their roles where missing; {(role, site code): user}. Existing users keep
    their password."""
    user_model = get_user_model()
    by_code = {site.code: site for site in sites}
    logins = demo_logins(sites)
    existing = {
        u.get_username(): u
        for u in user_model.objects.filter(
            **{f"{user_model.USERNAME_FIELD}__in": [login.username for login in logins]}
        )
    }
    # One hash for all: PBKDF2 is deliberately slow (~0.5 s), and the password is printed anyway.
    password = make_password(DEMO_PASSWORD) if len(existing) < len(logins) else None
    staff = {}
    for login in logins:
        user = existing.get(login.username)
        if user is None:
            superuser = login.role == "superuser"
            first_name, last_name = demo_person_name(login.username)
            user = user_model.objects.create(
                **{user_model.USERNAME_FIELD: login.username},
                first_name=first_name,
                last_name=last_name,
                password=password,
                email=f"{login.username}@{DEMO_EMAIL_DOMAIN}",
                is_staff=superuser,
                is_superuser=superuser,
            )
        if login.role != "superuser":
            StaffRole.objects.get_or_create(
                user=user, study=study, site=by_code.get(login.where), role=login.role
            )
        staff[(login.role, login.where)] = user
    return staff


def demo_write(*, study: Study, plan: DemoPlan, sites: Sequence[Site], staff: Mapping) -> SeedResult:
    """Insert a plan: screenings, participants, identities and the sites' sequences. Call in a transaction."""
    version = study.current_version
    by_code = {site.code: site for site in sites}
    screenings = Screening.objects.bulk_create(
        (
            Screening(
                study=study,
                protocol_version=version,
                site=by_code[row.site],
                screening_date=row.screening_date,
                age=row.age,
                sex=row.sex,
                fracture_levels=list(row.fracture_levels),
                answers=row.answers,
                outcome=row.outcome,
                failed_criteria=list(row.failed),
                missing_criteria=list(row.missing),
                notes=row.notes,
                not_enrolled_reason=row.not_enrolled_reason,
                screened_by=staff[(row.screener, row.site)],
            )
            for row in plan.screenings
        ),
        batch_size=BATCH_SIZE,
    )
    enrolled = [
        (row, screening) for row, screening in zip(plan.screenings, screenings, strict=True) if row.enrollment
    ]
    participants = Participant.objects.bulk_create(
        (
            Participant(
                site=screening.site,
                screening=screening,
                study_id=row.enrollment.study_id,
                sequence=row.enrollment.sequence,
                consent_date=row.enrollment.consent_date,
                enrollment_date=row.enrollment.enrollment_date,
                status=row.enrollment.status,
                status_date=row.enrollment.status_date,
                status_reason=row.enrollment.status_reason,
                enrolled_by=staff[(Role.COORDINATOR, row.site)],
            )
            for row, screening in enrolled
        ),
        batch_size=BATCH_SIZE,
    )
    ParticipantIdentity.objects.bulk_create(
        (
            ParticipantIdentity(
                participant=participant,
                full_name=row.enrollment.full_name,
                phone=row.enrollment.phone,
                hospital_record_number=row.enrollment.hospital_record_number,
            )
            for (row, _screening), participant in zip(enrolled, participants, strict=True)
        ),
        batch_size=BATCH_SIZE,
    )
    last = {}
    for row, _screening in enrolled:
        last[row.site] = max(last.get(row.site, 0), row.enrollment.sequence)
    for code, number in last.items():
        SiteSequence.objects.update_or_create(site=by_code[code], defaults={"last_number": number})
    return SeedResult(screenings=len(screenings), participants=len(participants), plan=plan)


def demo_seed(
    *, study: Study, participants: int, seed: int, add: bool = False, end: datetime.date | None = None
) -> SeedResult | None:
    """Seed a study with synthetic demo data; None (and nothing written) when it already has screenings.

    add=True tops up a seeded study instead (the benchmark grows one study from 560 to 56,000): study IDs
    continue after each site's sequence, and the dates span the same period. Atomic and durable so that a
    failed seed leaves nothing behind; the study row is locked so that two seeders cannot both start.
    """
    with transaction.atomic(durable=True), audit_context(reason=DEMO_REASON, command=DEMO_COMMAND):
        study = (
            Study.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=study.pk)
        )
        if study.current_version is None:
            raise ValueError(f"{study.code} has no protocol loaded")
        if not add and study.screenings.exists():
            return None
        sites = demo_sites(study)
        staff = demo_staff(study, sites)
        sequences = SiteSequence.objects.select_for_update(of=("self",)).filter(site__in=sites)
        first_numbers = {s.site.code: s.last_number for s in sequences.select_related("site")}
        end = end or min(site_today(site) for site in sites) - datetime.timedelta(days=1)
        version = study.current_version
        start = min(version.effective_date or end - datetime.timedelta(days=3 * 365), end)
        plan = demo_plan(
            criteria=criteria_specs(version),
            site_codes=[site.code for site in sites],
            participants=participants,
            seed=seed,
            start=start,
            end=end,
            study_id_format=version.study_id_format,
            first_numbers=first_numbers,
            failure_weights=FAILURE_WEIGHTS.get(study.code),
        )
        return demo_write(study=study, plan=plan, sites=sites, staff=staff)


def demo_foreign_participants(study: Study):
    """The study's participants the demo did not create: the ones seed_demo refuses to seed beside.

    The demo's own are those the audit trail records as inserted by seed_demo, and those a demo login (an
    account at DEMO_EMAIL_DOMAIN) enrolled while trying the pages; anyone else is a real participant.
    """
    demo_inserted = apps.get_model("trial", "ParticipantEvent").objects.filter(
        pgh_obj=OuterRef("pk"), pgh_label="insert", pgh_context__metadata__command=DEMO_COMMAND
    )
    return (
        Participant.objects.filter(site__study=study)
        .exclude(Exists(demo_inserted))
        .exclude(enrolled_by__email__iendswith=f"@{DEMO_EMAIL_DOMAIN}")
    )
