"""ODI 2.1a and VAS scoring against hand-worked examples (domain.md), every bad input, bands and MCID.

Pure functions: no database.
"""

from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ImproperlyConfigured

from followup.instruments import (
    INSTRUMENTS,
    ODI,
    VAS,
    answers_errors,
    change_from_baseline,
    instrument_def,
    odi_band,
    odi_errors,
    odi_score,
    score_answers,
    vas_errors,
    vas_score,
)
from followup.instruments.texts import placeholder_text
from trial.errors import InvalidInput

from .questionnaire_helpers import odi_answers


def test_registry_names_sections_in_the_questionnaire_order_without_wording():
    assert (ODI.version, VAS.version) == ("2.1a", "1.0")
    assert [s.code for s in ODI.sections] == [
        "pain_intensity",
        "personal_care",
        "lifting",
        "walking",
        "sitting",
        "standing",
        "sleeping",
        "sex_life",
        "social_life",
        "travelling",
    ]
    assert ODI.sections[0].name == {"en": "Pain intensity", "zh-hans": "疼痛程度"}
    assert all(set(s.name) == {"en", "zh-hans"} for s in ODI.sections)
    assert (ODI.mcid, VAS.mcid) == (Decimal(10), Decimal(15))
    assert set(INSTRUMENTS) == {"odi", "vas"}
    with pytest.raises(InvalidInput) as refused:
        instrument_def("modified_odi")  # a different instrument (employment for sex life): never mixed in
    assert "instrument" in refused.value.field_errors


@pytest.mark.parametrize(
    ("answers", "score", "band", "answered"),
    [
        (odi_answers(16), "32.0", "moderate", 10),  # 16 of 50 (domain.md)
        ([2, 2, 2, 2, 2, 2, 2, 2, 0, 0], "32.0", "moderate", 10),
        (odi_answers(16, missing=1), "35.6", "moderate", 9),  # 16 of 45 (domain.md)
        ([2, 2, 2, None, 2, 2, 2, 2, 2, 0], "35.6", "moderate", 9),  # whichever section is missing
        (odi_answers(16, missing=2), None, None, 8),  # two missing: no score
        (odi_answers(0, missing=10), None, None, 0),
        ([[2, 4], 0, 0, 0, 0, 0, 0, 0, 0, 0], "8.0", "minimal", 10),  # two boxes ticked: the highest counts
        ([[4, 2], [0, 1, 5], 0, 0, 0, 0, 0, 0, 0, None], "20.0", "minimal", 9),  # 9 of 45
        ([0] * 10, "0.0", "minimal", 10),
        ([5] * 10, "100.0", "bed_bound", 10),
        ([5] * 9 + [None], "100.0", "bed_bound", 9),
    ],
)
def test_hand_worked_scores(answers, score, band, answered):
    result = odi_score(answers)
    assert result.score == (Decimal(score) if score else None)
    assert (result.band, result.answered) == (band, answered)
    if result.score is not None:
        assert result.score.as_tuple().exponent == -1  # one decimal, always


@pytest.mark.parametrize(
    ("total", "missing", "score", "band"),
    [
        # All ten answered: even integers, the published 0-20 / 21-40 / 41-60 / 61-80 / 81-100.
        (10, 0, "20.0", "minimal"),
        (11, 0, "22.0", "moderate"),
        (20, 0, "40.0", "moderate"),
        (21, 0, "42.0", "severe"),
        (30, 0, "60.0", "severe"),
        (31, 0, "62.0", "crippled"),
        (40, 0, "80.0", "crippled"),
        (41, 0, "82.0", "bed_bound"),
        # One missing: out of 45, one-decimal scores that are banded as they are (odi.py's docstring).
        (9, 1, "20.0", "minimal"),
        (10, 1, "22.2", "moderate"),
        (18, 1, "40.0", "moderate"),
        (19, 1, "42.2", "severe"),
        (21, 1, "46.7", "severe"),
        (27, 1, "60.0", "severe"),
        (28, 1, "62.2", "crippled"),
        (36, 1, "80.0", "crippled"),
        (37, 1, "82.2", "bed_bound"),
        (45, 1, "100.0", "bed_bound"),
    ],
)
def test_band_boundaries_as_documented(total, missing, score, band):
    result = odi_score(odi_answers(total, missing=missing))
    assert (result.score, result.band) == (Decimal(score), band)


def test_band_includes_its_upper_bound_on_the_exact_fraction():
    assert odi_band(Fraction(20)) == "minimal"
    assert odi_band(Fraction(2001, 100)) == "moderate"
    assert odi_band(Fraction(80)) == "crippled"
    assert odi_band(Fraction(8001, 100)) == "bed_bound"
    assert odi_band(Fraction(0)) == "minimal"


def test_rounding_is_half_up_to_one_decimal(settings):
    settings.ODI_MAX_MISSING = 3
    assert odi_score(odi_answers(1, missing=3)).score == Decimal("2.9")  # 100/35 = 2.857...
    assert odi_score(odi_answers(2, missing=1)).score == Decimal("4.4")  # 200/45 = 4.444...
    assert odi_score(odi_answers(3, missing=1)).score == Decimal("6.7")  # 300/45 = 6.666...


def test_max_missing_is_a_setting_read_at_call_time(settings):
    two_missing, one_missing = odi_answers(16, missing=2), odi_answers(16, missing=1)
    settings.ODI_MAX_MISSING = 2
    assert odi_score(two_missing).score == Decimal("40.0")  # 16 of 40
    settings.ODI_MAX_MISSING = 0
    assert odi_score(one_missing).score is None
    assert odi_score(one_missing).answered == 9
    assert odi_score(one_missing, max_missing=1).score == Decimal("35.6")  # an explicit value wins
    settings.ODI_MAX_MISSING = 10
    with pytest.raises(ImproperlyConfigured):
        odi_score(one_missing)


