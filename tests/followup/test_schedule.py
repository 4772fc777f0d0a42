"""The visit schedule as pure functions: the protocol's `visits:` section, hand-worked dates, repeats, the
status of a visit around its window, and the strict check of malformed sections. No database."""

import datetime

import pytest
import yaml
from django.conf import settings

from followup.models import VisitState, VisitStatus
from followup.schedule import occurrences, plan_visits, visit_specs, visit_status
from trial.services.protocols import ProtocolFileError, protocol_parse

from .visit_helpers import fixture_text, shipped_visits

D = datetime.date
SHIPPED = settings.PROTOCOL_DIR / "NCT06379243.yaml"


def test_nct06379243_schedule_worked_by_hand():
    # Procedure 2026-01-15, enrollment 2026-01-07 (2026 is not a leap year):
    # BL  enrollment + 0   = 2026-01-07, window 01-07 .. 01-14 (0 before, 7 after)
    # M1  procedure + 30   = 2026-02-14 (Jan 15 + 16 = Jan 31, + 14 = Feb 14), window 02-07 .. 02-21 (± 7)
    # M3  procedure + 91   = 2026-04-16 (+31 Feb 15, +28 Mar 15, +31 Apr 15, +1), window 04-02 .. 04-30 (± 14)
    # M6  procedure + 182  = 2026-07-16 (Apr 16 + 91: +30 May 16, +31 Jun 16, +30 Jul 16),
    #     window 06-16 .. 08-15 (± 30: Jul 16 - 30 = Jun 16; Jul 16 + 15 = Jul 31, + 15 = Aug 15)
    # M12 procedure + 365  = 2027-01-15, window 2026-12-16 .. 2027-02-14 (± 30)
    # M12 carries the follow-up spine MRI, ODI and VAS.
    planned = plan_visits(shipped_visits(), {"enrollment": D(2026, 1, 7), "procedure": D(2026, 1, 15)})
    assert [(p.code, p.anchor, p.day, p.target_date, p.window_open, p.window_close) for p in planned] == [
        ("BL", "enrollment", 0, D(2026, 1, 7), D(2026, 1, 7), D(2026, 1, 14)),
        ("M1", "procedure", 30, D(2026, 2, 14), D(2026, 2, 7), D(2026, 2, 21)),
        ("M3", "procedure", 91, D(2026, 4, 16), D(2026, 4, 2), D(2026, 4, 30)),
        ("M6", "procedure", 182, D(2026, 7, 16), D(2026, 6, 16), D(2026, 8, 15)),
        ("M12", "procedure", 365, D(2027, 1, 15), D(2026, 12, 16), D(2027, 2, 14)),
    ]
    m12 = planned[-1]
    assert (m12.forms, m12.questionnaires) == (("followup_mri",), ("odi", "vas"))
    assert m12.label == {"en": "12 months", "zh-hans": "术后12个月"}
    assert [p.sequence for p in planned] == [1, 2, 3, 4, 5]


def test_only_anchors_with_a_date_are_planned():
    planned = plan_visits(shipped_visits(), {"enrollment": D(2026, 1, 7)})
    assert [p.code for p in planned] == ["BL"]
    assert plan_visits(shipped_visits(), {}) == []


def test_second_protocol_keeps_its_own_visits():
    planned = plan_visits(shipped_visits("NCT06172179"), {"procedure": D(2026, 1, 15)})
    assert [(p.code, p.target_date, p.questionnaires) for p in planned] == [
        ("M1", D(2026, 2, 14), ("vas",)),
        ("M6", D(2026, 7, 16), ("odi", "vas")),
        ("M12", D(2027, 1, 15), ("odi", "vas")),
    ]


