"""reports.figures on a small dataset written out by hand: every count and figure below is worked here,
beside the data, never read back from the code under test."""

import datetime
import math

import pytest
from scipy import stats as scipy_stats

from reports.figures import figures_compute

COLUMNS = [
    "study_id", "site", "enrolled", "status", "sex", "age", "bmi", "t_score_min", "fractured_levels",
    "procedure", "cement_volume", "leakage", "pdff", "r2star", "index_date", "event", "days", "location",
    "censor", "pending",
]  # fmt: skip
LABEL = {"en": "x", "zh-hans": "x"}


def person(study_id, site, enrolled, sex, age, bmi, leakage, index_date, event, days, censor, pending=False,
           location=None, status="enrolled"):  # fmt: skip
    row = {
        "study_id": study_id, "site": site, "enrolled": enrolled, "status": status, "sex": sex, "age": age,
        "bmi": bmi,
        "t_score_min": -2.6, "fractured_levels": 1, "procedure": "PVP", "cement_volume": 4.0,
        "leakage": leakage,
        "pdff": 50.0, "r2star": 60.0, "index_date": index_date, "event": event, "days": days,
        "location": location, "censor": censor, "pending": pending,
    }  # fmt: skip
    return [row[column] for column in COLUMNS]


def dataset(**changes) -> dict:
    visits = [
        {"code": "BL", "label": LABEL, "questionnaires": ["odi", "vas"]},
        {"code": "M1", "label": LABEL, "questionnaires": ["vas"]},
        {"code": "M12", "label": LABEL, "questionnaires": ["odi", "vas"]},
    ]
    base = {
        "format": 1,
        "study": {
            "code": "NCT0",
            "title": LABEL,
            "protocol_version": "1.0",
            "opened": "2024-01-10",
            "target": 10,
            "endpoint": {"index": "procedure", "horizon_days": 365, "event_date": "confirming_mri"},
            "criteria": [
                {"code": code, "kind": "inclusion", "text": LABEL} for code in ("INC1", "INC2", "EXC1")
            ],
            "visits": visits,
            "instruments": [
                {"code": "odi", "name": LABEL, "unit": "%", "mcid": 10.0},
                {"code": "vas", "name": LABEL, "unit": "mm", "mcid": 15.0},
            ],
        },
        "cut": {"at": "2025-06-30T04:00:00+00:00", "date": "2025-06-30"},
        "sites": [
            {"code": "01", "name": LABEL, "time_zone": "Asia/Shanghai"},
            {"code": "02", "name": LABEL, "time_zone": "Asia/Shanghai"},
        ],
        # [site, outcome, failed criteria, reason not enrolled, enrolled]
        "screenings": [
            ["01", "eligible", [], "", True],
            ["01", "eligible", [], "", True],
            ["01", "eligible", [], "", True],
            ["01", "eligible", [], "declined_consent", False],
            ["01", "eligible", [], "", False],
            ["01", "ineligible", ["EXC1", "INC2"], "", False],
            ["01", "ineligible", ["INC1"], "", False],
            ["01", "incomplete", [], "", False],
            ["02", "eligible", [], "", True],
            ["02", "eligible", [], "", True],
            ["02", "ineligible", ["EXC1"], "", False],
        ],
        "participants": {
            "columns": COLUMNS,
            "rows": [
                person(
                    "01-0001",
                    "01",
                    "2024-01-15",
                    "female",
                    70,
                    22.0,
                    True,
                    "2024-01-16",
                    True,
                    100,
                    None,
                    location="adjacent",
                ),
                person(
                    "01-0002",
                    "01",
                    "2024-01-20",
                    "female",
                    80,
                    None,
                    False,
                    "2024-01-21",
                    False,
                    365,
                    "end_of_follow_up",
                ),
                person(
                    "01-0003", "01", "2024-03-01", "male", 75, 24.0, None, "2024-03-02", False, 50, "died"
                ),
                person(
                    "02-0001",
                    "02",
                    "2024-03-05",
                    "female",
                    65,
                    26.0,
                    True,
                    "2024-03-06",
                    False,
                    365,
                    "end_of_follow_up",
                    pending=True,
                ),
                person(
                    "02-0002", "02", "2024-04-01", "male", 90, 28.0, False, None, False, None, "no_index_date"
                ),
            ],
        },
        "responses": [
            ["01-0001", "BL", "odi", 60.0],
            ["01-0001", "M12", "odi", 40.0],
            ["01-0002", "BL", "odi", 50.0],
            ["01-0002", "M12", "odi", 45.0],
            ["01-0003", "BL", "odi", 40.0],
            ["01-0001", "BL", "vas", 80.0],
            ["01-0001", "M1", "vas", 30.0],
        ],
        "quality": {
            code: {
                "forms": {"expected": 12, "complete": 10, "verified": 8, "signed": 6, "locked": 4},
                "query_ages": ages,
                "visits": {"due": 5, "overdue": 1, "missed": 1},
                "questionnaires": {"patient": 3, "staff": 1},
                "reminders": {"sent": 4, "failed": 1, "unconfirmed": 0},
            }
            for code, ages in (("01", [3, 8, 30, 31, 91, 200]), ("02", []))
        },
        "agreement": {"main": [[True, True], [False, False], [True, False], [False, False]], "genant": []},
    }
    base.update(changes)
    return base


