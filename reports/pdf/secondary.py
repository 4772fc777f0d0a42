# The report typesets true minus signs and en dashes:
# ruff: noqa: RUF002
"""Section 6: the secondary outcomes, each questionnaire's mean per visit, its change and the MCID reached."""

from django.utils.translation import gettext as _
from reportlab.platypus import Table

from .charts import means_chart
from .fmt import confidence, interval, label, num, pct
from .style import WIDTH, Styles, table_style

TABLE_WIDTH = WIDTH * 0.56


def mcid_threshold(instrument: dict) -> float | None:
    """The instrument's MCID in its unit (FIGURES.md's "mcid_threshold"; "mcid" is the share reaching it)."""
    value = instrument.get("mcid_threshold")
    return value if isinstance(value, int | float) else None


def _mcid_size(instrument: dict) -> str:
    """The MCID in the instrument's unit: "10 points" on a 0–100 % scale, "15 mm" on a VAS."""
    threshold = mcid_threshold(instrument)
    if threshold is None:
        return "MCID"
    if instrument["unit"] == "%":
        return _("%(value)s points") % {"value": num(threshold, 0)}
    return f"{num(threshold, 0)} {instrument['unit']}".strip()


def _share(part: dict, level: str) -> str:
    ci = interval(pct(part["lo"]), pct(part["hi"]))
    return f"{part['met']}/{part['n']} ({pct(part['percent'])}; {level} CI {ci})"


def instrument_block(instrument: dict, *, level: str, st: Styles) -> list:
    """One questionnaire: a table of its visits beside a chart of their means, then the change and MCID."""
    name = label(instrument["label"], st.language)
    # The unit once: the VAS's name already says "(0-100 mm)".
    heading = name if instrument["unit"] in name else f"{name} ({instrument['unit']})"
    story = [st.p(heading, st.subheading)]
    if not any(visit["n"] for visit in instrument["visits"]):
        story.append(
            st.none(_("No %(instrument)s questionnaire has been returned yet.") % {"instrument": name})
        )
        return story
    rows = [[_("Visit"), _("n"), _("Mean"), _("%(level)s CI") % {"level": level}]]
    for visit in instrument["visits"]:
        rows.append(
            [
                st.cell_p(f"{visit['code']} · {label(visit['label'], st.language)}"),
                visit["n"],
                num(visit["mean"]),
                interval(num(visit["lo"]), num(visit["hi"])) if visit["lo"] is not None else "—",
            ]
        )
    table = Table(rows, colWidths=[TABLE_WIDTH - 150, 30, 45, 75], repeatRows=1)
    table.setStyle(table_style(st.table()))
    chart = means_chart(
        instrument["visits"], width=WIDTH - TABLE_WIDTH - 10, height=30 + 14 * len(rows), font=st.font
    )
    side = Table([[table, chart]], colWidths=[TABLE_WIDTH + 10, WIDTH - TABLE_WIDTH - 10])
    side.setStyle(
        table_style(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story.append(side)
    change = instrument["change"]
    visit_name = label(change["label"], st.language) or change["visit"]
    if change["n"] and change["mean"] is not None:
        story.append(
            st.p(
                _(
                    "Change from baseline at %(visit)s: %(mean)s (%(level)s CI %(ci)s), n = %(n)s; negative "
                    "is better."
                )
                % {
                    "visit": visit_name,
                    "mean": num(change["mean"]),
                    "level": level,
                    "n": change["n"],
                    "ci": interval(num(change["lo"]), num(change["hi"])),
                }
            )
        )
    else:
        story.append(
            st.none(
                _("No participant has both a baseline and a %(visit)s value yet.") % {"visit": visit_name}
            )
        )
        return story
    share = instrument["mcid"]
    for part, text in (
        (share, _("Improved by at least the MCID (%(size)s): %(share)s.")),
        (instrument["mcid_relative"], _("Improved by at least 30%% of the baseline value: %(share)s.")),
    ):
        if part and part["n"]:
            story.append(st.p(text % {"size": _mcid_size(instrument), "share": _share(part, level)}))
    return story


def secondary_section(figures: dict, st: Styles) -> list:
    """The flowables of section 6."""
    story = [st.heading(6, _("Secondary outcomes"))]
    instruments = figures["secondary"]["instruments"]
    if not instruments:
        story.append(st.none(_("The protocol collects no questionnaire.")))
        return story
    level = confidence(figures["methods"]["confidence"])
    for instrument in instruments:
        story += instrument_block(instrument, level=level, st=st)
    story.append(
        st.p(
            _(
                "Means with t-based %(level)s intervals; shares with Wilson %(level)s intervals. The MCID "
                "(minimal "
                "clinically important difference) follows Ostelo 2008."
            )
            % {"level": level},
            st.note,
        )
    )
    return story
