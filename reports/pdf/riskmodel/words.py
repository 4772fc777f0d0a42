# The report typesets the prime of spline terms:
# ruff: noqa: RUF001
"""The fixed words of the risk-model reports, by the codes of their results (reports/riskmodel/README.md), in
the active language."""

from django.utils.translation import gettext as _

from ..fmt import label


def report_name(kind: str) -> str:
    if kind == "development":
        return _("Prediction model: development and internal validation (TRIPOD+AI)")
    return _("Prediction model: external validation (TRIPOD+AI)")


def section_name(code: str) -> str:
    return {
        "methods": _("Methods"),
        "cohort": _("The model and the validation cohort"),
        "flow": _("Participant flow"),
        "sample_size": _("Sample size"),
        "missing": _("Missing data"),
        "model": _("The fitted model"),
        "effects": _("Effects of the spline predictors"),
        "performance": _("Performance"),
        "calibration": _("Calibration"),
        "decision": _("Decision-curve analysis"),
        "nomogram": _("Nomogram"),
        "recalibrated": _("Recalibrated models"),
        "checklist": _("TRIPOD+AI checklist"),
        "reproducibility": _("Reproducibility"),
        "title": _("Title page"),
    }.get(code, code)


def measure_name(code: str, *, cox: bool = False) -> str:
    return {
        "c": _("Harrell's C") if cox else _("C statistic"),
        "brier": _("Brier score"),
        "slope": _("Calibration slope"),
        "citl": _("Calibration-in-the-large"),
    }[code]


def criterion_name(code: str) -> str:
    """Riley et al.'s criteria (BMJ 2020)."""
    return {
        "shrinkage": _("(i) Small overfitting: expected shrinkage 0.9 or more"),
        "optimism": _("(ii) Small optimism in the apparent Nagelkerke R²: at most 0.05"),
        "intercept": _("(iii) Precise overall risk: intercept within ±0.05"),
        "rate": _("(iv) Precise overall event rate: within ±0.05"),
    }.get(code, code)


def ratio_name(model: dict) -> str:
    return _("Hazard ratio") if model["type"] == "cox" else _("Odds ratio")


def recalibration_name(code: str) -> str:
    return {
        "intercept": _("Intercept updated (recalibration-in-the-large)"),
        "intercept_slope": _("Intercept and slope updated (logistic recalibration)"),
    }.get(code, code)


def source_name(code: str) -> str:
    return {
        "study": _("another study in this installation"),
        "later_cut": _("a later data cut of the same study (temporal validation)"),
        "import": _("an imported dataset"),
    }.get(code, code)


def penalty_text(penalty: dict) -> str:
    kind = (penalty or {}).get("kind") or "none"
    if kind == "none":
        return _("none (maximum likelihood)")
    name = {"ridge": _("ridge"), "lasso": _("LASSO")}.get(kind, kind)
    if penalty.get("lambda") is None:
        return name
    return _("%(name)s, λ = %(value)s") % {"name": name, "value": f"{penalty['lambda']:.4g}"}


def printable(text: str) -> str:
    """`text` in the report's font: it has no superscript minus (s⁻¹ prints with a true minus sign)."""
    return text.replace("\u207b", "\u2212")


class Predictors:
    """The predictors of a model's design, by code: their labels, units and terms."""

    def __init__(self, model: dict, language: str):
        self.language = language
        design = (model or {}).get("design") or {}
        self.by_code = {p["code"]: p for p in design.get("predictors", [])}

    def name(self, code: str | None, fallback: dict | str | None = None) -> str:
        """A predictor's label; `fallback` (a label) or its code when the design does not have it."""
        predictor = self.by_code.get(code)
        if predictor:
            return printable(label(predictor["label"], self.language))
        return printable(label(fallback, self.language)) or code or ""

    def name_unit(self, code: str, fallback: dict | str | None = None) -> str:
        predictor = self.by_code.get(code)
        if predictor and predictor.get("unit"):
            return f"{self.name(code)} ({printable(predictor['unit'])})"
        return self.name(code, fallback)

    def term(self, term: str, code: str | None) -> str:
        """A term's name: its predictor's, with the spline term's primes (age'' for the second)."""
        if code and term.startswith(code):
            return self.name(code) + term[len(code) :].replace("'", "′")
        return term

    def is_binary(self, code: str) -> bool:
        predictor = self.by_code.get(code)
        return bool(predictor) and predictor.get("type") == "binary"
