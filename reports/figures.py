"""The interim report's figures from a captured dataset (reports/dataset.py): a pure function, no database,
so a stored cut always gives the same figures. The shape is reports/FIGURES.md's; the statistics are
reports/stats.py's (statsmodels and scipy underneath); the rules of counting are written here.
"""

import datetime
from collections import Counter, defaultdict
from collections.abc import Callable

import pandas as pd
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from crf.engine.definitions import form_definition
from followup.agreement import kappa_genant, kappa_main
from followup.instruments.mcid import change_from_baseline
from trial.i18n import LANGUAGES
from trial.models import NotEnrolledReason, Sex

from . import stats

MONTH_DAYS = 30.4375  # the mean Gregorian month, for a rate per month
SKEW_THRESHOLD = 1.0
AT_RISK_EVERY = 90  # days between the number-at-risk marks under the curves
QUERY_BANDS = (("0_7", 7), ("8_30", 30), ("31_90", 90), ("over_90", None))  # code, last day (None: open)
QUERY_BAND_CODES = tuple(code for code, _top in QUERY_BANDS)
LEFT = ("withdrawn", "lost", "died")  # the endpoint's censoring reasons that end follow-up early
LEFT_STATUS = {"withdrawn": "withdrawn", "lost_to_follow_up": "lost", "died": "died"}  # trial's statuses
SECTIONS = ("enrollment", "flow", "baseline", "quality", "primary", "secondary")


def both(text) -> dict:
    """A translatable text in both languages, as the PDF reads protocol labels."""
    out = {}
    for language in LANGUAGES:
        with translation.override(language):
            out[language] = str(text)
    return out


def figures_compute(
    dataset: dict,
    *,
    sha256: str,
    generated_by: str,
    generated_at: datetime.datetime,
    progress: Callable[[str], None] = lambda section: None,
) -> dict:
    """reports/FIGURES.md's dict from a dataset; `progress` is told each section as it starts."""
    study = dataset["study"]
    people = pd.DataFrame(dataset["participants"]["rows"], columns=dataset["participants"]["columns"])
    day = datetime.date.fromisoformat(dataset["cut"]["date"])
    horizon = (study["endpoint"] or {}).get("horizon_days")
    figures = {
        "study": {
            "code": study["code"],
            "title": study["title"],
            "protocol_version": study["protocol_version"],
            "target": study["target"],
            "horizon_days": horizon,
        },
        "cut": {
            "at": dataset["cut"]["at"],
            "date": dataset["cut"]["date"],
            "sha256": sha256,
            "generated_by": generated_by,
            "generated_at": generated_at.astimezone(datetime.UTC).isoformat(),
        },
        "methods": {"accrual": "poisson_gamma", "skew_threshold": SKEW_THRESHOLD, "confidence": 0.95},
    }
    progress("enrollment")
    figures["enrollment"] = enrollment_figures(dataset, people, day)
    progress("flow")
    figures["flow"] = flow_figures(dataset, people)
    progress("baseline")
    figures["baseline"] = baseline_figures(people)
    progress("quality")
    figures["quality"] = quality_figures(dataset)
    progress("primary")
    figures["primary"] = primary_figures(dataset, people, horizon)
    progress("secondary")
    figures["secondary"] = secondary_figures(dataset)
    return figures


def enrollment_figures(dataset: dict, people: pd.DataFrame, day: datetime.date) -> dict:
    study = dataset["study"]
    counts = {site["code"]: Counter() for site in dataset["sites"]}
    for site, outcome, _failed, _reason, enrolled in dataset["screenings"]:
        counts[site]["screened"] += 1
        counts[site]["eligible"] += outcome == "eligible" or enrolled
        counts[site]["enrolled"] += enrolled
    sites = [
        {"code": site["code"], "name": site["name"], "target": None}
        | {key: counts[site["code"]][key] for key in ("screened", "eligible", "enrolled")}
        for site in dataset["sites"]
    ]
    total = {key: sum(row[key] for row in sites) for key in ("screened", "eligible", "enrolled")}
    enrolled_dates = sorted(datetime.date.fromisoformat(d) for d in people["enrolled"]) if len(people) else []
    opened = datetime.date.fromisoformat(study["opened"]) if study["opened"] else None
    return {
        "sites": sites,
        "total": total | {"target": study["target"]},
        "monthly": _monthly(enrolled_dates, opened, day),
        "projection": _projection(enrolled_dates, opened, day, study["target"]),
    }


