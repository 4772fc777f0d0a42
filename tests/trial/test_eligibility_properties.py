"""Properties of the eligibility judgement that must hold for any data, not only the worked examples."""

from hypothesis import given
from hypothesis import strategies as st

from trial.eligibility import CriterionSpec, Facts, judge
from trial.levels import LEVELS

ASKED = [CriterionSpec(f"I{n}", "inclusion") for n in range(3)] + [
    CriterionSpec(f"E{n}", "exclusion") for n in range(3)
]
COMPUTED = [
    CriterionSpec("COUNT", "inclusion", {"fracture_count": {"min": 1, "max": 3}}),
    CriterionSpec("RANGE", "inclusion", {"fracture_levels": {"within": ["T5", "L5"]}}),
    CriterionSpec("AGE", "exclusion", {"age": {"min": 95}}),
]
CRITERIA = ASKED + COMPUTED

answers_st = st.fixed_dictionaries({c.code: st.sampled_from([True, False, None]) for c in ASKED})
facts_st = st.builds(
    Facts,
    age=st.one_of(st.none(), st.integers(0, 120)),
    sex=st.sampled_from([None, "female", "male"]),
    fracture_levels=st.one_of(
        st.none(), st.lists(st.sampled_from(LEVELS), max_size=6, unique=True).map(tuple)
    ),
)


@given(facts=facts_st, answers=answers_st)
def test_outcome_agrees_with_its_lists(facts, answers):
    verdict = judge(CRITERIA, facts=facts, answers=answers)
    assert (verdict.outcome == "ineligible") == bool(verdict.failed)
    assert (verdict.outcome == "incomplete") == (not verdict.failed and bool(verdict.missing))
    assert (verdict.outcome == "eligible") == (not verdict.failed and not verdict.missing)
    assert not set(verdict.failed) & set(verdict.missing)
    codes = [c.code for c in CRITERIA]  # protocol order is kept
    assert verdict.failed == [c for c in codes if c in verdict.failed]


@given(facts=facts_st, answers=answers_st, data=st.data())
def test_answering_an_unknown_never_rescues_an_ineligible_patient(facts, answers, data):
    before = judge(CRITERIA, facts=facts, answers=answers)
    unknown = [code for code, value in answers.items() if value is None]
    if not unknown:
        return
    code = data.draw(st.sampled_from(unknown))
    after = judge(CRITERIA, facts=facts, answers={**answers, code: data.draw(st.booleans())})
    assert set(before.failed) <= set(after.failed)
    if before.outcome == "ineligible":
        assert after.outcome == "ineligible"


@given(facts=facts_st, answers=answers_st)
def test_an_exclusion_that_holds_always_excludes(facts, answers):
    verdict = judge(CRITERIA, facts=facts, answers={**answers, "E0": True})
    assert verdict.outcome == "ineligible" and "E0" in verdict.failed
