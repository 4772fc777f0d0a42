# The report typesets true minus signs and en dashes:
# ruff: noqa: RUF001, RUF002
"""The report's charts, drawn as vector shapes with reportlab.graphics (never images).

Each is drawn by hand on a Drawing: the accrual chart needs two y axes and the incidence chart a row of
numbers at risk under its x axis, which reportlab's chart classes do not offer.
"""

import math

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from .fmt import num
from .style import ACCENT, INK, MUTED, RULE

BAR = colors.HexColor("#9db8d9")
CURVE = ACCENT
OTHER = colors.HexColor("#c0392b")
TICK = 6.5


def nice_ceiling(value: float) -> tuple[float, float]:
    """An axis top at or above `value` and its step, in steps of 1, 2, 2.5 or 5 times a power of ten."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return step * math.ceil(value / step - 1e-9), step


def _text(x, y, text, *, size=TICK, anchor="middle", color=INK, font):
    return String(x, y, text, fontName=font, fontSize=size, textAnchor=anchor, fillColor=color)


def _vertical(x, y, text, *, font, size=TICK, color=MUTED):
    group = Group(_text(0, 0, text, font=font, size=size, color=color))
    group.translate(x, y)
    group.rotate(90)
    return group


def _y_axis(drawing, *, x, bottom, height, top_value, step, font, right=False, fmt=lambda v: num(v, 0)):
    drawing.add(Line(x, bottom, x, bottom + height, strokeColor=INK, strokeWidth=0.6))
    ticks = round(top_value / step)
    for i in range(ticks + 1):
        value = i * step
        y = bottom + height * value / top_value
        drawing.add(Line(x, y, x + (3 if right else -3), y, strokeColor=INK, strokeWidth=0.6))
        drawing.add(
            _text(
                x + (5 if right else -5), y - 2.3, fmt(value), anchor="start" if right else "end", font=font
            )
        )


def _legend(drawing, *, x, y, items, font):
    """Legend entries left to right: (kind, color, text) with kind "bar", "line" or "dash"."""
    for kind, color, text in items:
        if kind == "bar":
            drawing.add(Rect(x, y - 1, 9, 6, fillColor=color, strokeColor=None))
        else:
            drawing.add(
                Line(
                    x,
                    y + 2,
                    x + 12,
                    y + 2,
                    strokeColor=color,
                    strokeWidth=1.4,
                    strokeDashArray=[3, 2] if kind == "dash" else None,
                )
            )
        drawing.add(_text(x + 15, y, text, anchor="start", font=font, size=7))
        x += 15 + stringWidth(text, font, 7) + 14


def accrual_chart(monthly: list[dict], *, target: int, width: float, font: str) -> Drawing:
    """Bars of the participants enrolled each month (left axis), the cumulative count and the target "
    "(right)."""
    height = 200
    left, right, bottom, top = 38, 44, 34, 26
    plot_w, plot_h = width - left - right, height - bottom - top
    drawing = Drawing(width, height, initialFontName=font)
    months = len(monthly)
    bar_top, bar_step = nice_ceiling(max(row["enrolled"] for row in monthly))
    cum_top, cum_step = nice_ceiling(max(target or 0, monthly[-1]["cumulative"]))
    slot = plot_w / months
    points = []
    for i, row in enumerate(monthly):
        x = left + slot * i
        h = plot_h * row["enrolled"] / bar_top
        if h > 0:
            drawing.add(Rect(x + slot * 0.15, bottom, slot * 0.7, h, fillColor=BAR, strokeColor=None))
        points += [x + slot / 2, bottom + plot_h * row["cumulative"] / cum_top]
    if target:
        y = bottom + plot_h * target / cum_top
        drawing.add(Line(left, y, left + plot_w, y, strokeColor=OTHER, strokeWidth=1, strokeDashArray=[4, 2]))
        drawing.add(
            _text(
                left + 3, y + 2.5, _("Target %(n)s") % {"n": target}, anchor="start", color=OTHER, font=font
            )
        )
    drawing.add(
        PolyLine(points, strokeColor=CURVE, strokeWidth=1.6)
        if months > 1
        else Rect(points[0] - 1.5, points[1] - 1.5, 3, 3, fillColor=CURVE, strokeColor=None)
    )
    drawing.add(Line(left, bottom, left + plot_w, bottom, strokeColor=INK, strokeWidth=0.6))
    _y_axis(drawing, x=left, bottom=bottom, height=plot_h, top_value=bar_top, step=bar_step, font=font)
    _y_axis(
        drawing,
        x=left + plot_w,
        bottom=bottom,
        height=plot_h,
        top_value=cum_top,
        step=cum_step,
        font=font,
        right=True,
    )
    # About twelve month labels at most: 7-character labels need ~32 points each.
    every = max(1, math.ceil(months / (plot_w / 36)))
    for i in range(0, months, every):
        x = left + slot * (i + 0.5)
        drawing.add(Line(x, bottom, x, bottom - 3, strokeColor=INK, strokeWidth=0.6))
        drawing.add(_text(x, bottom - 11, monthly[i]["month"], font=font))
    drawing.add(_text(left + plot_w / 2, 4, _("Month of enrollment"), font=font, color=MUTED, size=7))
    drawing.add(_vertical(10, bottom + plot_h / 2, _("Enrolled per month"), font=font))
    drawing.add(_vertical(width - 4, bottom + plot_h / 2, _("Cumulative"), font=font))
    _legend(
        drawing,
        x=left,
        y=height - 12,
        font=font,
        items=[
            ("bar", BAR, _("Enrolled per month")),
            ("line", CURVE, _("Cumulative")),
            ("dash", OTHER, _("Target")),
        ],
    )
    return drawing


