"""The imaging exams of the demo's cases, where the protocol has an imaging rule: dates that meet the rule or
break it, and the rest of each exam's header (slice thickness, scanner maker, number of series). Pure."""

import datetime
import random
from collections.abc import Mapping, Sequence

from ..eligibility import ExamFact
from ..levels import level_index
from .rates import (
    CT_FIRST_SHARE,
    EXAM_INTERVAL_BEYOND,
    EXAM_INTERVAL_WEIGHTS,
    SCANNER_MAKERS,
    SERIES_COUNT,
    SLICE_THICKNESS_MM,
)
from .rows import ExamRow

FIRST_LUMBAR = level_index("L1")


def body_parts(spec: Mapping, levels: Sequence[str]) -> tuple[str, ...]:
    """The body part a spine exam's header names: the thoracic or the lumbar spine when every level lies in
    it, else the whole spine; the first of the rule's body parts when it allows none of these."""
    lumbar = {level_index(level) >= FIRST_LUMBAR for level in levels}
    part = {frozenset({True}): "LSPINE", frozenset({False}): "TSPINE"}.get(frozenset(lumbar), "SPINE")
    allowed = list(spec.get("body_parts") or ())
    return (part if not allowed or part in allowed else allowed[0],)


def meeting_interval(rng: random.Random, spec: Mapping) -> int:
    """Days between a case's exams that meet the rule's limit (any, when it sets none)."""
    limit = spec.get("max_interval_days")
    days = [d for d in EXAM_INTERVAL_WEIGHTS if limit is None or d <= limit] or [0]
    return rng.choices(days, weights=[EXAM_INTERVAL_WEIGHTS.get(d, 1) for d in days])[0]


def breaking_interval(rng: random.Random, spec: Mapping) -> int | None:
    """Days between a case's exams beyond the rule's limit; None when it sets no limit (nothing to break)."""
    limit = spec.get("max_interval_days")
    if limit is None:
        return None
    low, high = rng.choices(list(EXAM_INTERVAL_BEYOND), weights=list(EXAM_INTERVAL_BEYOND.values()))[0]
    return limit + rng.randint(low, high)


def exam_facts(
    rng: random.Random, spec: Mapping, *, levels: Sequence[str], latest: datetime.date, interval: int
) -> tuple[ExamFact, ...]:
    """One exam of each of the rule's modalities, the first `interval` days before the last (on `latest`),
    any others between; CT before MR most often (CT at presentation). In date order."""
    modalities = list(spec["modalities"])
    rng.shuffle(modalities)
    if "CT" in modalities and rng.random() < CT_FIRST_SHARE:
        modalities.remove("CT")
        modalities.insert(0, "CT")
    first = latest - datetime.timedelta(days=interval)
    between = sorted(first + datetime.timedelta(days=rng.randint(0, interval)) for _ in modalities[1:-1])
    dates = [first, *between]
    if len(modalities) > 1:
        dates.append(latest)
    parts = body_parts(spec, levels)
    return tuple(
        ExamFact(modality=modality, study_date=day, body_parts=parts)
        for modality, day in zip(modalities, dates, strict=True)
    )


def site_makers(seed: int, site_codes: Sequence[str]) -> dict[str, str]:
    """Each site's scanner maker (one brand per hospital), from the seed and the site alone."""
    return {code: random.Random(f"{seed}:{code}:scanners").choice(SCANNER_MAKERS) for code in site_codes}


def exam_rows(rng: random.Random, exams: Sequence[ExamFact], *, maker: str) -> tuple[ExamRow, ...]:
    """The headers of a case's exams: the site's maker, a usual slice thickness and series count."""
    rows = []
    for exam in exams:
        thickness = SLICE_THICKNESS_MM.get(exam.modality, ("1.00",))
        low, high = SERIES_COUNT.get(exam.modality, (1, 4))
        rows.append(
            ExamRow(
                modality=exam.modality,
                study_date=exam.study_date,
                body_parts=exam.body_parts,
                slice_thickness=rng.choice(thickness),
                manufacturer=maker,
                series_count=rng.randint(low, high),
            )
        )
    return tuple(rows)
