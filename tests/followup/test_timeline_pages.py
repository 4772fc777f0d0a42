"""Coordinator pages of follow-up: the visits worklist (due this week and overdue) and the participant
timeline with its steps; both languages, fixed query counts, bad input re-rendered with field errors,
site scoping."""

import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crf import services as crf
from followup.models import Visit, VisitState
from trial.models import Role

from ..conftest import client_for
from ..crf.conftest import PROCEDURE
from . import questionnaire_helpers as helpers
from .mri_helpers import MRI, put_mri

# The tests look at the worklist and the timeline on 2026-03-20 (BL and M1 overdue, M3 due within the week)
# and travel from there to the other days they name. The clock is stopped at that instant for the whole test,
# so that what happens outside those travels (logging in, the fixtures that do not travel) happens in the same
# weeks of the study whatever the day the tests run: a session opened on the real day could have expired by
# the day a test travels to.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-03-20 10:00")]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at_site(day: str, hour: int = 10) -> datetime.datetime:
    """A moment of a Shanghai day (site 07's time zone)."""
    return datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def questionnaire_visits(make_participant):
    """A participant with the questionnaire helpers' schedule (V0 the baseline, then V1, V3, V12)."""
    participant = make_participant()
    Visit.objects.filter(participant=participant).delete()
    visits = {
        code: helpers.make_visit(participant, code, sequence, day=day, questionnaires=q)
        for code, sequence, day, q in helpers.SCHEDULE
    }
    return participant, visits