def _monthly(dates: list[datetime.date], opened: datetime.date | None, day: datetime.date) -> list[dict]:
    """Every month from the opening (or the first enrollment) to the cut's, zeros included."""
    if not dates:
        return []
    start = min(filter(None, (opened, dates[0])))
    per_month = Counter(d.strftime("%Y-%m") for d in dates)
    months, cumulative = [], 0
    year, month = start.year, start.month
    while (year, month) <= (day.year, day.month):
        key = f"{year:04d}-{month:02d}"
        cumulative += per_month[key]
        months.append({"month": key, "enrolled": per_month[key], "cumulative": cumulative})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _projection(dates, opened, day, target) -> dict | None:
    """When the target will be reached, from the rate observed since the study opened (stats.py)."""
    if not dates:
        return None
    start = min(filter(None, (opened, dates[0])))
    observed = float((day - start).days + 1)  # the opening day and the cut's day both count
    common = {"enrolled": len(dates), "first": start.isoformat(), "days_observed": observed}
    if len(dates) >= target:
        met = dates[target - 1].isoformat()
        return common | {
            "remaining": 0,
            "rate_per_month": len(dates) / observed * MONTH_DAYS,
            "reached": True,
            "median": met,
            "pi80": [met, met],
            "pi95": [met, met],
        }
    found = stats.accrual_projection(enrolled=len(dates), days_observed=observed, target=target)

    def on(days: float) -> str:
        return (day + datetime.timedelta(days=round(days))).isoformat()

    return common | {
        "remaining": found.remaining,
        "rate_per_month": found.rate_per_day * MONTH_DAYS,
        "reached": False,
        "median": on(found.median_days),
        "pi80": [on(found.pi80[0]), on(found.pi80[1])],
        "pi95": [on(found.pi95[0]), on(found.pi95[1])],
    }


def stage_of(row: dict, day: datetime.date, horizon: int | None) -> str:
    """Where a participant stands at the cut, for the flow and the 1-year proportion: "analysed" (the
    horizon's window has closed and the outcome is known: the event, or followed to the end with nothing
    left to adjudicate), "not_analysed" (closed, a case still being read), "withdrawn", "lost" or "died"
    (left before the horizon without an event), or "in_follow_up" (the window is still open, an event in it
    included: counting early events before the event-free ones have had their year would inflate the
    proportion)."""
    if row["index_date"] is None:  # not treated yet: only a status can have ended the follow-up
        return LEFT_STATUS.get(row["status"], "in_follow_up")
    closed = horizon is not None and (
        datetime.date.fromisoformat(row["index_date"]) + datetime.timedelta(days=horizon) <= day
    )
    if row["event"]:
        return "analysed" if closed else "in_follow_up"
    if row["censor"] == "end_of_follow_up":
        return "not_analysed" if row["pending"] else "analysed"
    if row["censor"] in LEFT:
        return row["censor"]
    return "in_follow_up"


