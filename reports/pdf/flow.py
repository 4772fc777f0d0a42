"""The participant flow diagram (STROBE item 13), drawn with reportlab.graphics: the stages down the left,
the participants leaving at each step in boxes to the right."""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from .fmt import label
from .style import ACCENT, INK, MUTED

SIZE, LEADING, PAD = 7.5, 9.5, 5
MAIN_FILL = colors.HexColor("#e8edf3")
SIDE_FILL = colors.white


def text_wrap(text: str, *, font: str, size: float, width: float, cjk: bool) -> list[str]:
    """`text` broken into lines no wider than `width`: at spaces, or between any two characters in Chinese."""
    lines, line = [], ""
    for token in list(text) if cjk else text.split(" "):
        candidate = token if not line else (line + token if cjk else f"{line} {token}")
        if line and stringWidth(candidate, font, size) > width:
            lines.append(line)
            line = token.lstrip() if cjk else token
        else:
            line = candidate
    return [*lines, line] if line else lines


@dataclass
class Box:
    lines: list[tuple[str, float]]  # (text, indent)
    main: bool
    width: float
    height: float = 0.0
    x: float = 0.0
    top: float = 0.0  # distance from the drawing's top edge


def reason_name(code: str, text: dict | None, language: str) -> str:
    """A reason's words: the protocol's label, else the fixed words for the codes the report knows."""
    fixed = {
        "awaiting": _("no decision yet"),
        "withdrawn": _("withdrawn"),
        "lost": _("lost to follow-up"),
        "died": _("died"),
    }
    return label(text, language) or fixed.get(code, code)


def flow_diagram(flow: dict, *, width: float, font: str, language: str) -> Drawing:
    """The diagram of `flow` (the figures' "flow" part), `width` points wide."""
    cjk = language.startswith("zh")
    main_w, gap_x = width * 0.40, width * 0.08
    side_x, side_w = main_w + gap_x, width - main_w - gap_x - 1

    def box(title: str, n: int, details: list[str] = (), *, main: bool) -> Box:
        inner = (main_w if main else side_w) - 2 * PAD
        lines = [
            (line, 0) for line in text_wrap(f"{title} (n = {n})", font=font, size=SIZE, width=inner, cjk=cjk)
        ]
        for detail in details:
            # A reason's continuation lines are indented under its bullet.
            wrapped = text_wrap(detail, font=font, size=SIZE, width=inner - 8, cjk=cjk)
            lines += [(line, 8 if j else 0) for j, line in enumerate(wrapped)]
        made = Box(lines=lines, main=main, width=main_w if main else side_w)
        made.height = len(lines) * LEADING + 2 * PAD - 2
        return made

    main = [
        box(_("Screened"), flow["screened"], main=True),
        box(_("Eligible"), flow["eligible"], main=True),
        box(_("Enrolled"), flow["enrolled"], main=True),
        box(_("Completed the 1-year follow-up"), flow["completed"], main=True),
        box(_("Analysed for the primary outcome"), flow["analysed"], main=True),
    ]
    ineligible = [f"• {r['code']}: {r['n']}" for r in flow["ineligible"]["reasons"]]
    not_enrolled = [
        f"• {reason_name(r['code'], r.get('label'), language)}: {r['n']}"
        for r in flow["not_enrolled"]["reasons"]
    ]
    left = [
        f"• {reason_name(r['code'], r.get('label'), language)}: {r['n']}" for r in flow["left"]["reasons"]
    ]
    sides = [
        [
            box(_("Ineligible, by criterion"), flow["ineligible"]["n"], ineligible, main=False),
            box(_("Screening not finished"), flow["incomplete"], main=False),
        ],
        [box(_("Eligible, not enrolled"), flow["not_enrolled"]["n"], not_enrolled, main=False)],
        [
            box(_("Left before 1 year"), flow["left"]["n"], left, main=False),
            box(_("Still in follow-up"), flow["in_follow_up"], main=False),
        ],
        [box(_("Not analysed: adjudication pending"), flow["not_analysed"], main=False)],
    ]
    return flow_draw(main, sides, width=width, side_x=side_x, main_w=main_w, font=font)


def flow_draw(
    main: list[Box], sides: list[list[Box]], *, width: float, side_x: float, main_w: float, font: str
) -> Drawing:
    """The diagram of `main` stages top-down, `sides[i]` the boxes that leave between stage i and i + 1:
    each gap as tall as the boxes beside it, an arrow down the spine and one out to each side box."""
    top = 4.0
    for i, stage in enumerate(main):
        stage.x, stage.top = 1, top
        top += stage.height
        if i < len(sides):
            stack = sum(b.height for b in sides[i]) + 8 * (len(sides[i]) - 1)
            gap = max(26, stack + 16)
            y = top + (gap - stack) / 2
            for side in sides[i]:
                side.x, side.top = side_x, y
                y += side.height + 8
            top += gap
    height = top + 4
    drawing = Drawing(width, height, initialFontName=font)
    spine = 1 + main_w / 2
    for i, stage in enumerate(main):
        _box_draw(drawing, stage, height=height, font=font)
        if i + 1 < len(main):
            _arrow(drawing, spine, height - stage.top - stage.height, spine, height - main[i + 1].top)
            for side in sides[i]:
                y = height - side.top - side.height / 2
                _arrow(drawing, spine, y, side.x, y)
                _box_draw(drawing, side, height=height, font=font)
    return drawing


def _box_draw(drawing: Drawing, box: Box, *, height: float, font: str) -> None:
    y = height - box.top - box.height
    drawing.add(
        Rect(
            box.x,
            y,
            box.width,
            box.height,
            rx=2,
            ry=2,
            strokeColor=ACCENT if box.main else MUTED,
            strokeWidth=0.8,
            fillColor=MAIN_FILL if box.main else SIDE_FILL,
        )
    )
    baseline = height - box.top - PAD - SIZE + 1
    for i, (line, indent) in enumerate(box.lines):
        drawing.add(
            String(
                box.x + PAD + indent,
                baseline - i * LEADING,
                line,
                fontName=font,
                fontSize=SIZE,
                fillColor=INK,
            )
        )


def _arrow(drawing: Drawing, x1: float, y1: float, x2: float, y2: float) -> None:
    drawing.add(Line(x1, y1, x2, y2, strokeColor=INK, strokeWidth=0.7))
    if x1 == x2:  # downwards
        drawing.add(Polygon([x2 - 3, y2 + 5, x2 + 3, y2 + 5, x2, y2], fillColor=INK, strokeColor=None))
    else:  # to the right
        drawing.add(Polygon([x2 - 5, y2 - 3, x2 - 5, y2 + 3, x2, y2], fillColor=INK, strokeColor=None))
