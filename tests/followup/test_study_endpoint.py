"""The study's endpoint through the real database and API: one row per participant from the procedure's date,
the final adjudicated cases, the participant's status and their completed visits; who may read it; its query
count; the CSV export.

Hand-worked dates: every participant's procedure is on 2026-01-08 (the index date), the horizon 365 days ends
2027-01-08. Days from the index date: to 2026-04-10 92 (23 + 28 + 31 + 10), to 2026-05-20 132 (23 + 28 + 31 +
30 + 20), to 2026-06-01 144 (132 + 11 + 1), to 2026-07-08 181 (144 + 29 + 8), to 2026-09-30 265 (181 + 23 + 31
+ 30). The clock is stopped at 2027-03-01 (after the horizon, so that the default data cut is past it) in
Shanghai, site 07's time zone.
"""

import csv
import datetime
import io

import pytest

from crf.models import FormRecord, FormStatus
from followup.apis.endpoint import EndpointRowOut
from followup.models import AdjudicationCase, CaseAssignment, CaseStatus, Visit
from followup.selectors.endpoint import study_endpoint
from followup.services.assignment import case_readers_assign
from followup.services.verdicts import verdict_submit
from followup.services.visits import visit_complete
from trial.models import Role, Study
from trial.services import participant_set_status
from trial.services.protocols import protocol_load

from ..conftest import client_for
from ..crf.conftest import PROCEDURE, put
from ..factories import PASSWORD
from .mri_helpers import MRI, put_mri
from .test_adjudication import mri
from .visit_helpers import complete_procedure, fixture_text, la_site  # noqa: F401 -- a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2027-03-01 09:00")]

ENDPOINT = "/api/v1/studies/NCT06379243/endpoint/"
AGREEMENT = "/api/v1/studies/NCT06379243/adjudication-agreement/"
INDEX = "2026-01-08"


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def yes(event_date: str, grade: int = 1, levels=None) -> dict:
    verdict = {"fracture": True, "genant_grade": grade, "event_date": day(event_date), "confidence": "high"}
    return verdict | ({"levels": levels} if levels else {})


NO = {"fracture": False, "confidence": "moderate"}


def read(case: AdjudicationCase, slot: str, verdict: dict) -> None:
    """The reader assigned to `slot` gives the verdict (levels: the case's own unless named)."""
    reader = CaseAssignment.objects.get(case=case, slot=slot, active=True).reader
    levels = {"levels": [case.level]} if verdict["fracture"] else {}
    verdict_submit(actor=reader, case=case, username=reader.username, password=PASSWORD, **(levels | verdict))


def adjudicate(case: AdjudicationCase, first: dict, second: dict | None = None) -> None:
    """Two independent readers are assigned and read (the second only if given). Only a complete MRI goes
    to review: its record is marked complete directly, as tests/followup/conftest.py's `cases` does."""
    FormRecord.objects.filter(pk=case.record_id).update(status=FormStatus.COMPLETE)
    case_readers_assign(case=case)
    read(case, "first", first if first["fracture"] else NO)
    if second is not None:
        read(case, "second", second if second["fracture"] else NO)


def treated(coordinator, participant) -> None:
    """The procedure form completed: the index date 2026-01-08 (L1 and T12 treated), and the visits."""
    complete_procedure(coordinator, participant, INDEX)


def visit_done(coordinator, participant, code: str, date: str) -> None:
    visit = Visit.objects.get(participant=participant, code=code)
    visit_complete(actor=coordinator, visit=visit, visit_date=day(date))


def new_cases(
    coordinator, participant, *levels: str, exam: str = "2026-06-01"
) -> dict[str, AdjudicationCase]:
    """The M12 follow-up MRI (a draft) reports new fractures at these levels: a case each."""
    assert (
        put_mri(client_for(coordinator), participant, mri(*levels) | {"exam_date": exam}).status_code == 200
    )
    return {case.level: case for case in AdjudicationCase.objects.filter(participant=participant)}


def set_status(coordinator, participant, status: str, date: str) -> None:
    participant_set_status(
        actor=coordinator,
        participant=participant,
        status=status,
        date=day(date),
        reason="as the site reports",
    )


@pytest.fixture
def pi(make_user, study):
    return make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study)


