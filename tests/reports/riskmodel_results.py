"""A development result and a validation result in the shapes of reports/riskmodel/README.md, for the parts
that render or store them before the computation exists: a logistic model of the 1-year re-fracture risk on
twelve predictors (age and PDFF as restricted cubic splines), its odds ratios near domain.md's, 560
participants analysed, 200 bootstrap resamples.

The numbers hang together where a reader would check them (the odds ratios are exp of the estimates, the
Riley criteria follow the paper's formulas, the nomogram is drawn from the coefficients, the net benefit of a
calibrated model from its risks) but they are an example, not a fit of data.
"""

import copy
import math
from statistics import NormalDist

from reports.riskmodel.tripod import tripod_answers

Z = 1.959964
HORIZON = 365

# code, en, zh-hans, unit, type, knots (rcs) or None, estimates per term, SE per term, range
PREDICTORS = [
    ("age", "Age", "年龄", "years", "continuous", [57.0, 66.0, 73.0, 84.0],
     [0.012, 0.071, -0.158], [0.021, 0.052, 0.118], [50.0, 95.0]),
    ("sex", "Female sex", "女性", None, "binary", None, [0.293], [0.262], [0, 1]),
    ("baseline_bmi", "Body mass index", "体重指数", "kg/m²", "continuous", None, [-0.151], [0.038],
     [15.0, 35.0]),
    ("t_score_min", "Lowest T-score", "最低T值", None, "continuous", None, [-0.329], [0.112], [-5.5, -1.0]),
    ("pdff_mean", "Mean PDFF", "平均PDFF", "%", "continuous", [38.0, 52.0, 66.0],
     [0.018, 0.036], [0.017, 0.024], [25.0, 80.0]),
    ("r2star_mean", "Mean R2*", "平均R2*", "s⁻¹", "continuous", None, [-0.016], [0.009], [20.0, 80.0]),
    ("fractures_n", "Baseline fractures", "基线骨折数", None, "continuous", None, [0.358], [0.121],
     [1.0, 5.0]),
    ("leakage", "Cement leakage", "骨水泥渗漏", None, "binary", None, [0.718], [0.251], [0, 1]),
    ("leakage_intradiscal", "Intradiscal leakage", "椎间盘内渗漏", None, "binary", None, [0.482], [0.327],
     [0, 1]),
    ("baseline_glucocorticoids", "Glucocorticoid use", "糖皮质激素使用", None, "binary", None, [0.610],
     [0.344], [0, 1]),
    ("baseline_vas_preop", "Pre-operative VAS", "术前VAS", "points", "continuous", None, [0.113], [0.054],
     [0.0, 10.0]),
    ("anti_osteoporosis", "Anti-osteoporosis treatment", "抗骨质疏松治疗", None, "binary", None, [-0.478],
     [0.243], [0, 1]),
]  # fmt: skip
INTERCEPT, INTERCEPT_SE = -1.412, 1.384
MISSING = {"pdff_mean": 46, "r2star_mean": 46, "t_score_min": 19, "baseline_bmi": 6, "baseline_vas_preop": 3}
ANALYSED, EVENTS, COMPETING = 560, 90, 14


def rcs(x: float, knots: list[float]) -> list[float]:
    """Harrell's restricted cubic spline basis at x: x, then k - 2 non-linear terms scaled by (tk - t1)²."""
    k, t = len(knots), knots
    cube = lambda u: max(u, 0.0) ** 3  # noqa: E731
    scale = (t[-1] - t[0]) ** 2
    terms = [x]
    for j in range(k - 2):
        term = (
            cube(x - t[j])
            - cube(x - t[-2]) * (t[-1] - t[j]) / (t[-1] - t[-2])
            + cube(x - t[-1]) * (t[-2] - t[j]) / (t[-1] - t[-2])
        )
        terms.append(term / scale)
    return terms


def contribution(predictor: tuple, x: float) -> float:
    """The predictor's part of the linear predictor at x."""
    knots, estimates = predictor[5], predictor[6]
    basis = rcs(x, knots) if knots else [x]
    return sum(b * v for b, v in zip(estimates, basis, strict=True))


def _terms(p: tuple) -> list[str]:
    return [p[0] + "'" * i for i in range(len(p[6]))]


