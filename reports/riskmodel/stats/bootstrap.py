"""Internal validation by the bootstrap: Harrell's optimism correction. Pure.

Harrell, Lee & Mark, Stat Med 1996;15:361-387; Steyerberg, Clinical Prediction Models (2nd ed. 2019),
section 17.3. ``procedure(frame, rng)`` is the WHOLE model-building procedure (imputation, splines,
penalisation, any selection) and returns a fitted model; ``evaluate(model, frame)`` returns its performance
on a frame as {name: value}, e.g. {"c", "brier", "slope", "citl"}.

1. Apparent performance: fit on the original data D, evaluate on D.
2. For b = 1..B: draw D_b, n rows of D with replacement; fit on D_b; evaluate that model on D_b and on D.
   optimism_b = performance on D_b - performance on D.
3. optimism = mean of optimism_b; corrected = apparent - optimism, for every metric.
The shrinkage factor is the corrected calibration slope (the slope "slope" the bootstrap models have on the
original data, averaged; the apparent slope of an unpenalised logistic model is 1).

Reproducible: one numpy ``Generator(PCG64(seed))`` draws the resamples' rows and is also handed to every
``procedure`` call (apparent first, then each resample in turn), so the same data, procedure and seed give the
same numbers. A resample whose fit or evaluation fails (the procedure raises ValueError, ArithmeticError,
LinAlgError or statsmodels' PerfectSeparationError, e.g. no event in the resample; or a metric is not
finite) is dropped and redrawn, and counted in "failed"; after ``resamples`` failures in all it gives up
with a ValueError. ``progress(done, resamples)`` is called after every resample kept.
"""

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import PerfectSeparationError

Procedure = Callable[[pd.DataFrame, np.random.Generator], Any]
Evaluate = Callable[[Any, pd.DataFrame], Mapping[str, Any]]
Progress = Callable[[int, int], None]

# What a procedure raises when a resample cannot be fitted (no event, separation, a singular matrix).
FAILURES = (ValueError, ArithmeticError, np.linalg.LinAlgError, PerfectSeparationError)


def _metrics(values: Mapping[str, Any]) -> dict[str, float]:
    """{name: float}; an Interval (or any tuple) counts by its estimate. ValueError if one is not finite."""
    metrics = {}
    for name, value in values.items():
        number = float(value[0] if isinstance(value, tuple) else value)
        if not math.isfinite(number):
            raise ValueError(f"The metric {name} is not finite.")
        metrics[name] = number
    return metrics


def optimism(
    frame: pd.DataFrame,
    procedure: Procedure,
    evaluate: Evaluate,
    *,
    resamples: int,
    seed: int,
    progress: Progress | None = None,
) -> dict:
    """Harrell's bootstrap optimism correction of every metric ``evaluate`` returns.

    {"resamples", "failed", "seed", "apparent": {...}, "optimism": {...}, "corrected": {...},
    "shrinkage": corrected "slope" or None}: "apparent" is the development result's "apparent", the rest its
    "internal".
    """
    if resamples < 1:
        raise ValueError("There must be at least one resample.")
    if not len(frame):
        raise ValueError("There are no rows to resample.")
    rng = np.random.Generator(np.random.PCG64(seed))
    apparent = _metrics(evaluate(procedure(frame, rng), frame))
    total = dict.fromkeys(apparent, 0.0)
    done = failed = 0
    while done < resamples:
        rows = rng.integers(0, len(frame), size=len(frame))
        sample = frame.iloc[rows].reset_index(drop=True)
        try:
            model = procedure(sample, rng)
            on_sample = _metrics(evaluate(model, sample))
            on_original = _metrics(evaluate(model, frame))
        except FAILURES as error:
            failed += 1
            if failed >= resamples:
                raise ValueError(f"{failed} resamples could not be fitted; the last: {error}") from error
            continue
        for name in total:
            total[name] += on_sample[name] - on_original[name]
        done += 1
        if progress is not None:
            progress(done, resamples)
    mean_optimism = {name: value / resamples for name, value in total.items()}
    corrected = {name: apparent[name] - mean_optimism[name] for name in apparent}
    return {
        "resamples": resamples,
        "failed": failed,
        "seed": seed,
        "apparent": apparent,
        "optimism": mean_optimism,
        "corrected": corrected,
        "shrinkage": corrected.get("slope"),
    }
