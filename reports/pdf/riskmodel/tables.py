# The report typesets true minus signs, en dashes and the multiplication sign:
# ruff: noqa: RUF001
"""The risk-model reports' tables: the sample size, missing data, the coefficients, the performance (apparent
and optimism-corrected, or with confidence intervals), the recalibrated models, reproducibility and the
TRIPOD+AI checklist."""

import math

from django.utils.translation import gettext as _
from reportlab.platypus import Paragraph, Table

from ...riskmodel.tripod import tripod_items
from ..fmt import DASH, esc, interval, num, pct, share
from ..style import ACCENT, WIDTH, Styles, table_style
from .words import Predictors, criterion_name, measure_name, ratio_name, recalibration_name

MEASURES = ("c", "brier", "slope", "citl")


def _head(st: Styles, head: list[str], *, text: int = 1) -> list:
    """A heading row: the first `text` columns hold text, the others numbers, right-aligned."""
    return [st.cell_p(h) for h in head[:text]] + [Paragraph(esc(h), st.cell_right) for h in head[text:]]


def _grid(st: Styles, rows: list, widths: list[float], *, total_row: bool = False, extra=()) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(table_style([*st.table(total_row=total_row), *extra]))
    return table


def p_value(p: float | None) -> str:
    if p is None:
        return DASH
    return "<0.001" if p < 0.001 else num(p, 3)


def sample_size_section(result: dict, st: Styles) -> list:
    size = result.get("sample_size")
    if not size:
        return [st.none(_("No sample-size calculation in this result."))]
    have, need = size["available"], size["required"]
    story = [
        st.p(
            _("You have %(have)s participants; you need %(need)s.") % {"have": have, "need": need},
            st.subheading,
        ),
        st.p(
            _("The data meet every criterion.")
            if have >= need
            else _(
                "The data fall short of the criteria: expect more overfitting than they allow, and read the "
                "optimism-corrected performance rather than the apparent."
            )
        ),
    ]
    rows = [_head(st, [_("Criterion (Riley et al., BMJ 2020)"), _("Participants needed")])]
    rows += [[st.cell_p(criterion_name(c["code"])), str(c["n"])] for c in size["criteria"]]
    rows.append([st.cell_p(_("Needed: the largest")), str(need)])
    story.append(_grid(st, rows, [WIDTH - 110, 110], total_row=True))
    events = round(size["events_per_parameter"] * size["parameters"])
    story.append(
        st.p(
            _(
                "%(parameters)s candidate parameters; outcome prevalence %(prevalence)s; anticipated "
                "Cox-Snell R² %(r2)s. Events per parameter: %(epp)s (%(events)s events); the criteria need "
                "%(needed)s events (%(needed_epp)s per parameter)."
            )
            % {
                "parameters": size["parameters"],
                "prevalence": share(size["prevalence"]),
                "r2": num(size["r2_cs"], 3),
                "epp": num(size["events_per_parameter"], 1),
                "events": events,
                "needed": size["required_events"],
                "needed_epp": num(size["required_events"] / size["parameters"], 1),
            },
            st.note,
        )
    )
    return story


def missing_table(result: dict, st: Styles) -> list:
    rows_in = result.get("missing") or []
    if not rows_in:
        return [st.none(_("No missing-data summary in this result."))]
    predictors = Predictors(result.get("model"), st.language)
    rows = [_head(st, [_("Predictor"), _("Missing"), _("Percent")])]
    rows += [
        [
            st.cell_p(predictors.name_unit(r["predictor"], r.get("label"))),
            str(r["missing"]),
            pct(r["percent"]),
        ]
        for r in rows_in
    ]
    return [_grid(st, rows, [WIDTH - 160, 80, 80])]


