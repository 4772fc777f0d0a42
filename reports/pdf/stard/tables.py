# The report typesets en dashes and true minus signs:
# ruff: noqa: RUF001
"""The accuracy report's tables: the data versions, the thresholds, the estimates of each centre, the 2x2
tables drawn, the DeLong comparisons and the Dice of the segmentation models."""

from django.utils.translation import gettext as _
from reportlab.platypus import Spacer, Table

from ..fmt import DASH, cut_time, interval, num, share
from ..style import WIDTH, Styles, table_style
from .words import cohort_name, interval_name, measure_name, reason_text

PROPORTIONS = ("sensitivity", "specificity", "accuracy", "ppv", "npv")


def _grid(st: Styles, rows: list[list], widths: list[float], *, extra: list | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(table_style([*st.table(), *(extra or [])]))
    return table


def imports_table(figures: dict, st: Styles) -> list:
    """Which import of each model the report analyses: its version and the SHA-256 of its file."""
    if not figures["imports"]:
        return [st.none(_("No model output has been imported."))]
    kinds = {"classification": _("classification"), "segmentation": _("segmentation")}
    head = [_("Model"), _("Kind"), _("Import"), _("Rows"), _("Imported (UTC)"), _("SHA-256 of the file")]
    rows = [[st.cell_p(h) for h in head]]
    for i in figures["imports"]:
        rows.append(
            [
                st.cell_p(f"{i['model']} {i['model_version']}"),
                st.cell_p(kinds.get(i["kind"], i["kind"])),
                f"v{i['version']} (#{i['id']})",
                str(i["rows"]),
                cut_time(i["imported_at"])[:16],
                st.cell_p(i["sha256"]),
            ]
        )
    widths = [84, 62, 52, 34, 72, WIDTH - 304]
    return [_grid(st, rows, widths, extra=[("FONTSIZE", (5, 1), (5, -1), 6.5)])]


def thresholds_table(figures: dict, st: Styles) -> list:
    """Each model's threshold, chosen on the development centre by Youden's J."""
    if not figures["models"]:
        return [st.none(_("No classification model imported."))]
    head = [_("Model"), _("Threshold"), _("Youden's J"), _("Sensitivity"), _("Specificity")]
    rows = [[st.cell_p(h) for h in head]]
    notes = []
    for model in figures["models"]:
        t = model["threshold"]
        rows.append(
            [
                st.cell_p(model["label"]),
                num(t["value"], 3),
                num(t["j"], 3),
                share(t["sensitivity"]),
                share(t["specificity"]),
            ]
        )
        if t["reason"]:
            notes.append(f"{model['label']}: {reason_text(t['reason'])}")
    return [
        _grid(st, rows, [WIDTH - 4 * 90, 90, 90, 90, 90]),
        *(st.p(note, st.note) for note in notes),
    ]


def _ci(lo, hi, *, auc: bool) -> str:
    if lo is None or hi is None:
        return DASH
    if auc:
        return interval(num(lo, 3), num(hi, 3))
    return interval(share(lo), share(hi))


def estimates_table(figures: dict, cohort: str, st: Styles) -> list:
    """Per model: the AUC and the five proportions, with the per-vertebra and patient-clustered intervals."""
    method = interval_name(figures["methods"]["proportions"])
    head = [
        _("Model"),
        _("Measure"),
        _("Estimate"),
        _("n / N"),
        _("95%% CI (%(method)s; AUC: DeLong)") % {"method": method},
        _("95% CI, patient-clustered"),
    ]
    rows = [[st.cell_p(h) for h in head]]
    spans, notes = [], []
    for model in figures["models"]:
        centre = next(c for c in model["centres"] if c["cohort"] == cohort)
        first = len(rows)
        auc, clustered = centre["auc"], centre["clustered"] or {}
        boot = clustered.get("auc") or {}
        rows.append(
            [
                st.cell_p(model["label"]),
                measure_name("auc"),
                num(auc["auc"], 3),
                _("%(acute)s acute, %(chronic)s chronic") % centre,
                _ci(auc["lo"], auc["hi"], auc=True),
                _ci(boot.get("lo"), boot.get("hi"), auc=True),
            ]
        )
        if auc["reason"]:
            notes.append(f"{model['label']}, {measure_name('auc')}: {reason_text(auc['reason'])}")
        for name in PROPORTIONS:
            est = (centre["estimates"] or {}).get(name)
            boot = clustered.get(name) or {}
            rows.append(
                [
                    "",
                    measure_name(name),
                    share(est["value"]) if est else DASH,
                    f"{est['numerator']} / {est['denominator']}" if est else DASH,
                    _ci(est["lo"], est["hi"], auc=False) if est else DASH,
                    _ci(boot.get("lo"), boot.get("hi"), auc=False),
                ]
            )
            if est and est["reason"]:
                notes.append(f"{model['label']}, {measure_name(name)}: {reason_text(est['reason'])}")
        spans.append(("SPAN", (0, first), (0, len(rows) - 1)))
        spans.append(("VALIGN", (0, first), (0, len(rows) - 1), "TOP"))
        spans.append(("LINEBELOW", (0, len(rows) - 1), (-1, len(rows) - 1), 0.4, "#c5ccd6"))
    widths = [WIDTH - 398, 60, 50, 82, 108, 98]
    spans.append(("ALIGN", (1, 1), (1, -1), "LEFT"))
    return [_grid(st, rows, widths, extra=spans), *(st.p(note, st.note) for note in notes)]


def matrix_title(model: dict, st: Styles):
    """What a 2x2 table is of: the model and its threshold."""
    threshold = model["threshold"]["value"]
    return st.cell_p(
        _("%(model)s, called acute at ≥ %(t)s") % {"model": model["label"], "t": num(threshold, 3)}
    )


def matrix_table(model: dict, cohort: str, st: Styles) -> Table | None:
    """The 2x2 table of one model at one centre: called acute or chronic against the reference."""
    centre = next(c for c in model["centres"] if c["cohort"] == cohort)
    m = centre["matrix"]
    if m is None:
        return None
    rows = [
        ["", st.cell_p(_("Reference acute")), st.cell_p(_("Reference chronic")), st.cell_p(_("Total"))],
        [st.cell_p(_("Called acute")), str(m["tp"]), str(m["fp"]), str(m["tp"] + m["fp"])],
        [st.cell_p(_("Called chronic")), str(m["fn"]), str(m["tn"]), str(m["fn"] + m["tn"])],
        [
            st.cell_p(_("Total")),
            str(m["tp"] + m["fn"]),
            str(m["fp"] + m["tn"]),
            str(m["tp"] + m["fn"] + m["fp"] + m["tn"]),
        ],
    ]
    table = Table(rows, colWidths=[46, 42, 42, 24], hAlign="LEFT")  # 154 of the 164 a third of the page gives
    table.setStyle(
        table_style(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("ALIGN", (1, 1), (-1, -1), "CENTER"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("GRID", (0, 0), (-1, -1), 0.5, "#1f2933"),
                ("BACKGROUND", (0, 0), (-1, 0), "#e8edf3"),
                ("BACKGROUND", (0, 1), (0, -1), "#e8edf3"),
                ("BACKGROUND", (1, 1), (1, 1), "#d9ead3"),
                ("BACKGROUND", (2, 2), (2, 2), "#d9ead3"),
                ("BACKGROUND", (-1, -1), (-1, -1), "#f3f5f8"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def matrices_row(figures: dict, cohort: str, st: Styles) -> list:
    """The 2x2 tables of every model at one centre, three to a row, their titles on a row above them (so
    that a long model name never pushes its table below the others)."""
    drawn = [
        (matrix_title(m, st), table)
        for m in figures["models"]
        if (table := matrix_table(m, cohort, st)) is not None
    ]
    if not drawn:
        return [st.none(_("No 2×2 table: there is no threshold (see the thresholds)."))]
    rows = []
    for i in range(0, len(drawn), 3):
        group = drawn[i : i + 3]
        pad = [""] * (3 - len(group))
        rows += [[title for title, _table in group] + pad, [table for _title, table in group] + pad]
    grid = Table(rows, colWidths=[WIDTH / 3] * 3)
    grid.setStyle(
        table_style(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),  # the empty cells too: else Helvetica is listed
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                *(("BOTTOMPADDING", (0, r), (-1, r), 10) for r in range(1, len(rows), 2)),
            ]
        )
    )
    return [grid]


def comparisons_table(figures: dict, st: Styles) -> list:
    """The DeLong test of each pair of models on the same vertebrae, per centre."""
    if not figures["comparisons"]:
        return [st.none(_("Fewer than two classification models: nothing to compare."))]
    head = [_("Centre"), _("Models (a vs b)"), _("AUC a"), _("AUC b"), _("Difference (95% CI)"), "Z", "p"]
    rows = [[st.cell_p(h) for h in head]]
    notes = []
    for c in figures["comparisons"]:
        diff = DASH if c["difference"] is None else num(c["difference"], 3)
        if c["lo"] is not None:
            diff += f" ({interval(num(c['lo'], 3), num(c['hi'], 3))})"
        rows.append(
            [
                st.cell_p(cohort_name(c["cohort"])),
                st.cell_p(_("%(a)s vs %(b)s") % c),
                num(c["auc_a"], 3),
                num(c["auc_b"], 3),
                diff,
                num(c["z"], 2),
                DASH if c["p"] is None else ("< 0.001" if c["p"] < 0.001 else num(c["p"], 3)),
            ]
        )
        if c["reason"]:
            notes.append(f"{c['a']} / {c['b']}: {reason_text(c['reason'])}")
    widths = [92, WIDTH - 92 - 44 - 44 - 130 - 40 - 44, 44, 44, 130, 40, 44]
    return [_grid(st, rows, widths), *(st.p(note, st.note) for note in notes)]


def segmentation_table(figures: dict, st: Styles) -> list:
    """Mean Dice and SD per segmentation model and centre."""
    if not figures["segmentation"]:
        return [st.none(_("No segmentation model imported."))]
    head = [_("Model"), _("Centre"), _("Vertebrae"), _("Mean Dice"), _("SD")]
    rows = [[st.cell_p(h) for h in head]]
    for s in figures["segmentation"]:
        rows.append(
            [
                st.cell_p(s["label"]),
                st.cell_p(cohort_name(s["cohort"])),
                str(s["n"]),
                num(s["mean"], 3),
                num(s["sd"], 3),
            ]
        )
    return [_grid(st, rows, [WIDTH - 330, 150, 60, 60, 60]), Spacer(1, 2)]
