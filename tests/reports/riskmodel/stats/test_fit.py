"""reports/riskmodel/stats/fit.py against scikit-learn and statsmodels' Logit (logistic, ridge, lasso), a Cox
partial likelihood written out here and maximised by scipy, a hand Breslow estimator, and recovery of known
coefficients from simulated data."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize, stats
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from reports.riskmodel.stats import fit as fitting
from reports.riskmodel.stats.fit import choose_lambda, fit_cox, fit_logistic, fit_penalized


def _logistic_data(n, coef, intercept, seed):
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [rng.normal(70, 10, n), rng.integers(0, 2, n), rng.normal(-2.5, 1, n), rng.uniform(0, 30, n)]
    )[:, : len(coef)]
    p = 1 / (1 + np.exp(-(intercept + X @ coef)))
    return X, (rng.random(n) < p).astype(float)


def test_maximum_likelihood_matches_scikit_learn_and_statsmodels_logit():
    X, y = _logistic_data(400, np.array([0.04, 0.6, -0.5]), -4.0, seed=1)
    ours = fit_logistic(X, y)
    sk = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.intercept, sk.intercept_[0], atol=1e-6)
    np.testing.assert_allclose(ours.coef, sk.coef_[0], atol=1e-6)
    logit = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    np.testing.assert_allclose(ours.covariance, logit.cov_params(), rtol=1e-6)
    assert ours.penalty == "none" and ours.lam is None and ours.converged


@pytest.mark.parametrize("kind", ["ridge", "lasso"])
def test_penalised_fits_match_scikit_learn_with_the_same_c(kind):
    """At a fixed lambda, with C = 1 / (n lambda) on StandardScaler's columns; back on X's scale by dividing
    by the SD (and moving the intercept by sum b* mean / sd)."""
    X, y = _logistic_data(500, np.array([0.04, 0.6, -0.5, 0.01]), -4.0, seed=2)
    n, lam = len(y), 0.02
    scaler = StandardScaler().fit(X)
    sk = LogisticRegression(
        C=1 / (n * lam),
        l1_ratio=1.0 if kind == "lasso" else 0.0,
        solver="saga" if kind == "lasso" else "newton-cholesky",
        tol=1e-12,
        max_iter=100_000,
    ).fit(scaler.transform(X), y)
    coef = sk.coef_[0] / scaler.scale_
    intercept = sk.intercept_[0] - np.sum(sk.coef_[0] * scaler.mean_ / scaler.scale_)
    b0, b = fit_penalized(X, y, kind=kind, lam=lam)
    np.testing.assert_allclose(b * scaler.scale_, sk.coef_[0], atol=1e-4)
    np.testing.assert_allclose(b, coef, atol=1e-4 / scaler.scale_.min())
    np.testing.assert_allclose(b0, intercept, atol=1e-3)
    if kind == "lasso":
        big = fit_penalized(X, y, kind=kind, lam=0.2)[1]
        assert (big == 0).sum() >= 2  # the lasso zeroes coefficients; ridge never does


def test_cross_validation_picks_the_lambda_of_a_hand_loop_over_scikit_learn(monkeypatch):
    """The same folds and grid (6 points here, to stay fast), each fold fitted by scikit-learn: the summed
    held-out deviances agree, and so does the chosen lambda."""
    monkeypatch.setattr(fitting, "GRID_POINTS", 6)
    X, y = _logistic_data(240, np.array([0.04, 0.6, -0.5, 0.0]), -3.0, seed=3)
    lam, grid, deviance = choose_lambda(X, y, kind="ridge", seed=11)
    fold = fitting._folds(y, 10, 11)
    assert np.ptp(np.bincount(fold[y == 1])) <= 1 and np.ptp(np.bincount(fold[y == 0])) <= 1  # stratified
    hand = np.zeros(len(grid))
    for f in range(10):
        train, test = fold != f, fold == f
        scaler = StandardScaler().fit(X[train])
        for i, g in enumerate(grid):
            sk = LogisticRegression(
                C=1 / (train.sum() * g), l1_ratio=0.0, solver="newton-cholesky", tol=1e-10
            )
            sk.fit(scaler.transform(X[train]), y[train])
            p = sk.predict_proba(scaler.transform(X[test]))[:, 1]
            hand[i] -= 2 * np.sum(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p))
    np.testing.assert_allclose(deviance, hand, rtol=1e-4)
    assert lam == grid[np.argmin(hand)]
    fitted = fit_logistic(X, y, penalty="ridge", seed=11)
    assert fitted.lam == lam and fitted.covariance is None and fitted.penalty == "ridge"
    assert fit_logistic(X, y, penalty="ridge", seed=11).coef.tolist() == fitted.coef.tolist()


def _cox_example():
    """Ten patients, two covariates, a tie of two events at t = 5, a competing death (status 2) at t = 4."""
    time = np.array([2.0, 3, 4, 5, 5, 6, 8, 9, 12, 15])
    status = np.array([1, 0, 2, 1, 1, 0, 1, 0, 1, 0])
    X = np.array(
        [
            [1, 0.5],
            [0, 1.2],
            [1, -0.3],
            [1, 0.8],
            [0, 0.1],
            [0, -1.0],
            [1, 0.2],
            [0, 0.4],
            [0, -0.6],
            [1, 1.5],
        ]
    )
    return X, time, status


def _breslow_partial_loglik(beta, X, time, event):
    """Breslow's partial likelihood, written out: each event time's d events over the risk set's sum, ^d."""
    lp = X @ beta
    total = 0.0
    for t in np.unique(time[event == 1]):
        dead = (time == t) & (event == 1)
        total += lp[dead].sum() - dead.sum() * np.log(np.exp(lp[time >= t]).sum())
    return total


