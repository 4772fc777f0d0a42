"""The fixed words of the accuracy report, by the codes of its figures (reports/stard), in the active
language."""

from django.utils.translation import gettext as _

from trial.models.screening import NotEnrolledReason

from ...accuracy import REASONS


def cohort_name(code: str) -> str:
    return {
        "development": _("Development centre"),
        "external_validation": _("External validation centre"),
    }.get(code, code)


def measure_name(code: str) -> str:
    return {
        "auc": _("AUC"),
        "sensitivity": _("Sensitivity"),
        "specificity": _("Specificity"),
        "accuracy": _("Accuracy"),
        "ppv": _("PPV"),
        "npv": _("NPV"),
    }[code]


def interval_name(code: str) -> str:
    return {"wilson": _("Wilson"), "clopper-pearson": _("Clopper-Pearson (exact)")}.get(code, code)


def flow_reason(code: str, model: str = "") -> str:
    """Why a case or vertebra left the flow."""
    texts = {
        "awaiting": _("no decision yet"),  # eligible, not registered, no reason recorded
        "withdrawn": _("case withdrawn"),
        "no_centre": _("site is neither a development nor an external validation centre"),
        "no_model": _("no classification model imported"),
        "training": _("in the training split of %(model)s") % {"model": model},
        "no_output": _("no output of %(model)s") % {"model": model},
        "no_case": _("no reference-standard reading opened"),
        "reading_pending": _("reading not finished"),
        "cancelled": _("reading cancelled"),
        "no_answer": _("final reading without an answer"),
        "unknown": _("criterion not recorded"),
    }
    if code in NotEnrolledReason.values:
        return str(NotEnrolledReason(code).label)
    return texts.get(code, code)


def reason_text(code: str | None) -> str:
    """Why a statistic is missing, in the active language."""
    if not code:
        return ""
    report = {
        "no_development_vertebrae": _("No analysed vertebra at the development centre."),
        "development_one_class": _("The development centre needs both acute and chronic vertebrae."),
    }
    if code in report:
        return report[code]
    return _(REASONS[code]) if code in REASONS else code
