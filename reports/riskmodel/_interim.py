"""TO BE REPLACED: stand-ins for the stats/ functions of branch h27-stats-fit that were not merged yet (fit,
impute + rubin, nomogram + points_table), with the contract's signatures, so that develop and validate run
and are tested now. Each name is taken from stats/ when it is there; delete this module once it all is.
"""

import numpy as np
import pandas as pd

try:
    from .stats.fit import breslow_survival, fit_cox, fit_logistic
except ImportError:  # stand-in: statsmodels GLM / PHReg, as the contract describes fit.py
    import dataclasses

    import statsmodels.api as sm
    from statsmodels.duration.hazard_regression import PHReg

    @dataclasses.dataclass(frozen=True)
    class _Fit:
        kind: str
        intercept: float | None
        coef: np.ndarray
        covariance: np.ndarray | None
        lam: float | None = None
        baseline_survival: float | None = None
        lp_mean: float | None = None

    def fit_logistic(X, y, *, penalty: str = "none", seed: int = 0):
        if penalty != "none":
            raise ValueError("penalised fitting needs stats/fit.py (branch h27-stats-fit)")
        result = sm.GLM(y, sm.add_constant(X, has_constant="add"), family=sm.families.Binomial()).fit()
        params = np.asarray(result.params)
        return _Fit("logistic", float(params[0]), params[1:], np.asarray(result.cov_params()))

    def breslow_survival(time, event, lp, horizon: float) -> float:
        weight, hazard = np.exp(lp), 0.0
        for t in np.unique(time[(event == 1) & (time <= horizon)]):
            hazard += np.sum((time == t) & (event == 1)) / np.sum(weight[time >= t])
        return float(np.exp(-hazard))

    def fit_cox(X, time, status, *, horizon: float):
        event = (np.asarray(status) == 1).astype(float)
        if not event.any():
            raise ValueError("no event: a Cox model cannot be fitted")
        result = PHReg(time, X, status=event, ties="breslow").fit()
        coef = np.asarray(result.params, dtype=float)
        lp_mean = float(X.mean(axis=0) @ coef)
        baseline = breslow_survival(np.asarray(time), event, X @ coef - lp_mean, horizon)
        return _Fit("cox", None, coef, np.asarray(result.cov_params()), None, baseline, lp_mean)


try:
    from .stats.impute import impute, rubin
except ImportError:  # stand-in: statsmodels' MICEData (predictive mean matching), Rubin's rules
    from statsmodels.imputation.mice import MICEData

    def impute(frame, columns, *, outcome, m, iterations, seed) -> list[pd.DataFrame]:
        used = [*columns, *outcome]
        rng = np.random.default_rng(seed)
        mice = MICEData(frame[used].reset_index(drop=True).copy(), rng=rng)
        copies = []
        for _ in range(m):
            mice.update_all(iterations)
            copy = frame.reset_index(drop=True).copy()
            copy[list(columns)] = mice.data[list(columns)].to_numpy()
            copies.append(copy)
        return copies

    def rubin(estimates, covariances):
        estimates = np.asarray(estimates, dtype=float)
        m = len(estimates)
        within = np.mean(covariances, axis=0)
        if m == 1:
            return estimates[0], within
        between = np.atleast_2d(np.cov(estimates, rowvar=False, ddof=1))
        return estimates.mean(axis=0), within + (1 + 1 / m) * between


try:
    from .stats.nomogram import nomogram, points_table
except ImportError:  # stand-in: no nomogram until stats/nomogram.py is merged

    def nomogram(model: dict) -> dict:
        return {}

    def points_table(model: dict) -> list:
        return []


try:
    from .stats.bootstrap import optimism
except ImportError:  # stand-in: Harrell's optimism with stats/bootstrap.py's contract (branch h27-stats-perf)

    def optimism(frame, procedure, evaluate, *, resamples, seed, progress=None) -> dict:
        rng = np.random.Generator(np.random.PCG64(seed))
        apparent = {k: float(v) for k, v in evaluate(procedure(frame, rng), frame).items()}
        total, done, failed = dict.fromkeys(apparent, 0.0), 0, 0
        while done < resamples:
            sample = frame.iloc[rng.integers(0, len(frame), size=len(frame))].reset_index(drop=True)
            try:
                model = procedure(sample, rng)
                on_sample, on_original = evaluate(model, sample), evaluate(model, frame)
            except (ValueError, ArithmeticError, np.linalg.LinAlgError):
                failed += 1
                if failed >= resamples:
                    raise
                continue
            for name in total:
                total[name] += on_sample[name] - on_original[name]
            done += 1
            if progress is not None:
                progress(done, resamples)
        mean = {name: value / resamples for name, value in total.items()}
        corrected = {name: apparent[name] - mean[name] for name in apparent}
        return {
            "resamples": resamples,
            "failed": failed,
            "seed": seed,
            "apparent": apparent,
            "optimism": mean,
            "corrected": corrected,
            "shrinkage": corrected.get("slope"),
        }