BAD_ODI_ITEMS = [
    6,
    -1,
    2.5,
    2.0,
    "2",
    True,
    False,
    [],
    [2, 6],
    [2, "3"],
    [True],
    [0, 1, 2, 3, 4, 5, 5],
    {"a": 1},
]


@pytest.mark.parametrize("item", BAD_ODI_ITEMS, ids=repr)
def test_every_bad_item_is_refused_with_its_place(item):
    answers = [0, 0, 0, item, 0, 0, 0, 0, 0, 0]
    assert list(odi_errors(answers)) == ["answers[3]"]
    with pytest.raises(InvalidInput) as refused:
        odi_score(answers)
    assert list(refused.value.field_errors) == ["answers[3]"]


@pytest.mark.parametrize(
    "answers",
    [None, "0000000000", {"0": 1}, 5, [0] * 9, [0] * 11, [], [None] * 9],
    ids=["null", "text", "object", "number", "nine", "eleven", "empty", "nine-nulls"],
)
def test_wrong_shape_or_length_is_refused(answers):
    errors = odi_errors(answers)
    assert list(errors) == ["answers"]
    with pytest.raises(InvalidInput):
        odi_score(answers)


def test_all_bad_items_are_reported_at_once():
    errors = odi_errors([7, 0, "x", 0, 0, 0, 0, 0, [], None])
    assert set(errors) == {"answers[0]", "answers[2]", "answers[8]"}
    assert odi_errors(odi_answers(16, missing=2)) == {}


def test_answers_to_the_wrong_questionnaire_are_refused():
    assert answers_errors("vas", odi_answers(16))  # an ODI list sent as a VAS
    assert answers_errors("odi", {"pain": 40})  # a VAS sent as an ODI
    with pytest.raises(InvalidInput):
        score_answers("vas", odi_answers(16))


@pytest.mark.parametrize(("pain", "score"), [(0, "0.0"), (100, "100.0"), (87, "87.0")])
def test_vas_is_the_mark_in_whole_millimetres(pain, score):
    result = vas_score({"pain": pain})
    assert (result.score, result.band, result.answered) == (Decimal(score), None, 1)


def test_vas_without_a_mark_has_no_score():
    assert vas_score({"pain": None}) == vas_score({})
    assert (vas_score({}).score, vas_score({}).answered) == (None, 0)


@pytest.mark.parametrize("pain", [-1, 101, 50.5, 50.0, "50", True, [50]], ids=repr)
def test_vas_bad_values_are_refused(pain):
    assert list(vas_errors({"pain": pain})) == ["answers.pain"]
    with pytest.raises(InvalidInput):
        vas_score({"pain": pain})


def test_vas_refuses_other_shapes_and_keys():
    assert list(vas_errors(50)) == ["answers"]
    assert list(vas_errors({"pain": 50, "nrs": 5})) == ["answers.nrs"]


@pytest.mark.parametrize(
    ("instrument", "baseline", "value", "improvement", "relative", "mcid", "relative_mcid"),
    [
        ("odi", "52.0", "40.0", "12.0", "23.1", True, False),  # improved by 12: MCID yes (issue)
        ("odi", "52.0", "44.0", "8.0", "15.4", False, False),  # 8: no
        ("odi", "50.0", "40.0", "10.0", "20.0", True, False),  # exactly 10: yes
        ("odi", "50.0", "40.2", "9.8", "19.6", False, False),
        ("odi", "50.0", "35.0", "15.0", "30.0", True, True),  # exactly 30 %: yes
        ("odi", "20.0", "14.0", "6.0", "30.0", False, True),  # relative only: the two flags are apart
        ("odi", "40.0", "46.7", "-6.7", "-16.8", False, False),  # worse
        ("vas", 87, 25, "62", "71.3", True, True),  # Perez, IJSS: 87 -> 25 mm (domain.md)
        ("vas", 40, 25, "15", "37.5", True, True),  # exactly 15 mm
        ("vas", 40, 26, "14", "35.0", False, True),
    ],
)
def test_change_from_baseline_and_mcid(
    instrument, baseline, value, improvement, relative, mcid, relative_mcid
):
    change = change_from_baseline(instrument, baseline=Decimal(baseline), value=Decimal(value))
    assert change.improvement == Decimal(improvement)
    assert change.change == -Decimal(improvement)
    assert change.relative_improvement == Decimal(relative)
    assert (change.mcid, change.mcid_relative) == (mcid, relative_mcid)


def test_relative_improvement_is_unknown_from_a_zero_baseline():
    change = change_from_baseline("vas", baseline=0, value=0)
    assert (change.relative_improvement, change.mcid, change.mcid_relative) == (None, False, False)


def test_placeholders_are_section_names_and_neutral_statements_never_wording():
    en, zh = placeholder_text(ODI, "en"), placeholder_text(ODI, "zh-hans")
    assert en["licensed"] is False and len(en["sections"]) == 10
    assert en["sections"][0]["title"] == "Pain intensity"
    assert en["sections"][0]["statements"] == [
        "Statement 0 (least)",
        "Statement 1",
        "Statement 2",
        "Statement 3",
        "Statement 4",
        "Statement 5 (most)",
    ]
    assert zh["sections"][0]["title"] == "疼痛程度"
    assert zh["sections"][0]["statements"][0].startswith("陈述 0")
    assert placeholder_text(VAS, "en")["anchors"] == {"low": "No pain", "high": "Worst pain imaginable"}
