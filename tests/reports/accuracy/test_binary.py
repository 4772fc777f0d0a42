"""reports/accuracy/binary.py against hand-worked 2x2 tables, Newcombe's published intervals and Youden's J
worked by hand (ties included)."""

import dataclasses
import json

import pytest

from reports.accuracy import (
    ConfusionMatrix,
    confusion_matrix,
    confusion_matrix_at,
    diagnostic_accuracy,
    proportion,
    youden_threshold,
)

# The 2x2 worked by hand (acute positive): TP 45, FN 5, FP 10, TN 40.
#   sensitivity = TP/(TP+FN) = 45/50 = 0.90       specificity = TN/(TN+FP) = 40/50 = 0.80
#   accuracy = (TP+TN)/N = 85/100 = 0.85          PPV = TP/(TP+FP) = 45/55 = 0.8182
#   NPV = TN/(TN+FN) = 40/45 = 0.8889
# Wilson 95 % with z = 1.96, worked by hand as centre ± half-width, both over d = 1 + z²/n:
#   45/50: z²/n = 3.8416/50 = 0.076832, d = 1.076832; centre = (0.9 + 0.038416)/d = 0.871460;
#          half = 1.96·√(0.9·0.1/50 + 3.8416/(4·2500))/d = 1.96·√(0.0018 + 0.00038416)/d = 0.085065;
#          0.786395 to 0.956525.
#   40/50: centre = (0.8 + 0.038416)/1.076832 = 0.778595; half = 1.96·√(0.0032 + 0.00038416)/d = 0.108969;
#          0.669626 to 0.887564.
#   85/100: d = 1.038416; centre = (0.85 + 0.019208)/d = 0.837052; half = 1.96·√(0.001275 + 0.000096)/d
#          = 0.069889; 0.767163 to 0.906941.
#   45/55: 0.696693 to 0.898124;  40/45: 0.765006 to 0.951596 (the same steps).
# statsmodels uses z = 1.959964 rather than 1.96, which moves the limits by under 1e-5.
HAND = {
    "sensitivity": (45, 50, 0.90, 0.786395, 0.956525),
    "specificity": (40, 50, 0.80, 0.669626, 0.887564),
    "accuracy": (85, 100, 0.85, 0.767163, 0.906941),
    "ppv": (45, 55, 45 / 55, 0.696693, 0.898124),
    "npv": (40, 45, 40 / 45, 0.765006, 0.951596),
}


def test_the_hand_worked_table_and_its_wilson_intervals():
    result = diagnostic_accuracy(ConfusionMatrix(tp=45, fn=5, fp=10, tn=40))
    assert result.matrix.n == 100
    for name, (num, den, value, lo, hi) in HAND.items():
        est = getattr(result, name)
        assert (est.name, est.numerator, est.denominator, est.method) == (name, num, den, "wilson")
        assert est.value == pytest.approx(value, abs=1e-12)
        assert (est.lo, est.hi) == pytest.approx((lo, hi), abs=2e-5)
        assert est.reason is None


def test_the_table_is_counted_from_predictions_and_from_scores_at_the_threshold():
    # Vertebrae: reference (1 acute), score. At threshold 0.5 (acute when score >= 0.5):
    #   acute 0.9 → TP, acute 0.5 → TP (on the threshold counts as acute), acute 0.2 → FN,
    #   chronic 0.7 → FP, chronic 0.49 → TN, chronic 0.1 → TN.  TP 2, FN 1, FP 1, TN 2.
    reference = [1, 1, 1, 0, 0, 0]
    scores = [0.9, 0.5, 0.2, 0.7, 0.49, 0.1]
    expected = ConfusionMatrix(tp=2, fn=1, fp=1, tn=2)
    assert confusion_matrix_at(reference=reference, scores=scores, threshold=0.5) == expected
    assert (
        confusion_matrix(reference=[True, True, True, False, False, False], predicted=[1, 1, 0, 1, 0, 0])
        == expected
    )


