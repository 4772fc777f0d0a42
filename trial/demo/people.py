"""The patients of the demo screening log, drawn so that the protocol's criteria give the planned outcome."""

import datetime
import random
from collections.abc import Mapping, Sequence
from dataclasses import replace

from ..eligibility import CriterionSpec, Facts, evaluate_rule, judge
from ..imaging import imaging_spec
from ..levels import LEVELS, level_index
from ..models import Role
from .exams import breaking_interval, exam_facts, meeting_interval
from .rates import (
    AGE_MEAN,
    AGE_RANGE,
    AGE_SD,
    EXAM_DAYS_BEFORE_SCREENING,
    GIVEN_NAMES,
    LEVEL_COUNT_WEIGHTS,
    LEVEL_WEIGHTS,
    MISSING_EXAM_SHARE,
    RECORDS_WINDOW_DAYS,
    SECOND_FAILURE_SHARE,
    STOPPED_ASKING_SHARE,
    SURNAMES,
    YOUNGEST_SCREENED,
)
from .rows import Draft

PROBE_DAY = datetime.date(2024, 1, 1)  # any day: whether a rule can fail does not depend on it


class People:
    """Draws realistic patients whose data gives the planned outcome under the protocol's criteria.

    Where the protocol has an imaging rule, each patient has an exam of each of its modalities (Facts.exams):
    from the records before `records_before` (a retrospective study), else from the week before screening.
    """

    def __init__(
        self,
        *,
        rng: random.Random,
        criteria: Sequence[CriterionSpec],
        female_share: float,
        failure_weights: Mapping[str, float],
        records_before: datetime.date | None = None,
    ):
        self.rng, self.criteria, self.female_share = rng, list(criteria), female_share
        self.records_before = records_before
        self.asked = [c for c in self.criteria if not c.computed]
        self.computed = [c for c in self.criteria if c.computed]
        self.imaging = imaging_spec(self.computed)
        # A criterion can be a failure reason if an answer can break it, or drawn data can break its rule.
        failable = [c for c in self.criteria if not c.computed or self._can_fail(c)]
        default = sum(failure_weights.values()) / len(failure_weights) if failure_weights else 1.0
        self.failable = [c for c in failable if failure_weights.get(c.code, default) > 0]
        self.failure_weights = [failure_weights.get(c.code, default) for c in self.failable]

    def fill(self, draft: Draft) -> None:
        rng = self.rng
        draft.facts = self._passing_facts(draft.day)
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
                    draft.facts = self._failing_facts(criterion, draft.facts, draft.day)
                else:
                    draft.answers[criterion.code] = criterion.kind != "inclusion"
            if rng.random() < STOPPED_ASKING_SHARE:  # excluded early: the later questions were never asked
                first = min(self.criteria.index(c) for c in reasons)
                for criterion in self.asked:
                    if self.criteria.index(criterion) > first and criterion not in reasons:
                        draft.answers[criterion.code] = None
        elif draft.intent == "incomplete":
            if self.imaging and rng.random() < MISSING_EXAM_SHARE:  # the last exam is not registered yet
                draft.facts = replace(draft.facts, exams=draft.facts.exams[:-1])
            elif self.asked:
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

    def _random_facts(self, day: datetime.date) -> Facts:
        rng = self.rng
        age = round(min(max(rng.gauss(AGE_MEAN, AGE_SD), AGE_RANGE[0]), AGE_RANGE[1]))
        sex = "female" if rng.random() < self.female_share else "male"
        count = rng.choices(list(LEVEL_COUNT_WEIGHTS), weights=list(LEVEL_COUNT_WEIGHTS.values()))[0]
        levels = self._levels(count)
        exams = ()
        if self.imaging:
            exams = self._exams(self.imaging, levels, day, meeting_interval(rng, self.imaging))
        return Facts(age=age, sex=sex, fracture_levels=levels, exams=exams)

    def _exams(self, spec: Mapping, levels: Sequence[str], day: datetime.date, interval: int) -> tuple:
        """A patient's exams, the last from the records before the study (retrospective), else from the
        days before screening."""
        if self.records_before is not None:
            latest = self.records_before - datetime.timedelta(days=self.rng.randint(*RECORDS_WINDOW_DAYS))
        else:
            latest = day - datetime.timedelta(days=self.rng.randint(*EXAM_DAYS_BEFORE_SCREENING))
        return exam_facts(self.rng, spec, levels=levels, latest=latest, interval=interval)

    def _passing_facts(self, day: datetime.date) -> Facts:
        for _ in range(1000):
            facts = self._random_facts(day)
            verdict = judge(self.computed, facts=facts, answers={})
            if not verdict.failed and not verdict.missing:
                return facts
        raise ValueError("the computed criteria reject nearly every realistic patient; check the rules")

    def _breaks(self, criterion: CriterionSpec, facts: Facts) -> bool:
        return evaluate_rule(criterion.rule, facts) == (criterion.kind != "inclusion")

    def _can_fail(self, criterion: CriterionSpec) -> bool:
        probe = Facts(age=72, sex="female", fracture_levels=("L1",))
        variants = self._variants(criterion.rule, probe, PROBE_DAY)
        return any(self._breaks(criterion, facts) for facts in variants)

    def _failing_facts(self, criterion: CriterionSpec, facts: Facts, day: datetime.date) -> Facts:
        variants = [v for v in self._variants(criterion.rule, facts, day) if self._breaks(criterion, v)]
        return self.rng.choice(variants) if variants else facts

    def _variants(self, rule: Mapping, facts: Facts, day: datetime.date) -> list[Facts]:
        """Realistic changes of the data that may break a rule: more levels, a level outside, age, sex,
        exams too far apart."""
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
        if "min" in age and age["min"] > YOUNGEST_SCREENED:
            variants.append(replace(facts, age=age["min"] - rng.randint(1, 5)))
        if "max" in age and age["max"] < AGE_RANGE[1]:
            variants.append(replace(facts, age=age["max"] + rng.randint(1, 5)))
        if "sex" in rule:
            variants += [replace(facts, sex=s) for s in ("female", "male") if s not in rule["sex"]["in"]]
        if "imaging" in rule and (interval := breaking_interval(rng, rule["imaging"])) is not None:
            levels = facts.fracture_levels or ("L1",)
            variants.append(replace(facts, exams=self._exams(rule["imaging"], levels, day, interval)))
        return variants
