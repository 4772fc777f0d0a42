"""Section 2: the participant flow (STROBE item 13), its diagram and the criteria that excluded patients."""

from django.utils.translation import gettext as _
from reportlab.platypus import KeepTogether, Spacer, Table

from .flow import flow_diagram
from .fmt import label
from .style import WIDTH, Styles, table_style


def participants_section(figures: dict, st: Styles) -> list:
    """The flowables of section 2."""
    flow = figures["flow"]
    heading = st.heading(2, _("Participant flow"))
    if not flow["screened"]:
        return [heading, st.none(_("No patient has been screened yet."))]
    # The diagram is one drawing: its heading moves to the next page with it.
    story = [
        KeepTogether(
            [
                heading,
                st.p(
                    _("The flow of participants from screening to the primary analysis (STROBE item 13)."),
                    st.note,
                ),
                flow_diagram(flow, width=WIDTH, font=st.font, language=st.language),
            ]
        )
    ]
    reasons = flow["ineligible"]["reasons"]
    if reasons:
        story.append(Spacer(1, 6))
        story.append(
            st.p(_("Ineligible patients by the first criterion they failed, in protocol order."), st.note)
        )
        rows = [[_("Criterion"), _("Text"), _("Patients")]]
        rows += [[r["code"], st.cell_p(label(r.get("label"), st.language)), r["n"]] for r in reasons]
        table = Table(rows, colWidths=[50, WIDTH - 110, 60], repeatRows=1)
        table.setStyle(table_style([*st.table(), ("ALIGN", (0, 0), (1, 0), "LEFT")]))
        story.append(table)
    return story
