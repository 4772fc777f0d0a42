"""The dashboard's per-site counts (trial.models.counts): kept by the database through every way of writing
screenings and participants, equal to counting the rows, and read by the dashboard in a fixed number of
queries whatever the size of the screening log. Time is frozen (dates are judged at the site)."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trial.models import Outcome, Participant, ParticipantStatus, Screening, SiteCount
from trial.selectors import enrollment_summary, screen_failure_reasons
from trial.services import participant_set_status
from trial.services.screening import screening_update

from ..conftest import ELIGIBLE_ANSWERS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    moment = datetime.datetime(2026, 3, 1, 12, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(moment, tick=False):
        yield


def stored() -> dict:
    return {(c.site_id, c.key): c.n for c in SiteCount.objects.all() if c.n}


def counted() -> dict:
    """The same figures counted from the rows themselves."""
    expected: dict = {}
    for row in Screening.objects.values("site").annotate(
        screened=Count("id"), eligible=Count("id", filter=Q(outcome=Outcome.ELIGIBLE))
    ):
        expected[(row["site"], "screened")] = row["screened"]
        expected[(row["site"], "eligible")] = row["eligible"]
    for site, codes in Screening.objects.filter(outcome=Outcome.INELIGIBLE).values_list(
        "site", "failed_criteria"
    ):
        for code in codes:
            expected[(site, f"failed:{code}")] = expected.get((site, f"failed:{code}"), 0) + 1
    for row in Participant.objects.values("site").annotate(
        enrolled=Count("id"), active=Count("id", filter=Q(status=ParticipantStatus.ENROLLED))
    ):
        expected[(row["site"], "enrolled")] = row["enrolled"]
        expected[(row["site"], "active")] = row["active"]
    return {key: n for key, n in expected.items() if n}


def test_the_services_keep_the_counts(
    make_screening, make_participant, coordinator, other_coordinator, other_site
):
    make_participant()
    theirs = make_participant(actor=other_coordinator, on_site=other_site)
    make_screening(answers={**ELIGIBLE_ANSWERS, "EXC2": True})
    failed = make_screening(answers={**ELIGIBLE_ANSWERS, "EXC2": True, "EXC3": True})
    make_screening(answers={**ELIGIBLE_ANSWERS, "INC1": None})  # incomplete
    site = failed.site_id
    assert stored() == counted()
    assert stored()[(site, "screened")] == 4 and stored()[(site, "failed:EXC2")] == 2

    # A correction re-judges the screening: the counts follow its new outcome.
    screening_update(
        actor=coordinator,
        screening=failed,
        data={"answers": {"EXC2": False, "EXC3": False}},
        reason="Typed in the wrong row",
    )
    assert stored() == counted()
    assert stored()[(site, "failed:EXC2")] == 1 and (site, "failed:EXC3") not in stored()
    assert stored()[(site, "eligible")] == 2

    # A participant lost to follow-up is no longer active; reinstated, active again.
    participant_set_status(
        actor=other_coordinator,
        participant=theirs,
        status=ParticipantStatus.LOST_TO_FOLLOW_UP,
        date=datetime.date(2026, 2, 1),
        reason="No answer",
    )
    assert stored() == counted()
    assert (other_site.pk, "active") not in stored() and stored()[(other_site.pk, "enrolled")] == 1


def test_bulk_writes_and_raw_sql_keep_the_counts(make_screening, coordinator, site):
    template = make_screening(answers={**ELIGIBLE_ANSWERS, "EXC1": True})
    fields = {
        f.attname: getattr(template, f.attname) for f in Screening._meta.concrete_fields if not f.primary_key
    }
    Screening.objects.bulk_create([Screening(**fields) for _ in range(5)])
    assert stored() == counted() and stored()[(site.pk, "failed:EXC1")] == 6
    # One statement changing many rows, as a data fix by hand would.
    Screening.objects.filter(pk__in=list(Screening.objects.values_list("pk", flat=True)[:3])).update(
        outcome=Outcome.INCOMPLETE
    )
    assert stored() == counted() and stored()[(site.pk, "failed:EXC1")] == 3
    with connection.cursor() as cursor:
        cursor.execute("UPDATE trial_screening SET outcome = 'eligible', failed_criteria = '{}'")
    assert stored() == counted() == {(site.pk, "screened"): 6, (site.pk, "eligible"): 6}


def test_the_dashboard_reads_the_counts_in_a_fixed_number_of_queries(
    make_screening, make_participant, coordinator
):
    client = Client()
    client.force_login(coordinator)
    make_participant()
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for _ in range(4):
        make_participant()
        make_screening(answers={**ELIGIBLE_ANSWERS, "EXC2": True})
    with CaptureQueriesContext(connection) as many:
        page = client.get("/")
    assert len(many) == len(few)
    assert not [q for q in many if 'FROM "trial_screening"' in q["sql"]]  # the log is not counted
    study = page.context["studies"][0]
    assert study["summary"]["total"] | {"target": 0, "percent": 0} == {
        "screened": 9,
        "eligible": 5,
        "enrolled": 5,
        "active": 5,
        "target": 0,
        "percent": 0,
    }
    assert study["reasons"][0]["code"] == "EXC2" and study["reasons"][0]["count"] == 4
    summary = enrollment_summary(study=study["study"], user=coordinator)
    assert [(s.code, s.screened, s.enrolled) for s in summary["sites"]] == [("07", 9, 5)]
    assert screen_failure_reasons(study=study["study"], user=coordinator) == [("EXC2", 4)]


@pytest.mark.parametrize(
    "url", ["/api/v1/participants/", "/api/v1/screenings/", "/participants/", "/screenings/"]
)
def test_unfiltered_lists_take_their_total_from_the_counts(
    url, make_screening, make_participant, coordinator
):
    """An unfiltered list's total is the sum of the kept counts, not a COUNT of the rows (which grows with the
    data); a filtered one is counted. Both equal counting by hand, and other sites' rows count in neither."""
    for _ in range(3):
        make_participant()
    make_screening(answers={**ELIGIBLE_ANSWERS, "EXC2": True})
    Participant.objects.filter(pk=Participant.objects.first().pk).update(status=ParticipantStatus.WITHDRAWN)
    client = Client()
    client.force_login(coordinator)
    client.get(url)
    table = "trial_participant" if "participants" in url else "trial_screening"
    mine = Participant.objects.filter(site__code="07") if table == "trial_participant" else Screening.objects
    with CaptureQueriesContext(connection) as unfiltered:
        everything = client.get(url)
    counts = [q["sql"] for q in unfiltered if q["sql"].startswith("SELECT COUNT(*)")]
    assert not [sql for sql in counts if f'FROM "{table}"' in sql]
    if url.startswith("/api/"):  # the API refuses a blank filter (trial.filters), naming it
        assert client.get(f"{url}?site=&page=1").status_code == 400
    else:
        with CaptureQueriesContext(connection) as blank_form:  # the Reset link's blank fields choose no rows
            client.get(f"{url}?site=&page=1")
        assert len(blank_form) == len(unfiltered)
    if url.startswith("/api/"):
        assert everything.json()["count"] == mine.count() == (3 if table == "trial_participant" else 4)
        narrowed = "status=withdrawn" if table == "trial_participant" else "outcome=ineligible"
        with CaptureQueriesContext(connection) as filtered:
            assert client.get(f"{url}?{narrowed}").json()["count"] == 1
        assert [
            q for q in filtered if q["sql"].startswith("SELECT COUNT(*)") and f'FROM "{table}"' in q["sql"]
        ]
    else:
        assert everything.context["page"].paginator.count == mine.count()
