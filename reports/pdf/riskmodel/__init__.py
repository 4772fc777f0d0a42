# The report typesets true minus signs and the multiplication sign:
# ruff: noqa: RUF001
"""The risk-model reports (reports/riskmodel/README.md) drawn as PDFs from their results alone, in English or
Chinese, with the interim report's font, page frame and styles: the development and internal validation of a
model, and the external validation of a frozen one. Both end with the TRIPOD+AI checklist."""

import io

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.platypus import CondPageBreak, Spacer, Table

from ..document import canvas_maker, document_make
from ..fonts import font_register
from ..style import WIDTH, Styles, styles_make, table_style
from .charts import calibration_chart, decision_chart, effect_chart
from .flow import riskmodel_flow_diagram
from .nomogram import nomogram_chart, nomogram_note, points_table
from .tables import (
    checklist_table,
    coefficients_table,
    missing_table,
    performance_table,
    recalibrated_table,
    reproducibility_table,
    sample_size_section,
    validation_table,
)
from .title import footer_lines, model_name, title_block
from .words import Predictors, penalty_text, report_name, section_name

LANGUAGES = ("en", "zh-hans")
# The sections of each report, in order (their codes are the TRIPOD+AI checklist's answers).
DEVELOPMENT_SECTIONS = ("methods", "flow", "sample_size", "missing", "model", "effects", "performance",
                        "calibration", "decision", "nomogram", "checklist", "reproducibility")  # fmt: skip
VALIDATION_SECTIONS = ("cohort", "flow", "missing", "performance", "calibration", "decision", "recalibrated",
                       "checklist", "reproducibility")  # fmt: skip


def render_development(result: dict, language: str) -> bytes:
    """The PDF of a development result (README.md's shape) in `language` ("en" or "zh-hans"). Pure: the same
    result gives the same bytes. ValueError for another language or another kind of result."""
    return _render(result, language, "development", DEVELOPMENT_SECTIONS)


def render_validation(result: dict, language: str) -> bytes:
    """The PDF of a validation result in `language`; pure, like render_development."""
    return _render(result, language, "validation", VALIDATION_SECTIONS)


def _render(result: dict, language: str, kind: str, codes: tuple[str, ...]) -> bytes:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    if result.get("kind") != kind:
        raise ValueError(f"a {kind} result is needed, not {result.get('kind')!r}")
    font = font_register()
    with translation.override(language):
        st = styles_make(language, font)
        numbers = {code: (i, section_name(code)) for i, code in enumerate(codes, start=1)}
        story = title_block(result, st)
        for code in codes:
            number, name = numbers[code]
            section = SECTIONS[code]
            body = section(result, st, numbers) if code == "checklist" else section(result, st)
            # A heading never sits alone at the foot of a page.
            story += [CondPageBreak(160), st.heading(number, name), *body]
        buffer = io.BytesIO()
        document = document_make(
            buffer,
            title=f"{model_name(result, language)} · {report_name(kind)}",
            author="SpineTrial",
            font=font,
        )
        document.build(story, canvasmaker=canvas_maker(footer=footer_lines(result, language), font=font))
    return buffer.getvalue()


def methods_section(result: dict, st: Styles) -> list:
    model, repro = result["model"], result.get("reproducibility") or {}
    predictors = Predictors(model, st.language)
    design = (model.get("design") or {}).get("predictors") or []
    splines = [
        _("%(name)s (%(k)s knots)") % {"name": predictors.name(p["code"]), "k": len(p.get("knots") or [])}
        for p in design
        if p.get("transform") == "rcs"
    ]
    days = model.get("horizon_days")
    cox = model["type"] == "cox"
    imputations = repro.get("imputations", model.get("imputations")) or 0
    texts = [
        _(
            "Outcome: the study's primary endpoint, adjudicated, within %(days)s days of the procedure. "
            "Death before it is a competing event: the %(days)s-day risk counts it as no event, the Cox "
            "model censors it (cause-specific). Participants without an outcome at the horizon (withdrawn, "
            "lost, still in follow-up) or still being adjudicated are left out and counted in the flow."
        )
        % {"days": days},
        (
            _(
                "Model: Cox proportional-hazards regression; the risk at %(days)s days from the baseline "
                "survival."
            )
            if cox
            else _("Model: logistic regression of the risk within %(days)s days.")
        )
        % {"days": days}
        + " "
        + _("Penalty: %(penalty)s.") % {"penalty": penalty_text(model.get("penalty"))},
        _(
            "Predictors: all %(n)s candidate predictors of the specification are kept; none is selected on "
            "p-values. Continuous predictors enter linearly or as restricted cubic splines with knots at "
            "Harrell's quantiles: %(splines)s."
        )
        % {"n": len(design), "splines": ", ".join(splines) or _("none")},
        (
            _(
                "Missing predictor values: multiple imputation by chained equations, %(m)s imputations, "
                "estimates pooled by Rubin's rules."
            )
            % {"m": imputations}
            if imputations > 1
            else _("Missing predictor values: complete-case analysis.")
        ),
        _(
            "Internal validation: %(n)s bootstrap resamples, the whole procedure repeated in each "
            "(imputation, any penalty); Harrell's optimism correction. Performance: discrimination by the "
            "%(c)s, overall accuracy by the Brier score, calibration by the slope, calibration-in-the-large "
            "and a plot; clinical usefulness by decision-curve analysis. The output is a predicted risk; no "
            "risk threshold is chosen."
        )
        % {"n": repro.get("bootstrap", "—"), "c": _("Harrell's C") if cox else _("C statistic")},
    ]
    return [st.p(text) for text in texts]


