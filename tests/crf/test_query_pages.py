"""CRF data queries on the pages: raise, answer, close and reopen from the form page; the query list's
filters, live-by-default status and pages of fifty; nobody verifies their own entry, and study-wide staff
enter no data while the PI signs."""

import pytest

from crf import services
from crf.models import DataQuery, FormRecord, QueryStatus, Signature

from ..factories import PASSWORD, StaffRoleFactory
from .conftest import FRACTURES, PROCEDURE, current_version, put
from .page_helpers import logged_in, page_url, procedure_post

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


# --- queries --------------------------------------------------------------------------------------------


def test_raise_answer_close_and_reopen_from_the_form_page(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    monitor, coordinator = logged_in(staff["monitor"]), logged_in(staff["coordinator"])
    raise_url = page_url(participant) + "queries/"
    assert 'id="qr-f-levels-L1-cement_volume"' in monitor.get(page_url(participant)).content.decode()

    empty = monitor.post(raise_url, {"field_path": "operator", "text": ""})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    raised = monitor.post(
        raise_url, {"field_path": "levels[L1].cement_volume", "text": "Source says 5.5 mL?"}
    )
    query = DataQuery.objects.get()
    assert raised["Location"] == page_url(participant) + f"#q-{query.pk}"
    assert (query.field_path, query.auto, query.raised_by) == (
        "levels[L1].cement_volume",
        False,
        staff["monitor"],
    )
    assert coordinator.post(raise_url, {"field_path": "operator", "text": "x"}).status_code == 403
    unknown = monitor.post(raise_url, {"field_path": "nonsense", "text": "Which field?"})
    assert unknown.status_code == 400 and 'role="alert"' in unknown.content.decode()
    assert DataQuery.objects.count() == 1

    step_url = page_url(participant) + f"queries/{query.pk}/"
    page = coordinator.get(page_url(participant)).content.decode()
    assert "Source says 5.5 mL?" in page and f'form="q-{query.pk}-form"' in page
    assert monitor.post(step_url, {"action": "answer", "text": "x"}).status_code == 403
    coordinator.post(step_url, {"action": "answer", "text": "4.5 is right."})
    assert DataQuery.objects.get().status == QueryStatus.ANSWERED
    too_early = coordinator.post(step_url, {"action": "answer", "text": "again"})
    assert too_early.status_code == 409 and "again" in too_early.content.decode()  # the text is kept
    monitor.post(step_url, {"action": "close", "text": "Thanks."})
    assert DataQuery.objects.get().status == QueryStatus.CLOSED
    assert "1 closed query" in monitor.get(page_url(participant)).content.decode()
    monitor.post(step_url, {"action": "reopen", "text": "Reopened."})
    assert DataQuery.objects.get().status == QueryStatus.OPEN
    assert [m.action for m in DataQuery.objects.get().messages.all()] == [
        "raise",
        "answer",
        "close",
        "reopen",
    ]


def test_query_list_filters_and_links_to_the_field(staff, clients, make_participant):
    first, second = make_participant(), make_participant()
    put(clients["coordinator"], first, PROCEDURE | {"operative_time": 200})
    put(clients["coordinator"], second, FRACTURES, form="fracture_levels")
    record = FormRecord.objects.get(participant=second)
    query = services.query_raise(actor=staff["monitor"], record=record, field_path="mri_date", text="Date?")
    client = logged_in(staff["coordinator"])
    html = client.get("/queries/").content.decode()
    assert "2 queries" in html and "Operative time" in html and "Date of the diagnostic MRI" in html
    assert f'href="{page_url(second, "fracture_levels")}#q-{query.pk}"' in html
    assert "Date?" in html and "manual" in html and 'data-check="RANGE_OPERATIVE_TIME"' in html
    assert '<td class="num">0</td>' in html  # age in days
    only_manual_form = client.get("/queries/?form=fracture_levels").content.decode()
    assert "1 query" in only_manual_form and "Operative time" not in only_manual_form
    by_study = client.get(f"/queries/?study_id={first.study_id}").content.decode()
    assert "1 query" in by_study and "Operative time" in by_study
    services.query_step(actor=staff["monitor"], query=query, action="close", text="ok")
    assert "1 query" in client.get("/queries/?status=live").content.decode()
    assert "1 query" in client.get("/queries/?status=closed").content.decode()
    assert "1 query" in client.get("/queries/?site=07").content.decode()  # the live ones, unless asked
    assert "2 queries" in client.get("/queries/?site=07&status=all").content.decode()


def test_the_query_list_opens_on_live_queries_and_offers_all_statuses(staff, clients, make_participant):
    # given an open, an answered and a closed query
    put(clients["coordinator"], make_participant(), PROCEDURE)
    record = FormRecord.objects.get()
    raised = [
        services.query_raise(actor=staff["monitor"], record=record, field_path="operator", text=f"Q{n}")
        for n in range(3)
    ]
    services.query_step(actor=staff["coordinator"], query=raised[1], action="answer", text="Checked.")
    services.query_step(actor=staff["monitor"], query=raised[2], action="close", text="Fine.")
    client = logged_in(staff["monitor"])
    # when the list is opened from the menu, or reset, or with a blank status: the open and answered ones
    for url in ("/queries/", "/queries/?status=", "/queries/?site=&status=&form=&study_id="):
        response = client.get(url)
        assert {row["query"].pk for row in response.context["rows"]} == {raised[0].pk, raised[1].pk}, url
        assert '<option value="live" selected>open or answered</option>' in response.content.decode()
    # then every status is one choice away, and each status on its own
    everything = client.get("/queries/?status=all")
    assert {row["query"].pk for row in everything.context["rows"]} == {q.pk for q in raised}
    assert '<option value="all" selected>All statuses</option>' in everything.content.decode()
    closed = client.get("/queries/?status=closed").context["rows"]
    assert [row["query"].pk for row in closed] == [raised[2].pk]
    # the API keeps its own default: every status
    assert clients["monitor"].get("/api/v1/queries/").json()["count"] == 3


def test_query_list_pages_by_fifty(staff, clients, make_participant):
    participant = make_participant()
    put(clients["coordinator"], participant, PROCEDURE)
    record = FormRecord.objects.get()
    for n in range(51):
        services.query_raise(actor=staff["monitor"], record=record, field_path="operator", text=f"Q{n}")
    client = logged_in(staff["monitor"])
    first = client.get("/queries/").content.decode()
    assert "51 queries" in first and "Page 1 of 2" in first
    assert client.get("/queries/?page=2").content.decode().count("data-query=") == 1


def test_nobody_verifies_their_own_entry(make_user, study, site, staff, participant):
    both = make_user("coordmon", role="coordinator", site=site)
    StaffRoleFactory(user=both, study=study, role="monitor")
    client = logged_in(both)
    assert client.post(page_url(participant), procedure_post()).status_code == 302
    assert client.post(page_url(participant, step="complete"), {"version": "1"}).status_code == 302
    assert "Verify (source data verified)" not in client.get(page_url(participant)).content.decode()
    refused = client.post(page_url(participant, step="verify"), {"version": "2"})
    assert refused.status_code == 403
    assert "You entered this data: another monitor must verify it." in refused.content.decode()
    assert (
        "Verify (source data verified)"
        in logged_in(staff["monitor"]).get(page_url(participant)).content.decode()
    )


def test_study_wide_staff_do_not_enter_data_and_the_pi_signs(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="procedure")
    services.crf_verify(
        actor=staff["monitor"],
        participant=participant,
        form_code="procedure",
        expected_version=current_version(participant),
    )
    pi = logged_in(staff["pi"])
    page = pi.get(page_url(participant)).content.decode()
    assert 'id="crf-entry"' not in page and "Sign the form" in page
    assert pi.post(page_url(participant), procedure_post(3, reason="x")).status_code == 403
    signed = pi.post(
        page_url(participant, step="sign"),
        {"version": "3", "sign-meaning": "review", "sign-username": "pi", "sign-password": PASSWORD},
    )
    assert signed.status_code == 302 and Signature.objects.get().printed_name == "Test Pi"
