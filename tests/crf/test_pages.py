"""CRF pages: the forms grid, form entry with its life cycle, queries, the query list; both languages, fixed
query counts, errors re-rendered with what was typed, refusals as friendly pages, site scoping."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crf import services
from crf.engine.definitions import form_definition
from crf.engine.validate import clean_data
from crf.models import DataQuery, FormRecord, QueryStatus, Signature

from ..factories import PASSWORD, StaffRoleFactory
from .conftest import FRACTURES, PROCEDURE, current_version, put

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

FORM_CODES = ("baseline", "dxa", "fracture_levels", "qmri", "procedure", "discharge")


def logged_in(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def page_url(participant, form: str = "procedure", step: str = "") -> str:
    return f"/participants/{participant.study_id}/forms/{form}/" + (f"{step}/" if step else "")


LEVEL_L1 = {
    "level": "L1",
    "approach": "bipedicular",
    "cement_volume": "4.5",
    "balloon": "true",
    "leakage": "false",
}
LEVEL_T12 = {
    "level": "T12",
    "approach": "unipedicular",
    "cement_volume": "3.5",
    "balloon": "true",
    "leakage": "false",
}


def procedure_post(
    version: int = 0, *, levels=(LEVEL_L1, LEVEL_T12), blank_rows: int = 1, **overrides
) -> dict:
    """The POST of the procedure page as a browser sends it, with the blank rows drawn without JavaScript."""
    data = {
        "version": str(version),
        "procedure_date": "2026-01-08",
        "technique": "PKP",
        "anaesthesia": "local",
        "operator": "Dr Demo",
        "guidance": "",
        "cement_type": "pmma",
        "operative_time": "38",
        "intraop_complications": ["none"],
        "intraop_complications_other": "",
    }
    rows = [
        *levels,
        *({"level": "", "approach": "", "cement_volume": "", "balloon": "", "leakage": ""},) * blank_rows,
    ]
    for index, row in enumerate(rows):
        for code, value in row.items():
            data[f"levels-{index}-{code}"] = value
    data.update(overrides)
    return data


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# --- rendering, languages, links -----------------------------------------------------------------------


def test_urls_have_the_page_names(participant):
    assert reverse("participant-forms", kwargs={"study_id": "07-0001"}) == "/participants/07-0001/forms/"
    assert (
        reverse("crf-form", kwargs={"study_id": "07-0001", "form_code": "dxa"})
        == "/participants/07-0001/forms/dxa/"
    )
    assert reverse("query-list") == "/queries/"


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["Case report forms", "Procedure", "Not started", "Data queries", "Queries"]),
        ("zh-hans", ["病例报告表", "手术记录", "未开始", "数据质疑", "质疑"]),
    ],
)
def test_every_page_renders_in_both_languages(staff, clients, participant, language, texts):
    put(clients["coordinator"], participant, PROCEDURE)
    client = logged_in(staff["coordinator"], language)
    grid = client.get(page_url(participant).replace("procedure/", ""))
    assert grid.status_code == 200
    html = grid.content.decode()
    assert f'lang="{language}"' in html
    for text in texts[:3]:
        assert text in html
    for code in FORM_CODES:
        response = client.get(page_url(participant, code))
        assert response.status_code == 200, code
        title = form_definition(code).title[language]
        assert title in response.content.decode()
    queries = client.get("/queries/")
    assert queries.status_code == 200
    assert texts[3] in queries.content.decode() and texts[4] in queries.content.decode()


def test_form_page_draws_labels_units_help_and_inputs_in_chinese(staff, participant):
    html = logged_in(staff["coordinator"], "zh-hans").get(page_url(participant)).content.decode()
    assert "骨水泥注入量" in html and "mL" in html  # label and unit
    assert "该椎体骨水泥注入总量" in html  # help text
    assert 'type="number" id="id_levels-0-cement_volume"' in html and 'step="0.1"' in html
    assert 'type="date" id="id_procedure_date"' in html
    assert 'type="checkbox" name="intraop_complications"' in html
    assert "经皮椎体后凸成形术" in html  # a choice label
    assert "保存" in html


def test_the_participant_pages_link_to_the_forms(staff, participant):
    client = logged_in(staff["coordinator"])
    forms_url = reverse("participant-forms", kwargs={"study_id": participant.study_id})
    assert forms_url in client.get(f"/participants/{participant.study_id}/").content.decode()
    assert forms_url in client.get("/participants/").content.decode()
    assert reverse("query-list") in client.get("/").content.decode()  # the main menu


def test_grid_shows_status_version_queries_and_last_update(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200})  # a soft warning: one query
    html = (
        logged_in(staff["coordinator"]).get(f"/participants/{participant.study_id}/forms/").content.decode()
    )
    assert html.index("Baseline and risk factors") < html.index("Procedure") < html.index("Discharge")
    assert "crf-status-draft" in html and html.count("crf-status-not_started") == 5
    assert 'href="/participants/07-0001/forms/procedure/#queries">1</a>' in html
    assert "1 open query" in html


def test_unknown_form_and_pages_need_login(client, staff, participant):
    assert logged_in(staff["coordinator"]).get(page_url(participant, "odi")).status_code == 404
    for url in (page_url(participant), "/queries/", f"/participants/{participant.study_id}/forms/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_without_javascript_blank_rows_are_drawn_and_a_row_template_for_the_script(staff, participant):
    html = logged_in(staff["coordinator"]).get(page_url(participant)).content.decode()
    assert html.count("data-blank") == 3 + 1  # max_rows 3 for the procedure, plus the <template> row
    assert 'name="levels-2-level"' in html and 'name="levels-__prefix__-level"' in html
    assert 'data-show-if="technique" data-show-value="PKP"' in html  # balloon, shown by the script
    assert 'data-show-if="levels-0-leakage" data-show-value="true"' in html


# --- fixed numbers of queries --------------------------------------------------------------------------


def test_grid_runs_a_fixed_number_of_queries(staff, clients, make_participant):
    few, many = make_participant(), make_participant()
    put(clients["coordinator"], few, {"operator": "A"})
    put(
        clients["coordinator"],
        many,
        PROCEDURE | {"operative_time": 200, "levels": [PROCEDURE["levels"][0] | {"cement_volume": 12}]},
    )
    put(clients["coordinator"], many, FRACTURES, form="fracture_levels")
    for code in ("baseline", "dxa", "qmri", "discharge"):
        put(clients["coordinator"], many, {}, form=code)
    client = logged_in(staff["monitor"])
    assert count_queries(client, f"/participants/{few.study_id}/forms/") == count_queries(
        client, f"/participants/{many.study_id}/forms/"
    )


def test_form_page_runs_a_fixed_number_of_queries(staff, clients, make_participant):
    few, many = make_participant(), make_participant()
    one_warning = [PROCEDURE["levels"][0] | {"cement_volume": 12}]  # one query: prefetches run the same
    put(clients["coordinator"], few, PROCEDURE | {"levels": one_warning})
    three = [
        {"level": level, "approach": "bipedicular", "cement_volume": 12, "balloon": True, "leakage": False}
        for level in ("T12", "L1", "L2")
    ]
    put(clients["coordinator"], many, PROCEDURE | {"levels": three})
    put(clients["coordinator"], many, PROCEDURE | {"levels": three, "operator": "B"}, version=1)
    put(clients["coordinator"], many, PROCEDURE | {"levels": three, "operator": "C"}, version=2)
    record = FormRecord.objects.get(participant=many, form_code="procedure")
    query = services.query_raise(actor=staff["monitor"], record=record, field_path="operator", text="Who?")
    services.query_step(actor=staff["coordinator"], query=query, action="answer", text="Dr C")
    assert DataQuery.objects.filter(record=record).count() == 4
    for user in (staff["coordinator"], staff["monitor"]):
        client = logged_in(user)
        assert count_queries(client, page_url(few)) == count_queries(client, page_url(many))


def test_query_list_runs_a_fixed_number_of_queries(staff, clients, make_participant):
    first, second = make_participant(), make_participant()
    client = logged_in(staff["monitor"])
    put(clients["coordinator"], first, PROCEDURE | {"operative_time": 200})
    few = count_queries(client, "/queries/")
    levels = [PROCEDURE["levels"][0] | {"cement_volume": 12}, PROCEDURE["levels"][1] | {"cement_volume": 11}]
    put(clients["coordinator"], second, PROCEDURE | {"operative_time": 3, "levels": levels})
    record = FormRecord.objects.get(participant=second)
    for path in ("operator", "technique"):
        query = services.query_raise(
            actor=staff["monitor"], record=record, field_path=path, text="Please check."
        )
        services.query_step(actor=staff["coordinator"], query=query, action="answer", text="Checked.")
    assert DataQuery.objects.count() == 6
    assert count_queries(client, "/queries/") == few


# --- saving ---------------------------------------------------------------------------------------------


def test_saving_a_procedure_with_two_levels_through_the_page(staff, participant):
    client = logged_in(staff["coordinator"])
    response = client.post(page_url(participant), procedure_post())
    assert response.status_code == 302 and response["Location"] == page_url(participant)
    record = FormRecord.objects.get(participant=participant, form_code="procedure")
    assert record.data == clean_data(form_definition("procedure"), PROCEDURE)[0]
    assert [row["level"] for row in record.data["levels"]] == ["L1", "T12"]  # the blank row added nothing
    assert (record.status, record.version, record.updated_by) == ("draft", 1, staff["coordinator"])
    page = client.get(response["Location"]).content.decode()
    assert "Saved (version 1)." in page
    assert 'value="4.5"' in page and 'name="version" value="1"' in page
    again = client.post(page_url(participant), procedure_post(1))
    assert "Nothing changed" in client.get(again["Location"]).content.decode()
    assert FormRecord.objects.get().version == 1


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"levels-1-cement_volume": "25"}, "id_levels-1-cement_volume", "Must be between 0 and 20 mL."),
        ({"operative_time": "abc"}, "id_operative_time", "Enter a number."),
        ({"levels-1-cement_volume": "3.55"}, "id_levels-1-cement_volume", "Use at most 1 decimal places."),
        ({"procedure_date": "08/01/2026"}, "id_procedure_date", "Enter a date as YYYY-MM-DD."),
        (
            {"levels-0-leakage_type": ["B"]},
            "id_levels-0-leakage_type",
            "Leave this empty unless “Cement leakage” is “Yes”.",  # labels, not the code and True
        ),
    ],
)
def test_a_value_that_cannot_be_stored_is_shown_inline_and_nothing_is_saved(
    staff, participant, overrides, field_id, message
):
    response = logged_in(staff["coordinator"]).post(page_url(participant), procedure_post(**overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Some values cannot be saved." in html
    assert f'id="{field_id}_errors"><li>{message}</li>' in html
    assert 'value="Dr Demo"' in html and 'value="T12" selected' in html  # what was typed is kept
    assert 'data-dirty="true"' in html
    assert not FormRecord.objects.exists()


def test_typed_values_survive_an_error_in_the_inputs_they_came_from(staff, participant):
    post = procedure_post(operative_time="abc", **{"levels-1-cement_volume": "25"})
    html = logged_in(staff["coordinator"]).post(page_url(participant), post).content.decode()
    assert 'name="operative_time" value="abc"' in html
    assert 'name="levels-1-cement_volume" value="25"' in html
    assert 'aria-invalid="true"' in html
    assert 'href="#f-levels-T12-cement_volume"' in html  # the summary links to the input


def test_a_stale_version_shows_the_conflict_and_changes_nothing(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    put(clients["investigator"], participant, PROCEDURE | {"operator": "Dr Other"}, version=1)
    response = logged_in(staff["coordinator"]).post(
        page_url(participant), procedure_post(1, operator="Dr Mine")
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this form after you opened it." in html
    assert 'value="Dr Mine"' in html and 'name="version" value="1"' in html  # kept, still the version read
    record = FormRecord.objects.get()
    assert (record.version, record.data["operator"]) == (2, "Dr Other")


def test_a_form_started_by_someone_else_meanwhile_is_a_conflict(staff, clients, participant):
    put(clients["investigator"], participant, PROCEDURE)
    response = logged_in(staff["coordinator"]).post(page_url(participant), procedure_post(0, operator="Mine"))
    assert response.status_code == 409 and "Someone else saved this form" in response.content.decode()
    assert FormRecord.objects.get().data["operator"] == "Dr Demo"


def test_a_soft_warning_on_the_page_opens_a_query(staff, participant):
    client = logged_in(staff["coordinator"])
    levels = (LEVEL_L1 | {"cement_volume": "12"}, LEVEL_T12)
    response = client.post(page_url(participant), procedure_post(levels=levels))
    assert response.status_code == 302
    query = DataQuery.objects.get()
    assert (query.auto, query.status, query.field_path) == (True, "open", "levels[L1].cement_volume")
    html = client.get(response["Location"]).content.decode()
    assert "with 1 warning: it opened a data query" in html
    assert "12.0 mL is outside the expected 1 to 10" in html
    assert f'id="q-{query.pk}"' in html and 'data-check="RANGE_CEMENT_VOLUME"' in html
    assert 'id="id_levels-0-cement_volume_warnings"' in html  # the amber note on the input


def test_incomplete_items_are_listed_for_completion(staff, clients, participant):
    put(clients["coordinator"], participant, {"operator": "Dr Demo"})
    html = logged_in(staff["coordinator"]).get(page_url(participant)).content.decode()
    assert "Missing before the form can be completed" in html
    assert 'href="#f-procedure_date">Date of procedure</a>: Required to complete the form.' in html
    assert 'href="#f-levels">Treated levels</a>: At least 1 row(s) needed.' in html


# --- life cycle -----------------------------------------------------------------------------------------


def test_life_cycle_through_the_pages(staff, participant):
    coordinator, monitor = logged_in(staff["coordinator"]), logged_in(staff["monitor"])
    investigator, dm = logged_in(staff["investigator"]), logged_in(staff["data_manager"])
    coordinator.post(page_url(participant), procedure_post())
    page = coordinator.get(page_url(participant)).content.decode()
    assert "Mark complete" in page and "Verify" not in page

    done = coordinator.post(page_url(participant, step="complete"), {"version": "1"}, follow=True)
    assert "The form is complete." in done.content.decode()
    assert FormRecord.objects.get().status == "complete"

    page = monitor.get(page_url(participant)).content.decode()
    assert 'id="crf-entry"' not in page and "Verify (source data verified)" in page  # read-only for monitors
    monitor.post(page_url(participant, step="verify"), {"version": "2"})
    assert FormRecord.objects.get().status == "verified"

    page = investigator.get(page_url(participant)).content.decode()
    assert "Electronic signature" in page and 'data-role="printed-name">Test Inv07<' in page
    assert "I take responsibility for the data in this form" in page
    signed = investigator.post(
        page_url(participant, step="sign"),
        {
            "version": "3",
            "sign-meaning": "responsibility",
            "sign-username": "inv07",
            "sign-password": PASSWORD,
        },
        follow=True,
    )
    html = signed.content.decode()
    assert "Signed by Test Inv07" in html and 'data-valid="true"' in html
    signature = Signature.objects.get()
    assert (signature.printed_name, signature.meaning, signature.record_version) == (
        "Test Inv07",
        "responsibility",
        4,
    )

    dm.post(page_url(participant, step="lock"), {"version": "4"})
    assert FormRecord.objects.get().status == "locked"
    page = coordinator.get(page_url(participant)).content.decode()
    assert 'id="crf-entry"' not in page and "Locked" in page  # read-only once locked

    no_reason = dm.post(page_url(participant, step="unlock"), {"version": "5", "unlock-reason": ""})
    assert no_reason.status_code == 400 and "This field is required." in no_reason.content.decode()
    assert FormRecord.objects.get().status == "locked"
    dm.post(page_url(participant, step="unlock"), {"version": "5", "unlock-reason": "Correct the operator"})
    assert FormRecord.objects.get().status == "signed"


@pytest.mark.parametrize(
    ("role", "step", "message"),
    [
        (
            "monitor",
            "complete",
            "Only the research coordinator or investigator of site 07 can mark this form complete.",
        ),
        ("coordinator", "verify", "Only the monitor of site 07 can verify this form."),
        ("coordinator", "lock", "Only the data manager of site 07 can lock this form."),
        ("data_manager", "verify", "Only the monitor of site 07 can verify this form."),
    ],
)
def test_role_refusals_are_friendly_403_pages(staff, clients, participant, role, step, message):
    put(clients["coordinator"], participant, PROCEDURE)
    if step != "complete":
        services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="procedure")
    response = logged_in(staff[role]).post(page_url(participant, step=step), {"version": ""})
    assert response.status_code == 403
    assert message in response.content.decode()


def test_refusals_in_chinese(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    response = logged_in(staff["monitor"], "zh-hans").post(page_url(participant), procedure_post(1))
    assert response.status_code == 403
    # the permission matrix's refusal (config/permissions.py), before the view: who may, in Chinese
    assert "只有研究协调员或研究者可以执行此操作。" in response.content.decode()


def test_a_monitor_cannot_save_and_a_wrong_step_is_explained(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    assert logged_in(staff["monitor"]).post(page_url(participant), procedure_post(1)).status_code == 403
    early = logged_in(staff["monitor"]).post(page_url(participant, step="verify"), {"version": "1"})
    assert early.status_code == 409
    assert "This step is not possible now: the form is draft." in early.content.decode()


def test_signing_needs_the_right_password_and_a_meaning(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="procedure")
    services.crf_verify(
        actor=staff["monitor"],
        participant=participant,
        form_code="procedure",
        expected_version=current_version(participant),
    )
    investigator = logged_in(staff["investigator"])
    wrong = investigator.post(
        page_url(participant, step="sign"),
        {"version": "3", "sign-meaning": "approval", "sign-username": "inv07", "sign-password": "nope"},
    )
    assert wrong.status_code == 403
    assert "The password is not correct; the form was not signed." in wrong.content.decode()
    no_meaning = investigator.post(
        page_url(participant, step="sign"), {"version": "3", "sign-password": PASSWORD}
    )
    assert no_meaning.status_code == 400
    monitor = logged_in(staff["monitor"]).post(
        page_url(participant, step="sign"),
        {"version": "3", "sign-meaning": "approval", "sign-username": "mon", "sign-password": PASSWORD},
    )
    assert monitor.status_code == 403
    # a monitor signs nowhere: the permission matrix refuses before the view
    assert "Only the investigator or principal investigator can do this." in monitor.content.decode()
    assert not Signature.objects.exists() and FormRecord.objects.get().status == "verified"


def test_completing_an_incomplete_form_shows_what_is_missing(staff, clients, participant):
    put(clients["coordinator"], participant, {"operator": "Dr Demo"})
    response = logged_in(staff["coordinator"]).post(page_url(participant, step="complete"), {"version": "1"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The form cannot be completed yet." in html
    assert 'id="id_procedure_date_errors"><li>Required to complete the form.</li>' in html
    assert FormRecord.objects.get().status == "draft"


def test_a_reason_is_required_after_completion(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="procedure")
    services.crf_verify(
        actor=staff["monitor"],
        participant=participant,
        form_code="procedure",
        expected_version=current_version(participant),
    )
    client = logged_in(staff["coordinator"])
    page = client.get(page_url(participant)).content.decode()
    assert 'name="reason"' in page and "a change needs a reason" in page
    refused = client.post(page_url(participant), procedure_post(3, operator="Dr B"))
    assert refused.status_code == 400
    assert "Give a reason for the change." in refused.content.decode()
    assert 'value="Dr B"' in refused.content.decode()
    assert FormRecord.objects.get().data["operator"] == "Dr Demo"
    saved = client.post(page_url(participant), procedure_post(3, operator="Dr B", reason="Operator misread"))
    assert saved.status_code == 302
    record = FormRecord.objects.get()
    assert (record.data["operator"], record.status, record.verified_by) == ("Dr B", "complete", None)
    html = client.get(page_url(participant)).content.decode()
    assert "Operator misread" in html  # in the field's history and the audit trail
    assert 'Dr Demo</span> → <span class="new">Dr B' in html


def test_field_history_is_shown_beside_the_field(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 45}, version=1)
    html = logged_in(staff["monitor"]).get(page_url(participant)).content.decode()
    field = html[html.index('id="f-operative_time"') : html.index('id="f-intraop_complications"')]
    assert "History (2)" in field
    assert '<span class="old">38 min</span> → <span class="new">45 min</span>' in field
    assert "Kyphoplasty (PKP)" in html[html.index('id="history"') :]  # choice labels in the trail


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


# --- site scoping ---------------------------------------------------------------------------------------


def test_adjudicators_are_blind_to_the_forms(make_user, study, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200})
    adjudicator = logged_in(make_user("adj", role="adjudicator", study=study))
    assert adjudicator.get(page_url(participant)).status_code == 404
    assert adjudicator.get(f"/participants/{participant.study_id}/forms/").status_code == 404
    # the list of queries (participants' data) is not theirs to open: the permission matrix's 403
    queries = adjudicator.get("/queries/")
    assert queries.status_code == 403
    assert participant.study_id not in queries.content.decode()


def test_a_coordinator_of_another_site_gets_404(staff, clients, other_coordinator, participant):
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200})
    query = DataQuery.objects.get()
    client = logged_in(other_coordinator)
    for url in (f"/participants/{participant.study_id}/forms/", page_url(participant)):
        assert client.get(url).status_code == 404
    for url, data in [
        (page_url(participant), procedure_post(1)),
        (page_url(participant, step="complete"), {"version": "1"}),
        (page_url(participant) + f"queries/{query.pk}/", {"action": "answer", "text": "?"}),
    ]:
        assert client.post(url, data).status_code == 404, url
    # a coordinator signs and raises queries nowhere: the permission matrix's 403 comes before the record is
    # looked up, the same for a participant of any site, and says only who may
    for url, data, who in [
        (
            page_url(participant, step="sign"),
            {"sign-meaning": "approval", "sign-password": PASSWORD},
            "investigator or principal investigator",
        ),
        (
            page_url(participant) + "queries/",
            {"field_path": "operator", "text": "?"},
            "monitor or data manager",
        ),
    ]:
        refused = client.post(url, data)
        assert refused.status_code == 403, url
        assert f"Only the {who} can do this." in refused.content.decode()
        assert "Dr Demo" not in refused.content.decode()  # nothing of the form
    assert "No queries match." in client.get("/queries/").content.decode()
    assert FormRecord.objects.get().version == 1


def test_bad_filters_and_pages_are_refused_never_errors(staff):
    """A 400 with the message and nothing listed (trial.views.common.list_page), never a 500; a page past
    the end is the last page."""
    client = logged_in(staff["monitor"])
    for query in (
        "?status=bogus",
        "?site=zz",
        "?form=nope",
        "?page=abc",
        "?study_id=" + "x" * 500,
    ):
        assert client.get("/queries/" + query).status_code == 400, query
    assert client.get("/queries/?page=999").status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"operative_time": "1e400"},
        {"operative_time": "NaN"},
        {"levels-0-cement_volume": "1e-400"},
        {"procedure_date": "2026-02-30"},
        {"operator": "Dr\x00Demo"},
        {"technique": "XYZ"},
        {"intraop_complications": ["none", "none"]},
        {"levels-0-level": "", "levels-0-leakage_type": ["B"]},
        {"levels-1-level": "L1"},  # two rows with the same level
        {"version": "garbage"},
    ],
)
def test_hostile_input_is_a_page_with_errors_never_a_500(staff, clients, participant, overrides):
    put(clients["coordinator"], participant, PROCEDURE)
    post = procedure_post(1) | overrides
    response = logged_in(staff["coordinator"]).post(page_url(participant), post)
    assert response.status_code in (400, 409)
    assert FormRecord.objects.get().version == 1


def test_a_reason_with_a_nul_character_is_refused(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="procedure")
    post = procedure_post(2, operator="Dr B", reason="typo\x00")
    assert logged_in(staff["coordinator"]).post(page_url(participant), post).status_code == 400
    assert FormRecord.objects.get().data["operator"] == "Dr Demo"
