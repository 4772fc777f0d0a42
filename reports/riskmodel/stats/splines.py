"""Harrell's restricted cubic splines (Regression Modeling Strategies, 2nd ed., 2015, section 2.4.5).

A restricted (natural) cubic spline with knots t_1 < ... < t_k is cubic between the knots and linear below t_1
and above t_k. Harrell writes it with k - 1 columns: x itself, then for j = 1 .. k - 2

    x_j = [ (x - t_j)+^3 - (x - t_{k-1})+^3 (t_k - t_j) / (t_k - t_{k-1})
                         + (x - t_k)+^3 (t_{k-1} - t_j) / (t_k - t_{k-1}) ] / (t_k - t_1)^2

where u+ = max(u, 0). The division by (t_k - t_1)^2 is Hmisc's `rcspline.eval(norm=2)`, the default of
`rms::rcs`: it puts the nonlinear columns on the scale of x, so their coefficients are of a readable size.
"""

import numpy as np

# RMS Table 2.3 (and Hmisc::rcspline.eval): the quantiles of x at which Harrell puts k knots.
HARRELL_QUANTILES = {
    3: (0.10, 0.50, 0.90),
    4: (0.05, 0.35, 0.65, 0.95),
    5: (0.05, 0.275, 0.50, 0.725, 0.95),
    6: (0.05, 0.23, 0.41, 0.59, 0.77, 0.95),
    7: (0.025, 0.1833, 0.3417, 0.50, 0.6583, 0.8167, 0.975),
}

# Hmisc: with fewer than 100 observations the outer knots move to the 5th smallest and 5th largest values,
# so that each tail still holds a few points to estimate the linear piece.
SMALL_SAMPLE = 100


def rcs_knots(x, k: int) -> np.ndarray:
    """The k knots of Harrell's restricted cubic spline for x (NaN ignored), at the quantiles above.

    Quantiles are R's type 7 (numpy's default 'linear'), as in Hmisc. When tied values make two knots equal
    (a count with few distinct values), the duplicates are dropped; fewer than 3 distinct knots is an error,
    since the spline would then be a straight line.
    """
    if k not in HARRELL_QUANTILES:
        raise ValueError(f"a restricted cubic spline takes 3 to 7 knots, not {k}")
    values = np.asarray(x, dtype=float)
    values = np.sort(values[~np.isnan(values)])
    n = values.size
    if n < 6:
        raise ValueError(f"{n} non-missing values are too few to place spline knots")
    knots = np.quantile(values, HARRELL_QUANTILES[k])
    if n < SMALL_SAMPLE:
        knots[0], knots[-1] = values[4], values[n - 5]
    knots = np.unique(knots)
    if knots.size < 3:
        raise ValueError(f"x has too few distinct values for a spline: knots {knots.tolist()}")
    return knots


def rcs_basis(x, knots) -> np.ndarray:
    """The (n, k - 1) basis of Harrell's restricted cubic spline: x, then the module's k - 2 terms.

    Missing x gives a row of NaN.
    """
    t = np.asarray(knots, dtype=float)
    if t.ndim != 1 or t.size < 3 or np.any(np.diff(t) <= 0):
        raise ValueError(f"knots must be at least 3 increasing values, not {t.tolist()}")
    x = np.asarray(x, dtype=float).reshape(-1)
    k = t.size
    last, before_last = t[-1], t[-2]
    norm = (last - t[0]) ** 2

    def cube(u):
        return np.where(u > 0, u, 0.0) ** 3

    columns = [x]
    for tj in t[: k - 2]:
        term = (
            cube(x - tj)
            - cube(x - before_last) * (last - tj) / (last - before_last)
            + cube(x - last) * (before_last - tj) / (last - before_last)
        )
        columns.append(term / norm)
    basis = np.column_stack(columns)
    basis[np.isnan(x)] = np.nan  # (u)+ of NaN would otherwise read as 0
    return basis
