"""reports/riskmodel/stats/decision.py against a net benefit worked by hand (Vickers & Elkin 2006)."""

import pytest

from reports.riskmodel.stats.decision import decision_curve, net_benefit, thresholds, treat_all, treat_none

# Ten patients, 3 events (y = 1), with the model's risks:
#   patient  1     2     3     4     5     6     7     8     9     10
#   y        1     1     1     0     0     0     0     0     0     0
#   p        0.60  0.35  0.12  0.50  0.30  0.22  0.15  0.09  0.05  0.02
Y = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
P = [0.60, 0.35, 0.12, 0.50, 0.30, 0.22, 0.15, 0.09, 0.05, 0.02]
# pt = 0.10: treated p >= 0.10: patients 1-7. TP 3 (1, 2, 3), FP 4 (4, 5, 6, 7). Odds 0.1/0.9 = 1/9.
#   NB = 3/10 - 4/10 · 1/9 = 0.3 - 0.0444... = 0.25556
# pt = 0.20: treated: 1, 2, 4, 5, 6. TP 2, FP 3. Odds 0.2/0.8 = 1/4.
#   NB = 2/10 - 3/10 · 1/4 = 0.2 - 0.075 = 0.125
# pt = 0.50: treated: 1, 4 (0.50 >= 0.50 counts). TP 1, FP 1. Odds 1.
#   NB = 1/10 - 1/10 · 1 = 0
# Treat all (E = 3 of 10): 0.3 - 0.7 · odds: pt 0.10: 0.3 - 0.7/9 = 0.22222; pt 0.20: 0.3 - 0.7/4 = 0.125;
#   pt 0.50: 0.3 - 0.7 = -0.4.
THRESHOLDS = [0.10, 0.20, 0.50]


def test_net_benefit_by_hand():
    assert net_benefit(Y, P, THRESHOLDS) == pytest.approx([0.3 - 0.4 / 9, 0.125, 0.0])
    assert treat_all(Y, THRESHOLDS) == pytest.approx([0.3 - 0.7 / 9, 0.125, -0.4])
    assert treat_none(THRESHOLDS) == [0.0, 0.0, 0.0]


def test_decision_curve_has_the_development_results_shape():
    curve = decision_curve(Y, P, THRESHOLDS)
    assert curve == {
        "thresholds": THRESHOLDS,
        "model": pytest.approx([0.3 - 0.4 / 9, 0.125, 0.0]),
        "treat_all": pytest.approx([0.3 - 0.7 / 9, 0.125, -0.4]),
        "treat_none": [0.0, 0.0, 0.0],
    }


def test_a_model_treating_everyone_equals_treat_all():
    assert net_benefit(Y, [0.99] * 10, THRESHOLDS) == pytest.approx(treat_all(Y, THRESHOLDS))


def test_thresholds():
    assert thresholds(0.05, 0.40, 0.05) == [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]
    assert thresholds(0.1, 0.1, 0.01) == [0.1]
    for start, stop, step in [(0, 0.4, 0.05), (0.05, 1, 0.05), (0.3, 0.2, 0.05), (0.05, 0.4, 0)]:
        with pytest.raises(ValueError):
            thresholds(start, stop, step)


@pytest.mark.parametrize("bad", [[0.0], [1.0], [0.2, 1.5]])
def test_thresholds_outside_0_1_are_refused(bad):
    with pytest.raises(ValueError):
        net_benefit(Y, P, bad)
