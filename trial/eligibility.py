"""Eligibility: judge a screening against a protocol version's criteria. Pure functions, no database.

An answer (or a computed rule) says whether the criterion's statement holds for the patient:
- inclusion criterion: holds -> passes; does not hold -> fails;
- exclusion criterion: holds -> fails (the patient is excluded); does not hold -> passes.
The outcome is ineligible when any criterion fails, else incomplete when any is unknown, else eligible.

Computed criteria carry a rule over the screening's data instead of a question. A rule is a mapping whose
keys must all hold:
    age: {min: 50, max: 90}           years, bounds inclusive
    sex: {in: [female]}
    fracture_count: {min: 1, max: 3}  number of distinct fractured levels
    fracture_levels: {within: [T5, L5]}  every fractured level lies in the range, bounds inclusive
    imaging: {modalities: [CT, MR], max_interval_days: 14, body_parts: [SPINE, LSPINE, TSPINE]}
                                      an exam of each modality (of one of the body parts, when given), the
                                      closest pair at most that many days apart (bounds inclusive)
A rule whose data is missing (no age, no levels, no exam of a modality) leaves the criterion unknown.
"""

import datetime
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .levels import is_level, level_index

RANGE_KEYS = frozenset({"min", "max"})
RULE_KEYS = frozenset({"age", "sex", "fracture_count", "fracture_levels", "imaging"})
IMAGING_KEYS = frozenset({"modalities", "max_interval_days", "body_parts"})
SEXES = frozenset({"female", "male"})


@dataclass(frozen=True)
class ExamFact:
    """One registered imaging exam, as the rules see it (trial.ImagingExam)."""

    modality: str
    study_date: datetime.date
    body_parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    """The screening data that computed criteria are judged from."""

    age: int | None = None
    sex: str | None = None
    fracture_levels: tuple[str, ...] | None = None
    exams: tuple[ExamFact, ...] = ()

    @property
    def fracture_count(self) -> int | None:
        return len(set(self.fracture_levels)) if self.fracture_levels else None

    @property
    def exam_dates(self) -> dict[str, tuple[datetime.date, ...]]:
        """The exams' dates per modality, each sorted."""
        dates: dict[str, set[datetime.date]] = {}
        for exam in self.exams:
            dates.setdefault(exam.modality, set()).add(exam.study_date)
        return {modality: tuple(sorted(days)) for modality, days in dates.items()}


@dataclass(frozen=True)
class CriterionSpec:
    code: str
    kind: str  # "inclusion" | "exclusion"
    rule: Mapping | None = None

    @property
    def computed(self) -> bool:
        return self.rule is not None


@dataclass(frozen=True)
class Verdict:
    outcome: str  # "eligible" | "ineligible" | "incomplete"
    failed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    # Every criterion's state: True holds, False does not hold, None unknown.
    states: dict[str, bool | None] = field(default_factory=dict)


def rule_errors(rule: object) -> list[str]:
    """Why a rule from a protocol file is malformed; empty when it is well formed."""
    if not isinstance(rule, Mapping) or not rule:
        return ["a rule is a non-empty mapping"]
    errors = [f"unknown rule key {key!r}" for key in rule if key not in RULE_KEYS]
    for key in ("age", "fracture_count"):
        if key in rule:
            errors += _range_errors(key, rule[key])
    if "sex" in rule:
        allowed = rule["sex"].get("in") if isinstance(rule["sex"], Mapping) else None
        if not isinstance(allowed, list) or not allowed or not set(allowed) <= SEXES:
            errors.append(f"sex: 'in' must list some of {sorted(SEXES)}")
    if "fracture_levels" in rule:
        bounds = (
            rule["fracture_levels"].get("within") if isinstance(rule["fracture_levels"], Mapping) else None
        )
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(is_level(b) for b in bounds)):
            errors.append("fracture_levels: 'within' must be two levels, e.g. [T5, L5]")
        elif level_index(bounds[0]) > level_index(bounds[1]):
            errors.append("fracture_levels: the first level of 'within' must be cranial to the second")
    if "imaging" in rule:
        errors += _imaging_errors(rule["imaging"])
    return errors


