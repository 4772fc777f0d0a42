# The report typesets true minus signs and the multiplication sign:
# ruff: noqa: RUF001
"""The STARD 2015 accuracy report drawn as a PDF from its figures (reports/stard/figures.py), in English or
Chinese, with the interim report's font, page frame and styles."""

import io

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.platypus import CondPageBreak, Spacer, Table

from ..document import canvas_maker, document_make
from ..fonts import font_register
from ..style import WIDTH, Styles, styles_make, table_style
from .flow import stard_flow_diagram
from .roc import roc_chart
from .tables import (
    comparisons_table,
    estimates_table,
    imports_table,
    matrices_row,
    segmentation_table,
    thresholds_table,
)
from .title import footer_lines, report_name, title_block
from .words import cohort_name, interval_name

LANGUAGES = ("en", "zh-hans")
COHORTS = ("development", "external_validation")


def accuracy_render(figures: dict, *, language: str) -> bytes:
    """The PDF of the accuracy report of `figures` in `language` ("en" or "zh-hans"). Pure: the same
    figures give the same bytes. ValueError for another language."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    font = font_register()
    with translation.override(language):
        st = styles_make(language, font)
        story = title_block(figures, st)
        sections = (
            (_("Methods and intervals"), methods_section),
            (_("Index tests analysed"), lambda f, s: imports_table(f, s)),
            (_("Flow of cases and vertebrae (STARD 2015)"), flow_section),
            (_("Thresholds, chosen on the development centre"), thresholds_section),
            *((cohort_name(cohort), _centre_section(cohort)) for cohort in COHORTS),
            (_("ROC curves"), roc_section),
            (_("Comparison of the models (DeLong)"), comparisons_section),
            (_("Segmentation"), segmentation_section),
        )
        for number, (heading, section) in enumerate(sections, start=1):
            # A heading never sits alone at the foot of a page.
            story += [CondPageBreak(160), st.heading(number, heading), *section(figures, st)]
        buffer = io.BytesIO()
        document = document_make(
            buffer,
            title=f"{figures['study']['code']} {report_name()} {figures['generated']['at'][:10]}",
            author=figures["generated"]["by"],
            font=font,
        )
        document.build(story, canvasmaker=canvas_maker(footer=footer_lines(figures), font=font))
    return buffer.getvalue()


def methods_section(figures: dict, st: Styles) -> list:
    methods = figures["methods"]
    clustered = methods["clustered"]
    texts = [
        _(
            "The unit of analysis is the vertebra; acute is the positive class, and a model calls a "
            "vertebra acute when its predicted probability is at or above the threshold. Each model's "
            "threshold is the one maximising Youden's J on the development centre, applied unchanged to "
            "the external validation centre."
        ),
        _(
            "The development centre's estimates are measured on the vertebrae its threshold was chosen on, "
            "so they are optimistic; the external validation centre's, at a threshold chosen elsewhere, are "
            "the unbiased ones."
        ),
        _(
            "Every model is analysed on the same vertebrae: those with an output of every classification "
            "model outside its training split and a final reference-standard reading. The flow diagram "
            "counts the others, by reason."
        ),
        _(
            "Intervals (%(confidence)s): sensitivity, specificity, accuracy, PPV and NPV by the %(method)s "
            "interval and the AUC by DeLong's, treating the vertebrae as independent; the DeLong tests "
            "compare two models on the same vertebrae. A patient can contribute several vertebrae, so the "
            "last column of each centre's table gives patient-clustered intervals of the same estimates: a "
            "cluster "
            "bootstrap resampling patients with all their vertebrae, %(n)s resamples, seed %(seed)s, "
            "percentile intervals, the threshold held fixed. Quote the patient-clustered intervals where "
            "patients contribute several vertebrae."
        )
        % {
            "confidence": f"{methods['confidence'] * 100:g}%",
            "method": interval_name(methods["proportions"]),
            "n": clustered["n_resamples"],
            "seed": clustered["seed"],
        },
    ]
    return [st.p(text) for text in texts]


def flow_section(figures: dict, st: Styles) -> list:
    diagram = stard_flow_diagram(figures, width=WIDTH, font=st.font, language=st.language)
    return [
        diagram,
        st.p(
            _(
                "Cases until registration, vertebrae from then on (a case's vertebrae are its registered "
                "fractured levels), with the counts per arm; each is counted once, under its first reason."
            ),
            st.note,
        ),
    ]


def thresholds_section(figures: dict, st: Styles) -> list:
    return [
        *thresholds_table(figures, st),
        st.p(
            _(
                "Sensitivity and specificity at the threshold on the development centre. A tie in J goes to "
                "the lowest threshold (the higher sensitivity)."
            ),
            st.note,
        ),
    ]


def _centre_section(cohort: str):
    def section(figures: dict, st: Styles) -> list:
        if not figures["models"]:
            return [st.none(_("No classification model imported."))]
        centre = next(c for c in figures["flow"]["analysed"]["centres"] if c["cohort"] == cohort)
        if not centre["vertebrae"]:
            return [st.none(_("No vertebra of this centre is analysed."))]
        return [
            st.p(
                _("%(vertebrae)s vertebrae of %(cases)s cases analysed.")
                % {"vertebrae": centre["vertebrae"], "cases": centre["cases"]}
            ),
            *estimates_table(figures, cohort, st),
            Spacer(1, 6),
            st.p(_("2×2 tables at each model's threshold"), st.subheading),
            *matrices_row(figures, cohort, st),
        ]

    return section


def roc_section(figures: dict, st: Styles) -> list:
    if not figures["models"]:
        return [st.none(_("No classification model imported."))]
    half = WIDTH / 2
    charts = [
        roc_chart(figures, cohort, width=half - 6, font=st.font, cjk=st.language.startswith("zh"))
        if any(c["roc"] for m in figures["models"] for c in m["centres"] if c["cohort"] == cohort)
        else st.none(
            _("%(centre)s: no ROC curve, which needs both acute and chronic analysed vertebrae.")
            % {"centre": cohort_name(cohort)}
        )
        for cohort in COHORTS
    ]
    grid = Table([charts], colWidths=[half, half])
    grid.setStyle(
        table_style(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [grid]


def comparisons_section(figures: dict, st: Styles) -> list:
    return [
        *comparisons_table(figures, st),
        st.p(
            _(
                "The difference is AUC a − AUC b; p is two-sided. The test treats the vertebrae as "
                "independent."
            ),
            st.note,
        ),
    ]


def segmentation_section(figures: dict, st: Styles) -> list:
    return [
        *segmentation_table(figures, st),
        st.p(
            _("Mean Dice coefficient and sample SD per vertebra, outside each model's training split."),
            st.note,
        ),
    ]
