"""Every read of identifying data is logged (who, whose, when, what, through what, which site), one INSERT a
request; the log is append-only and read by data managers and superusers only, on a page and in the API."""

import datetime

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError, ProgrammingError
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trial.models import IdentityRead, Role
from trial.services import identity_read_log

from ..conftest import client_for, frozen_clock

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-10-01 09:00")]


@pytest.fixture
def people(make_user, study, site, coordinator, monitor, other_coordinator):
    return {
        "coordinator": coordinator,
        "other_coordinator": other_coordinator,
        "monitor": monitor,
        "investigator": make_user("inv07", role=Role.INVESTIGATOR, site=site),
        "pi": make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study),
        "data_manager": make_user("dm", role=Role.DATA_MANAGER, study=study),
        "adjudicator": make_user("adj", role=Role.ADJUDICATOR, study=study),
        "admin": make_user("root", is_superuser=True, is_staff=True),
    }


def logged_in(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def logged() -> list[tuple]:
    return list(
        IdentityRead.objects.order_by("id").values_list(
            "user__username", "participant__study_id", "shown", "channel"
        )
    )


# --- each read path writes its rows -------------------------------------------------------------------


def test_the_participant_list_logs_the_names_it_shows_in_one_insert(people, make_participant, other_site):
    mine = [make_participant() for _ in range(3)]
    make_participant(actor=people["other_coordinator"], on_site=other_site)  # named to no one at site 07
    with CaptureQueriesContext(connection) as captured:
        page = logged_in(people["coordinator"]).get("/participants/")
    assert page.status_code == 200 and "Synthetic Person" in page.content.decode()
    inserts = [q["sql"] for q in captured if q["sql"].startswith('INSERT INTO "trial_identityread"')]
    assert len(inserts) == 1
    assert sorted(logged()) == sorted(("coord07", p.study_id, "participant_list", "page") for p in mine)
    # a monitor sees no names: nothing to log
    logged_in(people["monitor"]).get("/participants/")
    assert len(logged()) == 3


def test_the_participant_page_logs_the_identity_for_own_site_staff_only(people, make_participant):
    participant = make_participant()
    assert logged_in(people["coordinator"]).get(f"/participants/{participant.study_id}/").status_code == 200
    assert logged_in(people["monitor"]).get(f"/participants/{participant.study_id}/").status_code == 200
    assert logged() == [("coord07", participant.study_id, "identity", "page")]
    read = IdentityRead.objects.get()
    assert (read.site_id, read.read_at) == (participant.site_id, datetime.datetime.now(tz=datetime.UTC))


def test_the_api_logs_the_identity_and_the_contact_details(people, make_participant):
    participant = make_participant()
    api = client_for(people["coordinator"])
    base = f"/api/v1/participants/{participant.study_id}/"
    assert api.get(f"{base}identity/").status_code == 200
    corrected = api.patch(
        f"{base}identity/", {"phone": "13900000000"}, format="json", HTTP_X_CHANGE_REASON="x"
    )
    assert corrected.status_code == 200
    assert api.get(f"{base}opt-outs/").status_code == 200
    # refused reads log nothing
    assert client_for(people["other_coordinator"]).get(f"{base}identity/").status_code in (403, 404)
    assert client_for(people["monitor"]).get(f"{base}identity/").status_code == 403
    assert client_for(people["monitor"]).get(f"{base}opt-outs/").status_code == 403
    assert logged() == [
        ("coord07", participant.study_id, "identity", "api"),
        ("coord07", participant.study_id, "identity", "api"),
        ("coord07", participant.study_id, "contact_details", "api"),
    ]


def test_a_row_holds_no_identifying_value(people, make_participant):
    participant = make_participant()
    client_for(people["coordinator"]).get(f"/api/v1/participants/{participant.study_id}/identity/")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM trial_identityread")
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "Synthetic" not in row and "13800000000" not in row


def test_the_log_is_append_only(people, make_participant):
    participant = make_participant()
    identity_read_log(
        actor=people["coordinator"], participants=[participant], shown="identity", channel="page"
    )
    for change in (
        lambda: IdentityRead.objects.update(shown="contact_details"),
        lambda: IdentityRead.objects.all().delete(),
    ):
        with (
            pytest.raises((InternalError, ProgrammingError), match="Cannot update or delete"),
            transaction.atomic(),
        ):
            change()
    assert logged() == [("coord07", participant.study_id, "identity", "page")]


# --- the page -----------------------------------------------------------------------------------------


def test_only_data_managers_and_admins_open_the_log(people):
    for who in ("coordinator", "investigator", "monitor", "pi"):
        assert logged_in(people[who]).get("/identity-log/").status_code == 403, who
        assert client_for(people[who]).get("/api/v1/identity-log/").status_code == 403, who
    # a blinded adjudicator reads no participant's data: the permission matrix hides that the log exists
    assert logged_in(people["adjudicator"]).get("/identity-log/").status_code == 404
    assert client_for(people["adjudicator"]).get("/api/v1/identity-log/").status_code == 404
    for who in ("data_manager", "admin"):
        assert logged_in(people[who]).get("/identity-log/").status_code == 200, who
        assert client_for(people[who]).get("/api/v1/identity-log/").status_code == 200, who
    assert Client().get("/identity-log/").status_code == 302  # to the sign-in page
    assert "/identity-log/" in logged_in(people["data_manager"]).get("/").content.decode()  # in the menu
    assert "/identity-log/" not in logged_in(people["coordinator"]).get("/").content.decode()


@pytest.fixture
def history(people, make_participant, other_site):
    """Reads on three days: the coordinator on 1 and 2 September, the investigator on 3 September."""
    first, second = make_participant(), make_participant()
    elsewhere = make_participant(actor=people["other_coordinator"], on_site=other_site)
    for day, who, participants in [
        ("2026-09-01 10:00", "coordinator", [first, second]),
        ("2026-09-02 10:00", "coordinator", [first]),
        ("2026-09-03 10:00", "investigator", [second]),
        ("2026-09-03 11:00", "other_coordinator", [elsewhere]),
    ]:
        with frozen_clock(day):
            identity_read_log(actor=people[who], participants=participants, shown="identity", channel="page")
    return {"first": first, "second": second, "elsewhere": elsewhere}


def shown_rows(page) -> list[tuple[str, str]]:
    return [(row.user.username, row.participant.study_id) for row in page.context["page"]]


def test_the_page_filters_by_user_participant_and_days(people, history):
    dm = logged_in(people["data_manager"])
    first, second = history["first"].study_id, history["second"].study_id
    everything = dm.get("/identity-log/")
    assert len(shown_rows(everything)) == 5  # every site of the study, newest first
    assert shown_rows(everything)[0] == ("coord91", history["elsewhere"].study_id)
    assert set(shown_rows(dm.get("/identity-log/?user=inv07"))) == {("inv07", second)}
    assert shown_rows(dm.get(f"/identity-log/?participant={first}")) == [("coord07", first)] * 2
    window = dm.get("/identity-log/?date_from=2026-09-02&date_to=2026-09-02")
    assert shown_rows(window) == [("coord07", first)]
    bad = dm.get("/identity-log/?date_from=September")
    assert bad.status_code == 400 and "date_from" in bad.context["form"].errors and not shown_rows(bad)
    text = everything.content.decode()
    assert "Reads of identifying data" in text and "2026-09-01 10:00:00" in text and "Synthetic" not in text


def test_a_site_data_manager_reads_the_log_of_their_site_only(make_user, site, history):
    site_dm = make_user("dm07", role=Role.DATA_MANAGER, site=site)
    rows = shown_rows(logged_in(site_dm).get("/identity-log/"))
    assert len(rows) == 4 and "coord91" not in {user for user, _ in rows}


def test_the_page_is_in_chinese(people, history):
    text = logged_in(people["data_manager"], "zh-hans").get("/identity-log/").content.decode()
    assert '<html lang="zh-hans">' in text
    for heading in ("用户", "研究编号", "研究中心", "起始日期", "截止日期"):  # user, study ID, site, from, to
        assert heading in text, heading


def test_the_page_runs_a_fixed_number_of_queries_and_pages_by_fifty(people, make_participant):
    participant = make_participant()
    dm = logged_in(people["data_manager"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert dm.get("/identity-log/").status_code == 200
        return len(captured)

    identity_read_log(
        actor=people["coordinator"], participants=[participant], shown="identity", channel="api"
    )
    one = queries()
    identity_read_log(
        actor=people["coordinator"], participants=[participant] * 60, shown="participant_list", channel="page"
    )
    assert queries() == one
    assert len(dm.get("/identity-log/").context["page"]) == 50
    assert len(dm.get("/identity-log/?page=2").context["page"]) == 11


# --- the API ------------------------------------------------------------------------------------------


def test_the_api_lists_and_filters_the_log(people, history):
    api = client_for(people["data_manager"])
    answer = api.get("/api/v1/identity-log/", {"user": "coord07", "date_to": "2026-09-01"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 2
    assert body["results"][0] | {"read_at": None} == {
        "read_at": None,
        "user": "coord07",
        "user_name": people["coordinator"].get_full_name(),
        "participant": body["results"][0]["participant"],
        "site": "07",
        "shown": "identity",
        "via": "page",
    }
    assert {row["participant"] for row in body["results"]} == {
        history["first"].study_id,
        history["second"].study_id,
    }
    assert api.get("/api/v1/identity-log/", {"date_from": "June"}).status_code == 400
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/identity-log/"]["get"]
    assert {"200", "403"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} >= {"user", "participant", "date_from", "date_to"}