def cohort_section(result: dict, st: Styles) -> list:
    cohort = result["cohort"]
    study = cohort.get("study")
    name = study.get("code") if isinstance(study, dict) else study
    return [
        st.p(
            _(
                "The frozen model %(model)s (SHA-256 %(hash)s) is applied unchanged to %(study)s: every "
                "prediction comes from its stored coefficients and transformations. Discrimination, "
                "calibration and net benefit are measured with bootstrap confidence intervals; recalibrated "
                "versions are reported as separate, named models."
            )
            % {"model": model_name(result, st.language), "hash": result["model"]["sha256"], "study": name}
        ),
        st.p(
            _(
                "The investigators describe how this cohort's setting, eligibility, outcome and predictors "
                "differ from the development data (TRIPOD+AI items 16 and 20c)."
            ),
            st.note,
        ),
    ]


def flow_section(result: dict, st: Styles) -> list:
    return [riskmodel_flow_diagram(result["flow"], width=WIDTH, font=st.font, language=st.language)]


def missing_section(result: dict, st: Styles) -> list:
    story = missing_table(result, st)
    if result["kind"] == "development":
        story.append(
            st.p(_("Percent of the participants analysed; the methods say how they were handled."), st.note)
        )
    else:
        story.append(st.p(_("Percent of the participants analysed."), st.note))
    return story


def effects_section(result: dict, st: Styles) -> list:
    effects = result.get("effects") or []
    if not effects:
        return [st.none(_("No predictor is modelled with a spline."))]
    predictors = Predictors(result["model"], st.language)
    y_title = _("Log hazard (relative)") if result["model"]["type"] == "cox" else _("Log odds (relative)")
    half = WIDTH / 2
    charts = [
        effect_chart(
            e,
            title=predictors.name(e["predictor"]),
            unit_title=predictors.name_unit(e["predictor"]),
            y_title=y_title,
            width=half - 4,
            font=st.font,
        )
        for e in effects
    ]
    rows = [charts[i : i + 2] + [""] * (2 - len(charts[i : i + 2])) for i in range(0, len(charts), 2)]
    grid = Table(rows, colWidths=[half, half])
    grid.setStyle(
        table_style(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [
        grid,
        st.p(
            _(
                "The predictor's effect on the linear predictor across its range, with its confidence band "
                "(95%)."
            ),
            st.note,
        ),
    ]


def calibration_section(result: dict, st: Styles) -> list:
    calibration = result.get("calibration")
    if not calibration or not calibration.get("groups"):
        return [st.none(_("No calibration data in this result."))]
    chart = calibration_chart(calibration, width=min(WIDTH, 330), font=st.font)
    chart.hAlign = "CENTER"
    return [
        chart,
        st.p(
            _(
                "Points: the participants grouped by tenths of predicted risk, the observed proportion with "
                "its 95% Wilson interval; the curve: a LOWESS smooth; the dashed line: perfect calibration. "
                "The development result's plot is apparent (before optimism correction)."
            )
            if result["kind"] == "development"
            else _(
                "Points: the participants grouped by tenths of predicted risk, the observed proportion with "
                "its 95% Wilson interval; the curve: a LOWESS smooth; the dashed line: perfect calibration."
            ),
            st.note,
        ),
    ]


def decision_section(result: dict, st: Styles) -> list:
    decision = result.get("decision")
    if not decision or not decision.get("thresholds"):
        return [st.none(_("No decision curve in this result."))]
    return [
        decision_chart(decision, width=WIDTH, font=st.font),
        st.p(
            _(
                "Net benefit = true positives / n − false positives / n × pt / (1 − pt) at risk threshold "
                "pt. The model is useful at the thresholds where its curve lies above both treating all and "
                "treating none."
            ),
            st.note,
        ),
    ]


def nomogram_section(result: dict, st: Styles) -> list:
    nomogram = result.get("nomogram")
    if not nomogram or not nomogram.get("scales"):
        return [st.none(_("No nomogram in this result."))]
    chart = nomogram_chart(nomogram, result["model"], width=WIDTH, font=st.font, language=st.language)
    return [
        chart,
        nomogram_note(st),
        Spacer(1, 6),
        st.p(_("Points table"), st.subheading),
        *points_table(result, st),
    ]


SECTIONS = {
    "methods": methods_section,
    "cohort": cohort_section,
    "flow": flow_section,
    "sample_size": sample_size_section,
    "missing": missing_section,
    "model": lambda result, st: coefficients_table(result, st),
    "effects": effects_section,
    "performance": lambda result, st: (
        performance_table(result, st) if result["kind"] == "development" else validation_table(result, st)
    ),
    "calibration": calibration_section,
    "decision": decision_section,
    "nomogram": nomogram_section,
    "recalibrated": recalibrated_table,
    "checklist": checklist_table,
    "reproducibility": reproducibility_table,
}
