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
A rule whose data is missing (no age, no levels) leaves the criterion unknown.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .levels import is_level, level_index

RANGE_KEYS = frozenset({"min", "max"})
RULE_KEYS = frozenset({"age", "sex", "fracture_count", "fracture_levels"})
SEXES = frozenset({"female", "male"})


@dataclass(frozen=True)
class Facts:
    """The screening data that computed criteria are judged from."""

    age: int | None = None
    sex: str | None = None
    fracture_levels: tuple[str, ...] | None = None

    @property
    def fracture_count(self) -> int | None:
        return len(set(self.fracture_levels)) if self.fracture_levels else None


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
    return errors


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
