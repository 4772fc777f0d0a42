"""The patients of the demo screening log, drawn so that the protocol's criteria give the planned outcome."""

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace

from ..eligibility import CriterionSpec, Facts, evaluate_rule, judge
from ..levels import LEVELS, level_index
from ..models import Role
from .rates import (
    AGE_MEAN,
    AGE_RANGE,
    AGE_SD,
    GIVEN_NAMES,
    LEVEL_COUNT_WEIGHTS,
    LEVEL_WEIGHTS,
    SECOND_FAILURE_SHARE,
    STOPPED_ASKING_SHARE,
    SURNAMES,
)
from .rows import Draft


class People:
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

    def fill(self, draft: Draft) -> None:
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
