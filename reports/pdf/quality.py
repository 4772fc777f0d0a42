# The report typesets true minus signs and en dashes:
# ruff: noqa: RUF001
"""Section 4: data quality per site (forms, queries, visits, questionnaires, reminders) with a total row."""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.platypus import Paragraph, Spacer, Table

from .fmt import esc, label
from .style import WIDTH, Styles, table_style


def band_name(code: str) -> str:
    """The age band of an open query."""
    return {
        "0_7": _("0–7 d"),
        "8_30": _("8–30 d"),
        "31_90": _("31–90 d"),
        "over_90": _("> 90 d"),
    }.get(code, code)


def _any_count(counts: dict) -> bool:
    """Whether any count in a nested dict of counts is not zero."""
    return any(_any_count(v) if isinstance(v, dict) else v for v in counts.values())


def _table(st: Styles, *, groups: list[tuple[str, list[str], float]], rows: list[list]) -> Table:
    """A table with a first column of sites and groups of number columns (title, names, column width) under a
    spanning group header."""
    top, second, spans, column, widths = [_("Site")], [""], [], 1, []
    for title, names, width in groups:
        widths += [width] * len(names)
        top += [title] + [""] * (len(names) - 1)
        second += [Paragraph(esc(name), st.cell_head) for name in names]
        spans.append(("SPAN", (column, 0), (column + len(names) - 1, 0)))
        spans.append(("LINEBELOW", (column, 0), (column + len(names) - 1, 0), 0.4, "#8a96a5"))
        column += len(names)
    table = Table([top, second, *rows], colWidths=[WIDTH - sum(widths), *widths], repeatRows=2)
    table.setStyle(
        table_style(
            [
                *st.table(header_rows=2, total_row=True),
                *spans,
                ("SPAN", (0, 0), (0, 1)),
                ("VALIGN", (0, 0), (0, 1), "BOTTOM"),
                # The column names are single words: a narrow padding keeps "unconfirmed" on one line.
                ("LEFTPADDING", (1, 1), (-1, 1), 1),
                ("RIGHTPADDING", (1, 1), (-1, 1), 1),
            ]
        )
    )
    return table


def quality_section(figures: dict, st: Styles) -> list:
    """The flowables of section 4."""
    quality = figures["quality"]
    story = [st.heading(4, _("Data quality per site"))]
    if not quality["sites"] or not _any_count(quality["total"]):
        story.append(st.none(_("No form, query, visit, questionnaire or reminder exists yet.")))
        return story
    bands = list(quality["total"]["queries"]["bands"])  # the figures' order (reports/figures.py QUERY_BANDS)
    entries = [
        *[(st.cell_p(f"{s['code']} · {label(s['name'], st.language)}"), s) for s in quality["sites"]],
        (_("All sites"), quality["total"]),
    ]
    forms = [
        [
            name,
            *(s["forms"][k] for k in ("expected", "complete", "verified", "signed", "locked")),
            s["queries"]["open"],
            *(s["queries"]["bands"][b] for b in bands),
        ]
        for name, s in entries
    ]
    story.append(st.p(_("Forms and open queries"), st.subheading))
    story.append(
        _table(
            st,
            rows=forms,
            groups=[
                (_("Forms"), [_("expected"), _("complete"), _("verified"), _("signed"), _("locked")], 36),
                (
                    _("Open queries, by age"),
                    [pgettext("queries", "open"), *(band_name(b) for b in bands)],
                    34,
                ),
            ],
        )
    )
    story.append(
        st.p(
            _(
                "Form counts are cumulative: a verified form is also counted as complete, a signed one as "
                "verified."
            ),
            st.note,
        )
    )
    story.append(Spacer(1, 4))
    follow = [
        [
            name,
            s["visits"]["due"],
            s["visits"]["overdue"],
            s["visits"]["missed"],
            s["questionnaires"]["patient"],
            s["questionnaires"]["staff"],
            s["reminders"]["sent"],
            s["reminders"]["failed"],
            s["reminders"]["unconfirmed"],
        ]
        for name, s in entries
    ]
    story.append(st.p(_("Visits, questionnaires and reminders"), st.subheading))
    story.append(
        _table(
            st,
            rows=follow,
            groups=[
                (_("Visits"), [_("due"), _("overdue"), _("missed")], 38),
                (_("Questionnaires"), [_("by patient"), _("by staff")], 40),
                (_("Reminders"), [_("sent"), _("failed"), _("unconfirmed")], 44),
            ],
        )
    )
    story.append(
        st.p(
            _(
                "Questionnaires: submitted responses, entered by the patient through a link or by staff on "
                "paper. "
                "Reminders: sent, failed, or sent without a delivery confirmation."
            ),
            st.note,
        )
    )
    return story