def _steps(times, values, *, x0, y0, sx, sy) -> list[float]:
    points = [x0 + sx * times[0], y0 + sy * values[0]]
    for i in range(1, len(times)):
        x = x0 + sx * times[i]
        points += [x, y0 + sy * values[i - 1], x, y0 + sy * values[i]]
    return points


def incidence_chart(curves: dict, *, horizon: int, width: float, font: str) -> Drawing:
    """The Aalen–Johansen cumulative incidence and 1 − Kaplan–Meier as step curves to the horizon, in %, with
    the numbers at risk under the x axis."""
    height = 215
    left, right, bottom, top = 62, 16, 62, 24
    plot_w, plot_h = width - left - right, height - bottom - top
    drawing = Drawing(width, height, initialFontName=font)
    times = [min(t, horizon) for t in curves["times"]]
    peak = max([*curves["cif"], *curves["km"], 0.0]) * 100
    y_top, y_step = nice_ceiling(max(peak * 1.15, 1.0))
    sx, sy = plot_w / horizon, plot_h / y_top
    for i in range(1, round(y_top / y_step) + 1):
        y = bottom + sy * i * y_step
        drawing.add(Line(left, y, left + plot_w, y, strokeColor=RULE, strokeWidth=0.3))
    km = _steps(times, [v * 100 for v in curves["km"]], x0=left, y0=bottom, sx=sx, sy=sy)
    cif = _steps(times, [v * 100 for v in curves["cif"]], x0=left, y0=bottom, sx=sx, sy=sy)
    drawing.add(PolyLine(km, strokeColor=OTHER, strokeWidth=1.2, strokeDashArray=[4, 2]))
    drawing.add(PolyLine(cif, strokeColor=CURVE, strokeWidth=1.6))
    drawing.add(Line(left, bottom, left + plot_w, bottom, strokeColor=INK, strokeWidth=0.6))
    _y_axis(
        drawing,
        x=left,
        bottom=bottom,
        height=plot_h,
        top_value=y_top,
        step=y_step,
        font=font,
        fmt=lambda v: f"{num(v, 0 if y_step >= 1 else 1)}%",
    )
    drawing.add(_vertical(left - 30, bottom + plot_h / 2, _("Cumulative incidence"), font=font))
    for row in curves["at_risk"]:
        x = left + sx * min(row["day"], horizon)
        drawing.add(Line(x, bottom, x, bottom - 3, strokeColor=INK, strokeWidth=0.6))
        drawing.add(_text(x, bottom - 11, str(row["day"]), font=font))
        drawing.add(_text(x, bottom - 40, str(row["n"]), font=font, size=7))
    drawing.add(
        _text(left + plot_w / 2, bottom - 24, _("Days since the procedure"), font=font, color=MUTED, size=7)
    )
    drawing.add(_text(4, bottom - 40, _("At risk"), anchor="start", font=font, size=7, color=MUTED))
    drawing.add(Line(left, bottom - 30, left + plot_w, bottom - 30, strokeColor=RULE, strokeWidth=0.3))
    _legend(
        drawing,
        x=left,
        y=height - 12,
        font=font,
        items=[
            ("line", CURVE, _("Re-fracture, death competing (Aalen–Johansen)")),
            ("dash", OTHER, _("1 − Kaplan–Meier (death censored)")),
        ],
    )
    return drawing


def means_chart(visits: list[dict], *, width: float, height: float, font: str) -> Drawing | None:
    """Each visit's mean with its 95 % interval as a point and a whisker, the visits by code (the table beside
    it names them); None when no visit has a mean."""
    shown = [v for v in visits if v["mean"] is not None]
    if not shown:
        return None
    left, right, bottom, top = 30, 8, 30, 10
    plot_w, plot_h = width - left - right, height - bottom - top
    drawing = Drawing(width, height, initialFontName=font)
    highs = [v["hi"] if v["hi"] is not None else v["mean"] for v in shown]
    y_top, y_step = nice_ceiling(max(highs))
    slot = plot_w / len(visits)
    drawing.add(Line(left, bottom, left + plot_w, bottom, strokeColor=INK, strokeWidth=0.6))
    _y_axis(drawing, x=left, bottom=bottom, height=plot_h, top_value=y_top, step=y_step, font=font)
    for i, visit in enumerate(visits):
        x = left + slot * (i + 0.5)
        drawing.add(_text(x, bottom - 10, visit["code"], font=font))
        if visit["mean"] is None:
            continue
        lo = visit["lo"] if visit["lo"] is not None else visit["mean"]
        hi = visit["hi"] if visit["hi"] is not None else visit["mean"]
        y_lo, y_hi = bottom + plot_h * max(lo, 0) / y_top, bottom + plot_h * hi / y_top
        drawing.add(Line(x, y_lo, x, y_hi, strokeColor=CURVE, strokeWidth=0.8))
        drawing.add(Line(x - 3, y_lo, x + 3, y_lo, strokeColor=CURVE, strokeWidth=0.8))
        drawing.add(Line(x - 3, y_hi, x + 3, y_hi, strokeColor=CURVE, strokeWidth=0.8))
        y = bottom + plot_h * visit["mean"] / y_top
        drawing.add(Rect(x - 2, y - 2, 4, 4, fillColor=CURVE, strokeColor=None))
    drawing.add(_text(left + plot_w / 2, 4, _("Mean and 95% CI per visit"), font=font, color=MUTED, size=7))
    return drawing
