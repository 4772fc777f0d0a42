"""The risk-model reports' first page (what the model is, the data it comes from, the hashes, seed and
versions that reproduce it, "for research use") and the words of their footers."""

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, Spacer, Table

from ..fmt import cut_time, esc, label
from ..style import HEADER_FILL, WIDTH, Styles, table_style
from .words import penalty_text, report_name, source_name

RESEARCH = colors.HexColor("#8a5a00")
RESEARCH_FILL = colors.HexColor("#fff4db")


def model_name(result: dict, language: str) -> str:
    if result["kind"] == "validation":
        return label(result["model"].get("name"), language) or f"#{result['model'].get('id')}"
    spec = result.get("spec") or {}
    return label(spec.get("title") or spec.get("code"), language)


def model_type_text(model: dict) -> str:
    days = model.get("horizon_days")
    if model.get("type") == "cox":
        return _("Cox proportional-hazards model (cause-specific); risk at %(days)s days") % {"days": days}
    return _("Logistic regression of the risk within %(days)s days") % {"days": days}


def study_text(study: dict | str | None, language: str) -> str:
    if isinstance(study, dict):
        title = label(study.get("title"), language)
        return f"{study.get('code', '')} · {title}" if title else study.get("code", "")
    return study or ""


def versions_text(versions: dict) -> str:
    return ", ".join(f"{name} {version}" for name, version in versions.items())


def cut_text(cut: dict, *, source: bool = True) -> str:
    parts = [cut_time(cut["at"])] if cut.get("at") else []
    if cut.get("rows") is not None:
        parts.append(_("%(n)s rows") % {"n": cut["rows"]})
    if source and cut.get("source"):
        parts.append(source_name(cut["source"]))
    if cut.get("enrolled_after"):  # a temporal validation: only those the model never saw
        parts.append(_("participants enrolled after %(day)s") % {"day": cut["enrolled_after"]})
    return "; ".join(parts)


def _rows(result: dict, st: Styles) -> list[list[str]]:
    repro = result.get("reproducibility") or {}
    if result["kind"] == "development":
        model, spec, cut = result["model"], result.get("spec") or {}, result.get("cut") or {}
        rows = [
            [_("Study"), study_text(result.get("study"), st.language)],
            [_("Model"), model_type_text(model)],
            [_("Specification"), _("version %(version)s") % {"version": spec.get("version", "—")}],
            [_("Specification SHA-256"), spec.get("sha256") or model.get("spec_sha256") or "—"],
            # The study's own data is the usual source; a later cut or an import is said.
            [_("Data cut"), cut_text(cut, source=cut.get("source") != "study")],
            [_("Data cut SHA-256"), cut.get("sha256") or model.get("cut_sha256") or "—"],
            [_("Penalty"), penalty_text(model.get("penalty"))],
        ]
    else:
        cohort, model = result["cohort"], result["model"]
        cut = cohort.get("cut") or {}
        rows = [
            [
                _("Frozen model"),
                _("#%(id)s, SHA-256 %(hash)s") % {"id": model.get("id"), "hash": model["sha256"]},
            ],
            [_("Validation cohort"), study_text(cohort.get("study"), st.language)],
            [_("Source"), source_name(cohort.get("source", ""))],
            [_("Data cut"), cut_text(cut)],
            [_("Data cut SHA-256"), cut.get("sha256") or "—"],
        ]
    return [
        *rows,
        [_("Random seed"), str(repro.get("seed", "—"))],
        [
            _("Resampling"),
            _("%(bootstrap)s bootstrap resamples; %(m)s imputations")
            % {"bootstrap": repro.get("bootstrap", "—"), "m": repro.get("imputations", "—")},
        ],
        [_("Software"), versions_text(repro.get("versions") or {})],
    ]


def title_block(result: dict, st: Styles) -> list:
    """The study, the report's name, the model's name and the facts that identify this report."""
    table = Table([[st.cell_p(k), st.cell_p(v)] for k, v in _rows(result, st)], colWidths=[112, WIDTH - 112])
    table.setStyle(table_style([*st.table(header_rows=0), ("BACKGROUND", (0, 0), (0, -1), HEADER_FILL)]))
    study = result.get("study") or (result.get("cohort") or {}).get("study") or {}
    code = study.get("code", "") if isinstance(study, dict) else study
    return [
        st.p(" · ".join(filter(None, (code, report_name(result["kind"])))), st.subtitle),
        st.p(model_name(result, st.language), st.title),
        Spacer(1, 4),
        research_box(st),
        Spacer(1, 6),
        table,
        st.p(
            _(
                "Every number in this report is computed from the data cut, specification and seed above; "
                "the same inputs give the same report. Times are in UTC."
            ),
            st.note,
        ),
    ]


def research_box(st: Styles) -> Table:
    style = ParagraphStyle("research", parent=st.body, textColor=RESEARCH, spaceAfter=0)
    text = Paragraph(
        esc(
            _(
                "For research use only. This model has not been approved for clinical decisions; its "
                "predictions are estimates with uncertainty."
            )
        ),
        style,
    )
    box = Table([[text]], colWidths=[WIDTH])
    box.setStyle(
        table_style(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("BOX", (0, 0), (-1, -1), 0.8, RESEARCH),
                ("BACKGROUND", (0, 0), (-1, -1), RESEARCH_FILL),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return box


def footer_lines(result: dict, language: str) -> tuple[str, str]:
    """The two lines at the foot of every page."""
    first = " · ".join(filter(None, (model_name(result, language), report_name(result["kind"]))))
    first += " · " + _("for research use")
    if result["kind"] == "development":
        cut = (result.get("cut") or {}).get("sha256") or result["model"].get("cut_sha256")
    else:
        cut = ((result.get("cohort") or {}).get("cut") or {}).get("sha256")
    return first, _("Data cut SHA-256: %(hash)s") % {"hash": cut or "—"}