def _codes(value: object) -> bool:
    """A non-empty list of distinct DICOM code strings (upper case, no spaces), e.g. [CT, MR]."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, str) and v and v == v.strip().upper() and " " not in v for v in value)
        and len(set(value)) == len(value)
    )


def _imaging_errors(spec: object) -> list[str]:
    if not isinstance(spec, Mapping) or not set(spec) <= IMAGING_KEYS or "modalities" not in spec:
        return ["imaging: give 'modalities' and optionally 'max_interval_days' and 'body_parts'"]
    errors = []
    if not _codes(spec["modalities"]):
        errors.append("imaging: 'modalities' must list distinct DICOM modalities in capitals, e.g. [CT, MR]")
    days = spec.get("max_interval_days", 0)
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        errors.append("imaging: 'max_interval_days' must be a whole number of days, 0 or more")
    if "body_parts" in spec and not _codes(spec["body_parts"]):
        errors.append("imaging: 'body_parts' must list distinct DICOM body parts in capitals, e.g. [LSPINE]")
    return errors


def imaging_dates(spec: Mapping, facts: Facts) -> dict[str, tuple[datetime.date, ...]]:
    """The dates of the exams an imaging rule counts, per modality it asks for (of its body parts only,
    when it names them; an exam that names none is not counted)."""
    parts = set(spec.get("body_parts") or ())
    counted = Facts(exams=tuple(e for e in facts.exams if not parts or parts & set(e.body_parts)))
    dates = counted.exam_dates
    return {modality: dates.get(modality, ()) for modality in spec["modalities"]}


def closest_interval(dates: Iterable[tuple[datetime.date, ...]]) -> int | None:
    """The fewest days that one exam of each modality spans (0 for one modality); None if one has none."""
    dates = list(dates)
    if not dates or not all(dates):
        return None
    return min((max(combo) - min(combo)).days for combo in itertools.product(*dates))


def _imaging_holds(spec: Mapping, facts: Facts) -> bool | None:
    interval = closest_interval(imaging_dates(spec, facts).values())
    if interval is None:
        return None  # unknown until an exam of each modality is registered
    return interval <= spec.get("max_interval_days", interval)


def _range_errors(key: str, spec: object) -> list[str]:
    if not isinstance(spec, Mapping) or not spec or not set(spec) <= RANGE_KEYS:
        return [f"{key}: give 'min' and/or 'max'"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in spec.values()):
        return [f"{key}: bounds must be whole numbers"]
    if "min" in spec and "max" in spec and spec["min"] > spec["max"]:
        return [f"{key}: min is above max"]
    return []


def _within_range(value: int, spec: Mapping) -> bool:
    return spec.get("min", value) <= value <= spec.get("max", value)


def evaluate_rule(rule: Mapping, facts: Facts) -> bool | None:
    """Whether a computed criterion's statement holds: True, False, or None when data is missing."""
    results: list[bool | None] = []
    if "age" in rule:
        results.append(None if facts.age is None else _within_range(facts.age, rule["age"]))
    if "sex" in rule:
        results.append(None if not facts.sex else facts.sex in rule["sex"]["in"])
    if "fracture_count" in rule:
        count = facts.fracture_count
        results.append(None if count is None else _within_range(count, rule["fracture_count"]))
    if "fracture_levels" in rule:
        if not facts.fracture_levels:
            results.append(None)
        else:
            low, high = (level_index(b) for b in rule["fracture_levels"]["within"])
            results.append(all(low <= level_index(level) <= high for level in facts.fracture_levels))
    if "imaging" in rule:
        results.append(_imaging_holds(rule["imaging"], facts))
    if False in results:
        return False
    if None in results:
        return None
    return True


def judge(criteria: Iterable[CriterionSpec], *, facts: Facts, answers: Mapping[str, bool | None]) -> Verdict:
    """The outcome of a screening, with the failing and the unanswered criteria in protocol order."""
    failed: list[str] = []
    missing: list[str] = []
    states: dict[str, bool | None] = {}
    for criterion in criteria:
        holds = evaluate_rule(criterion.rule, facts) if criterion.computed else answers.get(criterion.code)
        states[criterion.code] = holds
        if holds is None:
            missing.append(criterion.code)
        elif holds != (criterion.kind == "inclusion"):
            failed.append(criterion.code)
    if failed:
        outcome = "ineligible"
    elif missing:
        outcome = "incomplete"
    else:
        outcome = "eligible"
    return Verdict(outcome=outcome, failed=failed, missing=missing, states=states)
