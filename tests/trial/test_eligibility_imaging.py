"""The computed imaging rule (trial/eligibility.py, `imaging`): CT and MR of the spine at most N days
apart, unknown until an exam of each modality is registered. Pure: no database."""

import datetime

import pytest

from trial.eligibility import CriterionSpec, ExamFact, Facts, judge, rule_errors

RULE = {"imaging": {"modalities": ["CT", "MR"], "max_interval_days": 14, "body_parts": ["LSPINE", "TSPINE"]}}
IMG = [CriterionSpec(code="IMG1", kind="inclusion", rule=RULE)]
CT_DAY = datetime.date(2026, 3, 1)


def exams(*pairs) -> Facts:
    return Facts(exams=tuple(ExamFact(m, CT_DAY + datetime.timedelta(d), parts) for m, d, parts in pairs))


def outcome(facts: Facts) -> str:
    return judge(IMG, facts=facts, answers={}).outcome


@pytest.mark.parametrize(("days", "expected"), [(13, "eligible"), (14, "eligible"), (15, "ineligible")])
def test_the_interval_bound_is_inclusive(days, expected):
    assert outcome(exams(("CT", 0, ("LSPINE",)), ("MR", days, ("LSPINE",)))) == expected
    # An MR before the CT counts the same way.
    assert outcome(exams(("CT", 0, ("LSPINE",)), ("MR", -days, ("TSPINE",)))) == expected


def test_unknown_until_both_modalities_are_registered():
    assert outcome(Facts()) == "incomplete"
    assert outcome(exams(("CT", 0, ("LSPINE",)))) == "incomplete"
    assert outcome(exams(("MR", 0, ("LSPINE",)))) == "incomplete"


def test_the_closest_pair_decides():
    far_and_near = exams(("CT", 0, ("LSPINE",)), ("MR", 40, ("LSPINE",)), ("MR", 10, ("LSPINE",)))
    assert outcome(far_and_near) == "eligible"
    assert far_and_near.exam_dates == {"CT": (CT_DAY,), "MR": (CT_DAY + datetime.timedelta(10),
                                                               CT_DAY + datetime.timedelta(40))}  # fmt: skip


def test_an_exam_of_another_body_part_does_not_count():
    assert outcome(exams(("CT", 0, ("LSPINE",)), ("MR", 1, ("KNEE",)))) == "incomplete"
    assert outcome(exams(("CT", 0, ("LSPINE",)), ("MR", 1, ()))) == "incomplete"
    no_parts = [CriterionSpec(code="IMG1", kind="inclusion", rule={"imaging": {"modalities": ["CT", "MR"]}})]
    anywhere = exams(("CT", 0, ()), ("MR", 90, ("KNEE",)))
    assert judge(no_parts, facts=anywhere, answers={}).outcome == "eligible"


def test_an_exclusion_can_use_it_too():
    exclusion = [CriterionSpec(code="X", kind="exclusion", rule=RULE)]
    close = exams(("CT", 0, ("LSPINE",)), ("MR", 3, ("LSPINE",)))
    assert judge(exclusion, facts=close, answers={}).failed == ["X"]


def test_a_well_formed_imaging_rule_has_no_errors():
    assert rule_errors(RULE) == []
    assert rule_errors({"imaging": {"modalities": ["MR"]}}) == []


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"max_interval_days": 14},
        {"modalities": []},
        {"modalities": ["CT", "CT"]},
        {"modalities": ["ct"]},
        {"modalities": "CT"},
        {"modalities": ["CT", "MR"], "max_interval_days": -1},
        {"modalities": ["CT", "MR"], "max_interval_days": 14.5},
        {"modalities": ["CT", "MR"], "max_interval_days": True},
        {"modalities": ["CT", "MR"], "body_parts": []},
        {"modalities": ["CT", "MR"], "body_parts": ["l spine"]},
        {"modalities": ["CT", "MR"], "days": 14},
        ["CT", "MR"],
    ],
)
def test_malformed_imaging_rules_are_reported(spec):
    assert rule_errors({"imaging": spec})