def compute(data=None) -> dict:
    return figures_compute(
        data or dataset(), sha256="ab" * 32, generated_by="Dr Chen (pi)",
        generated_at=datetime.datetime(2024, 4, 30, 5, tzinfo=datetime.UTC),
    )  # fmt: skip


def test_the_flow_counts_are_those_counted_by_hand_and_add_up():
    flow = compute()["flow"]
    assert flow["screened"] == 11
    # INC2 comes before EXC1 in the protocol: the screening failing both counts under INC2.
    assert flow["ineligible"]["n"] == 3
    assert [(r["code"], r["n"]) for r in flow["ineligible"]["reasons"]] == [
        ("INC1", 1),
        ("INC2", 1),
        ("EXC1", 1),
    ]
    assert flow["incomplete"] == 1
    assert flow["eligible"] == 7
    assert flow["not_enrolled"]["n"] == 2
    assert {r["code"]: r["n"] for r in flow["not_enrolled"]["reasons"]} == {
        "declined_consent": 1,
        "awaiting": 1,
    }
    assert flow["enrolled"] == 5
    assert flow["left"]["n"] == 1 and {r["code"]: r["n"] for r in flow["left"]["reasons"]}["died"] == 1
    assert flow["in_follow_up"] == 1  # not yet treated
    assert flow["completed"] == 3  # the event, and two followed to the horizon
    assert flow["not_analysed"] == 1  # one of those still has a case in adjudication
    assert flow["analysed"] == 2
    # The sums FIGURES.md promises.
    assert flow["screened"] == flow["ineligible"]["n"] + flow["incomplete"] + flow["eligible"]
    assert flow["eligible"] == flow["not_enrolled"]["n"] + flow["enrolled"]
    assert flow["enrolled"] == flow["left"]["n"] + flow["in_follow_up"] + flow["completed"]
    assert flow["completed"] == flow["analysed"] + flow["not_analysed"]


def test_enrollment_per_site_and_month_and_the_projection():
    enrollment = compute(dataset(cut={"at": "2024-04-30T04:00:00+00:00", "date": "2024-04-30"}))["enrollment"]
    assert [(s["code"], s["screened"], s["eligible"], s["enrolled"]) for s in enrollment["sites"]] == [
        ("01", 8, 5, 3),
        ("02", 3, 2, 2),
    ]
    assert enrollment["total"] == {"screened": 11, "eligible": 7, "enrolled": 5, "target": 10}
    assert [(m["month"], m["enrolled"], m["cumulative"]) for m in enrollment["monthly"]] == [
        ("2024-01", 2, 2), ("2024-02", 0, 2), ("2024-03", 2, 4), ("2024-04", 1, 5),
    ]  # fmt: skip
    projection = enrollment["projection"]
    # Observed from the opening (10 Jan) to the cut (30 Apr 2024, a leap year), both days counted: 112 days.
    assert projection["days_observed"] == 112
    assert projection["rate_per_month"] == pytest.approx(5 / 112 * 30.4375)
    # 5 enrolled, 5 to go: X·5/(112·5) ~ F(10, 10), whose median is exactly 1 (F(d, d) is symmetric in log),
    # so the median time is 112 days: 30 Apr + 112 days = 20 Aug 2024.
    assert projection["median"] == "2024-08-20"
    hi80 = scipy_stats.f.ppf(0.9, 10, 10) * 112
    assert (
        projection["pi80"][1]
        == (datetime.date(2024, 4, 30) + datetime.timedelta(days=round(hi80))).isoformat()
    )
    assert projection["pi95"][0] < projection["pi80"][0] < projection["median"] < projection["pi80"][1]
    assert projection["pi80"][1] < projection["pi95"][1]


