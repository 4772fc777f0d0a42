"""The risk-model reports' participant flow (TRIPOD+AI item 20a): the participants of the data cut, those left
without an outcome, and the analysed with and without the event. Drawn with the interim report's boxes and
arrows (reports/pdf/flow.py)."""

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Drawing

from ..flow import LEADING, PAD, SIZE, Box, flow_draw, text_wrap


def riskmodel_flow_diagram(flow: dict, *, width: float, font: str, language: str) -> Drawing:
    """The diagram of a result's "flow" {participants, pending, no_outcome, competing, analysed, events}."""
    cjk = language.startswith("zh")
    main_w, gap_x = width * 0.46, width * 0.06
    side_x, side_w = main_w + gap_x, width - main_w - gap_x - 1

    def box(title: str, n: int, details: list[str] = (), *, main: bool) -> Box:
        inner = (main_w if main else side_w) - 2 * PAD
        # No break inside "(n = 12)": text_wrap breaks at plain spaces only.
        heading = _("%(title)s (n = %(n)s)").replace("n = ", "n\u00a0=\u00a0") % {"title": title, "n": n}
        lines = [(line, 0) for line in text_wrap(heading, font=font, size=SIZE, width=inner, cjk=cjk)]
        for detail in details:
            wrapped = text_wrap(f"• {detail}", font=font, size=SIZE, width=inner - 8, cjk=cjk)
            lines += [(line, 8 if j else 0) for j, line in enumerate(wrapped)]
        made = Box(lines=lines, main=main, width=main_w if main else side_w)
        made.height = len(lines) * LEADING + 2 * PAD - 2
        return made

    free = flow["analysed"] - flow["events"] - flow["competing"]
    main = [
        box(_("Participants in the data cut"), flow["participants"], main=True),
        box(
            _("Analysed"),
            flow["analysed"],
            [
                _("event within the horizon: %(n)s") % {"n": flow["events"]},
                _("died first, without the event (competing event): %(n)s") % {"n": flow["competing"]},
                _("event-free at the horizon: %(n)s") % {"n": free},
            ],
            main=True,
        ),
    ]
    sides = [
        [
            box(_("Outcome pending adjudication"), flow["pending"], main=False),
            box(
                _("No outcome at the horizon"),
                flow["no_outcome"],
                [_("withdrawn, lost to follow-up or still in follow-up before the horizon")],
                main=False,
            ),
        ]
    ]
    return flow_draw(main, sides, width=width, side_x=side_x, main_w=main_w, font=font)
