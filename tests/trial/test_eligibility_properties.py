"""Properties of the eligibility judgement that must hold for any data, not only the worked examples: judged
with the criteria of each shipped protocol file, and with a made-up set that has an age rule (no shipped
protocol has one)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trial.eligibility import CriterionSpec, Facts, judge
from trial.levels import LEVELS

from ..conftest import shipped_criteria

ASKED = [CriterionSpec(f"I{n}", "inclusion") for n in range(3)] + [
    CriterionSpec(f"E{n}", "exclusion") for n in range(3)
]
COMPUTED = [
    CriterionSpec("COUNT", "inclusion", {"fracture_count": {"min": 1, "max": 3}}),
    CriterionSpec("RANGE", "inclusion", {"fracture_levels": {"within": ["T5", "L5"]}}),
    CriterionSpec("AGE", "exclusion", {"age": {"min": 95}}),
]
CRITERIA = {
    "NCT06379243": shipped_criteria("NCT06379243"),
    "NCT06172179": shipped_criteria("NCT06172179"),
    "made-up": ASKED + COMPUTED,
}

facts_st = st.builds(
    Facts,
    age=st.one_of(st.none(), st.integers(0, 120)),
    sex=st.sampled_from([None, "female", "male"]),
    fracture_levels=st.one_of(
        st.none(), st.lists(st.sampled_from(LEVELS), max_size=6, unique=True).map(tuple)
    ),
)


def answers_st(criteria: list[CriterionSpec]):
    asked = [c.code for c in criteria if not c.computed]
    return st.fixed_dictionaries({code: st.sampled_from([True, False, None]) for code in asked})


@pytest.mark.parametrize("name", CRITERIA)
@given(facts=facts_st, data=st.data())
def test_outcome_agrees_with_its_lists(name, facts, data):
    criteria = CRITERIA[name]
    verdict = judge(criteria, facts=facts, answers=data.draw(answers_st(criteria)))
    assert (verdict.outcome == "ineligible") == bool(verdict.failed)
    assert (verdict.outcome == "incomplete") == (not verdict.failed and bool(verdict.missing))
    assert (verdict.outcome == "eligible") == (not verdict.failed and not verdict.missing)
    assert not set(verdict.failed) & set(verdict.missing)
    codes = [c.code for c in criteria]  # protocol order is kept
    assert verdict.failed == [c for c in codes if c in verdict.failed]


@pytest.mark.parametrize("name", CRITERIA)
@given(facts=facts_st, data=st.data())
def test_answering_an_unknown_never_rescues_an_ineligible_patient(name, facts, data):
    criteria = CRITERIA[name]
    answers = data.draw(answers_st(criteria))
    before = judge(criteria, facts=facts, answers=answers)
    unknown = [code for code, value in answers.items() if value is None]
    if not unknown:
        return
    code = data.draw(st.sampled_from(unknown))
    after = judge(criteria, facts=facts, answers={**answers, code: data.draw(st.booleans())})
    assert set(before.failed) <= set(after.failed)
    if before.outcome == "ineligible":
        assert after.outcome == "ineligible"


@pytest.mark.parametrize("name", CRITERIA)
@given(facts=facts_st, data=st.data())
def test_an_exclusion_that_holds_always_excludes(name, facts, data):
    criteria = CRITERIA[name]
    asked_exclusions = [c.code for c in criteria if c.kind == "exclusion" and not c.computed]
    code = data.draw(st.sampled_from(asked_exclusions))
    verdict = judge(criteria, facts=facts, answers={**data.draw(answers_st(criteria)), code: True})
    assert verdict.outcome == "ineligible" and code in verdict.failed
