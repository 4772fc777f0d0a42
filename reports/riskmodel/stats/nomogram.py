"""The nomogram (points chart) of a model, from its JSON alone (Harrell RMS 2015, 10.10; rms::nomogram).

Each predictor j contributes f_j(x) = sum of its terms' coefficients times its design columns at x. Over the
predictor's observed range (its stored [lo, hi]; 0 and 1 for a binary one; a continuous one on a grid of
GRID points, so a spline's turning point is found to within 1/500 of the range) f_j runs from min_j to
max_j. The predictor whose range max_j - min_j is widest gets 100 points; every other is on the same scale:

    points_j(x) = (f_j(x) - min_j) * K,    K = 100 / max over j of (max_j - min_j)   (points per unit of lp)
    total points P = sum_j points_j(x_j);  lp = lp0 + P / K,  lp0 = b0 + sum_j min_j   (Cox: - lp_mean too)

and the risk is the model's (predict.py) at that lp. A spline's points go up and down with x: its scale is
drawn as the curve, with ticks at round values of x carrying their own points. Values outside the observed
range are extrapolated by the same formula (points below 0 or above the predictor's maximum).
"""

import math
from collections.abc import Mapping

import numpy as np

from .predict import checked_values, design_of, risk_of_lp

GRID = 501
RISKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) from lo to hi inclusive, about `target` of them."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(target - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + 1e-9 * step:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _pieces(model: Mapping):
    """Per predictor: (predictor, its coefficients, grid of x, f on the grid); lp0; K."""
    design = design_of(model)
    coef = np.asarray(model["coefficients"], dtype=float)
    pieces = []
    for predictor, block in zip(design.predictors, design.slices().values(), strict=True):
        lo, hi = predictor.range
        x = np.array([0.0, 1.0]) if predictor.type == "binary" else np.linspace(lo, hi, GRID)
        pieces.append((predictor, coef[block], x, predictor.columns(x) @ coef[block]))
    widest = max((np.ptp(f) for *_, f in pieces), default=0.0)
    scale = 100 / widest if widest > 0 else 0.0
    lp0 = sum(float(f.min()) for *_, f in pieces)
    lp0 += float(model["intercept"]) if model["type"] == "logistic" else -float(model["lp_mean"])
    return pieces, lp0, scale


def _lp_of_risk(model: Mapping, r: float) -> float:
    if model["type"] == "logistic":
        return math.log(r / (1 - r))
    return math.log(math.log(1 - r) / math.log(float(model["baseline_survival"])))


def nomogram(model: Mapping) -> dict:
    """The chart's data: a points scale per predictor, the total-points axis and its risk ticks.

    {"points_per_lp": K, "lp_at_zero": lp0, "scales": [{"predictor", "label", "unit", "type", "max_points",
    "ticks": [{"value", "points"}], "curve": {"x", "points"} (splines only)}], "total": {"max", "ticks"},
    "risk": [{"risk", "points"}]}; points are rounded to 0.1 here, exact in points().
    """
    pieces, lp0, scale = _pieces(model)
    scales = []
    for predictor, b, x, f in pieces:
        low = float(f.min())
        ticks = [0.0, 1.0] if predictor.type == "binary" else nice_ticks(*predictor.range)
        tick_points = (predictor.columns(np.asarray(ticks)) @ b - low) * scale
        entry = {
            "predictor": predictor.code,
            "label": predictor.label,
            "unit": predictor.unit,
            "type": predictor.type,
            "max_points": round(float(np.ptp(f)) * scale, 1),
            "ticks": [
                {"value": v, "points": round(float(p), 1)} for v, p in zip(ticks, tick_points, strict=True)
            ],
        }
        if predictor.transform == "rcs":
            step = max(1, (GRID - 1) // 100)  # 101 points draw the curve smoothly enough
            entry["curve"] = {
                "x": [round(float(v), 6) for v in x[::step]],
                "points": [round(float(p), 2) for p in (f[::step] - low) * scale],
            }
        scales.append(entry)
    total_max = sum(float(np.ptp(f)) * scale for *_, f in pieces)
    risks = []
    if scale > 0:
        for r in RISKS:
            at = (_lp_of_risk(model, r) - lp0) * scale
            if 0 <= at <= total_max:
                risks.append({"risk": r, "points": round(at, 1)})
    return {
        "type": model["type"],
        "points_per_lp": scale,
        "lp_at_zero": lp0,
        "scales": scales,
        "total": {"max": round(total_max, 1), "ticks": nice_ticks(0.0, total_max, target=8)},
        "risk": risks,
    }


def points_table(model: Mapping) -> list[dict]:
    """Rows {predictor, value, points}: each predictor's ticks and their points (rounded to 0.1)."""
    return [
        {"predictor": scale["predictor"], "value": tick["value"], "points": tick["points"]}
        for scale in nomogram(model)["scales"]
        for tick in scale["ticks"]
    ]


def points_each(model: Mapping, values: Mapping) -> dict[str, float]:
    """One patient's points per predictor, {code: points} in the design's order (exact, as the chart reads
    them); ValueError naming a missing or wrong value, as predict does."""
    checked = checked_values(model, values)
    pieces, _, scale = _pieces(model)
    found = {}
    for predictor, b, _, f in pieces:
        contribution = float(predictor.columns([checked[predictor.code]])[0] @ b)
        found[predictor.code] = (contribution - float(f.min())) * scale
    return found


def points(model: Mapping, values: Mapping) -> float:
    """One patient's total points (exact): the sum of points_each."""
    return sum(points_each(model, values).values())


def risk_of_points(model: Mapping, total: float) -> float:
    """The risk a total of points reads off the chart: the model's risk at lp = lp0 + total / K."""
    _, lp0, scale = _pieces(model)
    return float(risk_of_lp(model, lp0 + (total / scale if scale else 0.0)))
