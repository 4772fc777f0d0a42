"""The modelling procedure develop() repeats in every bootstrap resample, and the evaluation of a model on
imputed data; used by develop.py and validate.py. Pure numpy/pandas over stats/ (no Django).

The procedure (Harrell, RMS 2nd ed., 5.3; Steyerberg, Clinical Prediction Models, 2nd ed., ch. 17):
impute m times (MICE, outcome included) -> the design, knots from the stacked imputations -> fit each
imputation -> pool by Rubin's rules -> the model. Complete-case: the rows with every predictor, m = 1.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import expit

from .stats.design import Design
from .stats.fit import breslow_survival, fit_cox, fit_logistic
from .stats.impute import impute, rubin
from .stats.performance import brier, c_statistic, calibration, harrell_c

METRICS = ("c", "brier", "slope", "citl")


@dataclass(frozen=True)
class Settings:
    """What the procedure needs of the spec, so that the bootstrap does not read it again."""

    kind: str  # logistic | cox
    penalty: str
    strategy: str  # mice | complete_case
    imputations: int
    iterations: int
    horizon: int
    predictors: tuple  # the spec's Predictor entries

    @classmethod
    def of(cls, spec, *, imputations: int | None = None) -> "Settings":
        return cls(
            kind=spec.model.type,
            penalty=spec.model.penalty,
            strategy=spec.missing.strategy,
            imputations=imputations if imputations is not None else spec.missing.imputations,
            iterations=spec.missing.iterations,
            horizon=spec.outcome.horizon_days,
            predictors=tuple(spec.predictors),
        )

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.predictors]

    @property
    def outcome(self) -> list[str]:
        return ["y"] if self.kind == "logistic" else ["time", "status"]


@dataclass(frozen=True)
class Fitted:
    """A model fitted by the procedure: its design, pooled coefficients, and the imputed data it was fitted on
    (the bootstrap evaluates it there too)."""

    design: Design
    intercept: float | None
    coef: np.ndarray
    covariance: np.ndarray | None
    baseline_survival: float | None
    lp_mean: float | None
    lam: float | None
    imputed: list[pd.DataFrame]

    def lp(self, X: np.ndarray) -> np.ndarray:
        """The linear predictor: b0 + X.b (logistic), X.b - lp_mean (Cox)."""
        if self.intercept is not None:
            return self.intercept + X @ self.coef
        return X @ self.coef - self.lp_mean

    def risk(self, X: np.ndarray) -> np.ndarray:
        """The risk by the horizon (README.md's formulas)."""
        lp = self.lp(X)
        if self.intercept is not None:
            return expit(lp)
        return 1 - self.baseline_survival ** np.exp(lp)


def imputations(frame: pd.DataFrame, settings: Settings, *, seed: int) -> list[pd.DataFrame]:
    """The m completed copies of `frame` (one, unchanged, when nothing is missing); complete-case: the rows
    with every predictor."""
    codes = settings.codes
    if settings.strategy == "complete_case":
        return [frame.dropna(subset=codes).reset_index(drop=True)]
    if not frame[codes].isna().to_numpy().any():
        return [frame]
    return impute(
        frame,
        codes,
        outcome=settings.outcome,
        m=settings.imputations,
        iterations=settings.iterations,
        seed=seed,
    )


def _fit_one(data: pd.DataFrame, design: Design, settings: Settings, seed: int):
    X = design.matrix(data)
    if settings.kind == "logistic":
        rows = data["y"].notna().to_numpy()
        return fit_logistic(X[rows], data["y"].to_numpy()[rows], penalty=settings.penalty, seed=seed)
    return fit_cox(X, data["time"].to_numpy(), data["status"].to_numpy(), horizon=settings.horizon)


def procedure(frame: pd.DataFrame, settings: Settings, *, seed: int) -> Fitted:
    """Impute, design, fit each imputation, pool (Rubin): the whole procedure on `frame`."""
    imputed = imputations(frame, settings, seed=seed)
    design = Design.fit(pd.concat(imputed, ignore_index=True), settings.predictors)
    fits = [_fit_one(data, design, settings, seed) for data in imputed]
    logistic = settings.kind == "logistic"
    estimates = [np.concatenate([[f.intercept], f.coef]) if logistic else f.coef for f in fits]
    penalised = any(f.covariance is None for f in fits)  # no sampling covariance to pool
    pooled = rubin(estimates, None if penalised else [f.covariance for f in fits])
    estimate, covariance = pooled.estimate, pooled.covariance
    baseline = lp_mean = None
    if not logistic:
        baseline = float(np.mean([f.baseline_survival for f in fits]))
        lp_mean = float(np.mean([f.lp_mean for f in fits]))
    lams = [f.lam for f in fits if f.lam is not None]
    return Fitted(
        design=design,
        intercept=float(estimate[0]) if logistic else None,
        coef=np.asarray(estimate[1:] if logistic else estimate, dtype=float),
        covariance=None if covariance is None else np.asarray(covariance, dtype=float),
        baseline_survival=baseline,
        lp_mean=lp_mean,
        lam=float(np.mean(lams)) if lams else None,
        imputed=imputed,
    )


def performance(fitted: Fitted, imputed: list[pd.DataFrame], horizon: int) -> dict:
    """C, Brier, calibration slope and CITL of `fitted` on each imputed copy, averaged over the copies.

    Logistic: on the participants with an outcome. Cox: Harrell's C on every participant's follow-up; Brier,
    slope and CITL of the risk by the horizon against y for those whose status at the horizon is known."""
    rows = []
    for data in imputed:
        X = fitted.design.matrix(data)
        p = fitted.risk(X)
        known = data["y"].notna().to_numpy()
        y = data["y"].to_numpy()[known]
        c = (
            c_statistic(y, p[known]).estimate
            if fitted.intercept is not None
            else harrell_c(data["time"].to_numpy(), data["status"].to_numpy(), p, horizon)
        )
        fit = calibration(y, p[known])
        rows.append((c, brier(y, p[known]).estimate, fit.slope.estimate, fit.citl.estimate))
    return dict(zip(METRICS, (float(v) for v in np.mean(rows, axis=0)), strict=True))


def mean_risk(fitted: Fitted, imputed: list[pd.DataFrame]) -> np.ndarray:
    """Each participant's risk averaged over the imputed copies (the copies keep the rows' order)."""
    return np.mean([fitted.risk(fitted.design.matrix(data)) for data in imputed], axis=0)


def _shrunk_covariance(fitted: Fitted, factor: float) -> np.ndarray:
    """The covariance of (intercept, coefficients) after uniform shrinkage, for the risk interval.

    Re-estimating the intercept with the shrunk linear predictor as offset fixes the model's mean risk to the
    observed one: in the parameterisation centred at the mean design row c, the intercept there (alpha =
    b0 + c.b) keeps its variance and the slopes become s.b. So: centre (alpha, b), scale the slopes by s,
    and go back to (b0' = alpha - s c.b, s.b). Scaling the uncentred covariance instead would keep b0's
    variance (large when the predictors' zero is far from the data, e.g. age 0) while its covariance with
    the slopes shrinks, and the interval would blow up away from zero."""
    centre = np.mean([fitted.design.matrix(data).mean(axis=0) for data in fitted.imputed], axis=0)
    k = len(centre)
    to_centred = np.eye(k + 1)
    to_centred[0, 1:] = centre  # (alpha, b) = T (b0, b)
    scale = np.diag([1.0, *([factor] * k)])
    back = np.eye(k + 1)
    back[0, 1:] = -centre  # (b0', b') = U (alpha, b')
    step = back @ scale @ to_centred
    return step @ fitted.covariance @ step.T


def shrink(fitted: Fitted, factor: float, settings: Settings) -> Fitted:
    """The coefficients times the uniform shrinkage factor; the intercept (logistic) or the baseline survival
    (Cox) re-estimated with the shrunk linear predictor as an offset, on each imputed copy, averaged."""
    coef = fitted.coef * factor
    covariance = None if fitted.covariance is None else fitted.covariance * factor**2
    intercepts, baselines, means = [], [], []
    for data in fitted.imputed:
        X = fitted.design.matrix(data)
        if fitted.intercept is not None:
            rows = data["y"].notna().to_numpy()
            model = sm.GLM(
                data["y"].to_numpy()[rows],
                np.ones((rows.sum(), 1)),
                family=sm.families.Binomial(),
                offset=X[rows] @ coef,
            )
            intercepts.append(float(model.fit().params[0]))
        else:
            lp_mean = float(X.mean(axis=0) @ coef)
            event = (data["status"].to_numpy() == 1).astype(float)
            baselines.append(
                breslow_survival(data["time"].to_numpy(), event, X @ coef - lp_mean, settings.horizon)
            )
            means.append(lp_mean)
    if covariance is not None and fitted.intercept is not None:
        covariance = _shrunk_covariance(fitted, factor)
    return Fitted(
        design=fitted.design,
        intercept=float(np.mean(intercepts)) if intercepts else None,
        coef=coef,
        covariance=covariance,
        baseline_survival=float(np.mean(baselines)) if baselines else None,
        lp_mean=float(np.mean(means)) if means else None,
        lam=fitted.lam,
        imputed=fitted.imputed,
    )