def coefficients_table(result: dict, st: Styles) -> list:
    model, rows_in = result["model"], result.get("coefficients") or []
    predictors = Predictors(model, st.language)
    ratio = ratio_name(model)
    head = [_("Term"), _("Estimate"), _("SE"), ratio, _("95% CI"), "p"]
    rows = [_head(st, head)]
    intercept = [r for r in rows_in if r.get("predictor") is None]
    if not intercept and model.get("intercept") is not None:
        se = math.sqrt(model["covariance"][0][0]) if model.get("covariance") else None
        intercept = [{"estimate": model["intercept"], "se": se}]
    for r in intercept:
        rows.append([st.cell_p(_("Intercept")), num(r["estimate"], 3), num(r.get("se"), 3), DASH, DASH, DASH])
    for r in rows_in:
        if r.get("predictor") is None:
            continue
        rows.append(
            [
                st.cell_p(predictors.term(r["term"], r["predictor"])),
                num(r["estimate"], 3),
                num(r["se"], 3),
                num(r["ratio"], 2),
                interval(num(r["ratio_low"], 2), num(r["ratio_high"], 2)),
                p_value(r.get("p")),
            ]
        )
    story = [_grid(st, rows, [WIDTH - 5 * 66, 66, 66, 66, 66, 66])]
    notes = [
        _(
            "Estimates on the log-odds scale, per unit of the predictor; a binary predictor's is for yes "
            "against no."
        )
        if model["type"] != "cox"
        else _("Estimates on the log-hazard scale, per unit of the predictor.")
    ]
    if any("'" in r["term"] for r in rows_in):
        notes.append(
            _(
                "Terms marked ′ are the non-linear terms of a restricted cubic spline: read such a predictor "
                "from its effect plot, not from one coefficient."
            )
        )
    if model["type"] == "cox" and model.get("baseline_survival") is not None:
        notes.append(
            _("Baseline survival at %(days)s days: %(s0)s, at the mean linear predictor %(lp)s.")
            % {
                "days": model.get("horizon_days"),
                "s0": num(model["baseline_survival"], 4),
                "lp": num(model.get("lp_mean"), 3),
            }
        )
    if (model.get("shrinkage") or 1.0) != 1.0:
        notes.append(
            _("The coefficients are shrunk by the bootstrap's shrinkage factor, %(s)s.")
            % {"s": num(model["shrinkage"], 3)}
        )
    return [*story, *(st.p(n, st.note) for n in notes)]


def _measure(code: str, value: float | None) -> str:
    return num(value, 4 if code == "brier" else 3)


def performance_table(result: dict, st: Styles) -> list:
    """Development: apparent, optimism and optimism-corrected."""
    apparent, internal = result.get("apparent") or {}, result.get("internal") or {}
    cox = result["model"]["type"] == "cox"
    optimism, corrected = internal.get("optimism") or {}, internal.get("corrected") or {}
    rows = [_head(st, [_("Measure"), _("Apparent"), _("Optimism"), _("Optimism-corrected")])]
    for code in MEASURES:
        rows.append(
            [
                st.cell_p(measure_name(code, cox=cox)),
                _measure(code, apparent.get(code)),
                _measure(code, optimism.get(code)),
                _measure(code, corrected.get(code)),
            ]
        )
    return [
        _grid(st, rows, [WIDTH - 3 * 100, 100, 100, 100]),
        st.p(
            _(
                "Shrinkage factor: %(s)s. Bootstrap: %(n)s resamples, the whole procedure (imputation, any "
                "penalty) repeated in each; optimism is the mean of the resamples' performance on themselves "
                "minus on the original data (Harrell)."
            )
            % {"s": num(internal.get("shrinkage"), 3), "n": internal.get("resamples", DASH)},
            st.note,
        ),
    ]


def _with_ci(code: str, triple) -> tuple[str, str]:
    if triple is None:
        return DASH, DASH
    if not isinstance(triple, list | tuple):
        return _measure(code, triple), DASH
    est, lo, hi = triple
    return _measure(code, est), interval(_measure(code, lo), _measure(code, hi)) if lo is not None else DASH


def validation_table(result: dict, st: Styles) -> list:
    performance = result.get("performance") or {}
    rows = [_head(st, [_("Measure"), _("Estimate"), _("95% CI")])]
    for code in MEASURES:
        rows.append([st.cell_p(measure_name(code)), *_with_ci(code, performance.get(code))])
    observed, expected = performance.get("observed"), performance.get("expected")
    if observed is not None and expected:
        rows.append(
            [
                st.cell_p(_("Observed / expected events")),
                f"{observed} / {num(expected, 1)}",
                _("O/E %(ratio)s") % {"ratio": num(observed / expected, 2)},
            ]
        )
    return [_grid(st, rows, [WIDTH - 220, 100, 120])]


