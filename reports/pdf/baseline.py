"""Section 3: the baseline table (Table 1) of the enrolled participants."""

from django.utils.translation import gettext as _
from reportlab.platypus import Table

from .fmt import interval, label, num, pct
from .style import WIDTH, Styles, table_style


def unit_name(unit: str | None) -> str:
    """A unit as printed: words translated, symbols as they are."""
    return {"years": _("years")}.get(unit or "", unit or "")


def _summary(row: dict) -> tuple[str, str]:
    """(the statistic's name, its value) of a continuous row."""
    if row["n"] == 0:
        return "", "—"
    if row["summary"] == "median_iqr":
        return _("median (IQR)"), f"{num(row['median'])} ({interval(num(row['q1']), num(row['q3']))})"
    return _("mean ± SD"), f"{num(row['mean'])} ± {num(row['sd'])}"


def _comma(st: Styles) -> str:
    return "，" if st.language.startswith("zh") else ", "  # noqa: RUF001 -- the Chinese comma


def baseline_section(figures: dict, st: Styles) -> list:
    """The flowables of section 3."""
    baseline = figures["baseline"]
    story = [st.heading(3, _("Baseline characteristics (Table 1)"))]
    if not baseline["n"]:
        story.append(st.none(_("No participant is enrolled yet: there is no baseline to describe.")))
        return story
    rows = [[_("Characteristic"), _("Enrolled (N = %(n)s)") % {"n": baseline["n"]}, _("n"), _("Missing")]]
    for row in baseline["rows"]:
        name = label(row["label"], st.language)
        if row["kind"] == "continuous":
            unit = unit_name(row.get("unit"))
            statistic, value = _summary(row)
            text = _comma(st).join(part for part in (name, unit, statistic) if part)
            rows.append([st.cell_p(text), value, row["n"], row["missing"]])
        else:
            rows.append([st.cell_p(_("%(name)s, n (%%)") % {"name": name}), "", row["n"], row["missing"]])
            for level in row["levels"]:
                rows.append(
                    [
                        st.cell_p(label(level["label"], st.language), indent=True),
                        f"{level['n']} ({pct(level['percent'])})",
                        "",
                        "",
                    ]
                )
    table = Table(rows, colWidths=[WIDTH - 3 * 70 - 40, 140, 55, 55], repeatRows=1)
    table.setStyle(table_style(st.table()))
    story.append(table)
    story.append(
        st.p(
            _(
                "Continuous characteristics are summarised as mean ± SD, or as median (IQR) when the "
                "absolute skewness "
                "of their distribution is %(threshold)s or more; categories as n (%%) of the participants "
                "with a value. "
                "n: participants with a value; missing: enrolled participants without one."
            )
            % {"threshold": num(figures["methods"]["skew_threshold"], 0)},
            st.note,
        )
    )
    return story
