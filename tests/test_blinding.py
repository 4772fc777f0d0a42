"""Adjudicators judge re-fractures blind to the predictors (TRIPOD): they read their case packets and nothing
else. Every page and API endpoint is walked through the URL resolver as an adjudicator, so an endpoint added
later is covered without touching this test."""

import datetime
import json
import re

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from crf.models import DataQuery
from followup.messaging.models import OutboxMessage
from followup.models import AdjudicationCase, CaseAssignment, Visit
from followup.services import links
from followup.services.questionnaires import questionnaire_save
from trial.models import Role

from .conftest import client_for
from .crf.conftest import PROCEDURE, put
from .followup.mri_helpers import MRI, make_visit, put_mri

pytestmark = pytest.mark.django_db

# What an adjudicator may open: their queue (empty here: no case is assigned to them in this world; their
# packets are checked below and in tests/followup/test_adjudication_api.py), and what shows no participant's
# data at all.
OPEN_TO_ADJUDICATORS = {
    "api:adjudication-queue-counts",
    "adjudication-queue-page",
    "dashboard",  # the shell: no study, no count (checked below)
    "login",
    "logout",
    "set_language",
    "health",
    "schema",
    "api-docs",
    "api:api-root",
    "api:api-token",
    # Token logout: a session has no token to end, so 401; nobody's data either way.
    "api:api-logout",
    "api:api-logout-all",
    "password-change",  # the user's own password
    # The protocol's own definitions and stateless scoring: no participant's data.
    "api:data-dictionary",
    "api:instrument-list",
    "api:instrument-score",
    # One's own second factor (trial/views/twofactor.py): no study's data. Without a device the code page
    # leads to enrolment, and new recovery codes need an enrolled app.
    "two-factor",
    "two-factor-setup",
    "two-factor-verify",
    "two-factor-recovery",
}
REFUSED = {403, 404, 405}
METHODS = ("get", "post", "put", "patch", "delete")


def routes(patterns=None, prefix="", namespace=""):
    """(name with its namespace, route text, parameter names) of every URL pattern."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            names = set(pattern.pattern.regex.groupindex) | set(getattr(pattern.pattern, "converters", {}))
            yield f"{namespace}{pattern.name}", prefix + str(pattern.pattern), names


@pytest.fixture
def world(study, site, coordinator, make_participant, make_user):
    """A participant with everything an adjudicator must not read: screening data, a procedure form with a
    query, a follow-up MRI that opened adjudication cases, a questionnaire and a patient link."""
    with time_machine.travel(datetime.datetime(2027, 1, 10, 4, tzinfo=datetime.UTC), tick=False):
        participant = make_participant(age=87, levels=("T12", "L1"))
        coordinator_api = client_for(coordinator)
        assert put(coordinator_api, participant, PROCEDURE | {"operative_time": 200}).status_code == 200
        m12 = make_visit(participant)
        assert put_mri(coordinator_api, participant, MRI).status_code == 200
        baseline = Visit.objects.get(participant=participant, code="BL")
        questionnaire_save(
            actor=coordinator,
            participant=participant,
            visit=baseline,
            instrument="vas",
            answers={"pain": 40},
            source="paper",
            language="en",
            expected_version=None,
        )
        link, _token = links.patient_link_issue(actor=coordinator, visit=m12, instrument="vas", language="en")
        message = OutboxMessage.objects.create(
            key="blinding", kind="reminder", channel="sms", participant=participant, visit=m12,
            instrument="vas", step="open+0", language="en", state="unconfirmed", due_at=timezone.now(),
        )  # fmt: skip
    return {
        "participant": participant,
        "screening": participant.screening,
        "query": DataQuery.objects.get(record__form_code="procedure"),  # not the M12 MRI's scan-missing one
        "case": AdjudicationCase.objects.filter(participant=participant).first(),
        "link": link,
        "message": message,
        "study": study,
        "adjudicator": make_user("adj", role=Role.ADJUDICATOR, study=study),
    }


def kwargs_for(route: str, names: set[str], world) -> dict:
    """A real value for each parameter of a route, from the world's records."""
    participant = world["participant"]
    pk = (
        world["screening"].pk
        if "screenings" in route
        else world["case"].pk
        if "adjudication" in route
        else world["message"].pk
        if "messages" in route
        else world["query"].pk
    )
    visit_route = "visits" in route
    values = {
        "study_id": participant.study_id,
        "form_code": "followup_mri" if visit_route else "procedure",
        "visit_code": "M12",
        "code": "M12" if visit_route else world["study"].code,
        "instrument": "vas",
        "step": "complete",
        "pk": pk,
        "link_id": world["link"].pk,
        "token": "not-a-real-token",  # the patient's pages answer the token's bearer, not a staff member
        "format": "json",
        "object_id": str(world["screening"].pk),
        "app_label": "trial",
        "content_type_id": "1",
        "url": "trial/",
        "id": "1",
        "channel": "sms",
        "evidence_id": world["case"].evidence.first().pk,
        "reading_code": "ZZZZZZZ",  # a well-formed code that no assignment holds
        "what": "model",  # a risk model's JSON download (an adjudicator reads no risk model: 404)
    }
    missing = names - set(values)
    assert not missing, f"{route}: give the test a value for {sorted(missing)}"
    return {name: values[name] for name in names}


