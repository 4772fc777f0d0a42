"""The strict reading of list queries (trial.filters, trial.paging, trial.apis.filtering): booleans, dates,
choices, site and study codes, page and page size, blanks and unknown parameters, in the API and on pages."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trial.models import Role

from ..conftest import client_for

pytestmark = pytest.mark.frozen

SCREENINGS = "/api/v1/screenings/"


def logged_in(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def log(make_screening, make_participant):
    """Three screenings at site 07: two enrolled, one not."""
    make_participant()
    make_participant()
    make_screening()


def refused(response, name: str) -> list[str]:
    """The messages naming `name` in a 400 of the domain's field-error shape."""
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "invalid_query" and name in body["detail"], body
    return body[name]


def test_enrolled_reads_true_or_false_and_refuses_anything_else(api, log):
    """The issue's example: ?enrolled=yes listed every row, as if unfiltered."""
    assert api.get(SCREENINGS, {"enrolled": "true"}).json()["count"] == 2
    assert api.get(SCREENINGS, {"enrolled": "false"}).json()["count"] == 1
    for value in ("yes", "1", "null", "True "):
        assert refused(api.get(SCREENINGS, {"enrolled": value}), "enrolled") == ["true or false."]


def test_dates_and_choices_refuse_what_they_cannot_read(api, log):
    assert "valid date" in refused(api.get(SCREENINGS, {"date_from": "2026-13-45"}), "date_from")[0]
    refused(api.get(SCREENINGS, {"outcome": "maybe"}), "outcome")
    refused(api.get("/api/v1/participants/", {"status": "alive"}), "status")
    assert api.get(SCREENINGS, {"date_from": "2026-01-05", "outcome": "eligible"}).json()["count"] == 3


@pytest.mark.parametrize(
    ("url", "name"),
    [
        (SCREENINGS, "date_to"),
        ("/api/v1/participants/", "status"),
        ("/api/v1/adjudication-cases/", "location"),
        ("/api/v1/visits/", "site"),
    ],
)
def test_a_blank_is_refused_in_the_api(api, log, url, name):
    """A client that sends `status=` means something; the server would not do it (it listed everything)."""
    assert refused(api.get(url, {name: ""}), name) == ["Give a value, or leave the parameter out."]


def test_unknown_and_repeated_parameters_are_refused_in_the_api_but_format_is_drf_s(api, log):
    body = api.get(SCREENINGS, {"enroled": "true", "outcome": "eligible"})
    assert refused(body, "enroled") == ["Unknown parameter: this list does not take it."]
    assert refused(api.get(f"{SCREENINGS}?outcome=eligible&outcome=ineligible"), "outcome")
    assert api.get(SCREENINGS, {"format": "json"}).status_code == 200


def hidden(response, name: str) -> list[str]:
    """The messages naming `name` in a 403 of a well-formed value the user may not ask for."""
    assert response.status_code == 403, response.content[:300]
    body = response.json()
    assert body["code"] == "not_visible" and name in body["detail"], body
    return body[name]


def test_another_site_s_code_is_refused_for_who_asks(api, log, other_site, make_user, study):
    """A site code the user cannot see (another site's, or of no site: not told apart) is a 403 naming
    `site`, with the message; one that is not a site code is a 400. The schema lists the shipped codes."""
    lists = ("/api/v1/participants/", "/api/v1/queries/", "/api/v1/visits/", "/api/v1/messages/")
    for url in (SCREENINGS, *lists):
        message = hidden(api.get(url, {"site": "91"}), "site")[0]
        assert "“91”" in message and "sites you can see" in message, (url, message)
        assert hidden(api.get(url, {"site": "ZZ"}), "site")
        assert refused(api.get(url, {"site": "a b"}), "site") == [
            "A site code is 1 to 8 letters or digits, e.g. 07."
        ]
        refused(api.get(url, {"site": "123456789"}), "site")
        assert api.get(url, {"site": "07"}).status_code == 200, url
    monitor = client_for(make_user("mon", role=Role.MONITOR, study=study))
    assert monitor.get("/api/v1/visits/", {"site": "91"}).status_code == 200


def test_a_well_formed_code_and_a_malformed_one_together_are_a_400(api, log):
    """A 403 only when every wrong parameter is one the user may not ask for: anything unreadable is a 400
    naming them all."""
    body = refused(api.get(SCREENINGS, {"site": "91", "enrolled": "yes"}), "site")
    assert "“91”" in body[0]


def test_another_study_s_code_is_refused(api, log, study2):
    message = hidden(api.get(SCREENINGS, {"study": "NCT06172179"}), "study")[0]
    assert "NCT06172179" in message
    assert refused(api.get(SCREENINGS, {"study": "NCT 1"}), "study")
    assert api.get(SCREENINGS, {"study": "NCT06379243"}).json()["count"] == 3


def test_the_schema_lists_the_shipped_codes_for_site_and_study(api):
    """As in the request bodies (trial/apis/codes.py): a typed client offers the codes."""
    openapi = api.get("/api/schema/?format=json").json()
    screenings = {p["name"]: p for p in openapi["paths"][SCREENINGS]["get"]["parameters"]}
    visits = {p["name"]: p for p in openapi["paths"]["/api/v1/visits/"]["get"]["parameters"]}
    assert screenings["site"]["schema"] == {"type": "string", "enum": ["07", "CQ1", "EXT1", "SY"]}
    assert visits["site"]["schema"] == screenings["site"]["schema"]
    assert "403" in screenings["site"]["description"]
    assert screenings["study"]["schema"]["enum"] == ["NCT06172179", "NCT06379243", "NCT07306858"]


