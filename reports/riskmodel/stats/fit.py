"""Fitting the model: logistic regression (maximum likelihood, ridge or lasso) and the Cox model.

Logistic, unpenalised: statsmodels GLM, Binomial family, logit link; the covariance of (intercept,
coefficients) is the inverse observed information. Penalised (Harrell RMS 9.10; Steyerberg, Clinical
Prediction Models, 2nd ed., ch. 13): the predictors are standardised (mean 0, SD 1 with ddof 0, on the data
being fitted) so the penalty treats them alike; the intercept is never penalised; the objective is

    ridge: - loglik(b) / n + lambda * sum_j b_j^2 / 2        lasso: - loglik(b) / n + lambda * sum_j |b_j|

(scikit-learn's C is 1 / (n lambda)). lambda is chosen by 10-fold cross-validation: the value on a log grid
with the smallest held-out deviance -2 sum log p(y), summed over the folds (folds stratified on y, drawn from
the seed). Coefficients are returned on the predictors' own scale: b_j = b*_j / sd_j, b0 = b*_0 - sum b*_j
mean_j / sd_j. A penalised fit has no covariance: its sampling variance is not the inverse information.

Cox: statsmodels PHReg, Breslow's method for ties; status 1 is the event, 0 and 2 (the competing death) are
censored, i.e. the cause-specific hazard. The baseline survival at the horizon is Breslow's estimator taken
at the mean linear predictor (so risk = 1 - S0(h) ** exp(x.b - lp_mean), README.md):

    H0(h) = sum over event times t <= h of d(t) / sum_{j: time_j >= t} exp(x_j.b - lp_mean)
    S0(h) = exp(-H0(h))
"""

import dataclasses
import warnings

import numpy as np
import statsmodels.api as sm
from statsmodels.duration.hazard_regression import PHReg

PENALTIES = ("none", "ridge", "lasso")
FOLDS = 10
# lasso: from lambda_max (every coefficient 0) down a thousandfold; ridge never zeroes a coefficient, so its
# grid starts a hundredfold higher (glmnet's convention, Friedman et al., J Stat Softw 2010;33(1)).
GRID_POINTS = 16
GRID_DECADES = {"lasso": (0.0, -3.0), "ridge": (2.0, -3.0)}


@dataclasses.dataclass(frozen=True)
class Fit:
    """A fitted model; covariance is of (intercept, coef) for logistic, of coef for Cox, None if penalised."""

    kind: str  # logistic | cox
    intercept: float | None
    coef: np.ndarray
    covariance: np.ndarray | None
    penalty: str = "none"
    lam: float | None = None
    baseline_survival: float | None = None
    lp_mean: float | None = None
    term_means: np.ndarray | None = None  # Cox: mean design row, the centre of risk_interval's delta method
    converged: bool = True
    cv: dict | None = None  # penalised: {"lambda": grid, "deviance": held-out deviance at each}

    @property
    def se(self) -> np.ndarray | None:
        return None if self.covariance is None else np.sqrt(np.diag(self.covariance))


def _as_arrays(X, y):
    X = np.asarray(X, dtype=float)
    X = X.reshape(len(X), -1)
    y = np.asarray(y, dtype=float).reshape(-1)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows and y {len(y)}")
    if np.isnan(X).any() or np.isnan(y).any():
        raise ValueError("missing values: impute them or drop the rows before fitting")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("the outcome must be 0 or 1")
    return X, y


def fit_logistic(X, y, *, penalty: str = "none", seed: int = 0) -> Fit:
    """Logistic regression of y (0/1) on the design matrix X (no intercept column: one is added)."""
    X, y = _as_arrays(X, y)
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {', '.join(PENALTIES)}, not {penalty!r}")
    if penalty == "none":
        result = sm.GLM(y, sm.add_constant(X, has_constant="add"), family=sm.families.Binomial()).fit()
        params = np.asarray(result.params)
        return Fit(
            kind="logistic",
            intercept=float(params[0]),
            coef=params[1:],
            covariance=np.asarray(result.cov_params()),
            converged=bool(result.converged),
        )
    lam, grid, deviance = choose_lambda(X, y, kind=penalty, seed=seed)
    intercept, coef = fit_penalized(X, y, kind=penalty, lam=lam)
    return Fit(
        kind="logistic",
        intercept=intercept,
        coef=coef,
        covariance=None,
        penalty=penalty,
        lam=lam,
        cv={"lambda": grid.tolist(), "deviance": deviance.tolist()},
    )


def _standardise(X):
    mean = X.mean(axis=0)
    sd = X.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)  # a constant column stays 0 after centring; its coefficient is 0
    return (X - mean) / sd, mean, sd


def fit_penalized(X, y, *, kind: str, lam: float) -> tuple[float, np.ndarray]:
    """(intercept, coef) on X's own scale of the ridge or lasso logistic fit at lambda (module docstring)."""
    X, y = _as_arrays(X, y)
    Z, mean, sd = _standardise(X)
    model = _penalised_model(np.column_stack([np.ones(len(Z)), Z]), y, kind=kind)
    params = _fit_standardised(model, kind=kind, lam=lam)
    return float(params[0] - np.sum(params[1:] * mean / sd)), params[1:] / sd