def logged_in(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


@pytest.fixture
def treated(make_participant, coordinator):
    """A participant enrolled 2026-01-07 whose procedure (2026-01-08, L1 and T12) is complete."""
    with time_machine.travel(at_site("2026-01-10"), tick=False):
        participant = make_participant()
        record, _ = crf.crf_save(
            actor=coordinator,
            participant=participant,
            form_code="procedure",
            data=PROCEDURE,
            expected_version=None,
        )
        crf.crf_complete(
            actor=coordinator, participant=participant, form_code="procedure", expected_version=record.version
        )
    return participant


def test_completing_the_procedure_schedules_the_visits(treated):
    # Hand-worked from the protocol (day ± window) and the procedure date 2026-01-08; BL from enrollment.
    visits = {
        v.code: (v.target_date, v.window_open, v.window_close)
        for v in Visit.objects.filter(participant=treated)
    }
    d = datetime.date
    assert visits == {
        "BL": (d(2026, 1, 7), d(2026, 1, 7), d(2026, 1, 14)),
        "M1": (d(2026, 2, 7), d(2026, 1, 31), d(2026, 2, 14)),  # day 30 ± 7
        "M3": (d(2026, 4, 9), d(2026, 3, 26), d(2026, 4, 23)),  # day 91 ± 14
        "M6": (d(2026, 7, 9), d(2026, 6, 9), d(2026, 8, 8)),  # day 182 ± 30
        "M12": (d(2027, 1, 8), d(2026, 12, 9), d(2027, 2, 7)),  # day 365 ± 30
    }


def test_worklist_shows_overdue_and_due_this_week_by_the_site_date(treated, coordinator):
    client = logged_in(coordinator)
    # 2026-03-20: BL and M1 are overdue; M3 opens 03-26 = today + 6, so it is due this week; M6 is not.
    with time_machine.travel(at_site("2026-03-20"), tick=False):
        page = client.get("/visits/")
    assert page.status_code == 200
    rows = {row["visit"].code: row["status"] for row in page.context["rows"]}
    assert rows == {"BL": "overdue", "M1": "overdue", "M3": "upcoming"}
    # One day earlier M3 opens in 7 days: not this week.
    with time_machine.travel(at_site("2026-03-19"), tick=False):
        page = client.get("/visits/")
    assert {row["visit"].code for row in page.context["rows"]} == {"BL", "M1"}
    # The site's midnight, not UTC's: 2026-03-19 23:30 in Shanghai is 15:30 UTC the same day.
    with time_machine.travel(at_site("2026-03-19", 23), tick=False):
        assert {row["visit"].code for row in client.get("/visits/").context["rows"]} == {"BL", "M1"}
    with time_machine.travel(at_site("2026-03-20", 0), tick=False):
        assert "M3" in {row["visit"].code for row in client.get("/visits/").context["rows"]}


def test_worklist_filters_and_fixed_query_count(treated, make_participant, coordinator):
    client = logged_in(coordinator, "zh-hans")
    with time_machine.travel(at_site("2026-03-20"), tick=False):
        overdue = client.get("/visits/", {"status": "overdue", "site": "07"})
        assert [row["visit"].code for row in overdue.context["rows"]] == ["BL", "M1"]
        assert "逾期" in overdue.content.decode()
        with CaptureQueriesContext(connection) as few:
            client.get("/visits/", {"status": "all"})
        for _ in range(5):
            make_participant()
        with CaptureQueriesContext(connection) as many:
            client.get("/visits/", {"status": "all"})
    assert len(many) == len(few)
    bad = client.get("/visits/", {"status": "nonsense"})
    assert bad.status_code == 400  # shown and refused, nothing listed: never ignored, never a 500
    assert bad.context["form"].errors and bad.context["rows"] == []


def test_timeline_in_both_languages(treated, coordinator):
    with time_machine.travel(at_site("2026-03-20"), tick=False):
        english = logged_in(coordinator, "en").get(f"/participants/{treated.study_id}/timeline/")
        chinese = logged_in(coordinator, "zh-hans").get(f"/participants/{treated.study_id}/timeline/")
    assert english.status_code == chinese.status_code == 200
    text = english.content.decode()
    assert "12 months" in text and "2027-01-08" in text and "Overdue" in text
    assert "术后12个月" in chinese.content.decode()
    statuses = [row.status for row in english.context["timeline"]]
    assert statuses == ["overdue", "overdue", "upcoming", "upcoming", "upcoming"]


@pytest.mark.parametrize(
    ("language", "m12", "collected"),
    [
        ("en", "12 months", "Follow-up spine MRI · Oswestry Disability Index · Pain visual analogue scale"),
        ("zh-hans", "术后12个月", "随访脊柱MRI · Oswestry 功能障碍指数 · 疼痛视觉模拟评分"),
    ],
)
def test_follow_up_pages_name_forms_questionnaires_and_visits(treated, coordinator, language, m12, collected):
    # given an M12 follow-up MRI with new fractures at untreated levels (adjudication cases at M12)
    with time_machine.travel(at_site("2027-01-10"), tick=False):
        assert put_mri(client_for(coordinator), treated, MRI).status_code == 200
        client = logged_in(coordinator, language)
        worklist = client.get("/visits/", {"status": "all"}).content.decode()
        timeline = client.get(f"/participants/{treated.study_id}/timeline/").content.decode()
    # then the worklist names what each visit collects and the visit, never their codes
    (row,) = [r for r in re.findall(r"<tr>(.*?)</tr>", worklist, re.S) if '"code">M12<' in r]
    (collects,) = re.findall(r'<td data-role="collects">(.*?)</td>', row)
    assert collects.startswith(collected)  # the VAS's name goes on with its scale
    assert m12 in row
    for cell in re.findall(r'<td data-role="collects">(.*?)</td>', worklist):
        assert not re.search(r"followup_mri|\bodi\b|\bvas\b", cell), cell
    # and the timeline's adjudication cases name their visit
    cases = re.search(r'aria-labelledby="cases-title">.*?</section>', timeline, re.S).group(0)
    assert cases.count(m12) == 2  # L2 and T10


def test_timeline_query_count_does_not_grow_with_visits(treated, coordinator):
    client = logged_in(coordinator)
    url = f"/participants/{treated.study_id}/timeline/"
    with time_machine.travel(at_site("2026-03-20"), tick=False):
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        for day in ("2026-02-01", "2026-02-20", "2026-03-01"):
            response = client.post(
                f"{url.replace('timeline/', 'visits/new/')}", {"visit_date": day, "reason": "Back pain"}
            )
            assert response.status_code == 302
        with CaptureQueriesContext(connection) as many:
            client.get(url)
    assert len(many) == len(few)


def test_record_a_visit_and_bad_input(treated, coordinator):
    client = logged_in(coordinator)
    base = f"/participants/{treated.study_id}/visits"
    with time_machine.travel(at_site("2026-02-10"), tick=False):
        future = client.post(f"{base}/M1/complete/", {"visit_date": "2026-02-11"})
        assert future.status_code == 400
        assert future.context["complete_form"].errors
        empty = client.post(f"{base}/M1/missed/", {"reason": "  "})
        assert empty.status_code == 400
        garbage = client.post(f"{base}/M1/complete/", {"visit_date": "not a date"})
        assert garbage.status_code == 400
        assert Visit.objects.get(participant=treated, code="M1").state == VisitState.PENDING  # nothing saved
        done = client.post(f"{base}/M1/complete/", {"visit_date": "2026-02-09"})
        assert done.status_code == 302
        visit = Visit.objects.get(participant=treated, code="M1")
        assert (visit.state, visit.visit_date) == (VisitState.COMPLETED, datetime.date(2026, 2, 9))
        # A completed visit cannot be declared missed: the page says why.
        refused = client.post(f"{base}/M1/missed/", {"reason": "no show"})
        assert refused.status_code == 400
        assert client.post(f"{base}/NOPE/complete/", {"visit_date": "2026-02-09"}).status_code == 404


def test_other_site_staff_and_adjudicators_do_not_see_the_timeline(treated, make_user, other_site, study):
    stranger = make_user("coord91", role=Role.COORDINATOR, site=other_site)
    adjudicator = make_user("adj", role=Role.ADJUDICATOR, study=study)
    for user in (stranger, adjudicator):
        client = logged_in(user)
        assert client.get(f"/participants/{treated.study_id}/timeline/").status_code == 404
        posted = client.post(
            f"/participants/{treated.study_id}/visits/M1/complete/", {"visit_date": "2026-02-09"}
        )
        assert posted.status_code == 404
    assert Visit.objects.get(participant=treated, code="M1").state == VisitState.PENDING


def test_a_monitor_reads_but_cannot_record(treated, make_user, study):
    monitor = make_user("mon", role=Role.MONITOR, study=study)
    client = logged_in(monitor)
    page = client.get(f"/participants/{treated.study_id}/timeline/")
    assert page.status_code == 200 and not page.context["may_write"]
    assert (
        client.post(
            f"/participants/{treated.study_id}/visits/M1/complete/", {"visit_date": "2026-02-09"}
        ).status_code
        == 403
    )


def test_dashboard_counts_overdue_and_due_visits(treated, coordinator, make_user, study):
    with time_machine.travel(at_site("2026-03-20"), tick=False):
        page = logged_in(coordinator).get("/")
        # BL and M1 are overdue; M3 opens within the week.
        panel = page.context["panels"][0]
        assert (panel["template"], panel["overdue"], panel["due"]) == ("followup/_dashboard_panel.html", 2, 3)
        adjudicator = make_user("adj", role=Role.ADJUDICATOR, study=study)
        # Blinded: no visit counts, only the cases awaiting their judgement.
        panels = logged_in(adjudicator).get("/").context["panels"]
        assert [panel["template"] for panel in panels] == ["followup/_adjudication_panel.html"]


# --- change from baseline -------------------------------------------------------------------------------


def mcid_cells(page) -> dict[tuple[str, str], tuple[str, str]]:
    """{(instrument, visit): (absolute cell, relative cell)} of the change table, as read (tags dropped)."""
    rows = re.findall(
        r'<tr data-instrument="(\w+)" data-visit="(\w+)">(.*?)</tr>', page.content.decode(), flags=re.S
    )
    cells = {}
    for instrument, visit, row in rows:
        found = dict(re.findall(r'<td class="mcid" data-criterion="(\w+)">(.*?)</td>', row, flags=re.S))
        cells[instrument, visit] = tuple(
            " ".join(re.sub(r"<[^>]+>", "", found[key]).split()) for key in ("absolute", "relative")
        )
    return cells


def test_change_table_gives_each_mcid_criterion_its_own_verdict(coordinator, questionnaire_visits):
    """ODI 20 -> 12 improves by 8 points (under the 10-point MCID) but by 40 % (over 30 %): two verdicts,
    each beside its own criterion, never "no · ≥ 30 % better" in one cell."""
    participant, visits = questionnaire_visits
    for visit, total in (("V0", 10), ("V3", 6), ("V12", 4)):  # ODI 20.0, 12.0, 8.0
        helpers.submit(coordinator, participant, visits[visit], "odi", helpers.odi_answers(total))
    for visit, pain in (("V0", 87), ("V1", 25), ("V3", 70)):
        helpers.submit(coordinator, participant, visits[visit], "vas", {"pain": pain})
    url = f"/participants/{participant.study_id}/timeline/"

    english = mcid_cells(logged_in(coordinator, "en").get(url))
    assert english == {
        ("odi", "V3"): ("≥ 10 points: no", "≥ 30 %: yes (40.0 %)"),  # 8 points, 40 %
        ("odi", "V12"): ("≥ 10 points: yes", "≥ 30 %: yes (60.0 %)"),  # 12 points, 60 %
        ("vas", "V1"): ("≥ 15 mm: yes", "≥ 30 %: yes (71.3 %)"),  # 62 mm of 87
        ("vas", "V3"): ("≥ 15 mm: yes", "≥ 30 %: no (19.5 %)"),  # 17 mm of 87
    }
    chinese = mcid_cells(logged_in(coordinator, "zh-hans").get(url))
    assert chinese[("odi", "V3")] == ("≥ 10 分：否", "≥ 30 %：是 (40.0 %)")  # noqa: RUF001
    assert chinese[("vas", "V3")] == ("≥ 15 mm：是", "≥ 30 %：否 (19.5 %)")  # noqa: RUF001
