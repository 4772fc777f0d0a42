"""Develop a model and validate it internally (README.md, "The development result").

The procedure (procedure.py: impute m times, design, fit each, pool by Rubin's rules) is run on the data and
then, in full, in every bootstrap resample (Harrell's optimism correction, RMS 2nd ed. 5.3.5): the optimism
of a metric is its value on the resample minus its value on the original data (averaged over the original's
m imputations), and the corrected value is the apparent one minus the mean optimism. The corrected
calibration slope is the uniform shrinkage factor: with `shrinkage: bootstrap` and no penalty it multiplies
the coefficients and the intercept (or the baseline survival) is estimated again with the shrunk linear
predictor as an offset (Steyerberg, Clinical Prediction Models, 2nd ed., 13.2).

Deterministic: every random draw comes from `seed` (the resamples, each procedure's imputations), so the
same spec, data and arguments give the same result JSON byte for byte.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy

from .data import ModelData
from .procedure import METRICS, Fitted, Settings, mean_risk, performance, procedure, shrink
from .results import (
    coefficient_rows,
    effect_curves,
    jsonable,
    model_json,
    reproducibility,
    sample_size,
    tripod_items,
)
from .spec import ModelSpec
from .stats.bootstrap import optimism
from .stats.decision import decision_curve
from .stats.missing import missingness
from .stats.nomogram import nomogram, points_table
from .stats.performance import calibration_curve

Progress = Callable[[str, int, int], None]

# The step codes develop() and validate() pass to progress(), named for the job's page.
STEPS = {
    "fit": gettext_lazy("Imputing and fitting the model"),
    "bootstrap": gettext_lazy("Internal validation: bootstrap resamples"),
    "report": gettext_lazy("Calibration, decision curve and nomogram"),
    "validate": gettext_lazy("Validating the model on the cohort"),
}


@dataclass(frozen=True)
class Developed:
    """The development result (JSON-ready dict) and the model it holds (result["model"])."""

    result: dict
    model: dict


def _no_progress(step: str, done: int, total: int) -> None:
    return None


def develop(
    spec: ModelSpec,
    data: ModelData,
    *,
    bootstrap: int | None = None,
    imputations: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    study: dict | None = None,
) -> Developed:
    """Develop the spec's model on `data` and validate it by the bootstrap; None takes the spec's value.

    `study` is {"code", "title"} for the result (the command and the job pass the study's)."""
    progress = progress or _no_progress
    resamples = spec.validation.bootstrap if bootstrap is None else bootstrap
    seed = spec.validation.seed if seed is None else seed
    settings = Settings.of(spec, imputations=imputations)
    frame = data.frame
    _check_outcome(frame, settings)
    fitted: dict = {}  # the apparent model: the procedure's first call, on the original frame

    def run(sample: pd.DataFrame, rng: np.random.Generator) -> Fitted:
        model = procedure(sample, settings, seed=int(rng.integers(0, 2**31 - 1)))
        if sample is frame:
            fitted["apparent"] = model
        return model

    def evaluate(model: Fitted, on: pd.DataFrame) -> dict:
        # On the original data: its m imputations (the apparent procedure's), averaged; on a resample: the
        # imputations that resample's own procedure drew.
        imputed = fitted["apparent"].imputed if on is frame else model.imputed
        return performance(model, imputed, settings.horizon)

    progress("fit", 0, 1)
    if resamples:
        bootstrap_result = optimism(
            frame,
            run,
            evaluate,
            resamples=resamples,
            seed=seed,
            progress=lambda done, total: progress("bootstrap", done, total),
        )
        apparent = bootstrap_result["apparent"]
    else:  # no internal validation asked for: the apparent model alone
        model = run(frame, np.random.Generator(np.random.PCG64(seed)))
        apparent, bootstrap_result = evaluate(model, frame), None
    apparent_fit = fitted["apparent"]
    progress("fit", 1, 1)
    internal = _internal(bootstrap_result, resamples)

    size = sample_size(spec, data, apparent_fit, settings)
    factor = 1.0
    final = apparent_fit
    if spec.model.shrinkage == "bootstrap" and spec.model.penalty == "none" and bootstrap_result:
        factor = float(internal["corrected"]["slope"])
        final = shrink(apparent_fit, factor, settings)
    internal["shrinkage"] = factor

    progress("report", 0, 1)
    model = model_json(final, spec, data, settings, factor=factor, seed=seed)
    result = _result(spec, data, settings, final, model, apparent, internal, size, study, seed, resamples)
    progress("report", 1, 1)
    return Developed(result=result, model=model)


def _check_outcome(frame: pd.DataFrame, settings: Settings) -> None:
    from trial.errors import InvalidInput

    events = int((frame["status"] == 1).sum())
    known = frame["y"].notna() if settings.kind == "logistic" else frame["time"].notna()
    if events == 0 or events == int(known.sum()):
        raise InvalidInput(
            gettext_lazy("A model needs participants with and without the event; this data has %(n)s events.")
            % {"n": events}
        )


def _internal(found: dict | None, requested: int) -> dict:
    """The result's "internal" from stats.bootstrap.optimism's answer (None: no resamples were asked for)."""
    if found is None:
        empty = dict.fromkeys(METRICS)
        return {"resamples": 0, "failed": 0, "optimism": empty, "corrected": dict(empty)}
    return {key: found[key] for key in ("resamples", "failed", "optimism", "corrected")}


def _result(spec, data, settings, final: Fitted, model, apparent, internal, size, study, seed, resamples):
    original = final.imputed
    risk = mean_risk(final, original)
    known = data.frame["y"].notna().to_numpy()
    y = data.frame["y"].to_numpy()[known]
    thresholds = spec.validation.thresholds.values()
    return jsonable(
        {
            "kind": "development",
            "model": model,
            "spec": spec.as_dict(),
            "study": study or {"code": data.cut.get("study"), "title": None},
            "cut": data.cut,
            "reproducibility": reproducibility(seed=seed, bootstrap=resamples, imputations=len(original)),
            "flow": data.flow,
            "sample_size": size,
            "missing": missingness(data.frame, settings.codes),
            "missing_strategy": {
                "strategy": settings.strategy,
                "imputations": len(original),
                "iterations": settings.iterations if settings.strategy == "mice" else None,
            },
            "coefficients": coefficient_rows(final, settings),
            "effects": effect_curves(final, settings),
            "apparent": apparent,
            "internal": internal,
            "calibration": calibration_curve(y, risk[known]),
            "decision": decision_curve(y, risk[known], thresholds),
            "nomogram": nomogram(model),
            "points_table": points_table(model),
            "tripod": tripod_items("development"),
        }
    )