def flow_figures(dataset: dict, people: pd.DataFrame) -> dict:
    """STROBE item 13's counts; each stage splits into the next and its exits (FIGURES.md's sums)."""
    criteria = dataset["study"]["criteria"]
    order = {criterion["code"]: i for i, criterion in enumerate(criteria)}
    texts = {criterion["code"]: criterion["text"] for criterion in criteria}
    ineligible, not_enrolled = Counter(), Counter()
    incomplete = eligible = 0
    for _site, outcome, failed, reason, enrolled in dataset["screenings"]:
        if enrolled or outcome == "eligible":
            eligible += 1
            if not enrolled:
                not_enrolled[reason or "awaiting"] += 1
        elif outcome == "ineligible":
            # The first failed criterion in protocol order, so that the reasons add up to the count.
            ineligible[
                min(failed, key=lambda code: order.get(code, len(order))) if failed else "unknown"
            ] += 1
        else:
            incomplete += 1
    reasons = dict(NotEnrolledReason.choices)
    day = datetime.date.fromisoformat(dataset["cut"]["date"])
    horizon = (dataset["study"]["endpoint"] or {}).get("horizon_days")
    outcomes = Counter(stage_of(row, day, horizon) for row in people.to_dict("records"))
    return {
        "screened": len(dataset["screenings"]),
        "ineligible": {
            "n": sum(ineligible.values()),
            "reasons": [
                {"code": code, "label": texts.get(code, {"en": code, "zh-hans": code}), "n": n}
                for code, n in sorted(ineligible.items(), key=lambda item: order.get(item[0], len(order)))
            ],
        },
        "incomplete": incomplete,
        "eligible": eligible,
        "not_enrolled": {
            "n": sum(not_enrolled.values()),
            "reasons": [
                {"code": code, "label": both(reasons[code]) if code in reasons else None, "n": n}
                for code, n in sorted(not_enrolled.items())
            ],
        },
        "enrolled": len(people),
        "left": {
            "n": sum(outcomes[code] for code in LEFT),
            "reasons": [{"code": code, "n": outcomes[code]} for code in LEFT],
        },
        "in_follow_up": outcomes["in_follow_up"],
        "completed": outcomes["analysed"] + outcomes["not_analysed"],
        "not_analysed": outcomes["not_analysed"],
        "analysed": outcomes["analysed"],
    }


def _crf_label(path: str) -> tuple[dict, dict]:
    """A CRF field's label and {choice code: label} ("form.field" or "form.group.field")."""
    form_code, rest = path.split(".", 1)
    form = form_definition(form_code)
    _group, spec = form.resolve(rest) if form else (None, None)
    if spec is None:
        return {"en": path, "zh-hans": path}, {}
    return spec.label, {choice.code: choice.label for choice in spec.choices}


def _continuous(key: str, label: dict, unit: str, values: pd.Series) -> dict:
    found = stats.describe_continuous(values.tolist(), skew_threshold=SKEW_THRESHOLD)
    return {
        "key": key,
        "label": label,
        "unit": unit,
        "kind": "continuous",
        "n": found.n,
        "missing": int(len(values) - found.n),
        "summary": found.summary,
        "mean": found.mean,
        "sd": found.sd,
        "median": found.median,
        "q1": found.q1,
        "q3": found.q3,
    }


def _categorical(key: str, label: dict, values: pd.Series, levels: list[tuple[object, dict]]) -> dict:
    present = [value for value in values.tolist() if value is not None and value == value]  # NaN != NaN
    counts = Counter(present)
    n = len(present)
    return {
        "key": key,
        "label": label,
        "kind": "categorical",
        "n": n,
        "missing": len(values) - n,
        "levels": [
            {
                "code": str(code),
                "label": level_label,
                "n": counts[code],
                "percent": counts[code] / n * 100 if n else None,
            }
            for code, level_label in levels
        ],
    }