@pytest.mark.parametrize(
    ("events", "n", "wilson", "exact"),
    [
        # Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven methods.
        # Stat Med 1998;17:857-872, Table I: method 3 (score, no continuity correction = Wilson) and
        # method 5 (exact, Clopper-Pearson), to four decimals.
        (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
        (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
        (0, 20, (0.0000, 0.1611), (0.0000, 0.1684)),
        (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
    ],
)
def test_wilson_and_clopper_pearson_reproduce_newcombe_1998_table_i(events, n, wilson, exact):
    w = proportion(name="p", numerator=events, denominator=n)
    cp = proportion(name="p", numerator=events, denominator=n, method="clopper-pearson")
    assert (w.lo, w.hi) == pytest.approx(wilson, abs=5e-5)
    assert (cp.lo, cp.hi) == pytest.approx(exact, abs=5e-5)
    assert cp.method == "clopper-pearson"


def test_clopper_pearson_is_the_option_for_every_proportion():
    wilson = diagnostic_accuracy(ConfusionMatrix(tp=45, fn=5, fp=10, tn=40))
    exact = diagnostic_accuracy(ConfusionMatrix(tp=45, fn=5, fp=10, tn=40), method="clopper-pearson")
    for name in HAND:
        w, e = getattr(wilson, name), getattr(exact, name)
        assert e.method == "clopper-pearson" and e.value == w.value
        # The exact interval is the wider of the two at these counts.
        assert e.lo < w.lo and e.hi > w.hi


def test_an_all_correct_table_has_edges_at_one_and_no_nan():
    # 10/10: the exact interval's upper limit is 1 by definition (the beta quantile is undefined there).
    result = diagnostic_accuracy(ConfusionMatrix(tp=10, fn=0, fp=0, tn=7), method="clopper-pearson")
    assert result.sensitivity.value == 1.0 and result.sensitivity.hi == 1.0
    assert result.sensitivity.lo == pytest.approx(0.6915, abs=5e-5)  # (alpha/2)^(1/n) = 0.025^(1/10)
    json.dumps(dataclasses.asdict(result), allow_nan=False)


def test_zero_denominators_give_none_with_a_reason_and_json():
    # No acute vertebra in the reference, and nothing called acute: Se and PPV are 0/0.
    result = diagnostic_accuracy(ConfusionMatrix(tp=0, fn=0, fp=0, tn=12))
    assert (result.sensitivity.value, result.sensitivity.lo, result.sensitivity.hi) == (None, None, None)
    assert result.sensitivity.reason == "no_acute_reference"
    assert result.ppv.value is None and result.ppv.reason == "none_called_acute"
    assert result.specificity.value == 1.0 and result.specificity.reason is None
    assert result.npv.value == 1.0
    empty = diagnostic_accuracy(ConfusionMatrix(tp=0, fn=0, fp=0, tn=0))
    assert all(getattr(empty, n).value is None for n in HAND)
    text = json.dumps(dataclasses.asdict(result), allow_nan=False)
    assert json.loads(text)["sensitivity"]["value"] is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"numerator": 5, "denominator": 4},
        {"numerator": -1, "denominator": 4},
        {"numerator": 1, "denominator": 4, "confidence": 1.0},
        {"numerator": 1, "denominator": 4, "method": "wald"},
    ],
)
def test_proportion_refuses_impossible_input(kwargs):
    with pytest.raises(ValueError):
        proportion(name="p", **kwargs)


def test_bad_vectors_are_refused():
    with pytest.raises(ValueError, match="0/1"):
        confusion_matrix(reference=[0, 2], predicted=[0, 1])
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix(reference=[0, 1, 1], predicted=[0, 1])
    with pytest.raises(ValueError, match="finite"):
        confusion_matrix_at(reference=[0, 1], scores=[0.2, float("nan")], threshold=0.5)