def recalibrated_table(result: dict, st: Styles) -> list:
    models = result.get("recalibrated") or []
    if not models:
        return [st.none(_("No recalibrated model."))]
    head = [_("Model"), _("Intercept (a)"), _("Slope (b)"), _("C"), _("Brier"), _("Slope"), _("CITL")]
    rows = [_head(st, head)]
    original = result.get("performance") or {}
    rows.append(
        [st.cell_p(_("Original (frozen) model")), num(0, 3), num(1, 2)]
        + [_with_ci(c, original.get(c))[0] for c in MEASURES]
    )
    for m in models:
        performance = m.get("performance") or {}
        rows.append(
            [st.cell_p(recalibration_name(m["name"])), num(m["intercept"], 3), num(m["slope"], 2)]
            + [_with_ci(c, performance.get(c))[0] for c in MEASURES]
        )
    return [
        _grid(st, rows, [WIDTH - 6 * 58, *[58] * 6]),
        st.p(
            _(
                "Each recalibrated model is a separate, named model: its linear predictor is a + b × the "
                "frozen model's. The frozen model itself is never changed. C: C statistic; Brier: Brier "
                "score; Slope: calibration slope; CITL: calibration-in-the-large."
            ),
            st.note,
        ),
    ]


def reproducibility_table(result: dict, st: Styles) -> list:
    repro = result.get("reproducibility") or {}
    if result["kind"] == "development":
        spec, cut = result.get("spec") or {}, result.get("cut") or {}
        hashes = [
            [_("Specification SHA-256"), spec.get("sha256") or result["model"].get("spec_sha256") or DASH],
            [_("Data cut SHA-256"), cut.get("sha256") or DASH],
        ]
    else:
        hashes = [
            [_("Frozen model SHA-256"), result["model"].get("sha256") or DASH],
            [_("Data cut SHA-256"), ((result.get("cohort") or {}).get("cut") or {}).get("sha256") or DASH],
        ]
    rows = [
        *hashes,
        [_("Random seed"), str(repro.get("seed", DASH))],
        [_("Bootstrap resamples"), str(repro.get("bootstrap", DASH))],
        [_("Imputations"), str(repro.get("imputations", DASH))],
        *([name, str(version)] for name, version in (repro.get("versions") or {}).items()),
    ]
    table = Table([[st.cell_p(k), st.cell_p(v)] for k, v in rows], colWidths=[140, WIDTH - 140])
    table.setStyle(table_style([*st.table(header_rows=0), ("BACKGROUND", (0, 0), (0, -1), "#e8edf3")]))
    return [
        table,
        st.p(
            _(
                "Run again with the same specification, data cut and seed and these versions, the analysis "
                "gives the same numbers and this report the same bytes."
            ),
            st.note,
        ),
    ]


def checklist_table(result: dict, st: Styles, numbers: dict[str, tuple[int, str]]) -> list:
    """Every TRIPOD+AI item: what it asks and where this report answers it, or why not, or who adds it.
    `numbers` maps a section code to its (number, name) in this report."""
    overrides = {row["item"]: row.get("answer") for row in result.get("tripod") or [] if "item" in row}
    rows = [
        [st.cell_p(_("Item")), st.cell_p(_("Topic")), st.cell_p(_("What it asks")), st.cell_p(_("Answer"))]
    ]
    for row in tripod_items(result["kind"]):
        answer = overrides.get(row["item"], row["answer"])
        where = ""
        if answer == "title":
            where = _("Title page")
        elif answer in numbers:
            number, name = numbers[answer]
            where = _("Section %(number)s, %(name)s") % {"number": number, "name": name}
        text = f'<font color="#{ACCENT.hexval()[2:]}">{esc(where)}</font>' if where else ""
        if row["note"]:
            text += ("<br/>" if text else "") + esc(str(row["note"]))
        rows.append(
            [
                row["item"],
                st.cell_p(str(row["topic"])),
                st.cell_p(str(row["asks"])),
                Paragraph(text or esc(_("Not answered in this report.")), st.cell),
            ]
        )
    extra = [("ALIGN", (0, 0), (-1, -1), "LEFT"), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    return [_grid(st, rows, [30, 82, (WIDTH - 112) * 0.5, (WIDTH - 112) * 0.5], extra=extra)]