def _design() -> dict:
    return {
        "predictors": [
            {
                "code": p[0],
                "label": {"en": p[1], "zh-hans": p[2]},
                "unit": p[3],
                "type": p[4],
                "transform": "rcs" if p[5] else "linear",
                "knots": p[5] or [],
                "terms": _terms(p),
                "range": p[8],
            }
            for p in PREDICTORS
        ]
    }


def _model() -> dict:
    terms = [t for p in PREDICTORS for t in _terms(p)]
    ses = [INTERCEPT_SE, *(s for p in PREDICTORS for s in p[7])]
    return {
        "format": 1,
        "type": "logistic",
        "spec_sha256": "5f1c" + "0" * 56 + "a1b2",
        "cut_sha256": "9e3d7c41" * 8,
        "horizon_days": HORIZON,
        "design": _design(),
        "terms": terms,
        "intercept": INTERCEPT,
        "coefficients": [b for p in PREDICTORS for b in p[6]],
        "covariance": [[s * s if i == j else 0.0 for j in range(len(ses))] for i, s in enumerate(ses)],
        "baseline_survival": None,
        "lp_mean": None,
        "shrinkage": 0.846,
        "penalty": {"kind": "none", "lambda": None},
        "imputations": 5,
        "seed": 20240416,
    }


def _coefficients() -> list[dict]:
    rows = []
    for p in PREDICTORS:
        for term, b, se in zip(_terms(p), p[6], p[7], strict=True):
            low, high = b - Z * se, b + Z * se
            rows.append(
                {
                    "term": term,
                    "predictor": p[0],
                    "estimate": b,
                    "se": se,
                    "low": low,
                    "high": high,
                    "ratio": math.exp(b),
                    "ratio_low": math.exp(low),
                    "ratio_high": math.exp(high),
                    "p": 2 * (1 - NormalDist().cdf(abs(b / se))),
                }
            )
    return rows


def _effects() -> list[dict]:
    effects = []
    for p in PREDICTORS:
        if not p[5]:
            continue
        lo, hi = p[8]
        xs = [lo + (hi - lo) * i / 40 for i in range(41)]
        reference = contribution(p, p[5][1])  # relative to the second knot
        estimates = [contribution(p, x) - reference for x in xs]
        # The interval widens away from the reference (an example's shape, not a delta method).
        half = [Z * (0.08 + abs(x - p[5][1]) / (hi - lo) * 0.9) for x in xs]
        effects.append(
            {
                "predictor": p[0],
                "x": xs,
                "estimate": estimates,
                "low": [e - h for e, h in zip(estimates, half, strict=True)],
                "high": [e + h for e, h in zip(estimates, half, strict=True)],
            }
        )
    return effects


def _risks() -> list[float]:
    """560 predicted risks of a logit-normal spread with mean about 16 %."""
    normal = NormalDist(-1.86, 0.78)
    return [1 / (1 + math.exp(-normal.inv_cdf((i + 0.5) / ANALYSED))) for i in range(ANALYSED)]


def _wilson(events: int, n: int) -> tuple[float, float]:
    p = events / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def _calibration(risks: list[float], *, shift: float = 0.0) -> dict:
    groups, size = [], len(risks) // 10
    for g in range(10):
        chunk = risks[g * size : (g + 1) * size]
        predicted = sum(chunk) / len(chunk)
        events = round(sum(chunk) * (1 + shift) + (1 if g % 3 == 0 else -1 if g % 3 == 1 else 0))
        events = max(0, min(events, len(chunk)))
        low, high = _wilson(events, len(chunk))
        groups.append(
            {
                "predicted": predicted,
                "observed": events / len(chunk),
                "n": len(chunk),
                "low": low,
                "high": high,
            }
        )
    xs = [0.03 + 0.01 * i for i in range(46)]
    smooth = [x * (1 + shift) * (1 - 0.25 * max(x - 0.3, 0)) for x in xs]
    return {"groups": groups, "smooth": {"predicted": xs, "observed": smooth}}


def _decision(risks: list[float], *, scale: float = 1.0) -> dict:
    thresholds = [round(0.05 + 0.01 * i, 2) for i in range(36)]
    n = len(risks)
    prevalence = sum(risks) / n * scale
    model, treat_all = [], []
    for t in thresholds:
        odds = t / (1 - t)
        tp = sum(r * scale for r in risks if r >= t) / n
        fp = sum(1 - r * scale for r in risks if r >= t) / n
        model.append(tp - fp * odds)
        treat_all.append(prevalence - (1 - prevalence) * odds)
    return {"thresholds": thresholds, "model": model, "treat_all": treat_all, "treat_none": [0.0] * 36}