def _penalised_model(Z, y, *, kind):
    """The statsmodels model of y on the standardised design Z (first column the constant); built once per
    data set, since building one computes Z's rank (an SVD), which costs more than a fit."""
    if kind == "ridge":
        return sm.GLM(y, Z, family=sm.families.Binomial())
    if kind == "lasso":
        return sm.Logit(y, Z)
    raise ValueError(f"penalty must be ridge or lasso, not {kind!r}")


def _fit_standardised(model, *, kind, lam, start=None) -> np.ndarray:
    """(intercept, coef) on the standardised scale at lambda.

    Ridge: statsmodels GLM.fit_regularized(method="elastic_net", L1_wt=0), which minimises the objective with
    scipy (L-BFGS-B here: BFGS's default gradient tolerance leaves 4e-5 in the coefficients). Lasso:
    statsmodels Logit.fit_regularized(method="l1"), the same objective times n solved by SLSQP; GLM's
    elastic_net coordinate descent gives the same answer but takes about 40 times longer, too slow for
    cross-validation inside every bootstrap resample. Coefficients below 1e-8 are the lasso's zeros.
    """
    alpha = np.r_[0.0, np.full(model.exog.shape[1] - 1, lam)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter: the optimisers' tolerances are set here
        if kind == "ridge":
            result = model.fit_regularized(
                method="elastic_net", alpha=alpha, L1_wt=0, opt_method="l-bfgs-b", start_params=start
            )
        else:
            result = model.fit_regularized(
                method="l1",
                alpha=alpha * len(model.endog),
                start_params=start,
                disp=0,
                acc=1e-10,
                trim_mode="off",
            )
    params = np.asarray(result.params, dtype=float)
    if kind == "lasso":
        params[1:][np.abs(params[1:]) < 1e-8] = 0.0
    return params


def lambda_grid(X, y, *, kind: str) -> np.ndarray:
    """The log grid of lambda, largest first; lambda_max = max_j |z_j.(y - ybar)| / n on standardised z."""
    Z, _, _ = _standardise(np.asarray(X, dtype=float))
    y = np.asarray(y, dtype=float)
    top = float(np.max(np.abs(Z.T @ (y - y.mean()))) / len(y))
    top = top if top > 0 else 1.0
    first, last = GRID_DECADES[kind]
    return top * 10.0 ** np.linspace(first, last, GRID_POINTS)


def _folds(y, k, seed):
    """Fold of each row: events and non-events each dealt round-robin in a seeded random order."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=int)
    for value in (0.0, 1.0):
        rows = rng.permutation(np.flatnonzero(y == value))
        fold[rows] = np.arange(len(rows)) % k
    return fold


def choose_lambda(X, y, *, kind: str, seed: int, folds: int = FOLDS):
    """(lambda, grid, held-out deviance per lambda): the grid value with the smallest summed deviance."""
    X, y = _as_arrays(X, y)
    grid = lambda_grid(X, y, kind=kind)
    fold = _folds(y, folds, seed)
    deviance = np.zeros(len(grid))
    for f in range(folds):
        train, test = fold != f, fold == f
        Z, mean, sd = _standardise(X[train])
        model = _penalised_model(np.column_stack([np.ones(len(Z)), Z]), y[train], kind=kind)
        start = None  # each fit starts from the previous, larger lambda's: a warm start along the path
        for i, lam in enumerate(grid):
            start = _fit_standardised(model, kind=kind, lam=lam, start=start)
            b0, b = start[0] - np.sum(start[1:] * mean / sd), start[1:] / sd
            p = np.clip(1 / (1 + np.exp(-(b0 + X[test] @ b))), 1e-12, 1 - 1e-12)
            deviance[i] -= 2 * np.sum(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p))
    return float(grid[int(np.argmin(deviance))]), grid, deviance


def fit_cox(X, time, status, *, horizon: float) -> Fit:
    """Cause-specific Cox model of the event (status 1) on X, with the baseline survival at the horizon."""
    X = np.asarray(X, dtype=float)
    X = X.reshape(len(X), -1)
    time = np.asarray(time, dtype=float).reshape(-1)
    status = np.asarray(status, dtype=float).reshape(-1)
    if not (len(X) == len(time) == len(status)):
        raise ValueError("X, time and status differ in length")
    if np.isnan(X).any() or np.isnan(time).any() or np.isnan(status).any():
        raise ValueError("missing values: impute them or drop the rows before fitting")
    if not np.isin(status, (0.0, 1.0, 2.0)).all():
        raise ValueError("status must be 0 (censored), 1 (event) or 2 (competing event)")
    event = (status == 1).astype(float)
    if not event.any():
        raise ValueError("no event: a Cox model cannot be fitted")
    result = PHReg(time, X, status=event, ties="breslow").fit()
    coef = np.asarray(result.params, dtype=float)
    term_means = X.mean(axis=0)
    lp_mean = float(term_means @ coef)
    return Fit(
        kind="cox",
        intercept=None,
        coef=coef,
        covariance=np.asarray(result.cov_params()),
        baseline_survival=breslow_survival(time, event, X @ coef - lp_mean, horizon),
        lp_mean=lp_mean,
        term_means=term_means,
        converged=bool(getattr(result, "converged", True)),
    )


def breslow_survival(time, event, lp, horizon: float) -> float:
    """Breslow's baseline survival at the horizon for linear predictors lp (module docstring)."""
    weight = np.exp(lp)
    hazard = 0.0
    for t in np.unique(time[(event == 1) & (time <= horizon)]):
        hazard += np.sum((time == t) & (event == 1)) / np.sum(weight[time >= t])
    return float(np.exp(-hazard))
