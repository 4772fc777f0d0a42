"""The TRIPOD+AI checklist (Collins et al., BMJ 2024;385:e078378): its 27 items and their 52 sub-items, each
with a short paraphrase of what it asks (ours, not the published wording), and where the risk-model report
answers it, or why it does not apply, or what the investigators must add themselves.

The answer is a section code of the report (reports/pdf/riskmodel names and numbers the sections):
title, methods, cohort, flow, sample_size, missing, model, effects, performance, calibration, decision,
nomogram, recalibrated, checklist, reproducibility. None: the report does not answer the item.

`applies` is the checklist's own column: D (development), E (evaluation), DE (both). An item of the other kind
is listed with no answer and a note saying so, so that every item number appears in every report.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

KINDS = ("development", "validation")


@dataclass(frozen=True)
class Item:
    item: str
    applies: str  # "D", "E" or "DE"
    topic: Promise
    asks: Promise
    development: str | None  # the answering section of a development report
    validation: str | None  # ... of a validation report
    note: Promise | None = None
    validation_note: Promise | None = None  # when a validation report says something else


TITLE, ABSTRACT, BACKGROUND, OBJECTIVES = _("Title"), _("Abstract"), _("Background"), _("Objectives")
DATA, PARTICIPANTS, PREPARATION, OUTCOME = _("Data"), _("Participants"), _("Data preparation"), _("Outcome")
PREDICTORS, SAMPLE_SIZE, MISSING = _("Predictors"), _("Sample size"), _("Missing data")
ANALYSIS, IMBALANCE, FAIRNESS = _("Analytical methods"), _("Class imbalance"), _("Fairness")
OUTPUT, ETHICS = _("Model output"), _("Ethical approval")
DIFFERENCES = _("Development versus evaluation data")
OPEN = _("Open science")
PPI = _("Patient and public involvement")
DEVELOPMENT, SPECIFICATION = _("Model development"), _("Model specification")
PERFORMANCE, UPDATING = _("Model performance"), _("Model updating")
INTERPRETATION, LIMITATIONS, USABILITY = _("Interpretation"), _("Limitations"), _("Usability in current care")

INVESTIGATORS = _("The investigators add this to their manuscript.")
ITEMS = (
    Item("1", "DE", TITLE, _("Say that a multivariable prediction model is developed or evaluated, for whom, "
         "and what it predicts."), "title", "title",
         _("The report's title page names the model, the study and the outcome; the manuscript's title "
           "is the investigators'.")),
    Item("2", "DE", ABSTRACT, _("A structured abstract (the TRIPOD+AI for Abstracts checklist)."), None, None,
         INVESTIGATORS),
    Item("3a", "DE", BACKGROUND, _("The clinical context, diagnostic or prognostic, why the model is needed, "
         "and existing models."), None, None, INVESTIGATORS),
    Item("3b", "DE", BACKGROUND, _("The target population, where the model fits in the care pathway, and "
         "who is meant to use it."), None, None,
         _("The investigators add this; the model is labelled for research use.")),
    Item("3c", "DE", BACKGROUND, _("Known health inequalities between sociodemographic groups."), None, None,
         INVESTIGATORS),
    Item("4", "DE", OBJECTIVES, _("The objectives, and whether the study develops or validates a model, or "
         "both."), "title", "title"),
    Item("5a", "DE", DATA, _("The data sources for development and for evaluation, why they were used, and "
         "how representative they are."), "title", "cohort",
         _("The study and the data cut are named; the study's design and representativeness are the "
           "investigators' to describe.")),
    Item("5b", "DE", DATA, _("The dates of the data: start and end of accrual and, where relevant, end of "
         "follow-up."), "reproducibility", "reproducibility",
         _("The data cut's instant is printed; the accrual dates come from the study's records.")),
    Item("6a", "DE", PARTICIPANTS, _("The setting, and the number and location of the centres."), None, None,
         INVESTIGATORS),
    Item("6b", "DE", PARTICIPANTS, _("The eligibility criteria of the participants."), None, None,
         _("The study protocol's criteria: the investigators cite them.")),
    Item("6c", "DE", PARTICIPANTS, _("Treatments received, and how they were handled in the analysis."),
         "model", None,
         _("Treatments declared as predictors in the specification enter the model; the investigators "
           "describe the others.")),
    Item("7", "DE", PREPARATION, _("Data pre-processing and quality checks, and whether they were the same "
         "across sociodemographic groups."), "methods", "cohort",
         _("Coding and transformations follow the specification; values were range-checked at data entry.")),
    Item("8a", "DE", OUTCOME, _("The outcome and its time horizon: how and when it was assessed, and why it "
         "was chosen."), "methods", "cohort",
         validation_note=_("The outcome the model was developed for, judged in this cohort as in the "
                           "study.")),
    Item("8b", "DE", OUTCOME, _("Who assessed the outcome, with what qualifications, if judgement was "
         "needed."), None, None,
         _("The endpoint is adjudicated: the investigators describe the adjudicators.")),
    Item("8c", "DE", OUTCOME, _("Any blinding of the outcome assessment."), None, None,
         _("The investigators say whether the adjudicators knew the predictors.")),
    Item("9a", "D", PREDICTORS, _("How the candidate predictors were chosen, and any selection before "
         "modelling."), "methods", None,
         _("Every candidate predictor of the specification is in the model: no selection on p-values.")),
    Item("9b", "DE", PREDICTORS, _("A definition of every predictor: how and when it was measured, and any "
         "blinding."), "model", None,
         _("Units and coding are in the model table; the measurement methods are the case report forms'."),
         _("Defined in the model's development report; the investigators say how this cohort measured "
           "them.")),
    Item("9c", "DE", PREDICTORS, _("Who measured predictors that need judgement, with what qualifications."),
         None, None, _("The investigators describe the readers, e.g. of the MRI measurements.")),
    Item("10", "DE", SAMPLE_SIZE, _("How the study size was arrived at, and why it suffices; any sample size "
         "calculation."), "sample_size", "flow",
         _("Riley et al.'s criteria (BMJ 2020) against the data available."),
         _("The cohort's size is counted; a sample-size argument for validation is the investigators'.")),
    Item("11", "DE", MISSING, _("How missing data were handled, and why any data were left out."),
         "missing", "missing"),
    Item("12a", "D", ANALYSIS, _("How the data were used for development and evaluation, and whether they "
         "were split."), "methods", None),
    Item("12b", "D", ANALYSIS, _("How predictors were handled: functional form, transformations, scaling."),
         "methods", None),
    Item("12c", "D", ANALYSIS, _("The type of model and why, every model-building step, tuning, and the "
         "internal validation."), "methods", None),
    Item("12d", "DE", ANALYSIS, _("How heterogeneity across clusters (e.g. centres) was handled."), None,
         None,
         _("Not examined: one model is fitted over all sites. The investigators may add a site-level "
           "analysis (TRIPOD-Cluster).")),
    Item("12e", "DE", ANALYSIS, _("Every performance measure and plot used, and why."), "methods", "cohort"),
    Item("12f", "E", ANALYSIS, _("Any updating of the model (e.g. recalibration) after its evaluation."),
         None, "recalibrated"),
    Item("12g", "E", ANALYSIS, _("How the predictions were calculated in the evaluation (formula, code)."),
         None, "cohort",
         validation_note=_("The frozen model, identified by its SHA-256, gives every prediction.")),
    Item("13", "DE", IMBALANCE, _("Any method for class imbalance, why, and any later recalibration."), None,
         None, _("Not applicable: no resampling or weighting for class imbalance is used.")),
    Item("14", "DE", FAIRNESS, _("Any approach to model fairness, and why."), None, None,
         _("No fairness method is used: the investigators discuss fairness, e.g. performance by sex.")),
    Item("15", "D", OUTPUT, _("What the model outputs (risk, class), and how any thresholds were chosen."),
         "methods", None,
         _("A predicted risk at the horizon; no threshold is chosen, the decision curve spans a range.")),
    Item("16", "DE", DIFFERENCES, _("Differences between development and evaluation data in setting, "
         "eligibility, outcome and predictors."), None, "cohort",
         _("Applies when the model is evaluated on other data: see the validation report."),
         _("The cohort is named; the investigators describe how it differs from the development data.")),
    Item("17", "DE", ETHICS, _("The ethics committee that approved the study, and the consent obtained or "
         "waived."), None, None, INVESTIGATORS),
    Item("18a", "DE", OPEN, _("Funding, and the funders' role."), None, None, INVESTIGATORS),
    Item("18b", "DE", OPEN, _("Conflicts of interest of every author."), None, None, INVESTIGATORS),
    Item("18c", "DE", OPEN, _("Where the protocol can be found, or that there is none."), None, None,
         _("The investigators cite the protocol; the specification's SHA-256 identifies the analysis plan.")),
    Item("18d", "DE", OPEN, _("The study's registration: register and number, or that it was not "
         "registered."), None, None, INVESTIGATORS),
    Item("18e", "DE", OPEN, _("Whether and how the study data are available."), None, None, INVESTIGATORS),
    Item("18f", "DE", OPEN, _("Whether and how the analysis code is available."), "reproducibility",
         "reproducibility",
         _("The software and library versions are printed; the investigators say where the code is.")),
    Item("19", "DE", PPI, _("Patient and public involvement, or that there was none."), None, None,
         INVESTIGATORS),
    Item("20a", "DE", PARTICIPANTS, _("The flow of participants, with and without the outcome, and the "
         "follow-up."), "flow", "flow"),
    Item("20b", "DE", PARTICIPANTS, _("The participants' characteristics, predictors, treatments, events and "
         "missing data, overall and by source."), "missing", "missing",
         _("Missing data per predictor are reported; the investigators add a table of characteristics.")),
    Item("20c", "E", PARTICIPANTS, _("For evaluation: the predictors' distribution compared with the "
         "development data."), None, None, None,
         _("Not in this report: the investigators compare the two cohorts.")),
    Item("21", "DE", DEVELOPMENT, _("The number of participants and events in each analysis."), "flow",
         "flow"),
    Item("22", "D", SPECIFICATION, _("The full model (formula, code) so that others can predict and evaluate "
         "it, and any restriction on its use."), "model", None,
         _("Coefficients, intercept or baseline survival, knots and the nomogram; the frozen model's JSON "
           "holds them all.")),
    Item("23a", "DE", PERFORMANCE, _("Performance estimates with confidence intervals, in key subgroups too; "
         "plots help."), "performance", "performance",
         _("Optimism-corrected by bootstrap; no subgroup analysis."),
         _("With bootstrap confidence intervals; no subgroup analysis.")),
    Item("23b", "DE", PERFORMANCE, _("Heterogeneity of performance across clusters, if examined."), None,
         None,
         _("Not examined.")),
    Item("24", "E", UPDATING, _("The results of any model updating: the updated model and its performance."),
         None, "recalibrated"),
    Item("25", "DE", INTERPRETATION, _("An overall interpretation, fairness included, against the "
         "objectives and earlier studies."), None, None, INVESTIGATORS),
    Item("26", "DE", LIMITATIONS, _("The limitations (sample, size, overfitting, missing data) and their "
         "effect on bias, uncertainty and generalisability."), None, None,
         _("The investigators discuss them; the sample-size section says whether the data suffice.")),
    Item("27a", "D", USABILITY, _("How poor or missing input data should be handled when the model is used."),
         None, None,
         _("The calculator takes values within each predictor's development range; the investigators "
           "describe the rest.")),
    Item("27b", "D", USABILITY, _("Whether users handle the inputs, and what expertise they need."), None,
         None, INVESTIGATORS),
    Item("27c", "DE", USABILITY, _("Next steps for research, toward applicability and generalisability."),
         None, None, INVESTIGATORS),
)  # fmt: skip

OTHER_KIND = {
    "development": _("Applies to the evaluation of a model: see the validation report."),
    "validation": _("Applies to the development of a model: see the development report."),
}


def tripod_items(kind: str) -> list[dict]:
    """The checklist for a report of `kind` ("development" or "validation"): every item, in order, as
    {item, topic, asks, answer, note}; topic, asks and note are lazy (translated when printed)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    letter = "D" if kind == "development" else "E"
    rows = []
    for item in ITEMS:
        if letter not in item.applies:
            answer, note = None, OTHER_KIND[kind]
        elif kind == "development":
            answer, note = item.development, item.note
        else:
            answer, note = item.validation, item.validation_note or item.note
        rows.append(
            {"item": item.item, "topic": item.topic, "asks": item.asks, "answer": answer, "note": note}
        )
    return rows


def tripod_answers(kind: str) -> list[dict]:
    """The checklist as JSON for a result's "tripod": [{item, answer}] (the words are the report's)."""
    return [{"item": row["item"], "answer": row["answer"]} for row in tripod_items(kind)]
