"""Patient-link tokens are stored nowhere: not in the audit trail's request context, not in any other column.

The trail is append-only (its rows can never be deleted), so a token written there would stay a live key to a
questionnaire for as long as the link lives, readable by anyone who reads the trail.
"""

import sys

import pytest
from django.db import connection
from django.test import Client
from django.views.debug import get_exception_reporter_class
from rest_framework.test import APIClient

from followup.models import QuestionnaireResponse, ResponseStatus
from followup.services.links import SEPARATOR, patient_link_issue
from trial.audit import AuditContextMiddleware
from trial.privacy import mask_tokens

from ..conftest import open_visit

pytestmark = pytest.mark.django_db

ODI_16 = [2, 1, 3, 2, 1, 2, 1, 0, 2, 2]
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY")


@pytest.fixture
def visit(make_participant, odi_wording):
    return open_visit(make_participant())


def text_columns() -> list[tuple[str, str, str]]:
    """(schema, table, column) of every text-like column of every table outside PostgreSQL's own schemas."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_schema, c.table_name, c.column_name
              FROM information_schema.columns c
              JOIN information_schema.tables t USING (table_schema, table_name)
             WHERE t.table_type = 'BASE TABLE'
               AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
               AND c.table_schema NOT LIKE 'pg_toast%%'
               AND c.data_type = ANY(%s)
             ORDER BY 1, 2, 3
            """,
            [list(TEXT_TYPES)],
        )
        return cursor.fetchall()


def columns_holding(needle: str) -> list[str]:
    """Every 'table.column' in which some row's text contains `needle`."""
    quote = connection.ops.quote_name
    found = []
    with connection.cursor() as cursor:
        for schema, table, column in text_columns():
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {quote(schema)}.{quote(table)} "  # noqa: S608 -- catalogue names
                f"WHERE strpos({quote(column)}::text, %s) > 0)",
                [needle],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def test_a_patient_saving_through_the_page_and_the_api_leaves_no_token_in_any_table(coordinator, visit):
    _link, page_token = patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="en")
    _link, api_token = patient_link_issue(actor=coordinator, visit=visit, instrument="vas", language="en")

    # The page: save a draft, review, submit.
    page = Client()
    answers = {f"q{i}": str(value) for i, value in enumerate(ODI_16)}
    assert page.get(f"/p/{page_token}/").status_code == 200
    assert page.post(f"/p/{page_token}/", {"action": "save", "version": "1", **answers}).status_code == 302
    assert page.post(f"/p/{page_token}/", {"action": "review", "version": "2", **answers}).status_code == 200
    assert page.post(f"/p/{page_token}/", {"action": "submit", "version": "2"}).status_code == 200
    # The API: save, then submit.
    api = APIClient()
    url = f"/api/v1/patient/{api_token}/"
    assert api.get(url).status_code == 200
    assert api.put(url, {"answers": {"pain": 35}}, format="json").status_code == 200
    assert api.put(url, {"answers": {"pain": 30}, "submit": True}, format="json").status_code == 200
    assert set(QuestionnaireResponse.objects.values_list("status", flat=True)) == {ResponseStatus.FINAL}

    for token in (page_token, api_token):
        key, signature = token.split(SEPARATOR)
        assert len(key) == 22 and signature
        assert columns_holding(token) == []
        assert columns_holding(key) == []  # the key alone names the link
    # Not a blind scan: it reaches the audit context, where the saves were recorded with their masked URLs.
    assert "pghistory_context.metadata" in columns_holding("/p/[token]/")
    assert "pghistory_context.metadata" in columns_holding("/api/v1/patient/[token]/")


def test_the_audit_middleware_masks_the_url_it_hands_to_pghistory(rf):
    middleware = AuditContextMiddleware(lambda request: None)
    request = rf.post("/p/abc.def/?lang=en")
    assert middleware.get_context(request)["url"] == "/p/[token]/"
    request = rf.put("/api/v1/patient/abc.def/")
    assert middleware.get_context(request)["url"] == "/api/v1/patient/[token]/"
    request = rf.post("/participants/07-0001/withdraw/")
    assert middleware.get_context(request)["url"] == "/participants/07-0001/withdraw/"


def test_the_mask_covers_every_shape_a_token_path_takes():
    assert mask_tokens("GET /p/eyJrIjo.abc:def/ HTTP/1.1") == "GET /p/[token]/ HTTP/1.1"
    assert mask_tokens("/p/abc.def") == "/p/[token]"
    assert mask_tokens("/p/abc.def?lang=en") == "/p/[token]?lang=en"
    assert mask_tokens("/p/abc.def#top") == "/p/[token]#top"
    assert (
        mask_tokens("https://x.example/api/v1/patient/abc.def/")
        == "https://x.example/api/v1/patient/[token]/"
    )
    assert mask_tokens("/participants/07-0001/timeline/") == "/participants/07-0001/timeline/"


def test_an_error_report_of_a_patient_link_request_names_no_token(rf):
    """The debug page and the admins' e-mail show the URL, the view's arguments and its local variables."""
    token = "q1vSM7q7R6S12Au-Bd1oMw.jWahzGdVWPShKf382dWlD4wj7vBBEMVWl_QjcXBD99g"
    key = token.split(SEPARATOR)[0]
    request = rf.put(f"/api/v1/patient/{token}/?lang=en")

    def view(request, token):
        link_key = token.split(SEPARATOR)[0]  # noqa: F841 -- a local variable the report lists
        raise ValueError(f"cannot save {request.path}")

    try:
        view(request, token=token)
    except ValueError:
        reporter = get_exception_reporter_class(request)(request, *sys.exc_info())
    html, text = reporter.get_traceback_html(), reporter.get_traceback_text()
    assert "link_key" in html  # the page lists local variables
    for report in (html, text):
        assert "/api/v1/patient/[token]/" in report
        assert token not in report and key not in report