def _nomogram() -> tuple[dict, list[dict]]:
    """Points: the predictor with the widest span of the linear predictor over its range gets 100."""
    spans = {}
    grids = {}
    for p in PREDICTORS:
        lo, hi = p[8]
        if p[4] == "binary":
            grid = [0, 1]
        else:
            step = {"age": 5, "pdff_mean": 5, "r2star_mean": 10, "baseline_bmi": 5}.get(p[0], 1)
            grid = [lo + step * i for i in range(int((hi - lo) / step) + 1)]
            if p[0] == "t_score_min":
                grid = [-5.5, -5, -4.5, -4, -3.5, -3, -2.5, -2, -1.5, -1]
        values = [contribution(p, x) for x in grid]
        grids[p[0]] = (grid, values)
        spans[p[0]] = max(values) - min(values)
    per_point = max(spans.values()) / 100
    scales, table = [], []
    for p in PREDICTORS:
        grid, values = grids[p[0]]
        low = min(values)
        ticks = [{"value": x, "points": (v - low) / per_point} for x, v in zip(grid, values, strict=True)]
        scales.append({"predictor": p[0], "label": {"en": p[1], "zh-hans": p[2]}, "ticks": ticks})
        table += [{"predictor": p[0], "value": t["value"], "points": round(t["points"], 1)} for t in ticks]
    floor = INTERCEPT + sum(min(grids[p[0]][1]) for p in PREDICTORS)
    total_max = sum(spans.values()) / per_point
    risk = []
    for r in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        points = (math.log(r / (1 - r)) - floor) / per_point
        if 0 <= points <= total_max:
            risk.append({"risk": r, "points": points})
    nomogram = {
        "points_per_unit": 1 / per_point,
        "scales": scales,
        "total": {"max": total_max},
        "risk": risk,
    }
    return nomogram, table


def _riley(parameters: int, prevalence: float, r2_cs: float) -> dict:
    """Riley et al. (BMJ 2020) criteria (i)-(iii) for a binary outcome."""
    shrinkage = math.ceil(parameters / ((0.9 - 1) * math.log(1 - r2_cs / 0.9)))
    lnl = prevalence * math.log(prevalence) + (1 - prevalence) * math.log(1 - prevalence)
    r2_max = 1 - math.exp(2 * lnl)
    s = r2_cs / (r2_cs + 0.05 * r2_max)
    optimism = math.ceil(parameters / ((s - 1) * math.log(1 - r2_cs / s)))
    intercept = math.ceil((1.96 / 0.05) ** 2 * prevalence * (1 - prevalence))
    required = max(shrinkage, optimism, intercept)
    return {
        "parameters": parameters,
        "prevalence": prevalence,
        "r2_cs": r2_cs,
        "criteria": [
            {"code": "shrinkage", "n": shrinkage},
            {"code": "optimism", "n": optimism},
            {"code": "intercept", "n": intercept},
        ],
        "required": required,
        "available": ANALYSED,
        "events_per_parameter": EVENTS / parameters,
        "required_events": math.ceil(required * prevalence),
    }


VERSIONS = {
    "python": "3.11.2",
    "numpy": "2.4.1",
    "pandas": "2.3.3",
    "scipy": "1.17.0",
    "statsmodels": "0.15.0",
    "spinetrial": "0.27.0",
}
STUDY = {
    "code": "NCT06379243",
    "title": {
        "en": "Quantitative MRI and clinical risk factors for vertebral re-fracture after augmentation",
        "zh-hans": "定量MRI与临床危险因素预测椎体强化术后再骨折",
    },
}
CUT = {
    "source": "study",
    "study": "NCT06379243",
    "at": "2026-11-26T02:00:00+00:00",
    "sha256": "9e3d7c41" * 8,
    "rows": 640,
}


