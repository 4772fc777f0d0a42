"""Section 1: enrollment per site, the monthly accrual chart and the projected date of reaching the target."""

from django.utils.translation import gettext as _
from reportlab.platypus import Spacer, Table

from .charts import accrual_chart
from .fmt import DASH, interval, label, num, pct
from .style import WIDTH, Styles, table_style


def _of_target(enrolled: int, target: int | None) -> str:
    return pct(100 * enrolled / target) if target else DASH


def enrollment_section(figures: dict, st: Styles) -> list:
    """The flowables of section 1."""
    enrollment, target = figures["enrollment"], figures["study"]["target"]
    story = [st.heading(1, _("Enrollment"))]
    if enrollment["sites"]:
        rows = [[_("Site"), _("Screened"), _("Eligible"), _("Enrolled"), _("Target"), _("Of target")]]
        for site in enrollment["sites"]:
            rows.append(
                [
                    st.cell_p(f"{site['code']} · {label(site['name'], st.language)}"),
                    site["screened"],
                    site["eligible"],
                    site["enrolled"],
                    DASH if site["target"] is None else site["target"],
                    _of_target(site["enrolled"], site["target"]),
                ]
            )
        total = enrollment["total"]
        rows.append(
            [
                _("All sites"),
                total["screened"],
                total["eligible"],
                total["enrolled"],
                DASH if total["target"] is None else total["target"],
                _of_target(total["enrolled"], total["target"]),
            ]
        )
        table = Table(rows, colWidths=[WIDTH - 5 * 62, 62, 62, 62, 62, 62], repeatRows=1)
        table.setStyle(table_style(st.table(total_row=True)))
        story.append(table)
    else:
        story.append(st.none(_("No site has screened a patient yet.")))
    story.append(st.p(_("Monthly accrual"), st.subheading))
    if any(month["enrolled"] for month in enrollment["monthly"]):
        story.append(accrual_chart(enrollment["monthly"], target=target, width=WIDTH, font=st.font))
        story.append(Spacer(1, 4))
    else:
        story.append(st.none(_("No participant is enrolled yet: there is no accrual to chart.")))
    story.append(st.p(_("Projected date of reaching the target"), st.subheading))
    story.append(projection_paragraph(enrollment["projection"], target=target, st=st))
    story.append(st.p(methods_sentence(), st.note))
    return story


def projection_paragraph(projection: dict | None, *, target: int, st: Styles):
    """The projection sentence, or why there is none."""
    if projection is None:
        return st.none(
            _(
                "No participant is enrolled yet, so no date can be projected for reaching the target of "
                "%(target)s."
            )
            % {"target": target}
        )
    if projection["reached"]:
        return st.p(
            _("The target of %(target)s participants was reached on %(date)s (%(enrolled)s enrolled).")
            % {"target": target, "date": projection["median"], "enrolled": projection["enrolled"]}
        )
    return st.p(
        _(
            "At the observed rate of %(rate)s participants per month (%(enrolled)s enrolled from %(first)s, "
            "over "
            "%(days)s days; %(remaining)s remain), the target of %(target)s would be reached on %(median)s "
            "(median; %(p80)s prediction interval %(pi80)s; %(p95)s prediction interval %(pi95)s)."
        )
        % {
            "rate": num(projection["rate_per_month"]),
            "enrolled": projection["enrolled"],
            "first": projection["first"],
            "days": num(projection["days_observed"], 0),
            "remaining": projection["remaining"],
            "target": target,
            "median": projection["median"],
            "pi80": interval(*projection["pi80"]),
            "pi95": interval(*projection["pi95"]),
            "p80": "80%",
            "p95": "95%",
        }
    )


def methods_sentence() -> str:
    """How the projection is made (the figures' methods.accrual, "poisson_gamma")."""
    return _(
        "Method: enrollment is modelled as a Poisson process at the rate observed since the study opened, "
        "with the rate's uncertainty carried by its Gamma posterior; the projected date is the median of the "
        "predictive distribution of the time to enroll the remaining participants, and the intervals are its "
        "%(p80)s and %(p95)s predictive intervals (Gajewski, Simon & Carlson 2008; Anisimov & Fedorov 2007). "
        "A month is 30.4375 days."
    ) % {"p80": "80%", "p95": "95%"}
