"""reports/riskmodel/stats/splines.py against patsy's natural cubic regression spline (the same function
space), Harrell's table of knot quantiles, and a value worked by hand."""

import numpy as np
import patsy
import pytest

from reports.riskmodel.stats.splines import rcs_basis, rcs_knots


def _fitted(basis, y):
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    return basis @ coef


@pytest.mark.parametrize("k", [3, 4, 5, 6, 7])
def test_the_basis_spans_patsys_natural_cubic_spline(k):
    """Given x and a wiggly y, when both bases are fitted by least squares, then the fitted values agree:
    a restricted cubic spline plus an intercept is patsy's cr() with the same inner and boundary knots."""
    rng = np.random.default_rng(27 + k)
    x = rng.uniform(40, 95, 400)
    y = np.sin(x / 6) + rng.normal(0, 0.3, 400)
    knots = rcs_knots(x, k)
    ours = np.column_stack([np.ones_like(x), rcs_basis(x, knots)])
    theirs = patsy.dmatrix(
        "cr(x, knots=inner, lower_bound=lo, upper_bound=hi) - 1",
        {"x": x, "inner": knots[1:-1], "lo": knots[0], "hi": knots[-1]},
    )
    assert ours.shape[1] == np.asarray(theirs).shape[1] == k
    np.testing.assert_allclose(_fitted(ours, y), _fitted(np.asarray(theirs), y), atol=1e-8)


def test_knots_sit_at_harrells_quantiles():
    """RMS Table 2.3: 4 knots at the 5th, 35th, 65th, 95th percentiles; 3 knots at the 10th, 50th, 90th.
    x = 0..1000, so the type-7 quantile p is exactly 1000 p."""
    x = np.arange(1001.0)
    np.testing.assert_allclose(rcs_knots(x, 4), [50, 350, 650, 950])
    np.testing.assert_allclose(rcs_knots(x, 3), [100, 500, 900])
    np.testing.assert_allclose(rcs_knots(x, 5), [50, 275, 500, 725, 950])
    np.testing.assert_allclose(rcs_knots(x, 7), [25, 183.3, 341.7, 500, 658.3, 816.7, 975])


def test_small_samples_move_the_outer_knots_to_the_fifth_values():
    """Hmisc: below 100 observations the outer knots are the 5th smallest and 5th largest values."""
    x = np.arange(1.0, 51.0)  # 1..50
    knots = rcs_knots(x, 4)
    assert knots[0] == 5 and knots[-1] == 46
    np.testing.assert_allclose(knots[1:3], [1 + 0.35 * 49, 1 + 0.65 * 49])


def test_tied_knots_are_dropped_and_too_few_refused():
    """102 counts (50 zeros, 30 ones, 15 twos, 5 threes, 2 fours): the type-7 positions 101 p of the five
    quantiles are 5.05, 27.8, 50.5, 73.2, 96.0, i.e. values 0, 0, 1, 1, 3: three distinct knots remain."""
    counts = np.array([0] * 50 + [1] * 30 + [2] * 15 + [3] * 5 + [4] * 2, dtype=float)
    assert rcs_knots(counts, 5).tolist() == [0.0, 1.0, 3.0]
    with pytest.raises(ValueError, match="too few distinct"):
        rcs_knots(np.array([0.0] * 90 + [1.0] * 20), 3)
    with pytest.raises(ValueError, match="3 to 7"):
        rcs_knots(np.arange(200.0), 8)


def test_a_value_worked_by_hand():
    """Knots 0, 1, 2, 4 at x = 3: (3-0)^3 - (3-2)^3 (4-0)/(4-2) + 0 = 27 - 2 = 25, over (4-0)^2 = 16;
    (3-1)^3 - (3-2)^3 (4-1)/(4-2) = 8 - 1.5 = 6.5, over 16."""
    basis = rcs_basis([3.0, -1.0], [0.0, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(basis[0], [3.0, 25 / 16, 6.5 / 16])
    np.testing.assert_allclose(basis[1], [-1.0, 0.0, 0.0])


def test_the_spline_is_linear_beyond_the_outer_knots():
    """Second differences of every column vanish below t_1 and above t_k (on an even grid)."""
    knots = np.array([10.0, 20.0, 35.0, 50.0, 70.0])
    for grid in (np.linspace(-30, 10, 41), np.linspace(70, 140, 71)):
        second = np.diff(rcs_basis(grid, knots), n=2, axis=0)
        np.testing.assert_allclose(second, 0, atol=1e-9)
    inside = np.diff(rcs_basis(np.linspace(20, 50, 31), knots), n=2, axis=0)
    assert np.abs(inside[:, 1:]).max() > 1e-3


def test_missing_x_gives_a_missing_row():
    basis = rcs_basis([np.nan, 5.0], [0.0, 1.0, 2.0, 4.0])
    assert np.isnan(basis[0]).all() and not np.isnan(basis[1]).any()
