"""The accuracy report's first page: what it is of, whether the analysis is locked, the data versions, the
intervals used; and the words of its footer."""

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, Spacer, Table

from ..fmt import cut_time, esc, label
from ..style import WIDTH, Styles, table_style
from .words import cohort_name, interval_name

ALERT = colors.HexColor("#b42318")
ALERT_FILL = colors.HexColor("#fdecea")


def report_name() -> str:
    return _("Diagnostic accuracy report (STARD 2015)")


def lock_text(figures: dict) -> str:
    lock = figures["lock"]
    if not lock["locked"]:
        return _("Not locked")
    return _("Locked %(time)s by %(user)s. Reason: %(reason)s") % {
        "time": cut_time(lock["locked_at"]),
        "user": lock["locked_by"],
        "reason": lock["reason"],
    }


def intervals_text(methods: dict) -> str:
    return _(
        "%(confidence)s intervals. Sensitivity, specificity, accuracy, PPV and NPV: %(method)s, per "
        "vertebra. AUC: DeLong. Patient-clustered: cluster bootstrap of patients, %(n)s resamples, seed "
        "%(seed)s, percentile intervals."
    ) % {
        "confidence": f"{methods['confidence'] * 100:g}%",
        "method": interval_name(methods["proportions"]),
        "n": methods["clustered"]["n_resamples"],
        "seed": methods["clustered"]["seed"],
    }


def title_block(figures: dict, st: Styles) -> list:
    study, flow = figures["study"], figures["flow"]
    analysed = flow["analysed"]
    centres = "; ".join(
        _("%(centre)s: %(vertebrae)s vertebrae of %(cases)s cases")
        % {"centre": cohort_name(c["cohort"]), "vertebrae": c["vertebrae"], "cases": c["cases"]}
        for c in analysed["centres"]
    )
    rows = [
        [_("Protocol version"), study["protocol_version"]],
        [_("Analysis"), lock_text(figures)],
        [
            _("Index tests"),
            ", ".join(m["label"] for m in figures["models"]) or _("No classification model imported."),
        ],
        [_("Reference standard"), _("The final adjudicated reading of each vertebra: acute or chronic.")],
        [
            _("Analysed"),
            _("%(vertebrae)s vertebrae of %(cases)s cases (%(centres)s)")
            % {"vertebrae": analysed["vertebrae"], "cases": analysed["cases"], "centres": centres},
        ],
        [_("Intervals"), intervals_text(figures["methods"])],
        [_("Dataset SHA-256"), figures["dataset_sha256"]],
        [
            _("Generated"),
            _("%(time)s by %(user)s")
            % {"time": cut_time(figures["generated"]["at"]), "user": figures["generated"]["by"]},
        ],
    ]
    table = Table([[st.cell_p(k), st.cell_p(v)] for k, v in rows], colWidths=[110, WIDTH - 110])
    table.setStyle(table_style([*st.table(header_rows=0), ("BACKGROUND", (0, 0), (0, -1), "#e8edf3")]))
    story = [
        st.p(" · ".join((study["code"], report_name())), st.subtitle),
        st.p(label(study["title"], st.language), st.title),
        Spacer(1, 4),
    ]
    if not figures["lock"]["locked"]:
        story += [_not_locked(st), Spacer(1, 6)]
    return [
        *story,
        table,
        st.p(
            _(
                "Every number in this report is computed from the data whose SHA-256 is printed above and on "
                "every page; the same data give the same numbers. Times are in UTC."
            ),
            st.note,
        ),
    ]


def _not_locked(st: Styles) -> Table:
    style = ParagraphStyle("alert", parent=st.body, textColor=ALERT, spaceAfter=0)
    text = Paragraph(
        esc(
            _(
                "NOT LOCKED: the analysis of this study is not locked. This report uses the current import "
                "of each model; its numbers change with a new import. Lock the analysis before the final "
                "report."
            )
        ),
        style,
    )
    box = Table([[text]], colWidths=[WIDTH])
    box.setStyle(
        table_style(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("BOX", (0, 0), (-1, -1), 1, ALERT),
                ("BACKGROUND", (0, 0), (-1, -1), ALERT_FILL),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return box


def footer_lines(figures: dict) -> tuple[str, str]:
    """The two lines at the foot of every page."""
    first = _("%(code)s · %(report)s · generated %(time)s by %(user)s") % {
        "code": figures["study"]["code"],
        "report": report_name(),
        "time": cut_time(figures["generated"]["at"]),
        "user": figures["generated"]["by"],
    }
    state = _("analysis locked") if figures["lock"]["locked"] else _("analysis NOT LOCKED")
    return first, _("Dataset SHA-256: %(hash)s") % {"hash": figures["dataset_sha256"]} + f" · {state}"
