"""demo_plan: a screening log drawn from a seed in which exactly the asked number of screenings enroll."""

import datetime
import math
import random
from collections.abc import Mapping, Sequence

from ..eligibility import CriterionSpec, judge
from ..models import NotEnrolledReason, ParticipantStatus
from .exams import exam_rows, site_makers
from .people import People
from .rates import (
    LOSS_PER_YEAR,
    LOSS_REASONS,
    RAMP_UP_DAYS,
    RECORDS_FAILURE_RATE,
    SCREEN_FAILURE_RATE,
    SITE_OPENING_GAP_DAYS,
    SITE_WEIGHTS,
    WEEKEND_ACCEPT,
    WITHDRAWAL_PER_YEAR,
    WITHDRAWAL_REASONS,
)
from .rows import DemoPlan, Draft, EnrollmentRow, ScreeningRow


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
    retrospective: bool = False,
    groups: Mapping[str, int] | None = None,
) -> DemoPlan:
    """Draw a screening log in which exactly `participants` screenings are enrolled.

    Screen failures are 16-24% of screenings, incomplete screenings 1-2%, and 3-5% of eligible patients
    decline consent (rates drawn from the seed). Every outcome is eligibility.judge's verdict on the drawn
    data, imaging exams included where the criteria have an imaging rule. Study IDs continue per site after
    first_numbers (default 0) in enrollment order. Dates lie in [start, end].

    `retrospective` (the protocol waives consent: cases registered from the records): 25-35% of the records
    reviewed are excluded, nobody declines, a registration has no consent date and no later status, and
    the exams come from the records before `start`. `groups` ({code: target}, the protocol's
    design.groups): each enrollment's group, handed out in proportion to the targets.
    """
    if participants < 1:
        raise ValueError("participants must be at least 1")
    if not site_codes:
        raise ValueError("give at least one site")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    rng = random.Random(seed)
    failure_rate = rng.uniform(*(RECORDS_FAILURE_RATE if retrospective else SCREEN_FAILURE_RATE))
    incomplete_rate = rng.uniform(0.01, 0.02)
    decline_rate = 0.0 if retrospective else rng.uniform(0.03, 0.05)
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
        Draft(site="", day=start, intent=intent, declined=i in declined) for i, intent in enumerate(intents)
    ]
    rng.shuffle(drafts)
    for draft, (day, site) in zip(
        drafts, sorted(_draw_visits(rng, site_codes, len(drafts), start, end)), strict=True
    ):
        draft.site, draft.day = site, day

    people = People(
        rng=rng,
        criteria=criteria,
        female_share=female_share,
        failure_weights=failure_weights or {},
        records_before=start if retrospective else None,
    )
    for draft in drafts:
        people.fill(draft)
        if draft.intent == "eligible" and not draft.declined:
            lag = rng.choices((0, 1, 2, 3, 5), weights=(35, 35, 15, 10, 5))[0]
            draft.enrolled = min(draft.day + datetime.timedelta(days=lag), end)
            if retrospective:  # consent waived; no phone either: nobody is contacted (no follow-up)
                draft.identity = (people.name(draft.facts.sex), "")
                continue
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
    # Streams of their own, so that a protocol without groups or exams draws what it drew before them.
    group_of = dict(
        zip(enrolled, _group_codes(random.Random(f"{seed}:groups"), groups, len(enrolled)), strict=True)
    )
    exam_rng, makers = random.Random(f"{seed}:exam headers"), site_makers(seed, site_codes)

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
            status, status_date, status_reason = (
                (ParticipantStatus.ENROLLED, None, "")  # no follow-up, so nobody withdraws or is lost
                if retrospective
                else _draw_status(status_rng, draft.enrolled, end)
            )
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
                group=group_of.get(i, ""),
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
                exams=exam_rows(exam_rng, draft.facts.exams, maker=makers[draft.site]),
            )
        )
    return DemoPlan(
        screenings=tuple(rows),
        failure_rate=failure_rate,
        incomplete_rate=incomplete_rate,
        decline_rate=decline_rate,
        female_share=female_share,
    )


def _group_codes(rng: random.Random, groups: Mapping[str, int] | None, count: int) -> list[str]:
    """`count` group codes in proportion to the groups' targets (largest remainders), shuffled; empty
    strings when there are no groups."""
    if not groups:
        return [""] * count
    weights = dict(groups) if sum(groups.values()) else dict.fromkeys(groups, 1)
    shares = {code: count * weight / sum(weights.values()) for code, weight in weights.items()}
    quotas = {code: math.floor(share) for code, share in shares.items()}
    by_remainder = sorted(groups, key=lambda code: quotas[code] - shares[code])
    for code in by_remainder[: count - sum(quotas.values())]:
        quotas[code] += 1
    codes = [code for code, quota in quotas.items() for _ in range(quota)]
    rng.shuffle(codes)
    return codes


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
