# The report typesets true minus signs:
# ruff: noqa: RUF001
"""The ROC curves of one centre, every model on one chart, with each model's operating point at its
threshold (the development centre's), drawn as vector shapes."""

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors

from ..charts import _text, _vertical
from ..flow import text_wrap
from ..fmt import num
from ..style import INK, MUTED, RULE
from .words import cohort_name

# Distinguishable in print and for the common colour-vision deficiencies (Okabe & Ito 2008), darkest first.
PALETTE = [
    colors.HexColor(c) for c in ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
]
DASHES = [None, [4, 2], [1.5, 1.5], [6, 2, 1.5, 2]]


def roc_chart(figures: dict, cohort: str, *, width: float, font: str, cjk: bool) -> Drawing:
    """One centre's ROC curves; a model without both classes there is listed, not drawn."""
    left, right = 34, 8
    plot = width - left - right
    legend_lines = []
    for i, model in enumerate(figures["models"]):
        centre = next(c for c in model["centres"] if c["cohort"] == cohort)
        auc = centre["auc"]["auc"]
        text = _("%(model)s: AUC %(auc)s") % {"model": model["label"], "auc": num(auc, 3)}
        wrapped = text_wrap(text, font=font, size=7, width=plot - 18, cjk=cjk)
        legend_lines.append((i, wrapped))
    # From the bottom: the note (12), the legend, the x axis's labels (26), the plot, the title (16).
    legend_h = sum(len(w) for _i, w in legend_lines) * 9 + 4
    y0 = 12 + legend_h + 26
    height = y0 + plot + 16
    drawing = Drawing(width, height, initialFontName=font)
    drawing.add(_text(left + plot / 2, height - 10, cohort_name(cohort), font=font, size=8.5))
    for k in range(0, 11, 2):
        v = k / 10
        x, y = left + plot * v, y0 + plot * v
        drawing.add(Line(left, y, left + plot, y, strokeColor=RULE, strokeWidth=0.3))
        drawing.add(Line(x, y0, x, y0 + plot, strokeColor=RULE, strokeWidth=0.3))
        drawing.add(_text(x, y0 - 9, num(v, 1), font=font))
        drawing.add(_text(left - 4, y - 2.3, num(v, 1), font=font, anchor="end"))
    drawing.add(Rect(left, y0, plot, plot, fillColor=None, strokeColor=INK, strokeWidth=0.6))
    drawing.add(
        Line(left, y0, left + plot, y0 + plot, strokeColor=MUTED, strokeWidth=0.5, strokeDashArray=[2, 2])
    )
    drawing.add(_text(left + plot / 2, y0 - 20, _("1 − specificity"), font=font, color=MUTED, size=7))
    drawing.add(_vertical(left - 24, y0 + plot / 2, _("Sensitivity"), font=font, size=7))
    for i, model in enumerate(figures["models"]):
        centre = next(c for c in model["centres"] if c["cohort"] == cohort)
        color, dash = PALETTE[i % len(PALETTE)], DASHES[(i // len(PALETTE)) % len(DASHES)]
        if centre["roc"]:
            points = []
            for fpr, tpr in zip(centre["roc"]["fpr"], centre["roc"]["tpr"], strict=True):
                points += [left + plot * fpr, y0 + plot * tpr]
            drawing.add(PolyLine(points, strokeColor=color, strokeWidth=1.3, strokeDashArray=dash))
        estimates = centre["estimates"]
        if (
            estimates
            and estimates["sensitivity"]["value"] is not None
            and estimates["specificity"]["value"] is not None
        ):
            x = left + plot * (1 - estimates["specificity"]["value"])
            y = y0 + plot * estimates["sensitivity"]["value"]
            drawing.add(Circle(x, y, 2.6, fillColor=color, strokeColor=colors.white, strokeWidth=0.6))
    y = 12 + legend_h - 9
    for i, wrapped in legend_lines:
        color, dash = PALETTE[i % len(PALETTE)], DASHES[(i // len(PALETTE)) % len(DASHES)]
        drawing.add(
            Line(left, y + 2.5, left + 12, y + 2.5, strokeColor=color, strokeWidth=1.4, strokeDashArray=dash)
        )
        for j, line in enumerate(wrapped):
            drawing.add(String(left + 16, y - 9 * j, line, fontName=font, fontSize=7, fillColor=INK))
        y -= 9 * len(wrapped)
    drawing.add(
        _text(
            left,
            4,
            _("Dots: each model's operating point at its threshold."),
            font=font,
            size=6.5,
            color=MUTED,
            anchor="start",
        )
    )
    return drawing