@pytest.mark.parametrize("value", ["abc", "-1.5", "0", "-1", "501", "1e2", " ", "null"])
def test_page_size_is_a_whole_number_from_1_to_500(api, log, value):
    assert refused(api.get(SCREENINGS, {"page_size": value}), "page_size")


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "last", "1000001"])
def test_page_is_a_whole_number_from_1(api, log, value):
    assert refused(api.get(SCREENINGS, {"page": value}), "page")


def test_page_bounds_that_are_good(api, log):
    assert len(api.get(SCREENINGS, {"page_size": "500"}).json()["results"]) == 3
    assert len(api.get(SCREENINGS, {"page_size": "1", "page": "3"}).json()["results"]) == 1
    # Past the end: a page that does not exist, not a bad parameter.
    assert api.get(SCREENINGS, {"page_size": "1", "page": "4"}).status_code == 404


def test_every_wrong_parameter_is_named_at_once(api, log):
    body = api.get(SCREENINGS, {"enrolled": "yes", "page_size": "abc", "colour": "red"}).json()
    assert {"enrolled", "page_size", "colour"} <= set(body)


def test_a_refused_query_reads_no_rows(api, log):
    with CaptureQueriesContext(connection) as captured:
        api.get(SCREENINGS, {"enrolled": "yes"})
    assert not any("trial_screening" in query["sql"] for query in captured.captured_queries)


# --- pages -------------------------------------------------------------------------------------------------


def test_a_page_shows_the_message_with_400_and_lists_nothing(coordinator, log):
    response = logged_in(coordinator).get("/screenings/", {"enrolled": "yes", "page": "x"})
    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="query-errors"' in text and "true or false." in text
    assert "A page number: a whole number from 1." in text
    assert response.context["page"].paginator.count == 0 and response.context["rows"] == []


def test_a_page_takes_blank_fields_as_all_and_ignores_unknown_parameters(coordinator, log):
    """The filter form sends its empty fields; links from elsewhere may carry a parameter of their own."""
    response = logged_in(coordinator).get(
        "/screenings/", {"site": "", "outcome": "", "date_from": "", "date_to": "", "utm": "x"}
    )
    assert response.status_code == 200 and 'id="query-errors"' not in response.content.decode()
    assert response.context["page"].paginator.count == 3


def test_the_page_s_message_is_in_chinese(coordinator, log):
    response = logged_in(coordinator, "zh-hans").get("/screenings/", {"date_from": "2026-13-45"})
    assert response.status_code == 400
    text = response.content.decode()
    # The field's label and Django's own message, both from the Chinese catalogues.
    assert "起始日期" in text and "输入一个有效的日期。" in text


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/screenings/", {"outcome": "maybe"}),
        ("/participants/", {"status": "alive"}),
        ("/queries/", {"form": "nope"}),
        ("/visits/", {"status": "late"}),
        ("/visits/", {"page": "0"}),
        ("/identity-log/", {"date_to": "soon"}),
    ],
)
def test_every_list_page_refuses_a_bad_filter(coordinator, make_user, study, log, url, query):
    user = make_user("dm", role=Role.DATA_MANAGER, study=study) if "identity" in url else coordinator
    response = logged_in(user).get(url, query)
    assert response.status_code == 400, url
    assert 'id="query-errors"' in response.content.decode()
    assert response.context["page"].paginator.count == 0


@pytest.mark.parametrize(
    ("url", "good", "bad"),
    [
        ("/screenings/", {"outcome": "eligible"}, {"outcome": "maybe"}),
        ("/participants/", {"status": "enrolled"}, {"status": "alive"}),
        ("/queries/", {"status": "all"}, {"status": "nope"}),
        ("/visits/", {"status": "all"}, {"status": "late"}),
    ],
)
def test_list_pages_run_a_fixed_number_of_queries_refused_or_not(
    coordinator, make_participant, log, url, good, bad
):
    client = logged_in(coordinator)
    client.get(url)  # the session warmed

    def count(query, status):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, query).status_code == status, url
        return len(captured)

    listed, refused_page = count(good, 200), count(bad, 400)
    # A refused query reads no rows: never more than a listed page.
    assert refused_page <= listed, (url, refused_page, listed)
    for _more in range(3):
        make_participant()
    assert (count(good, 200), count(bad, 400)) == (listed, refused_page)


@pytest.mark.parametrize(
    ("url", "role", "query", "named"),
    [
        ("/messages/", Role.DATA_MANAGER, {"page": "abc"}, "Page"),
        ("/messages/", Role.DATA_MANAGER, {"sent_within": "0"}, "Sent in the last (days)"),
        ("/adjudication/cases/", Role.DATA_MANAGER, {"page": "-1"}, "Page"),
        ("/adjudication/", Role.ADJUDICATOR, {"bucket": "mine"}, "Tab"),
        ("/adjudication/", Role.ADJUDICATOR, {"page": "1.5"}, "Page"),
    ],
)
def test_the_follow_up_list_pages_refuse_a_bad_page_or_filter(make_user, study, log, url, role, query, named):
    response = logged_in(make_user("someone", role=role, study=study)).get(url, query)
    assert response.status_code == 400, url
    text = response.content.decode()
    assert 'id="query-errors"' in text and f"<strong>{named}</strong>" in text
    assert response.context["page"].paginator.count == 0
    # The same page without the bad parameter lists as before.
    assert logged_in(make_user("other", role=role, study=study)).get(url).status_code == 200
