# The report typesets true minus signs:
"""The nomogram drawn as vector shapes: a points axis (0-100) on top, one axis per predictor with its values
where they score, the total-points axis and the predicted risk under it; and its points table.

The shape read (a development result's "nomogram", from reports/riskmodel/stats/nomogram.py):
{"scales": [{"predictor", "label", "ticks": [{"value", "points", "label"?}]}], "total": {"max"},
 "risk": [{"risk", "points"}]}: every predictor's points on the 0-100 axis, risks on the total axis.
"""

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Drawing, Line
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Table

from ..charts import _text
from ..flow import text_wrap
from ..fmt import DASH, label, num
from ..style import ACCENT, INK, RULE, WIDTH, Styles, table_style
from .charts import nice_ticks
from .words import Predictors

ROW, SIZE, NAME_W = 26, 6.5, 118


def tick_label(tick: dict, *, binary: bool, language: str) -> str:
    if tick.get("label"):
        return label(tick["label"], language)
    value = tick["value"]
    if binary:
        return _("Yes") if value else _("No")
    return num(value, 0 if float(value).is_integer() else 1)


class _Row:
    """Where labels already sit on one side of an axis, to put the next one where it does not overlap."""

    def __init__(self):
        self.taken: list[tuple[float, float]] = []

    def free(self, lo: float, hi: float) -> bool:
        return all(hi + 2 < a or lo - 2 > b for a, b in self.taken)

    def take(self, lo: float, hi: float) -> None:
        self.taken.append((lo, hi))


def _axis(drawing, *, y, x_lo, x_hi, ticks, font, color=INK):
    """A horizontal axis from x_lo to x_hi with (x, text) ticks: labels above, or below where they would
    overlap, or left out where both sides are taken."""
    drawing.add(Line(x_lo, y, x_hi, y, strokeColor=color, strokeWidth=0.7))
    above, below = _Row(), _Row()
    for x, text in ticks:
        drawing.add(Line(x, y, x, y + 3, strokeColor=color, strokeWidth=0.6))
        if not text:
            continue
        half = stringWidth(text, font, SIZE) / 2
        if above.free(x - half, x + half):
            above.take(x - half, x + half)
            drawing.add(_text(x, y + 5, text, font=font, size=SIZE))
        elif below.free(x - half, x + half):
            below.take(x - half, x + half)
            drawing.add(Line(x, y, x, y - 3, strokeColor=color, strokeWidth=0.6))
            drawing.add(_text(x, y - 10, text, font=font, size=SIZE))


def nomogram_chart(nomogram: dict, model: dict, *, width: float, font: str, language: str) -> Drawing:
    predictors = Predictors(model, language)
    cjk = language.startswith("zh")
    scales = nomogram["scales"]
    rows = len(scales) + 3
    height = rows * ROW + 12
    drawing = Drawing(width, height, initialFontName=font)
    left, right = NAME_W + 8, width - 12
    span = right - left

    def name(y: float, text: str, *, color=INK) -> None:
        lines = text_wrap(text, font=font, size=7, width=NAME_W, cjk=cjk)[:2]
        for j, line in enumerate(lines):
            offset = (len(lines) - 1) * 4.5 - j * 9
            drawing.add(_text(0, y - 2 + offset, line, font=font, size=7, anchor="start", color=color))

    y = height - ROW + 4
    name(y, _("Points"), color=ACCENT)
    points = [(left + span * p / 100, str(p) if p % 10 == 0 else "") for p in range(0, 101, 5)]
    _axis(drawing, y=y, x_lo=left, x_hi=right, ticks=points, font=font, color=ACCENT)
    for scale in scales:
        y -= ROW
        code = scale["predictor"]
        name(
            y,
            predictors.name_unit(code) if code in predictors.by_code else label(scale.get("label"), language),
        )
        # Faint guides down from the points axis help reading a value's points.
        xs = [left + span * t["points"] / 100 for t in scale["ticks"]]
        binary = predictors.is_binary(code)
        ticks = [
            (x, tick_label(t, binary=binary, language=language))
            for x, t in zip(xs, scale["ticks"], strict=True)
        ]
        _axis(drawing, y=y, x_lo=min(xs), x_hi=max(xs), ticks=ticks, font=font)
    total = nomogram["total"]["max"] or 1
    y -= ROW
    name(y, _("Total points"), color=ACCENT)
    ticks = [t for t in nice_ticks(0, total, 10) if t <= total + 1e-9]
    _axis(
        drawing,
        y=y,
        x_lo=left,
        x_hi=left + span,
        ticks=[(left + span * t / total, num(t, 0)) for t in ticks],
        font=font,
        color=ACCENT,
    )
    y -= ROW
    risk_name = _("Risk of the event within %(days)s days") % {"days": model.get("horizon_days")}
    name(y, risk_name, color=ACCENT)
    marks = [(left + span * r["points"] / total, f"{num(r['risk'] * 100, 0)}%") for r in nomogram["risk"]]
    if marks:
        _axis(drawing, y=y, x_lo=marks[0][0], x_hi=marks[-1][0], ticks=marks, font=font, color=ACCENT)
    drawing.add(Line(left, height - 2, left, 2, strokeColor=RULE, strokeWidth=0.3, strokeDashArray=[1, 2]))
    return drawing


def points_table(result: dict, st: Styles) -> list:
    """Each predictor's values and their points, then the total points that give each risk."""
    predictors = Predictors(result["model"], st.language)
    by_predictor: dict[str, list[dict]] = {}
    for row in result.get("points_table") or []:
        by_predictor.setdefault(row["predictor"], []).append(row)
    if not by_predictor:
        return [st.none(_("No points table."))]
    rows = [[st.cell_p(_("Predictor")), st.cell_p(_("Value: points"))]]
    for code, values in by_predictor.items():
        binary = predictors.is_binary(code)
        pairs = [
            f"{tick_label(v, binary=binary, language=st.language)}: {num(v['points'], 0)}" for v in values
        ]
        rows.append([st.cell_p(predictors.name_unit(code)), st.cell_p(" · ".join(pairs))])
    risks = [f"{num(r['points'], 0)}: {num(r['risk'] * 100, 0)}%" for r in result["nomogram"].get("risk", [])]
    rows.append([st.cell_p(_("Total points: risk")), st.cell_p(" · ".join(risks) or DASH)])
    table = Table(rows, colWidths=[130, WIDTH - 130], repeatRows=1)
    table.setStyle(table_style([*st.table(total_row=True), ("ALIGN", (1, 0), (-1, -1), "LEFT")]))
    return [table]


def nomogram_note(st: Styles) -> object:
    return st.p(
        _(
            "Read each predictor's points on the top axis, add them up, and read the risk under the total. "
            "Splines make some axes fold back: a value's points are where its label stands."
        ),
        st.note,
    )