def baseline_figures(people: pd.DataFrame) -> dict:
    """Table 1 of the enrolled participants: each variable summarised, with its missing count."""
    bmi_label, _choices = _crf_label("baseline.bmi")
    technique_label, techniques = _crf_label("procedure.technique")
    yes, no = both(_("yes")), both(_("no"))
    sexes = dict(Sex.choices)
    levels = people["fractured_levels"].map(lambda n: None if n is None or n != n else min(int(n), 3))
    rows = [
        _continuous("age", both(_("Age")), "years", people["age"]),
        _categorical(
            "sex", both(_("Sex")), people["sex"], [(c, both(sexes[c])) for c in (Sex.FEMALE, Sex.MALE)]
        ),
        _continuous("bmi", bmi_label, "kg/m²", people["bmi"]),
        _continuous("t_score_min", both(_("Lowest DXA T-score")), "", people["t_score_min"]),
        _categorical(
            "fractured_levels",
            both(_("Fractured levels")),
            levels,
            [(1, {"en": "1", "zh-hans": "1"}), (2, {"en": "2", "zh-hans": "2"}), (3, both(_("3 or more")))],
        ),
        _categorical("procedure", technique_label, people["procedure"], list(techniques.items())),
        _continuous(
            "cement_volume", both(_("Cement volume, all treated levels")), "mL", people["cement_volume"]
        ),
        _categorical("leakage", both(_("Cement leakage")), people["leakage"], [(True, yes), (False, no)]),
        _continuous("pdff", both(_("PDFF, mean of the measured non-fractured levels")), "%", people["pdff"]),
        _continuous(
            "r2star", both(_("R2*, mean of the measured non-fractured levels")), "1/s", people["r2star"]
        ),
    ]
    return {"n": len(people), "rows": rows}


def quality_figures(dataset: dict) -> dict:
    """Per site: forms, open queries by age band, visits, questionnaires by who entered them, reminders."""
    sites = []
    for site in dataset["sites"]:
        found = dataset["quality"][site["code"]]
        bands = dict.fromkeys(QUERY_BAND_CODES, 0)
        for age in found["query_ages"]:
            bands[next(code for code, top in QUERY_BANDS if top is None or age <= top)] += 1
        sites.append(
            {
                "code": site["code"],
                "name": site["name"],
                "forms": found["forms"],
                "queries": {"open": len(found["query_ages"]), "bands": bands},
                "visits": found["visits"],
                "questionnaires": found["questionnaires"],
                "reminders": found["reminders"],
            }
        )
    total = {}
    for part in ("forms", "visits", "questionnaires", "reminders"):
        total[part] = {key: sum(site[part][key] for site in sites) for key in sites[0][part]} if sites else {}
    total["queries"] = {
        "open": sum(site["queries"]["open"] for site in sites),
        "bands": {code: sum(site["queries"]["bands"][code] for site in sites) for code in QUERY_BAND_CODES},
    }
    return {"sites": sites, "total": total}


def primary_figures(dataset: dict, people: pd.DataFrame, horizon: int | None) -> dict:
    """The adjudicated re-fracture within the horizon: proportion, curves, censoring, location, agreement,
    the crude rate with its median follow-up."""
    rows = people.to_dict("records")
    treated = [row for row in rows if row["index_date"] is not None]
    events = [row for row in treated if row["event"]]
    # The 1-year proportion counts those whose window has closed with a known outcome (stage_of).
    day = datetime.date.fromisoformat(dataset["cut"]["date"])
    known = [row for row in treated if stage_of(row, day, horizon) == "analysed"]
    known_events = [row for row in known if row["event"]]
    agreement = dataset["agreement"]
    main = kappa_main([tuple(pair) for pair in agreement["main"]])
    genant = kappa_genant([tuple(pair) for pair in agreement["genant"]])
    out = {
        "treated": len(treated),
        # Waiting for adjudication with no event counted yet (an event already counted is not waiting).
        "pending": sum(bool(row["pending"]) and not row["event"] for row in rows),
        "proportion": None,
        "curves": None,
        "censoring": {
            code: sum(not row["event"] and row["censor"] == code for row in treated)
            for code in ("died", "withdrawn", "lost", "in_follow_up", "end_of_follow_up")
        },
        "location": {code: sum(row["location"] == code for row in events) for code in ("adjacent", "remote")},
        "agreement": {
            "pairs": main.n,
            "kappa": main.kappa,
            "lo": main.low,
            "hi": main.high,
            "observed": main.observed,
            "genant_pairs": genant.n,
            "genant_kappa": genant.kappa,
        },
        "rate": None,
    }
    if known:
        found = stats.wilson(len(known_events), len(known))
        out["proportion"] = {
            "events": found.events,
            "n": found.n,
            "p": found.p,
            "lo": found.lo,
            "hi": found.hi,
        }
    if not treated:
        return out
    status = [1 if row["event"] else 2 if row["censor"] == "died" else 0 for row in treated]
    # An event or death on the index day itself still had some time at risk: half a day, so that the
    # estimators (which need time before an event) keep it rather than refuse it.
    days = [max(float(row["days"]), 0.5 if s else 0.0) for row, s in zip(treated, status, strict=True)]
    cif = stats.cumulative_incidence(days, status)
    km = stats.km_complement(days, [int(s == 1) for s in status])
    # The curves are read at the horizon, or at the longest follow-up when nobody has reached it yet: never
    # beyond what was observed.
    limit = min(float(horizon), max(days)) if horizon else max(days)
    times = sorted({t for t in (*cif.times, *km.times) if t <= limit} | {0.0})
    marks = list(range(0, int(limit) + 1, AT_RISK_EVERY))
    out["curves"] = {
        "times": times,
        "cif": [cif.at(t) for t in times],
        "km": [km.at(t) for t in times],
        "at_risk": [{"day": d, "n": n} for d, n in zip(marks, stats.at_risk(days, days=marks), strict=True)],
        "at_day": limit,
        "cif_horizon": cif.at(limit),
        "km_horizon": km.at(limit),
    }
    # Follow-up ends with an observed outcome (the event, or death) or with censoring; reverse Kaplan-Meier
    # takes the censorings as its events.
    follow = stats.median_follow_up(days, [int(s != 0) for s in status])
    out["rate"] = {
        "events": len(events),
        "n": len(treated),
        "percent": len(events) / len(treated) * 100,
        "median_follow_up_days": follow.median,
        "q1_days": follow.q1,
        "q3_days": follow.q3,
    }
    return out