@pytest.fixture
def cohort(make_participant, coordinator, readers) -> dict[str, str]:
    """One participant per rule, by name: their study IDs."""
    made = {}

    def participant(name):
        made[name] = make_participant()
        return made[name]

    # An adjudicated fracture inside the horizon, at L2 (next to the treated L1).
    p = participant("event")
    treated(coordinator, p)
    adjudicate(new_cases(coordinator, p, "L2")["L2"], yes("2026-06-01"), yes("2026-06-01"))
    # An adjudicated fracture after the horizon (the M12 MRI of 2027-01-20): followed to its end, no event.
    p = participant("late")
    treated(coordinator, p)
    case = new_cases(coordinator, p, "L2", exam="2027-01-20")["L2"]
    adjudicate(case, yes("2027-01-20"), yes("2027-01-20"))
    # Died without an event, after a visit: a competing event at the date of death, not the visit's.
    p = participant("died")
    treated(coordinator, p)
    visit_done(coordinator, p, "M6", "2026-07-08")
    set_status(coordinator, p, "died", "2026-09-30")
    # Withdrew: censored at the last visit before the withdrawal.
    p = participant("withdrawn")
    treated(coordinator, p)
    visit_done(coordinator, p, "M3", "2026-04-10")
    set_status(coordinator, p, "withdrawn", "2026-06-15")
    # Lost to follow-up: censored at the last visit before the loss.
    p = participant("lost")
    treated(coordinator, p)
    visit_done(coordinator, p, "M6", "2026-07-08")
    set_status(coordinator, p, "lost_to_follow_up", "2026-08-01")
    # Still followed: visits at M6 and M12 (after the interim cut of 2026-10-01).
    p = participant("followed")
    treated(coordinator, p)
    visit_done(coordinator, p, "M6", "2026-07-08")
    visit_done(coordinator, p, "M12", "2027-01-10")
    # Two final fractures: the earlier event date (T10's, dated by its readers before the MRI) is the event.
    p = participant("two")
    treated(coordinator, p)
    cases = new_cases(coordinator, p, "L2", "T10")
    adjudicate(cases["L2"], yes("2026-06-01"), yes("2026-06-01"))
    adjudicate(cases["T10"], yes("2026-05-20", grade=2), yes("2026-05-25", grade=2))
    # A fracture adjudicated, then withdrawn from the MRI (a correction): the case is cancelled, not an event.
    p = participant("cancelled")
    treated(coordinator, p)
    case = new_cases(coordinator, p, "L2")["L2"]
    adjudicate(case, yes("2026-06-01"), yes("2026-06-01"))
    corrected = MRI | {"any_new_fracture": False, "levels": []}
    FormRecord.objects.filter(pk=case.record_id).update(status=FormStatus.DRAFT)  # back for the correction
    version = case.record.version
    assert put_mri(client_for(coordinator), p, corrected, version=version).status_code == 200
    case.refresh_from_db()
    assert (case.status, case.final_fracture) == (CaseStatus.CANCELLED, True)
    # The readers found no new fracture: final, and no event.
    p = participant("no_fracture")
    treated(coordinator, p)
    adjudicate(new_cases(coordinator, p, "L2")["L2"], NO, NO)
    # A case still being read (one verdict in): no event yet, and the row says so.
    p = participant("in_review")
    treated(coordinator, p)
    adjudicate(new_cases(coordinator, p, "L2")["L2"], yes("2026-06-01"))
    # The procedure form is still a draft: no index date, no endpoint.
    p = participant("untreated")
    assert put(client_for(coordinator), p, PROCEDURE).status_code == 200
    return {name: participant.study_id for name, participant in made.items()}


def row(index_date, event, event_date, censor_date, days, levels, location, reason, pending=False) -> dict:
    return {
        "index_date": index_date,
        "event": event,
        "event_date": event_date,
        "censor_date": censor_date,
        "days": days,
        "levels": levels,
        "location": location,
        "censor_reason": reason,
        "adjudication_pending": pending,
    }


def censored(date, days, reason, pending=False) -> dict:
    return row(INDEX, False, None, date, days, [], None, reason, pending)


END = censored("2027-01-08", 365, "end_of_follow_up")
AT_THE_CUT = {
    "event": row(INDEX, True, "2026-06-01", None, 144, ["L2"], "adjacent", None),
    "late": END,
    "died": censored("2026-09-30", 265, "died"),
    "withdrawn": censored("2026-04-10", 92, "withdrawn"),
    "lost": censored("2026-07-08", 181, "lost"),
    "followed": END,
    "two": row(INDEX, True, "2026-05-20", None, 132, ["T10"], "remote", None),
    "cancelled": END,
    "no_fracture": END,
    "in_review": censored("2027-01-08", 365, "end_of_follow_up", pending=True),
    "untreated": row(None, False, None, None, None, [], None, "no_index_date"),
}
# An interim cut of 2026-10-01: what was known then. The late fracture and the M12 visit come after it.
INTERIM = AT_THE_CUT | {
    "late": censored(INDEX, 0, "in_follow_up"),
    "followed": censored("2026-07-08", 181, "in_follow_up"),
    "cancelled": censored(INDEX, 0, "in_follow_up"),
    "no_fracture": censored(INDEX, 0, "in_follow_up"),
    "in_review": censored(INDEX, 0, "in_follow_up", pending=True),
}