def test_cox_matches_a_partial_likelihood_maximised_by_hand():
    X, time, status = _cox_example()
    event = (status == 1).astype(float)
    best = optimize.minimize(
        lambda b: -_breslow_partial_loglik(b, X, time, event), np.zeros(2), method="BFGS", tol=1e-12
    )
    ours = fit_cox(X, time, status, horizon=10)
    np.testing.assert_allclose(ours.coef, best.x, atol=1e-5)
    # covariance: the inverse of the negative Hessian of the partial log-likelihood, by central differences
    h, hess = 1e-4, np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h, np.eye(2)[j] * h
            f = lambda d: _breslow_partial_loglik(best.x + d, X, time, event)  # noqa: E731
            hess[i, j] = (f(ei + ej) - f(ei - ej) - f(-ei + ej) + f(-ei - ej)) / (4 * h * h)
    np.testing.assert_allclose(ours.covariance, np.linalg.inv(-hess), rtol=1e-4)
    assert ours.intercept is None and ours.kind == "cox"


def test_baseline_survival_by_a_hand_breslow_computation():
    """At the mean linear predictor: events at 2, 5 (two), 8 before the horizon 10; 12 is after it."""
    X, time, status = _cox_example()
    ours = fit_cox(X, time, status, horizon=10)
    lp = X @ ours.coef
    lp_mean = lp.mean()
    w = np.exp(lp - lp_mean)
    H = 1 / w[time >= 2].sum() + 2 / w[time >= 5].sum() + 1 / w[time >= 8].sum()
    assert ours.lp_mean == pytest.approx(lp_mean)
    assert ours.baseline_survival == pytest.approx(np.exp(-H), rel=1e-12)
    np.testing.assert_allclose(ours.term_means, X.mean(axis=0))
    # the competing death censors: coding it 0 gives the same model
    same = fit_cox(X, time, np.where(status == 2, 0, status), horizon=10)
    np.testing.assert_allclose(same.coef, ours.coef)


def test_refusals():
    X, y = _logistic_data(50, np.array([0.04]), -3.0, seed=4)
    with pytest.raises(ValueError, match="penalty"):
        fit_logistic(X, y, penalty="elastic")
    with pytest.raises(ValueError, match="missing"):
        fit_logistic(np.r_[X[:-1], [[np.nan]]], y)
    with pytest.raises(ValueError, match="0 or 1"):
        fit_logistic(X, y * 2)
    with pytest.raises(ValueError, match="no event"):
        fit_cox(X, np.arange(50.0), np.zeros(50), horizon=10)


def _covers(estimate, se, truth):
    z = stats.norm.ppf(0.975)
    return np.abs(np.asarray(estimate) - truth) <= z * np.asarray(se)


def test_logistic_recovers_known_coefficients_within_their_intervals():
    truth = np.array([0.04, 0.6, -0.5, 0.03])
    # each 95 % interval misses 1 time in 20, so 5 of them all cover about 77 % of seeds: the seed is fixed
    X, y = _logistic_data(5000, truth, -4.5, seed=6)
    ours = fit_logistic(X, y)
    assert _covers(np.r_[ours.intercept, ours.coef], ours.se, np.r_[-4.5, truth]).all()


def test_cox_recovers_known_coefficients_within_their_intervals():
    """Exponential event times with hazard 0.001 exp(x.b), uniform censoring, and a competing death."""
    rng = np.random.default_rng(6)
    n, truth = 5000, np.array([0.03, 0.5, -0.4])
    X = np.column_stack([rng.normal(70, 10, n) - 70, rng.integers(0, 2, n), rng.normal(-2.5, 1, n)])
    event_time = rng.exponential(1 / (0.001 * np.exp(X @ truth)))
    death_time = rng.exponential(1 / 0.0003, n)
    censor_time = rng.uniform(200, 800, n)
    time = np.minimum.reduce([event_time, death_time, censor_time])
    status = np.select([time == event_time, time == death_time], [1, 2], 0)
    ours = fit_cox(X, time, status, horizon=365)
    assert _covers(ours.coef, ours.se, truth).all()
    # and the baseline survival at the mean is near the truth: exp(-0.001 * 365 * exp(mean lp))
    assert ours.baseline_survival == pytest.approx(np.exp(-0.365 * np.exp(ours.lp_mean)), abs=0.02)
