"""Agreement between two adjudicators, checked against values worked by hand (below, step by step), not
against the code under test.

Main question, 50 cases: both said yes in 20, both no in 15, the first yes and the second no in 5, the first
no and the second yes in 10.
  p11 = 0.4, p22 = 0.3, p12 = 0.1, p21 = 0.2; margins: first 0.5 / 0.5, second 0.6 / 0.4.
  observed po = 0.4 + 0.3 = 0.7; chance pe = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4.
  Fleiss, Cohen & Everitt (1969) variance, with 1 - kappa = 0.6:
    A = 0.4 * (1 - (0.5 + 0.6) * 0.6)^2 + 0.3 * (1 - (0.5 + 0.4) * 0.6)^2 = 0.04624 + 0.06348 = 0.10972
    B = 0.6^2 * (0.1 * (0.6 + 0.5)^2 + 0.2 * (0.4 + 0.5)^2) = 0.36 * 0.283 = 0.10188
    C = (0.4 - 0.5 * 0.6)^2 = 0.01
    var = (A + B - C) / (n * (1 - pe)^2) = 0.2016 / 12.5 = 0.016128; se = 0.1269961
  95 % interval: 0.4 -+ 1.959964 * 0.1269961 = 0.151092 to 0.648908.

Genant grade, 8 cases on grades 0-2 (none of grade 3): the table [[2, 1, 0], [0, 2, 1], [0, 0, 2]] plus an
empty grade 3. Linear weights on 4 grades: 1 on the diagonal, 2/3 one grade apart, 1/3 two apart, 0 three.
  observed = (2 + 2 + 2) / 8 + 2/3 * (1 + 1) / 8 = 0.75 + 0.1666667 = 0.9166667
  margins: first (3, 3, 2, 0) / 8, second (2, 3, 3, 0) / 8; chance = sum w_ij r_i c_j =
    [3*(2*1 + 3*2/3 + 3*1/3) + 3*(2*2/3 + 3*1 + 3*2/3) + 2*(2*1/3 + 3*2/3 + 3*1)] / 64
    = [3*5 + 3*(19/3) + 2*(17/3)] / 64 = (15 + 19 + 11.3333333) / 64 = 0.7083333
  weighted kappa = (0.9166667 - 0.7083333) / (1 - 0.7083333) = 0.2083333 / 0.2916667 = 5/7 = 0.7142857
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.agreement import GENANT, kappa_genant, kappa_main


def pairs(counts: dict[tuple, int]) -> list[tuple]:
    return [pair for pair, count in counts.items() for _ in range(count)]


def test_kappa_on_the_main_question_matches_the_hand_worked_example():
    result = kappa_main(pairs({(True, True): 20, (False, False): 15, (True, False): 5, (False, True): 10}))
    assert result.n == 50 and result.table == ((20, 5), (10, 15))
    assert result.observed == pytest.approx(0.7) and result.expected == pytest.approx(0.5)
    assert result.kappa == pytest.approx(0.4)
    assert (result.low, result.high) == (pytest.approx(0.151092, abs=1e-6), pytest.approx(0.648908, abs=1e-6))


def test_weighted_kappa_on_the_genant_grade_matches_the_hand_worked_example():
    result = kappa_genant(pairs({(0, 0): 2, (0, 1): 1, (1, 1): 2, (1, 2): 1, (2, 2): 2}))
    assert result.table == ((2, 1, 0, 0), (0, 2, 1, 0), (0, 0, 2, 0), (0, 0, 0, 0))
    assert result.observed == pytest.approx(0.9166667) and result.expected == pytest.approx(0.7083333)
    assert result.kappa == pytest.approx(5 / 7)
    assert -1 <= result.low < result.kappa < result.high <= 1  # clipped to kappa's range


def test_perfect_agreement_is_one_and_its_interval_stays_in_range():
    result = kappa_main(pairs({(True, True): 6, (False, False): 4}))
    assert result.kappa == pytest.approx(1.0) and result.high == 1.0


def test_kappa_is_undefined_without_pairs_or_without_variation():
    assert kappa_main([]).undefined == "no_pairs" and kappa_main([]).kappa is None
    same = kappa_main(pairs({(True, True): 7}))  # chance agreement is 1: no kappa, not a made-up number
    assert (same.undefined, same.kappa, same.observed) == ("no_variation", None, 1.0)


def test_a_reading_outside_the_scale_is_refused():
    with pytest.raises(ValueError, match="outside"):
        kappa_genant([(0, 4)])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(GENANT), st.sampled_from(GENANT)), min_size=1, max_size=40))
def test_the_reported_agreement_proportions_give_statsmodels_kappa(readings):
    """The observed and chance agreement shown beside kappa are its own: kappa = (po - pe) / (1 - pe)."""
    for result in (kappa_genant(readings), kappa_main([(a > 0, b > 0) for a, b in readings])):
        if result.undefined:
            assert result.expected == pytest.approx(1.0)
            continue
        assert result.kappa == pytest.approx((result.observed - result.expected) / (1 - result.expected))
        assert -1 <= result.low <= result.kappa <= result.high <= 1
