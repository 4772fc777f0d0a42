"""CRF pages: the forms grid and the form pages in both languages with their links, fixed query counts (grid,
form page, query list), and saving through the page: errors re-rendered with what was typed, stale versions as
conflicts, soft warnings opening queries."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crf import services
from crf.engine.definitions import form_definition
from crf.engine.validate import clean_data
from crf.models import DataQuery, FormRecord

from .conftest import FRACTURES, PROCEDURE, put
from .page_helpers import LEVEL_L1, LEVEL_T12, logged_in, page_url, procedure_post

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


FORM_CODES = ("baseline", "dxa", "fracture_levels", "qmri", "procedure", "discharge")


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
