"""The STARD 2015 flow diagram: the cases screened down to the vertebrae analysed on the left, with their
counts per arm; who left at each step, by reason, in boxes to the right. Drawn with the interim report's
boxes and arrows (reports/pdf/flow.py)."""

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Drawing

from ..flow import LEADING, PAD, SIZE, Box, flow_draw, text_wrap
from ..fmt import label
from .words import cohort_name, flow_reason


def _arm_lines(counts: dict, arms: dict, *, cases: bool = True) -> list[str]:
    lines = []
    for arm in counts["arms"]:
        name = arms.get(arm["code"]) or arm["code"] or _("no group")
        if cases:
            lines.append(
                _("%(arm)s: %(vertebrae)s vertebrae of %(cases)s cases")
                % {"arm": name, "vertebrae": arm["vertebrae"], "cases": arm["cases"]}
            )
        else:
            lines.append(_("%(arm)s: %(vertebrae)s vertebrae") % {"arm": name, "vertebrae": arm["vertebrae"]})
    return lines


def stard_flow_diagram(figures: dict, *, width: float, font: str, language: str) -> Drawing:
    """The diagram of figures["flow"], `width` points wide."""
    flow = figures["flow"]
    cjk = language.startswith("zh")
    arms = {g["code"]: label(g["label"], language) for g in figures["study"]["groups"]}
    main_w, gap_x = width * 0.42, width * 0.06
    side_x, side_w = main_w + gap_x, width - main_w - gap_x - 1

    def box(title: str, details: list[str] = (), *, main: bool, bullets: bool = False) -> Box:
        inner = (main_w if main else side_w) - 2 * PAD
        lines = [(line, 0) for line in text_wrap(title, font=font, size=SIZE, width=inner, cjk=cjk)]
        for detail in details:
            text = f"• {detail}" if bullets else detail
            wrapped = text_wrap(text, font=font, size=SIZE, width=inner - 8, cjk=cjk)
            lines += [(line, 8 if j else 0) for j, line in enumerate(wrapped)]
        made = Box(lines=lines, main=main, width=main_w if main else side_w)
        made.height = len(lines) * LEADING + 2 * PAD - 2
        return made

    def exits(part: dict) -> list[str]:
        return [f"{flow_reason(r['code'], r.get('model', ''))}: {r['n']}" for r in part["reasons"]]

    def exit_box(title: str, part: dict) -> Box:
        """A side box: the vertebrae or cases that left there, with each reason's count."""
        return box(n % {"title": title, "n": part["n"]}, exits(part), main=False, bullets=True)

    # No break inside "(n = 12)": text_wrap breaks at plain spaces only.
    n = _("%(title)s (n = %(n)s)").replace("n = ", "n\u00a0=\u00a0")
    analysed = flow["analysed"]
    main = [
        box(n % {"title": _("Cases screened"), "n": flow["screened"]}, main=True),
        box(n % {"title": _("Eligible cases"), "n": flow["eligible"]}, main=True),
        box(
            _("Registered: %(cases)s cases, %(vertebrae)s vertebrae")
            % {"cases": flow["registered_cases"], "vertebrae": flow["registered"]["vertebrae"]},
            _arm_lines(flow["registered"], arms),
            main=True,
        ),
        box(
            n
            % {
                "title": _("Vertebrae with an index test result of every model"),
                "n": flow["index_test"]["vertebrae"],
            },
            _arm_lines(flow["index_test"], arms, cases=False),
            main=True,
        ),
        box(
            n
            % {
                "title": _("Analysed: vertebrae with a reference-standard result"),
                "n": analysed["vertebrae"],
            },
            [
                *_arm_lines(analysed, arms),
                _("Reference standard: %(acute)s acute, %(chronic)s chronic") % analysed["reference"],
                *(
                    _("%(centre)s: %(vertebrae)s vertebrae")
                    % {"centre": cohort_name(c["cohort"]), "vertebrae": c["vertebrae"]}
                    for c in analysed["centres"]
                ),
            ],
            main=True,
        ),
    ]
    ineligible = [f"{r['code']}: {r['n']}" for r in flow["ineligible"]["reasons"]]
    sides = [
        [
            box(
                n % {"title": _("Ineligible, by criterion"), "n": flow["ineligible"]["n"]},
                ineligible,
                main=False,
                bullets=True,
            ),
            box(n % {"title": _("Screening not finished"), "n": flow["incomplete"]}, main=False),
        ],
        [exit_box(_("Eligible, not registered"), flow["not_registered"])],
        [
            exit_box(_("Vertebrae excluded"), flow["excluded"]),
            exit_box(_("No index test result"), flow["no_index_test"]),
        ],
        [exit_box(_("No reference-standard result"), flow["no_reference"])],
    ]
    return flow_draw(main, sides, width=width, side_x=side_x, main_w=main_w, font=font)