def test_a_target_met_is_said_with_the_date_it_was_met():
    data = dataset()
    data["study"]["target"] = 4
    projection = compute(data)["enrollment"]["projection"]
    assert projection["reached"] is True
    assert projection["median"] == "2024-03-05"  # the fourth enrollment


def wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def test_the_primary_outcome_by_hand():
    primary = compute()["primary"]
    assert primary["treated"] == 4 and primary["pending"] == 1
    # Known outcome: the event, and the one followed to the horizon with nothing pending: 1 of 2.
    proportion = primary["proportion"]
    assert (proportion["events"], proportion["n"]) == (1, 2)
    lo, hi = wilson_by_hand(1, 2)
    assert proportion["lo"] == pytest.approx(lo) and proportion["hi"] == pytest.approx(hi)
    assert proportion["lo"] == pytest.approx(0.0945, abs=1e-4)
    # Death at day 50 competes: Aalen-Johansen gives S(100-)·1/3 = 3/4·1/3 = 1/4 at day 100; 1 - KM, which
    # censors the death, gives 1/3.
    curves = primary["curves"]
    assert curves["cif_horizon"] == pytest.approx(0.25)
    assert curves["km_horizon"] == pytest.approx(1 / 3)
    assert [mark["n"] for mark in curves["at_risk"]] == [4, 3, 2, 2, 2]  # days 0, 90, 180, 270, 360
    assert primary["censoring"] == {
        "died": 1,
        "withdrawn": 0,
        "lost": 0,
        "in_follow_up": 0,
        "end_of_follow_up": 2,
    }
    assert primary["location"] == {"adjacent": 1, "remote": 0}
    # Reverse Kaplan-Meier: the two censored at 365 are its events; the others leave it earlier: median 365.
    assert primary["rate"]["percent"] == pytest.approx(25.0)
    assert primary["rate"]["median_follow_up_days"] == pytest.approx(365)
    # Kappa of (T,T) (F,F) (T,F) (F,F): observed 3/4, expected 1/2·1/4 + 1/2·3/4 = 1/2, kappa = 0.5.
    assert primary["agreement"]["pairs"] == 4
    assert primary["agreement"]["kappa"] == pytest.approx(0.5)


def test_the_baseline_table_by_hand():
    rows = {row["key"]: row for row in compute()["baseline"]["rows"]}
    age = rows["age"]
    assert (age["n"], age["missing"], age["summary"]) == (5, 0, "mean_sd")
    assert age["mean"] == pytest.approx(76) and age["sd"] == pytest.approx(math.sqrt(370 / 4))
    assert (rows["bmi"]["n"], rows["bmi"]["missing"]) == (4, 1)
    sex = {level["code"]: (level["n"], level["percent"]) for level in rows["sex"]["levels"]}
    assert sex == {"female": (3, 60.0), "male": (2, 40.0)}
    leakage = rows["leakage"]
    assert (leakage["n"], leakage["missing"]) == (4, 1)
    assert [(level["n"], level["percent"]) for level in leakage["levels"]] == [(2, 50.0), (2, 50.0)]
    assert list(rows) == [
        "age", "sex", "bmi", "t_score_min", "fractured_levels", "procedure", "cement_volume", "leakage",
        "pdff", "r2star",
    ]  # fmt: skip


def test_quality_bands_and_totals():
    quality = compute()["quality"]
    first = quality["sites"][0]
    assert first["queries"] == {"open": 6, "bands": {"0_7": 1, "8_30": 2, "31_90": 1, "over_90": 2}}
    assert quality["total"]["forms"]["expected"] == 24
    assert quality["total"]["queries"]["open"] == 6