def by_name(cohort: dict, rows: list[dict]) -> dict:
    names = {study_id: name for name, study_id in cohort.items()}
    return {names[r["study_id"]]: {k: v for k, v in r.items() if k not in ("study_id", "site")} for r in rows}


# The cohort takes a few seconds to build: these tests read it once.
def test_the_endpoint_of_each_participant_at_the_default_and_an_interim_data_cut(
    cohort, pi, study, django_assert_num_queries
):
    api = client_for(pi)
    answer = api.get(ENDPOINT).json()
    assert answer["count"] == len(cohort)
    assert [r["study_id"] for r in answer["results"]] == sorted(cohort.values())
    assert {r["site"] for r in answer["results"]} == {"07"}
    assert by_name(cohort, answer["results"]) == AT_THE_CUT
    interim = api.get(ENDPOINT, {"data_cut": "2026-10-01"}).json()["results"]
    assert by_name(cohort, interim) == INTERIM

    # The service reads every participant in two queries whatever their number: the final cases, then the
    # participants (one cursor, read in batches).
    study = Study.objects.select_related("current_version").get(pk=study.pk)
    with django_assert_num_queries(2):
        rows = list(study_endpoint(study=study, data_cut=day("2026-10-01")))
    assert [r.study_id for r in rows] == [r["study_id"] for r in interim]
    assert all(EndpointRowOut(r).data == api_row for r, api_row in zip(rows, interim, strict=True))

    # The CSV export: every row at once, the same values; the permission matrix's read of the user's roles
    # (trial.access.user_roles), the study, the sites, then the service's two.
    with django_assert_num_queries(5):
        response = api.get(ENDPOINT, {"export": "csv", "data_cut": "2026-10-01"})
        text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="NCT06379243_endpoint_2026-10-01.csv"'
    exported = {r["study_id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert list(exported) == sorted(cohort.values())
    assert exported[cohort["two"]] == {
        "study_id": cohort["two"],
        "site": "07",
        "index_date": INDEX,
        "event": "true",
        "event_date": "2026-05-20",
        "censor_date": "",
        "days": "132",
        "levels": "T10",
        "location": "remote",
        "censor_reason": "",
        "adjudication_pending": "false",
    }
    assert exported[cohort["in_review"]]["censor_reason"] == "in_follow_up"
    assert exported[cohort["in_review"]]["adjudication_pending"] == "true"
    assert exported[cohort["untreated"]]["days"] == ""


def test_a_page_runs_the_same_queries_whatever_the_number_of_participants(
    make_participant, coordinator, readers, pi, django_assert_num_queries
):
    api = client_for(pi)

    def add(count):
        for _ in range(count):
            p = make_participant()
            treated(coordinator, p)
            visit_done(coordinator, p, "M6", "2026-07-08")
            adjudicate(new_cases(coordinator, p, "L2")["L2"], yes("2026-06-01"), yes("2026-06-01"))

    # The permission matrix's read of the user's roles (trial.access.user_roles); the study and the user's
    # sites with the role; the count, the page's ids, its rows, its final cases.
    add(1)
    with django_assert_num_queries(7):
        assert len(api.get(ENDPOINT).json()["results"]) == 1
    add(3)
    with django_assert_num_queries(7):
        assert [r["event"] for r in api.get(ENDPOINT).json()["results"]] == [True] * 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"data_cut": "2026-13-01"}, "data_cut"),
        ({"data_cut": "yesterday"}, "data_cut"),
        ({"data_cut": "2027-03-02"}, "data_cut"),  # tomorrow in Shanghai: not known yet
        ({"export": "xlsx"}, "export"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(pi, query, field):
    response = client_for(pi).get(ENDPOINT, query)
    assert response.status_code == 400
    assert field in response.json()


def test_the_default_data_cut_is_today_at_the_study_s_sites(
    make_participant,
    coordinator,
    pi,
    la_site,  # noqa: F811
    settings,
    time_machine,
):
    settings.TIME_ZONE = "UTC"  # the server's clock: not the study's
    p = make_participant()
    treated(coordinator, p)
    # 2027-01-07 16:30 UTC is 2027-01-08 00:30 in Shanghai (the horizon's last day has begun at site 07) and
    # 2027-01-07 08:30 in Los Angeles (the study's other site): the cut is the day both have reached.
    time_machine.move_to(datetime.datetime(2027, 1, 7, 16, 30, tzinfo=datetime.UTC), tick=False)
    assert client_for(pi).get(ENDPOINT).json()["results"][0]["censor_reason"] == "in_follow_up"
    la_site.delete()
    assert client_for(pi).get(ENDPOINT).json()["results"][0]["censor_reason"] == "end_of_follow_up"


# --- who may read it --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ENDPOINT, AGREEMENT])
def test_only_principal_investigators_and_data_managers_read_the_endpoint(
    url, make_user, study, site, coordinator, monitor, readers, pi
):
    superuser = make_user("root", is_superuser=True, is_staff=True)
    site_pi = make_user("pi07", role=Role.PRINCIPAL_INVESTIGATOR, study=study, site=site)
    for user in (pi, readers["dm"], site_pi):
        assert client_for(user).get(url).status_code == 200
    for user in (coordinator, monitor, superuser):  # they see the study, not its outcomes
        response = client_for(user).get(url)
        assert response.status_code == 403
        # the permission matrix's refusal, before the view: who may, whatever the study
        assert response.json() == {
            "detail": "Only the principal investigator or data manager can do this.",
            "code": "forbidden",
        }
    refused = client_for(monitor).get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["detail"]
    assert refused == "只有主要研究者或数据管理员可以执行此操作。"
    # A blinded adjudicator sees no study at all, as everywhere else in the API; nor does a stranger.
    assert client_for(readers["adj_a"]).get(url).status_code == 404
    assert client_for(pi).get(url.replace("NCT06379243", "NCT00000000")).status_code == 404
    assert client_for(None).get(url).status_code in (401, 403)


def test_a_principal_investigator_of_one_site_reads_that_site_s_participants(
    make_participant, make_user, study, site, other_site, coordinator, other_coordinator
):
    make_participant()
    make_participant(actor=other_coordinator, on_site=other_site)
    site_pi = make_user("pi91", role=Role.PRINCIPAL_INVESTIGATOR, study=study, site=other_site)
    assert [r["site"] for r in client_for(site_pi).get(ENDPOINT).json()["results"]] == ["91"]


def test_a_protocol_without_an_endpoint_section_is_a_409(make_user):
    protocol_load(text=fixture_text(), source_name="EURRADIOL2016.yaml")  # no `endpoint:` section
    pi = make_user("pi_gr", role=Role.PRINCIPAL_INVESTIGATOR, study=Study.objects.get(code="EURRADIOL2016"))
    for query in ({}, {"export": "csv"}):
        response = client_for(pi).get("/api/v1/studies/EURRADIOL2016/endpoint/", query)
        assert response.status_code == 409
        assert response.json() == {
            "detail": "The protocol of study EURRADIOL2016 declares no endpoint.",
            "code": "no_endpoint",
        }
    chinese = client_for(pi).get("/api/v1/studies/EURRADIOL2016/endpoint/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.json()["detail"] == "研究 EURRADIOL2016 的方案未定义终点。"
    agreement = client_for(pi).get("/api/v1/studies/EURRADIOL2016/adjudication-agreement/").json()
    assert (agreement["kappa"], agreement["n"], agreement["undefined"]) == (None, 0, "no_pairs")


def test_the_schema_describes_the_endpoint_and_the_agreement(pi):
    schema = client_for(pi).get("/api/schema/", {"format": "json"}).json()
    endpoint = schema["paths"]["/api/v1/studies/{code}/endpoint/"]["get"]
    assert {"data_cut", "export", "page", "page_size"} <= {p["name"] for p in endpoint["parameters"]}
    row = schema["components"]["schemas"]["EndpointRowOut"]["properties"]
    assert {"study_id", "event", "event_date", "days", "location", "censor_reason"} <= set(row)
    agreement = schema["paths"]["/api/v1/studies/{code}/adjudication-agreement/"]["get"]
    assert agreement["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "AgreementOut"
    )
    out = schema["components"]["schemas"]["AgreementOut"]["properties"]
    assert {"kappa", "low", "high", "n", "table", "undefined", "genant"} <= set(out)
