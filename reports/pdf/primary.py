# The report typesets true minus signs and en dashes:
# ruff: noqa: RUF001
"""Section 5: the primary outcome, adjudicated re-fracture within the horizon."""

from django.utils.translation import gettext as _
from reportlab.platypus import Table

from .charts import incidence_chart
from .fmt import confidence, interval, num, pct, share
from .style import WIDTH, Styles, table_style


def censoring_name(code: str) -> str:
    """Why a participant's time to re-fracture ends without one."""
    return {
        "died": _("died (competing risk)"),
        "withdrawn": _("withdrawn"),
        "lost": _("lost to follow-up"),
        "in_follow_up": _("still in follow-up"),
        "end_of_follow_up": _("reached the horizon"),
    }.get(code, code)


def location_name(code: str) -> str:
    """Where a re-fracture is, against the treated levels."""
    return {"adjacent": _("adjacent"), "remote": _("remote")}.get(code, code)


# Non-breaking spaces: the name never breaks at its minus sign.
KM_COMPLEMENT = "1\u00a0−\u00a0Kaplan–Meier"
CENSORING = ("died", "withdrawn", "lost", "in_follow_up", "end_of_follow_up")


def primary_section(figures: dict, st: Styles) -> list:
    """The flowables of section 5."""
    primary, horizon = figures["primary"], figures["study"]["horizon_days"]
    level = confidence(figures["methods"]["confidence"])
    not_treated = _("No participant has been treated yet.")
    story = [st.heading(5, _("Primary outcome: re-fracture within %(days)s days") % {"days": horizon})]

    story.append(st.p(_("Adjudicated re-fracture"), st.subheading))
    proportion = primary["proportion"]
    if proportion is not None:
        story.append(
            st.p(
                _(
                    "%(events)s/%(n)s participants whose outcome at %(days)s days is known had an "
                    "adjudicated "
                    "re-fracture: %(p)s (Wilson %(level)s CI %(ci)s)."
                )
                % {
                    "events": proportion["events"],
                    "n": proportion["n"],
                    "days": horizon,
                    "p": share(proportion["p"]),
                    "level": level,
                    "ci": interval(share(proportion["lo"]), share(proportion["hi"])),
                }
            )
        )
    elif primary["treated"]:
        story.append(
            st.none(_("No participant's outcome at %(days)s days is known yet.") % {"days": horizon})
        )
    else:
        story.append(st.none(not_treated))
    if primary["pending"]:
        story.append(
            st.p(
                _("%(n)s participants have a case still being adjudicated; they are not counted yet.")
                % {"n": primary["pending"]}
            )
        )

    story.append(st.p(_("Cumulative incidence"), st.subheading))
    curves = primary["curves"]
    if curves is None:
        story.append(
            st.none(not_treated if not primary["treated"] else _("No time to re-fracture is known yet."))
        )
    else:
        story.append(incidence_chart(curves, horizon=horizon, width=WIDTH, font=st.font))
        story.append(
            st.p(
                _(
                    "At %(days)s days: %(cif)s cumulative incidence with death as a competing risk "
                    "(Aalen–Johansen), "
                    "%(km)s by %(km_name)s, which counts the dead as if they could still re-fracture."
                )
                % {
                    # The horizon, or the longest follow-up so far when nobody has reached it.
                    "days": num(curves.get("at_day", horizon), 0),
                    "cif": share(curves["cif_horizon"]),
                    "km": share(curves["km_horizon"]),
                    "km_name": KM_COMPLEMENT,
                }
            )
        )
    if primary["treated"]:
        censoring = primary["censoring"]
        rows = [
            [censoring_name(code) for code in CENSORING],
            [censoring[code] for code in CENSORING],
        ]
        table = Table(rows, colWidths=[WIDTH / len(CENSORING)] * len(CENSORING))
        table.setStyle(table_style([*st.table(), ("ALIGN", (0, 0), (-1, -1), "CENTER")]))
        story.append(st.p(_("How follow-up ended without a re-fracture (treated participants)"), st.note))
        story.append(table)

    story.append(st.p(_("Location of the re-fractures"), st.subheading))
    location = primary["location"]
    if location["adjacent"] + location["remote"]:
        story.append(
            st.p(
                _("%(adjacent_name)s to a treated level: %(adjacent)s; %(remote_name)s: %(remote)s.")
                % {
                    "adjacent_name": location_name("adjacent"),
                    "adjacent": location["adjacent"],
                    "remote_name": location_name("remote"),
                    "remote": location["remote"],
                }
            )
        )
    else:
        story.append(st.none(_("No re-fracture has been adjudicated yet.")))

    story.append(st.p(_("Reader agreement"), st.subheading))
    story.append(agreement_paragraph(primary["agreement"], level=level, st=st))

    story.append(st.p(_("Event rate and follow-up"), st.subheading))
    rate = primary["rate"]
    if rate is None:
        story.append(st.none(not_treated))
    else:
        values = {
            "events": rate["events"],
            "n": rate["n"],
            "percent": pct(rate["percent"]),
            "median": num(rate["median_follow_up_days"], 0),
        }
        if rate["q1_days"] is not None and rate["q3_days"] is not None:
            values["iqr"] = interval(num(rate["q1_days"], 0), num(rate["q3_days"], 0))
            text = _(
                "%(events)s events among %(n)s treated (%(percent)s) at a median follow-up of %(median)s "
                "days "
                "(IQR %(iqr)s days)."
            )
        else:
            text = _(
                "%(events)s events among %(n)s treated (%(percent)s) at a median follow-up of %(median)s "
                "days."
            )
        story.append(st.p(text % values))
    story.append(
        st.p(
            _(
                "Methods: participants enter at the procedure; follow-up is censored at withdrawal or loss "
                "to "
                "follow-up, and death is a competing risk. Proportions carry Wilson %(level)s intervals; the "
                "median "
                "follow-up is estimated by reverse Kaplan–Meier (the censoring taken as the event)."
            )
            % {"level": level},
            st.note,
        )
    )
    return story


def agreement_paragraph(agreement: dict, *, level: str, st: Styles):
    """Cohen's kappa between the two readers on the presence of a re-fracture, and on the Genant grade."""
    if not agreement["pairs"]:
        return st.none(_("No case has been read by both readers yet."))
    if agreement["kappa"] is None:
        text = _(
            "%(pairs)s cases read by both readers; kappa is not computable yet (every reading alike)."
        ) % {"pairs": agreement["pairs"]}
    else:
        text = _(
            "%(pairs)s cases read by both readers: observed agreement %(observed)s, Cohen's kappa %(kappa)s "
            "(%(level)s CI %(ci)s)."
        ) % {
            "pairs": agreement["pairs"],
            "observed": share(agreement["observed"]),
            "kappa": num(agreement["kappa"], 2),
            "level": level,
            "ci": interval(num(agreement["lo"], 2), num(agreement["hi"], 2)),
        }
    if agreement["genant_kappa"] is not None:
        text += " " + _("Genant grade: kappa %(kappa)s over %(pairs)s pairs.") % {
            "kappa": num(agreement["genant_kappa"], 2),
            "pairs": agreement["genant_pairs"],
        }
    else:
        text += " " + _("Genant grade: no pair of grades to compare yet.")
    return st.p(text)
