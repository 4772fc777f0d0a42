# The report typesets true minus signs and en dashes:
"""The risk-model reports' charts, drawn as vector shapes with reportlab.graphics: the spline predictors'
effects, the calibration plot and the decision curve."""

import math

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect
from reportlab.lib import colors

from ..charts import CURVE, OTHER, _legend, _text, _vertical
from ..fmt import num
from ..style import INK, MUTED, RULE

BAND = colors.HexColor("#c9d8ea")
NONE_LINE = colors.HexColor("#6b7280")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round ticks covering [lo, hi] (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(lo / step + 1e-9) * step
    ticks, value = [], first
    while value < hi + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _places(ticks: list[float]) -> int:
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1
    return max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0


class Frame:
    """A plot area inside a drawing, mapping data (x, y) to points."""

    def __init__(self, drawing, *, left, bottom, width, height, x_ticks, y_ticks, font):
        self.d, self.left, self.bottom, self.w, self.h, self.font = drawing, left, bottom, width, height, font
        self.x0, self.x1, self.y0, self.y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
        self.x_ticks, self.y_ticks = x_ticks, y_ticks

    def x(self, value: float) -> float:
        return self.left + self.w * (value - self.x0) / (self.x1 - self.x0)

    def y(self, value: float) -> float:
        clipped = min(max(value, self.y0), self.y1)
        return self.bottom + self.h * (clipped - self.y0) / (self.y1 - self.y0)

    def axes(self, *, x_fmt, y_fmt, x_title: str, y_title: str) -> None:
        d, font = self.d, self.font
        for value in self.y_ticks:
            y = self.y(value)
            d.add(Line(self.left, y, self.left + self.w, y, strokeColor=RULE, strokeWidth=0.3))
            d.add(_text(self.left - 4, y - 2.3, y_fmt(value), anchor="end", font=font))
        for value in self.x_ticks:
            x = self.x(value)
            d.add(Line(x, self.bottom, x, self.bottom - 3, strokeColor=INK, strokeWidth=0.6))
            d.add(_text(x, self.bottom - 11, x_fmt(value), font=font))
        d.add(Rect(self.left, self.bottom, self.w, self.h, fillColor=None, strokeColor=INK, strokeWidth=0.6))
        d.add(_text(self.left + self.w / 2, self.bottom - 23, x_title, font=font, color=MUTED, size=7))
        d.add(_vertical(self.left - 30, self.bottom + self.h / 2, y_title, font=font, size=7))

    def line(self, xs, ys, **style) -> None:
        points = []
        for x, y in zip(xs, ys, strict=True):
            if self.x0 <= x <= self.x1:
                points += [self.x(x), self.y(y)]
        if len(points) >= 4:
            self.d.add(PolyLine(points, **style))


def _percent(places: int = 0):
    return lambda v: f"{num(v * 100, places)}%"


def effect_chart(effect: dict, *, title: str, unit_title: str, y_title: str, width: float, font: str):
    """One spline predictor's partial effect on the linear predictor, with its 95 % band."""
    height = 170
    drawing = Drawing(width, height, initialFontName=font)
    xs, est, low, high = effect["x"], effect["estimate"], effect["low"], effect["high"]
    frame = Frame(
        drawing,
        left=44,
        bottom=36,
        width=width - 54,
        height=height - 56,
        x_ticks=nice_ticks(min(xs), max(xs), 5),
        y_ticks=nice_ticks(min(low), max(high), 5),
        font=font,
    )
    frame.x0, frame.x1 = min(xs), max(xs)  # the data's range, the ticks inside it
    frame.x_ticks = [t for t in frame.x_ticks if frame.x0 - 1e-9 <= t <= frame.x1 + 1e-9]
    band = [frame.x(x) for x in xs]
    polygon = [v for x, y in zip(band, high, strict=True) for v in (x, frame.y(y))]
    polygon += [v for x, y in zip(reversed(band), reversed(low), strict=True) for v in (x, frame.y(y))]
    drawing.add(Polygon(polygon, fillColor=BAND, strokeColor=None))
    x_places, y_places = _places(frame.x_ticks), _places(frame.y_ticks)
    frame.axes(
        x_fmt=lambda v: num(v, x_places),
        y_fmt=lambda v: num(v, y_places),
        x_title=unit_title,
        y_title=y_title,
    )
    if frame.y0 < 0 < frame.y1:
        drawing.add(
            Line(frame.left, frame.y(0), frame.left + frame.w, frame.y(0), strokeColor=MUTED,
                 strokeWidth=0.6, strokeDashArray=[3, 2])
        )  # fmt: skip
    frame.line(xs, est, strokeColor=CURVE, strokeWidth=1.5)
    drawing.add(_text(frame.left + frame.w / 2, height - 12, title, font=font, size=8.5))
    return drawing


def calibration_chart(calibration: dict, *, width: float, font: str) -> Drawing:
    """Grouped observed against predicted risks with Wilson intervals, the smooth curve and the diagonal."""
    groups, smooth = calibration.get("groups") or [], calibration.get("smooth") or {}
    values = [g["predicted"] for g in groups] + [g["high"] for g in groups if g.get("high") is not None]
    values += [*smooth.get("predicted", []), *smooth.get("observed", [])]
    top = min(1.0, nice_ticks(0, max([*values, 0.05]), 5)[-1])
    ticks = nice_ticks(0, top, 5)
    plot = width - 60
    height = plot + 70
    drawing = Drawing(width, height, initialFontName=font)
    frame = Frame(
        drawing, left=48, bottom=50, width=plot, height=plot, x_ticks=ticks, y_ticks=ticks, font=font
    )
    places = 0 if ticks[1] - ticks[0] >= 0.01 else 1
    frame.axes(
        x_fmt=_percent(places),
        y_fmt=_percent(places),
        x_title=_("Predicted risk"),
        y_title=_("Observed proportion"),
    )
    drawing.add(
        Line(frame.x(0), frame.y(0), frame.x(top), frame.y(top), strokeColor=MUTED, strokeWidth=0.6,
             strokeDashArray=[3, 2])
    )  # fmt: skip
    if smooth.get("predicted"):
        frame.line(smooth["predicted"], smooth["observed"], strokeColor=OTHER, strokeWidth=1.3)
    for g in groups:
        x = frame.x(min(g["predicted"], top))
        if g.get("low") is not None and g.get("high") is not None:
            y_lo, y_hi = frame.y(g["low"]), frame.y(g["high"])
            drawing.add(Line(x, y_lo, x, y_hi, strokeColor=CURVE, strokeWidth=0.7))
            drawing.add(Line(x - 2, y_lo, x + 2, y_lo, strokeColor=CURVE, strokeWidth=0.7))
            drawing.add(Line(x - 2, y_hi, x + 2, y_hi, strokeColor=CURVE, strokeWidth=0.7))
        drawing.add(Circle(x, frame.y(g["observed"]), 2.4, fillColor=CURVE, strokeColor=colors.white))
    _legend(
        drawing,
        x=frame.left,
        y=height - 12,
        font=font,
        items=[
            ("line", CURVE, _("Groups (95% CI, Wilson)")),
            ("line", OTHER, _("Smoothed (LOWESS)")),
            ("dash", MUTED, _("Ideal")),
        ],
    )
    return drawing


def decision_chart(decision: dict, *, width: float, font: str) -> Drawing:
    """The net benefit of the model, of treating all and of treating none across the risk thresholds."""
    height = 220
    drawing = Drawing(width, height, initialFontName=font)
    thresholds, model, treat_all = decision["thresholds"], decision["model"], decision["treat_all"]
    best = max([*model, *treat_all, 0.01])
    # Below zero only as far as the model goes, and a little: treat-all falls steeply and is cut off there.
    floor = min([*model, 0.0]) - best * 0.15
    frame = Frame(
        drawing,
        left=48,
        bottom=40,
        width=width - 60,
        height=height - 68,
        x_ticks=nice_ticks(thresholds[0], thresholds[-1], 7),
        y_ticks=nice_ticks(floor, best, 5),
        font=font,
    )
    frame.x0, frame.x1 = thresholds[0], thresholds[-1]
    frame.x_ticks = [t for t in frame.x_ticks if frame.x0 - 1e-9 <= t <= frame.x1 + 1e-9]
    places = _places(frame.y_ticks)
    frame.axes(
        x_fmt=_percent(0),
        y_fmt=lambda v: num(v, places),
        x_title=_("Risk threshold"),
        y_title=_("Net benefit"),
    )
    shown = [(t, v) for t, v in zip(thresholds, treat_all, strict=True) if v >= frame.y0]
    if len(shown) > 1:
        frame.line(*zip(*shown, strict=True), strokeColor=OTHER, strokeWidth=1.1, strokeDashArray=[4, 2])
    frame.line(thresholds, decision.get("treat_none") or [0.0] * len(thresholds), strokeColor=NONE_LINE,
               strokeWidth=1.1, strokeDashArray=[1.5, 1.5])  # fmt: skip
    frame.line(thresholds, model, strokeColor=CURVE, strokeWidth=1.6)
    _legend(
        drawing,
        x=frame.left,
        y=height - 12,
        font=font,
        items=[
            ("line", CURVE, _("Model")),
            ("dash", OTHER, _("Treat all")),
            ("dash", NONE_LINE, _("Treat none")),
        ],
    )
    return drawing