def secondary_figures(dataset: dict) -> dict:
    """Each questionnaire at each visit (mean, 95 % CI), the change from baseline at its last visit and the
    share reaching the MCID (absolute and 30 %)."""
    visits = dataset["study"]["visits"]
    scores: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for study_id, visit, instrument, score in dataset["responses"]:
        scores[instrument][visit].setdefault(study_id, score)
    out = []
    for instrument in dataset["study"]["instruments"]:
        code = instrument["code"]
        carrying = [visit for visit in visits if code in visit["questionnaires"]]
        rows = []
        for visit in carrying:
            found = stats.mean_ci(list(scores[code][visit["code"]].values()))
            rows.append(
                {
                    "code": visit["code"],
                    "label": visit["label"],
                    "n": found.n,
                    "mean": found.mean,
                    "sd": found.sd,
                    "lo": found.lo,
                    "hi": found.hi,
                }
            )
        entry = {
            "code": code,
            "label": instrument["name"],
            "unit": instrument["unit"],
            "mcid_threshold": instrument["mcid"],
            "visits": rows,
            "change": None,
        }
        if len(carrying) >= 2:
            first, last = carrying[0], carrying[-1]
            baseline, later = scores[code][first["code"]], scores[code][last["code"]]
            paired = [(baseline[s], later[s]) for s in sorted(baseline.keys() & later.keys())]
            changes = [change_from_baseline(code, baseline=str(b), value=str(v)) for b, v in paired]
            found = stats.mean_ci([float(c.change) for c in changes])
            entry["change"] = {
                "visit": last["code"],
                "label": last["label"],
                "n": found.n,
                "mean": found.mean,
                "lo": found.lo,
                "hi": found.hi,
            }
            for key, flag in (("mcid", "mcid"), ("mcid_relative", "mcid_relative")):
                met = sum(getattr(c, flag) for c in changes)
                share = stats.wilson(met, len(changes))
                entry[key] = {
                    "n": share.n,
                    "met": met,
                    "percent": None if share.p is None else share.p * 100,
                    "lo": None if share.lo is None else share.lo * 100,
                    "hi": None if share.hi is None else share.hi * 100,
                }
        else:
            empty = {"n": 0, "met": 0, "percent": None, "lo": None, "hi": None}
            entry["mcid"], entry["mcid_relative"] = dict(empty), dict(empty)
        out.append(entry)
    return {"instruments": out}