def test_secondary_outcomes_by_hand():
    odi, vas = compute()["secondary"]["instruments"]
    baseline = odi["visits"][0]
    assert [visit["code"] for visit in odi["visits"]] == ["BL", "M12"]
    assert (baseline["n"], baseline["mean"], baseline["sd"]) == (3, 50.0, 10.0)
    half = scipy_stats.t.ppf(0.975, 2) * 10 / math.sqrt(3)
    assert baseline["lo"] == pytest.approx(50 - half) and baseline["hi"] == pytest.approx(50 + half)
    # Paired at M12: 60 -> 40 (-20: MCID and 33 %) and 50 -> 45 (-5: neither).
    assert (odi["change"]["n"], odi["change"]["mean"]) == (2, -12.5)
    assert (odi["mcid"]["n"], odi["mcid"]["met"], odi["mcid"]["percent"]) == (2, 1, 50.0)
    assert (odi["mcid_relative"]["met"], odi["mcid_relative"]["percent"]) == (1, 50.0)
    # VAS at M12: nobody yet, so nothing to say but that.
    assert vas["change"]["n"] == 0 and vas["change"]["mean"] is None and vas["mcid"]["percent"] is None


def test_an_empty_study_gives_nulls_not_errors():
    empty = dataset(screenings=[], participants={"columns": COLUMNS, "rows": []}, responses=[],
                    agreement={"main": [], "genant": []})  # fmt: skip
    figures = compute(empty)
    assert figures["enrollment"]["projection"] is None and figures["enrollment"]["monthly"] == []
    assert figures["primary"]["proportion"] is None and figures["primary"]["curves"] is None
    assert figures["primary"]["agreement"]["kappa"] is None
    assert figures["baseline"]["n"] == 0 and figures["flow"]["screened"] == 0


def test_a_death_on_the_index_day_is_counted_not_refused():
    data = dataset()
    row = data["participants"]["rows"][2]  # 01-0003, died
    row[COLUMNS.index("days")] = 0
    primary = compute(data)["primary"]
    # Dead before any fracture could be seen: the competing risk takes that one at once, S(100-) = 3/4 again.
    assert primary["censoring"]["died"] == 1
    assert primary["curves"]["cif_horizon"] == pytest.approx(0.25)


def test_an_early_event_waits_for_its_window_to_close_before_the_proportion_counts_it():
    data = dataset()
    row = data["participants"]["rows"][0]  # 01-0001: the event at day 100
    row[COLUMNS.index("index_date")] = "2025-03-01"  # its year ends 2026-03-01, after the cut (2025-06-30)
    figures = compute(data)
    flow, primary = figures["flow"], figures["primary"]
    # Counting it now, before the event-free participants of its months have had their year, would inflate
    # the proportion: it is still in follow-up, and only 01-0002 (followed to the horizon) is known.
    assert (flow["in_follow_up"], flow["completed"], flow["analysed"]) == (2, 2, 1)
    assert (primary["proportion"]["events"], primary["proportion"]["n"]) == (0, 1)
    assert primary["curves"]["cif_horizon"] == pytest.approx(0.25)  # the curves use every treated participant


def test_an_untreated_participant_who_withdrew_has_left_the_study():
    data = dataset()
    data["participants"]["rows"][4][COLUMNS.index("status")] = "withdrawn"  # 02-0002, never treated
    flow = compute(data)["flow"]
    assert {r["code"]: r["n"] for r in flow["left"]["reasons"]} == {"withdrawn": 1, "lost": 0, "died": 1}
    assert flow["in_follow_up"] == 0
    assert flow["enrolled"] == flow["left"]["n"] + flow["in_follow_up"] + flow["completed"]


def test_the_curves_are_read_at_the_longest_follow_up_when_nobody_has_reached_the_horizon():
    data = dataset()
    data["study"]["endpoint"]["horizon_days"] = 730  # two years; the longest follow-up is 365 days
    curves = compute(data)["primary"]["curves"]
    assert curves["at_day"] == 365
    assert curves["times"][-1] <= 365