def test_youden_worked_by_hand():
    # Acute 0.9, 0.8, 0.7, 0.3; chronic 0.5, 0.4, 0.1, 0.05 (P = N = 4). J = Se + Sp - 1 at each score:
    #   t 0.9: Se 1/4, Sp 4/4, J 0.25   t 0.8: 2/4, 4/4, 0.50   t 0.7: 3/4, 4/4, 0.75 (the maximum)
    #   t 0.5: 3/4, 3/4, 0.50           t 0.4: 3/4, 2/4, 0.25   t 0.3: 4/4, 2/4, 0.50
    #   t 0.1: 4/4, 1/4, 0.25           t 0.05: 4/4, 0/4, 0
    reference = [1, 1, 1, 1, 0, 0, 0, 0]
    scores = [0.9, 0.8, 0.7, 0.3, 0.5, 0.4, 0.1, 0.05]
    result = youden_threshold(reference=reference, scores=scores)
    assert (result.threshold, result.j, result.sensitivity, result.specificity) == (0.7, 0.75, 0.75, 1.0)


def test_youden_ties_go_to_the_lowest_threshold_the_higher_sensitivity():
    # Acute 0.9, 0.4; chronic 0.6, 0.1. t 0.9: Se 1/2, Sp 2/2, J 0.5; t 0.6: 1/2, 1/2, 0;
    # t 0.4: 2/2, 1/2, 0.5; t 0.1: 2/2, 0/2, 0. J 0.5 at 0.9 and at 0.4: the docstring's rule takes 0.4
    # (Se 1.0, Sp 0.5); breaking the tie the other way would give 0.9 (Se 0.5, Sp 1.0).
    result = youden_threshold(reference=[1, 0, 1, 0], scores=[0.9, 0.6, 0.4, 0.1])
    assert (result.threshold, result.j, result.sensitivity, result.specificity) == (0.4, 0.5, 1.0, 0.5)
    # The order of the rows does not matter.
    again = youden_threshold(reference=[0, 1, 0, 1], scores=[0.1, 0.4, 0.6, 0.9])
    assert again == result


def test_youden_with_tied_scores_uses_each_distinct_score_once():
    # Acute 0.8, 0.8, 0.2; chronic 0.8, 0.2, 0.2. t 0.8: Se 2/3, Sp 2/3, J 1/3; t 0.2: Se 1, Sp 0, J 0.
    result = youden_threshold(reference=[1, 1, 1, 0, 0, 0], scores=[0.8, 0.8, 0.2, 0.8, 0.2, 0.2])
    assert result.threshold == 0.8
    assert result.j == pytest.approx(1 / 3)


def test_the_development_threshold_is_applied_unchanged_to_the_external_set():
    development = youden_threshold(
        reference=[1, 1, 1, 1, 0, 0, 0, 0], scores=[0.9, 0.8, 0.7, 0.3, 0.5, 0.4, 0.1, 0.05]
    )
    # External set: acute 0.95, 0.7, 0.65, 0.6; chronic 0.72, 0.3, 0.2. At the development's 0.7:
    #   acute 0.95 TP, 0.7 TP (on the threshold), 0.65 FN, 0.6 FN; chronic 0.72 FP, 0.3 TN, 0.2 TN.
    # (Re-optimising here would pick 0.6: Se 4/4, Sp 2/3. The report must not.)
    external_ref = [1, 1, 1, 1, 0, 0, 0]
    external_scores = [0.95, 0.7, 0.65, 0.6, 0.72, 0.3, 0.2]
    matrix = confusion_matrix_at(
        reference=external_ref, scores=external_scores, threshold=development.threshold
    )
    assert matrix == ConfusionMatrix(tp=2, fn=2, fp=1, tn=2)
    assert youden_threshold(reference=external_ref, scores=external_scores).threshold == 0.6


def test_youden_needs_both_classes():
    with pytest.raises(ValueError, match="both"):
        youden_threshold(reference=[1, 1], scores=[0.2, 0.3])
