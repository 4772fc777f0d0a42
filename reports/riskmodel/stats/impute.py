"""Multiple imputation of missing predictors by chained equations, and Rubin's rules to pool the fits.

Imputation (van Buuren, Flexible Imputation of Missing Data, 2nd ed., 2018; White, Royston & Wood, Stat Med
2011;30:377): statsmodels MICEData. Each incomplete predictor is regressed (OLS) on all the other predictors
and the outcome columns, the regression's parameters are drawn from their approximate posterior, and each
missing value is replaced by the observed value of a donor among the k = 20 nearest predicted means
(predictive mean matching, MICEData's default). Donors are observed values, so a binary column stays 0/1 and a
count stays a whole number. The outcome is included in every imputation model, as it must be (Moons et al.,
J Clin Epidemiol 2006;59:1092), and is never imputed in what is returned: where it is missing (a row kept for
another model, e.g. the Cox model's censored rows in a logistic analysis), the chain fills it with a working
value so that the row's predictors can still be imputed, and the completed frames give it back missing, to be
left out of the fit ("multiple imputation, then deletion": von Hippel, Sociol Methodol 2007;37:83). For a Cox
model, pass the event indicator and the Nelson-Aalen cumulative hazard at each row's time as the outcome
columns (White & Royston, Stat Med 2009;28:1982). The chain runs `iterations` cycles before the first
completed data set and as many again between the next ones (statsmodels MICE's burn-in and skip).

Rubin's rules (Rubin, Multiple Imputation for Nonresponse in Surveys, 1987), for m fits with estimates Q_i and
covariances U_i:
    Q = mean(Q_i);  W = mean(U_i);  B = sum (Q_i - Q)(Q_i - Q)' / (m - 1);  T = W + (1 + 1/m) B
    fraction of missing information, per parameter: (1 + 1/m) B_jj / T_jj  (as statsmodels MICE reports it).
"""

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from statsmodels.imputation.mice import MICEData


class _Chain(MICEData):
    """MICEData whose conditional models' design matrices are built by numpy rather than patsy.

    Only the default models are used here: each incomplete column regressed (OLS) on an intercept and every
    other column, in the frame's order, the matrix patsy builds from MICEData's formula "v ~ v0 + v1 + ...".
    The same matrices (the same floats, in the same order), so the same fits, draws and imputations for a
    seed; patsy took about 95 % of a chain's time (it re-parses the formula and re-checks every column for
    missing values twice per column per cycle). Anything else (a custom formula or predict_kwds) is refused.
    """

    def _design(self, vname: str) -> tuple[np.ndarray, np.ndarray]:
        names = list(self.data.columns)
        expected = vname + " ~ " + " + ".join(name for name in names if name != vname)
        custom = self.predict_kwds.get(vname) or self.init_kwds.get(vname) or self.fit_kwds.get(vname)
        if self.conditional_formula[vname] != expected or custom:
            raise NotImplementedError("only MICEData's default conditional models are built without patsy")
        values = self.data.to_numpy(dtype=float)
        column = names.index(vname)
        exog = np.empty((len(values), len(names)))
        exog[:, 0] = 1.0  # patsy's Intercept, first
        exog[:, 1:] = np.delete(values, column, axis=1)
        return values[:, column : column + 1], exog

    def get_split_data(self, vname):
        endog, exog = self._design(vname)
        observed, missing = self.ix_obs[vname], self.ix_miss[vname]
        # As MICEData's: the observed outcome as a column (n, 1), no predict keywords.
        return endog[observed], exog[observed], exog[missing], {}, {}

    def get_fitting_data(self, vname):
        endog, exog = self._design(vname)
        observed = self.ix_obs[vname]
        return endog[observed, 0], exog[observed], {}, {}


class Pooled(NamedTuple):
    estimate: np.ndarray
    covariance: np.ndarray | None
    fmi: np.ndarray | None  # fraction of missing information per parameter


def impute(
    frame: pd.DataFrame, columns: Sequence[str], *, outcome: Sequence[str], m: int, iterations: int, seed: int
) -> list[pd.DataFrame]:
    """m completed copies of the frame: the missing values of `columns` filled, every other column as given.

    Deterministic for a seed. Complete columns give m unchanged copies.
    """
    columns, outcome = list(columns), list(outcome)
    if m < 1 or iterations < 1:
        raise ValueError("m and iterations must be at least 1")
    absent = [c for c in columns + outcome if c not in frame.columns]
    if absent:
        raise ValueError(f"no column {', '.join(absent)} in the data")
    if set(columns) & set(outcome):
        raise ValueError("an outcome column cannot be imputed")
    if frame[columns + outcome].isna().all(axis=1).any():
        raise ValueError("a row has neither predictors nor outcome: leave it out before imputing")
    empty = [c for c in columns if frame[c].isna().all()]
    if empty:
        raise ValueError(f"no observed value of {', '.join(empty)}: it cannot be imputed")
    if not frame[columns].isna().any().any():
        return [frame.copy() for _ in range(m)]

    # MICEData writes its conditional models as formulas: plain names keep any column code valid in them.
    names = [f"v{i}" for i in range(len(columns) + len(outcome))]
    data = pd.DataFrame(frame[columns + outcome].to_numpy(dtype=float), columns=names)
    chain = _Chain(data, rng=np.random.default_rng(seed))
    completed = []
    for _ in range(m):
        chain.update_all(iterations)
        filled = frame.copy()
        filled[columns] = chain.data[names[: len(columns)]].to_numpy()
        completed.append(filled)
    return completed


def nelson_aalen(time, status) -> np.ndarray:
    """The Nelson-Aalen cumulative hazard of the event (status 1) at each row's own time:
    H(t) = sum over event times s <= t of d(s) / n(s), n(s) the number still at risk at s (time >= s)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(status) == 1
    times = np.unique(time[event])
    steps = np.array([np.sum(event & (time == s)) / np.sum(time >= s) for s in times])
    cumulative = np.r_[0.0, np.cumsum(steps)]
    return cumulative[np.searchsorted(times, time, side="right")]


def rubin(estimates, covariances=None) -> Pooled:
    """Pool m estimates (m, p) and their covariances (m, p, p) by Rubin's rules (module docstring).

    Without covariances (penalised fits) only the estimate is pooled. With m = 1 the between-imputation
    variance is 0.
    """
    Q = np.asarray(estimates, dtype=float)
    Q = Q.reshape(len(Q), -1)
    m = len(Q)
    estimate = Q.mean(axis=0)
    if covariances is None:
        return Pooled(estimate, None, None)
    U = np.asarray(covariances, dtype=float).reshape(m, Q.shape[1], Q.shape[1])
    within = U.mean(axis=0)
    between = (
        np.cov(Q, rowvar=False, ddof=1).reshape(Q.shape[1], Q.shape[1]) if m > 1 else np.zeros_like(within)
    )
    total = within + (1 + 1 / m) * between
    fmi = (1 + 1 / m) * np.diag(between) / np.diag(total)
    return Pooled(estimate, total, fmi)