def leaks(response, world) -> list[str]:
    """What of the participant's data a response shows."""
    body = response.content.decode(errors="replace")
    participant = world["participant"]
    found = [
        text
        for text in (participant.study_id, f"/screenings/{world['screening'].pk}/", "Dr Demo")
        if text in body
    ]
    if response.get("Content-Type", "").startswith("application/json"):
        data = json.loads(body)
        rows = data.get("results", data) if isinstance(data, dict) else data
        if isinstance(rows, list) and rows:
            found.append(f"{len(rows)} rows")
    return found


def test_adjudicators_open_nothing_but_their_case_packets(world):
    client = Client(raise_request_exception=False)  # a 500 is listed with the rest
    client.force_login(world["adjudicator"])
    problems, walked = [], 0
    for name, route, names in routes():
        if name.endswith(":None"):  # the admin's catch-all has no name
            assert route.startswith("admin/"), f"name the URL pattern {route}"
            url = "/admin/no-such-page/"
        else:
            url = reverse(name, kwargs=kwargs_for(route, names, world))
        assert resolve(url).route is not None
        # Only read the admin (it answers every method alike) and the logout page (a POST would log out).
        methods = ("get",) if name.startswith("admin:") or name == "logout" else METHODS
        for method in methods:
            response = getattr(client, method)(url, content_type="application/json")
            walked += 1
            if name.startswith("admin:"):  # not staff: sent to the admin's login (its logout: to its index)
                to_admin = response.status_code == 302 and response["Location"].startswith("/admin/")
                if not (to_admin or name == "admin:login" or response.status_code in REFUSED):
                    problems.append(f"{method.upper()} {url}: {response.status_code}")
                continue
            if name in OPEN_TO_ADJUDICATORS:
                if name in {"dashboard"} and leaks(response, world):
                    problems.append(f"{method.upper()} {url} shows {leaks(response, world)}")
                continue
            if response.status_code in REFUSED:
                continue
            if response.status_code in (200, 400) and not leaks(response, world):
                # A list scoped to the sites whose research data the adjudicator reads (none), or a write
                # refused for its empty body before anything is looked up.
                continue
            problems.append(
                f"{method.upper()} {url}: {response.status_code} {leaks(response, world) or ''}".strip()
            )
    assert walked > 400
    assert problems == [], "\n".join(problems)
    # The board is not theirs; their queue names the case by their reading code and level only (never its
    # number, which a reader's URL does not take either), and the packet shows
    # the MRI's findings but nothing the forms keep from readers.
    board = client.get("/api/v1/adjudication-cases/")  # the permission matrix's 403, not an empty list
    assert board.status_code == 403 and board.json()["code"] == "forbidden"
    mine = CaseAssignment.objects.create(case=world["case"], reader=world["adjudicator"], slot="first")
    queue = client.get("/api/v1/adjudication/queue/")
    assert queue.json()["count"] == 1 and world["participant"].study_id not in queue.content.decode()
    assert [row["code"] for row in queue.json()["results"]] == [mine.reading_code]
    assert client.get(f"/api/v1/adjudication/queue/{world['case'].pk}/").status_code == 404
    packet = client.get(f"/api/v1/adjudication/queue/{mine.reading_code}/")
    assert packet.status_code == 200 and not leaks(packet, world)


def test_the_screening_log_shows_an_adjudicator_no_age_sex_or_levels(world):
    """The reported hole: the screening log gave adjudicators age, sex and fracture levels."""
    api = client_for(world["adjudicator"])
    # the log itself is refused (the permission matrix's 403), not shown empty
    refused = api.get("/api/v1/screenings/")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert api.get(f"/api/v1/screenings/{world['screening'].pk}/").status_code == 404
    assert api.get(f"/api/v1/participants/{world['participant'].study_id}/").status_code == 404
    # the study's flow counts participants: the permission matrix refuses it (403), whatever the study
    flow = api.get(f"/api/v1/studies/{world['study'].code}/flow/")
    assert flow.status_code == 403 and flow.json()["code"] == "forbidden"
    page = Client()
    page.force_login(world["adjudicator"])
    assert page.get(f"/screenings/{world['screening'].pk}/").status_code == 404
    log = page.get("/screenings/")
    assert log.status_code == 403 and world["participant"].study_id not in log.content.decode()


def test_an_adjudicators_dashboard_leads_to_the_cases_awaiting_them(
    world, coordinator, django_assert_num_queries
):
    """Blind to every study figure, an adjudicator still gets a dashboard that says what is theirs to do,
    in their language, not "you have no role in any study"."""
    for case in AdjudicationCase.objects.filter(participant=world["participant"]):
        CaseAssignment.objects.create(case=case, reader=world["adjudicator"], slot="first")
    page = Client()
    page.force_login(world["adjudicator"])
    page.get("/")  # the session and the user's first reads, so that the count below is the page's own
    # session, user, panels (2 + 1 + messages 1), the user's roles: read once, for the menu and the
    # adjudication panel's "is an adjudicator" (trial.access.user_roles), which was a query of its own
    with django_assert_num_queries(7):
        html = page.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Awaiting my verdict" in html and "No study yet" not in html
    assert re.search(r'href="/adjudication/\?bucket=awaiting_me">[^<]+</a></dt><dd>2</dd>', html)
    AdjudicationCase.objects.filter(pk=world["case"].pk).update(status="cancelled")
    chinese = page.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert re.search(r"等待我的裁定</a></dt><dd>1</dd>", chinese) and "暂无研究" not in chinese
    # Site staff read the cases on the timelines; their dashboard has the study, not this panel.
    staff = Client()
    staff.force_login(coordinator)
    assert "Awaiting my verdict" not in staff.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
