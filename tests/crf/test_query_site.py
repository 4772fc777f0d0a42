"""The site copied onto data queries: the database sets it from the record's participant however the query
is written (an edit check through the services, a monitor's query, bulk_create, the demo's raw SQL), and the
lists by site filter and count on it, without joining the records and participants."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crf.models import DataQuery, FormRecord

from ..conftest import client_for
from .conftest import PROCEDURE, put

pytestmark = pytest.mark.django_db
QUERIES = "/api/v1/queries/"


@pytest.fixture
def two_sites(clients, participant, make_participant, other_coordinator, other_site):
    """An automatic query at each site (operative time above the soft range) and a monitor's at site 07."""
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200})
    theirs = make_participant(actor=other_coordinator, on_site=other_site)
    put(client_for(other_coordinator), theirs, PROCEDURE | {"operative_time": 200})
    raised = clients["monitor"].post(
        QUERIES,
        {"study_id": participant.study_id, "form": "procedure", "field": "operator", "text": "Which doctor?"},
        format="json",
    )
    assert raised.status_code == 201, raised.content
    return participant, theirs


def test_queries_written_by_the_services_carry_the_site(two_sites):
    ours, theirs = two_sites
    assert set(DataQuery.objects.filter(record__participant=ours).values_list("site_id", flat=True)) == {
        ours.site_id
    }
    assert DataQuery.objects.filter(record__participant=ours).count() == 2
    assert DataQuery.objects.get(record__participant=theirs).site_id == theirs.site_id


def test_bulk_create_and_raw_sql_get_the_site(two_sites):
    ours, theirs = two_sites
    ours_record = FormRecord.objects.get(participant=ours, form_code="procedure")
    theirs_record = FormRecord.objects.get(participant=theirs, form_code="procedure")
    made = DataQuery.objects.bulk_create(
        [
            DataQuery(record=theirs_record, field_path="technique"),
            DataQuery(record=ours_record, field_path="x"),
        ]
    )
    assert [query.site_id for query in made] == [theirs.site_id, ours.site_id]
    # What crf.demo writes: INSERT ... SELECT FROM json_to_recordset, naming no site.
    rows = [
        {
            "record_id": record.pk,
            "field_path": "anaesthesia",
            "check_code": "",
            "auto": False,
            "status": "open",
            "created_at": "2026-01-20T04:00:00+00:00",
            "updated_at": "2026-01-20T04:00:00+00:00",
            "resolved_by_data": False,
            "reopened": False,
        }
        for record in (ours_record, theirs_record)
    ]
    columns = ", ".join(rows[0])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO crf_dataquery ({columns}) SELECT {columns} FROM json_to_recordset(%s::json) AS r("  # noqa: S608
            "record_id bigint, field_path text, check_code text, auto boolean, status text, "
            "created_at timestamptz, updated_at timestamptz, resolved_by_data boolean, reopened boolean)",
            [json.dumps(rows)],
        )
    assert dict(DataQuery.objects.filter(field_path="anaesthesia").values_list("record_id", "site_id")) == {
        ours_record.pk: ours.site_id,
        theirs_record.pk: theirs.site_id,
    }
    # A wrong site written by hand does not stick.
    DataQuery.objects.filter(field_path="x").update(site_id=theirs.site_id)
    assert DataQuery.objects.get(field_path="x").site_id == ours.site_id


def test_the_lists_by_site_use_the_querys_own_site(two_sites, clients, staff):
    ours, _ = two_sites
    monitor = clients["monitor"]
    page = Client()
    page.force_login(staff["monitor"])
    with CaptureQueriesContext(connection) as api_queries:
        listed = monitor.get(QUERIES, {"site": "07"}).json()
    with CaptureQueriesContext(connection) as page_queries:
        shown = page.get("/queries/", {"site": "07", "status": ""})
    assert listed["count"] == 2 and {row["study_id"] for row in listed["results"]} == {ours.study_id}
    assert shown.status_code == 200 and shown.context["page"].paginator.count == 2
    for queries in (api_queries, page_queries):
        counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
        assert len(counts) == 1
        # The count joins neither the records nor the participants: the site is the query's own column.
        assert '"crf_formrecord"' not in counts[0] and '"trial_participant"' not in counts[0], counts[0]
        assert '"crf_dataquery"."site_id"' in counts[0]


def test_the_lists_page_in_index_order(two_sites, staff):
    """Newest first across the user's sites, the live ones, and at one site: each an index in the list's
    order, so that a page stops after 50 rows instead of sorting every query."""
    from crf.selectors import query_list

    queries = query_list(user=staff["monitor"])
    for queryset, index in (
        (queries, "query_created"),
        (queries.exclude(status="closed"), "query_live_created"),
        (queries.filter(site_id=two_sites[0].site_id), "query_site_created"),
    ):
        sql, params = queryset[:50].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("EXPLAIN " + sql, params)
            chosen = "\n".join(row[0] for row in cursor.fetchall())
        assert f"Index Scan Backward using {index} on crf_dataquery" in chosen, chosen