def development_result() -> dict:
    """A development result (a fresh copy each call)."""
    risks = _risks()
    nomogram, points_table = _nomogram()
    parameters = sum(len(p[6]) for p in PREDICTORS)
    result = {
        "kind": "development",
        "model": _model(),
        "spec": {
            "code": "refracture-1y",
            "title": {"en": "Re-fracture within 1 year", "zh-hans": "1年内再骨折"},
            "version": "1.0",
            "sha256": "5f1c" + "0" * 56 + "a1b2",
        },
        "study": STUDY,
        "cut": CUT,
        "reproducibility": {"seed": 20240416, "bootstrap": 200, "imputations": 5, "versions": VERSIONS},
        "flow": {
            "participants": 640,
            "pending": 12,
            "no_outcome": 68,
            "competing": COMPETING,
            "analysed": ANALYSED,
            "events": EVENTS,
        },
        "sample_size": _riley(parameters, round(EVENTS / ANALYSED, 3), 0.08),
        "missing": [
            {
                "predictor": p[0],
                "missing": MISSING.get(p[0], 0),
                "percent": 100 * MISSING.get(p[0], 0) / ANALYSED,
            }
            for p in PREDICTORS
        ],
        "coefficients": _coefficients(),
        "effects": _effects(),
        "apparent": {"c": 0.781, "brier": 0.1182, "slope": 1.0, "citl": 0.0},
        "internal": {
            "resamples": 200,
            "optimism": {"c": 0.039, "brier": -0.0076, "slope": 0.154, "citl": -0.004},
            "corrected": {"c": 0.742, "brier": 0.1258, "slope": 0.846, "citl": 0.004},
            "shrinkage": 0.846,
        },
        "calibration": _calibration(risks),
        "decision": _decision(risks),
        "nomogram": nomogram,
        "points_table": points_table,
        "tripod": tripod_answers("development"),
    }
    return copy.deepcopy(result)


def validation_result() -> dict:
    """A validation result of the model above on the sister study (a fresh copy each call)."""
    risks = _risks()[::2]  # 280 participants
    return copy.deepcopy(
        {
            "kind": "validation",
            "model": {
                "id": 7,
                "name": {"en": "Re-fracture within 1 year", "zh-hans": "1年内再骨折"},
                "sha256": "c0ffee12" * 8,
            },
            "cohort": {
                "source": "study",
                "study": {"code": "NCT06172179", "title": {"en": "Risk prediction of re-fracture after PVP",
                                                            "zh-hans": "PVP术后再骨折风险预测"}},
                "cut": {"at": "2026-11-20T00:00:00+00:00", "sha256": "ab12cd34" * 8, "rows": 312},
            },
            "flow": {"participants": 312, "pending": 5, "no_outcome": 27, "competing": 6, "analysed": 280,
                     "events": 52},
            # "label" (optional): the validation result's model has no design to name the predictors.
            "missing": [{"predictor": "pdff_mean", "label": {"en": "Mean PDFF", "zh-hans": "平均PDFF"},
                         "missing": 280, "percent": 100.0},
                        {"predictor": "r2star_mean", "label": {"en": "Mean R2*", "zh-hans": "平均R2*"},
                         "missing": 280, "percent": 100.0},
                        {"predictor": "t_score_min", "label": {"en": "Lowest T-score", "zh-hans": "最低T值"},
                         "missing": 11, "percent": 11 / 2.8}],
            "performance": {
                "c": [0.712, 0.648, 0.771],
                "brier": [0.1391, 0.1210, 0.1573],
                "slope": [0.78, 0.52, 1.06],
                "citl": [0.21, -0.08, 0.49],
                "observed": 52,
                "expected": 44.6,
            },
            "calibration": _calibration(risks, shift=0.17),
            "decision": _decision(risks, scale=1.17),
            "recalibrated": [
                {"name": "intercept", "intercept": 0.214, "slope": 1.0,
                 "performance": {"c": [0.712, 0.648, 0.771], "brier": [0.1366, 0.1190, 0.1541],
                                 "slope": [0.78, 0.52, 1.06], "citl": [0.0, -0.29, 0.28]}},
                {"name": "intercept_slope", "intercept": -0.131, "slope": 0.78,
                 "performance": {"c": [0.712, 0.648, 0.771], "brier": [0.1352, 0.1181, 0.1529],
                                 "slope": [1.0, 0.67, 1.36], "citl": [0.0, -0.29, 0.28]}},
            ],
            "reproducibility": {"seed": 20240416, "bootstrap": 200, "imputations": 5, "versions": VERSIONS},
            "tripod": tripod_answers("validation"),
        }
    )  # fmt: skip