def test_seed_003_one_month_then_every_three_months():
    # "1 month, then every 3 months" (shared/seeds/003): one repeating item, every 91 days from day 30,
    # numbered n = 1 + 3i, so the codes say the month: M1 day 30, M4 day 121, M7 day 212, M10 day 303,
    # M13 day 394, M16 day 485, M19 day 576, M22 day 667; each ± 14 days, VAS at each.
    # Procedure 2026-01-15: M1 2026-02-14, M4 2026-05-16 (Jan 15 + 121: +16 Jan 31, +28 Feb 28, +31 Mar 31,
    # +30 Apr 30, +16 May 16), M7 2026-08-15 (May 16 + 91: +15 May 31, +30 Jun 30, +31 Jul 31, +15 Aug 15).
    visits = protocol_parse(fixture_text())["visits"]
    planned = plan_visits(visits, {"procedure": D(2026, 1, 15)})
    assert [(p.code, p.day) for p in planned] == [
        ("M1", 30),
        ("M4", 121),
        ("M7", 212),
        ("M10", 303),
        ("M13", 394),
        ("M16", 485),
        ("M19", 576),
        ("M22", 667),
    ]
    assert [p.target_date for p in planned[:3]] == [D(2026, 2, 14), D(2026, 5, 16), D(2026, 8, 15)]
    m4 = planned[1]
    assert (m4.window_open, m4.window_close) == (D(2026, 5, 2), D(2026, 5, 30))
    assert m4.label == {"en": "4 months", "zh-hans": "术后4个月"}
    assert all(p.questionnaires == ("vas",) for p in planned)


def test_repeat_numbering_defaults_to_one_by_one():
    item = {
        "code": "Q{n}",
        "label": {"en": "Quarter {n}", "zh-hans": "第{n}季度"},
        "anchor": "procedure",
        "day": 91,
        "window_before": 14,
        "window_after": 14,
        "repeat": {"every": 91, "count": 3},
    }
    assert occurrences(item) == [
        ("Q1", {"en": "Quarter 1", "zh-hans": "第1季度"}, 91),
        ("Q2", {"en": "Quarter 2", "zh-hans": "第2季度"}, 182),
        ("Q3", {"en": "Quarter 3", "zh-hans": "第3季度"}, 273),
    ]
    assert [s.sequence for s in visit_specs({"schedule": [item]})] == [1, 2, 3]


# The status of a visit whose window is 2026-02-07 .. 2026-02-21, on the site's date (time zones are the
# caller's business: tests/followup/test_visits_api.py freezes the clock around each site's midnight).
@pytest.mark.parametrize(
    ("today", "status"),
    [
        (D(2026, 2, 6), VisitStatus.UPCOMING),  # the day before the window opens
        (D(2026, 2, 7), VisitStatus.OPEN),  # the first day of the window
        (D(2026, 2, 21), VisitStatus.OPEN),  # the last day of the window
        (D(2026, 2, 22), VisitStatus.OVERDUE),  # the day after: closed and not done
    ],
)
def test_pending_visit_status_around_the_window(today, status):
    assert visit_status(VisitState.PENDING, D(2026, 2, 7), D(2026, 2, 21), today) == status


@pytest.mark.parametrize("state", [VisitState.COMPLETED, VisitState.MISSED, VisitState.NOT_APPLICABLE])
def test_decided_visits_keep_their_state_whatever_the_date(state):
    for today in (D(2026, 1, 1), D(2026, 2, 10), D(2027, 1, 1)):
        assert visit_status(state, D(2026, 2, 7), D(2026, 2, 21), today) == VisitStatus(state)


# --- malformed `visits:` sections -------------------------------------------------------------------------


def with_visits(change) -> str:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    change(data["visits"])
    return yaml.safe_dump(data, allow_unicode=True)


