"""Eligibility judged against hand-worked examples for both shipped protocols, read from their files: a change
to a shipped protocol's criteria is judged here, not an old copy of them."""

import pytest

from trial.eligibility import CriterionSpec, Facts, judge, rule_errors

from ..conftest import ALL_NO, ELIGIBLE_ANSWERS, shipped_criteria

# NCT06379243: INC1, INC2 asked; INC3 computed (1-3 fractured levels, T1-L5); EXC1-3 asked.
NCT063 = shipped_criteria("NCT06379243")


def facts(*levels, age=72, sex="female"):
    return Facts(age=age, sex=sex, fracture_levels=tuple(levels) or None)


@pytest.mark.parametrize(
    ("levels", "answers", "outcome", "failed", "missing"),
    [
        # One acute L1 fracture, every answer favourable: eligible.
        (("L1",), ELIGIBLE_ANSWERS, "eligible", [], []),
        # Three levels is the upper bound and still eligible.
        (("T11", "T12", "L1"), ELIGIBLE_ANSWERS, "eligible", [], []),
        # Four fractured vertebrae break INC3.
        (("T11", "T12", "L1", "L2"), ELIGIBLE_ANSWERS, "ineligible", ["INC3"], []),
        # No MRI oedema (INC2 false) and prior vertebroplasty (EXC1 true): both listed, in protocol order.
        (("L1",), {**ELIGIBLE_ANSWERS, "INC2": False, "EXC1": True}, "ineligible", ["INC2", "EXC1"], []),
        # Unanswered exclusion: incomplete, with that code missing.
        (
            ("L1",),
            {"INC1": True, "INC2": True, "EXC1": False, "EXC2": None},
            "incomplete",
            [],
            ["EXC2", "EXC3"],
        ),
        # No levels recorded: the computed criterion cannot be decided.
        ((), ELIGIBLE_ANSWERS, "incomplete", [], ["INC3"]),
        # A failure outranks unknowns: ineligible, and the unknowns are still reported.
        (("L1",), {"INC1": False}, "ineligible", ["INC1"], ["INC2", "EXC1", "EXC2", "EXC3"]),
    ],
)
def test_nct06379243_examples(levels, answers, outcome, failed, missing):
    verdict = judge(NCT063, facts=facts(*levels), answers=answers)
    assert (verdict.outcome, verdict.failed, verdict.missing) == (outcome, failed, missing)


# NCT06172179: INC3L computed (new fracture within T5-L5), no count limit; every other criterion asked.
NCT061 = shipped_criteria("NCT06172179")
# Every asked criterion answered in the patient's favour, so that the levels alone decide.
NCT061_FAVOURABLE = {c.code: c.kind == "inclusion" for c in NCT061 if not c.computed}


@pytest.mark.parametrize(
    ("levels", "outcome", "failed"),
    [
        (("T5",), "eligible", []),  # lower bound inclusive
        (("L5",), "eligible", []),  # upper bound inclusive
        (("T4",), "ineligible", ["INC3L"]),  # one level too cranial
        (("T4", "L1"), "ineligible", ["INC3L"]),  # every level must lie in the range
        (("T12", "L1", "L2", "L3"), "eligible", []),  # no count limit in this protocol
    ],
)
def test_nct06172179_level_range(levels, outcome, failed):
    verdict = judge(NCT061, facts=facts(*levels), answers=NCT061_FAVOURABLE)
    assert (verdict.outcome, verdict.failed) == (outcome, failed)


def test_age_and_sex_rules_where_a_protocol_has_them():
    # Neither shipped protocol limits age or sex: the rules are written here, as a protocol file would.
    criteria = [
        CriterionSpec("AGE", "inclusion", {"age": {"min": 50, "max": 90}}),
        CriterionSpec("SEX", "inclusion", {"sex": {"in": ["female"]}}),
    ]
    assert judge(criteria, facts=facts("L1", age=50), answers={}).outcome == "eligible"
    assert judge(criteria, facts=facts("L1", age=90), answers={}).outcome == "eligible"
    assert judge(criteria, facts=facts("L1", age=49), answers={}).failed == ["AGE"]
    assert judge(criteria, facts=facts("L1", age=91, sex="male"), answers={}).failed == ["AGE", "SEX"]
    assert judge(criteria, facts=Facts(age=None, sex="female"), answers={}).missing == ["AGE"]


def test_exclusion_rule_excludes_when_it_holds():
    criteria = [CriterionSpec("EXCAGE", "exclusion", {"age": {"min": 95}})]
    assert judge(criteria, facts=facts("L1", age=96), answers={}).failed == ["EXCAGE"]
    assert judge(criteria, facts=facts("L1", age=80), answers={}).outcome == "eligible"


@pytest.mark.parametrize(
    "rule",
    [
        {},
        {"weight": {"min": 1}},
        {"age": {"min": 90, "max": 50}},
        {"age": {"min": "fifty"}},
        {"sex": {"in": ["other"]}},
        {"fracture_levels": {"within": ["L5", "T5"]}},
        {"fracture_levels": {"within": ["C7", "L5"]}},
    ],
)
def test_malformed_rules_are_reported(rule):
    assert rule_errors(rule)


def test_answers_to_all_no_exclusions_do_not_exclude():
    exclusions = [c for c in NCT063 if c.kind == "exclusion"]
    assert judge(exclusions, facts=facts("L1"), answers=ALL_NO).outcome == "eligible"
