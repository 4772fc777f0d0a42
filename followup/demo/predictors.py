"""The predictors of the demo's true re-fracture model (rates.REFRACTURE_TRUTH) from what the database holds.

Each value is computed from the stored forms by the analysis dataset's own rule (reports/exports/analysis.py
and reports/derived.py, restated here: followup cannot import reports), so that the model the demo draws from
is the model the workbench fits on the analysis dataset's columns:
- `age` at screening (years), `female` from the screening's sex;
- `baseline_bmi`: the baseline form's derived BMI; `baseline_glucocorticoids`, `baseline_vas_preop` (mm);
  `anti_osteoporosis`: a current bisphosphonate, denosumab, teriparatide or raloxifene (current_treatment);
- `t_score_min`: the lowest of the lumbar, femoral-neck and total-hip T-scores (DXA form);
- `fractures_n`: the rows of the fracture-levels form (acute and old fractures);
- `leakage`: any treated level leaking; `leakage_intradiscal`: a leak located intradiscal or of Yeom type D;
- `pdff_mean`, `r2star_mean`: the mean over the measured vertebrae neither fractured nor cemented (qMRI).
A value the forms do not hold (a draft still missing it, a form not keyed yet, an exam not done, a value not
recorded: crf/demo/rates.py NOT_DONE, NOT_RECORDED) is None here; the draw then uses
rates.REFRACTURE_FALLBACK.
"""

import math
from collections.abc import Mapping

from .rates import ANTI_OSTEOPOROSIS, REFRACTURE_FALLBACK, REFRACTURE_TRUTH

T_SCORES = ("t_lumbar", "t_femoral_neck", "t_total_hip")


def _number(value) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _flag(value) -> int | None:
    return None if value is None else int(bool(value))


def _mean(rows, key: str) -> float | None:
    measured = [_number(row.get(key)) for row in rows if not row.get("fractured") and not row.get("cemented")]
    measured = [value for value in measured if value is not None]
    return sum(measured) / len(measured) if measured else None


def refracture_predictors(
    *, age: int | None, sex: str | None, forms: Mapping[str, dict | None]
) -> dict[str, float | None]:
    """The true model's predictors of one participant; `forms`: form code -> its stored data (None: no
    record)."""
    baseline, dxa = forms.get("baseline"), forms.get("dxa")
    levels, qmri, procedure = forms.get("fracture_levels"), forms.get("qmri"), forms.get("procedure")
    values: dict[str, float | None] = {
        "age": None if age is None else float(age),
        "female": None if sex is None else int(sex == "female"),
    }
    current = set((baseline or {}).get("current_treatment") or ())
    values |= {
        "baseline_bmi": _number((baseline or {}).get("bmi")),
        "baseline_glucocorticoids": _flag((baseline or {}).get("glucocorticoids")),
        "baseline_vas_preop": _number((baseline or {}).get("vas_preop")),
        "anti_osteoporosis": int(bool(current & ANTI_OSTEOPOROSIS)) if current else None,
    }
    scores = [_number((dxa or {}).get(key)) for key in T_SCORES]
    scores = [score for score in scores if score is not None]
    values["t_score_min"] = min(scores) if scores else None
    values["fractures_n"] = None if levels is None else float(len(levels.get("fractures") or ()))
    treated = (procedure or {}).get("levels") or []
    leaks = [row.get("leakage") for row in treated]
    values["leakage"] = None if not treated or (None in leaks and True not in leaks) else int(True in leaks)
    values["leakage_intradiscal"] = (
        int(
            any(
                "intradiscal" in (row.get("leakage_location") or []) or "D" in (row.get("leakage_type") or [])
                for row in treated
            )
        )
        if treated
        else None
    )
    vertebrae = (qmri or {}).get("vertebrae") or []
    values["pdff_mean"], values["r2star_mean"] = _mean(vertebrae, "pdff"), _mean(vertebrae, "r2star")
    return values


def refracture_probability(values: Mapping[str, float | None]) -> float:
    """The true model's risk of an adjudicated new fracture within the horizon (a missing value: the
    fallback)."""
    logit = REFRACTURE_TRUTH["intercept"] + sum(
        coefficient * (REFRACTURE_FALLBACK[name] if values.get(name) is None else values[name])
        for name, coefficient in REFRACTURE_TRUTH.items()
        if name != "intercept"
    )
    return 1 / (1 + math.exp(-logit))