def item(visits, code):
    return next(i for i in visits["schedule"] if i["code"] == code)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda v: item(v, "M3").update(windw_after=14),
            "visits.schedule[2] (M3): unknown key(s) windw_after",
        ),
        (
            lambda v: item(v, "M3").update(anchor="surgery"),
            "visits.schedule[2] (M3) anchor: 'surgery' is not one of visits.anchors",
        ),
        (lambda v: item(v, "M3").pop("day"), "(M3): missing day"),
        (lambda v: item(v, "M6").update(window_after=-1), "(M6) window_after: must be a whole number"),
        (lambda v: item(v, "M6").update(window_before=7.5), "(M6) window_before: must be a whole number"),
        (lambda v: item(v, "M1").update(window_before=31), "opens before the anchor date"),
        (lambda v: item(v, "M6").update(code="M3"), "visit code 'M3' is also given by visits.schedule[2]"),
        (lambda v: item(v, "M12").update(forms=["mri_12m"]), "no CRF form 'mri_12m'"),
        (lambda v: item(v, "M12").update(questionnaires=["sf36"]), "no questionnaire 'sf36'"),
        (lambda v: item(v, "M12").update(questionnaires=["odi", "odi"]), "'odi' is listed twice"),
        (
            lambda v: item(v, "M12").update(label={"en": "12 months"}),
            "(M12) label: give the text in en and zh-hans",
        ),
        (
            lambda v: item(v, "M12").update(code=12),
            "visits.schedule[4] code: write it as a quoted string, e.g. 'M12' (got 12)",
        ),
        (lambda v: item(v, "M12").update(code="M12-MRI"), "does not match"),
        (lambda v: item(v, "M12").update(code="U1"), "kept for unscheduled visits"),
        (lambda v: item(v, "M12").update(code="M{n}"), "{n} in the code needs `repeat`"),
        (lambda v: item(v, "M12").update(repeat={"every": 91, "count": 3}), "must contain {n}"),
        (
            lambda v: item(v, "M12").update(repeat={"every": 0, "count": 1, "x": 1}),
            "(M12) repeat.every: must be a whole number of days, at least 1 (got 0)",
        ),
        (
            lambda v: item(v, "M12").update(repeat={"every": 91, "count": 1}),
            "(M12) repeat.count: must be a whole number from 2 to 100",
        ),
        (
            lambda v: v["schedule"].append(
                {
                    "code": "M{n}",
                    "label": {"en": "{n} months", "zh-hans": "术后{n}个月"},
                    "anchor": "procedure",
                    "day": 30,
                    "window_before": 7,
                    "window_after": 7,
                    "repeat": {"every": 91, "count": 4, "number_from": 1, "number_step": 3},
                }
            ),
            "visit code 'M1' is also given by visits.schedule[1]",
        ),
        (
            lambda v: v["anchors"].update(procedure={"form": "procedure", "field": "technique"}),
            "not a top-level date",
        ),
        (
            lambda v: v["anchors"].update(procedure={"form": "surgery", "field": "day"}),
            "no CRF form 'surgery'",
        ),
        (
            lambda v: v["anchors"].update(procedure={"form": "followup_mri", "field": "exam_date"}),
            "form 'followup_mri' is not among the protocol's forms",
        ),
        (
            lambda v: v["anchors"].update(enrollment={"participant": "birth_date"}),
            "participant's date is one of",
        ),
        (lambda v: v["anchors"].update(procedure="procedure_date"), "{form: F, field: X}"),
        (lambda v: v.update(schedule=[]), "visits.schedule: list at least one visit"),
        (lambda v: v.update(anchor="procedure"), "visits: unknown key(s) anchor"),
        (lambda v: v["unscheduled"].update(forms=["xray"]), "visits.unscheduled.forms[0]: no CRF form 'xray"),
        (lambda v: v.update(anchors={}), "visits.anchors: name at least one anchor date"),
        (lambda v: v["unscheduled"].update(when="any"), "visits.unscheduled: unknown key(s) when"),
    ],
)
def test_malformed_visit_sections_are_refused_naming_the_problem(change, message):
    with pytest.raises(ProtocolFileError) as info:
        protocol_parse(with_visits(change))
    assert message in str(info.value)


def test_the_old_single_anchor_format_is_refused_with_every_problem_named():
    old = {
        "anchor": "procedure",
        "schedule": [
            {"code": "M1", "label": {"en": "1 month", "zh-hans": "术后1个月"}, "day": 30, "window_after": 7},
            {"code": "M6", "label": {"en": "6 months"}, "day": -182, "window_before": 30, "window_after": 30},
        ],
    }
    with pytest.raises(ProtocolFileError) as info:
        protocol_parse(with_visits(lambda v: (v.clear(), v.update(old))))
    message = str(info.value)
    for fragment in (
        "visits: unknown key(s) anchor",
        "visits: missing anchors",
        "visits.schedule[0] (M1): missing anchor",
        "visits.schedule[0] (M1): missing window_before",
        "visits.schedule[1] (M6): missing anchor",
        "visits.schedule[1] (M6) label: give the text in en and zh-hans",
        "visits.schedule[1] (M6) day: must be a whole number of days, 0 or more",
    ):
        assert fragment in message


def test_a_visits_section_that_is_not_a_mapping_is_refused():
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["visits"] = ["M1", "M3"]
    with pytest.raises(ProtocolFileError, match="visits: a mapping with anchors, schedule"):
        protocol_parse(yaml.safe_dump(data, allow_unicode=True))
