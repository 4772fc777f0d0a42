"""The site copied onto visits and adjudication cases: the database sets it from the participant however the
row is written (the services, create, bulk_create, the demo's raw SQL), keeps it in step if someone writes
another, and the lists by site count without joining the participants."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crf.models import FormRecord
from followup.models import AdjudicationCase, Visit, VisitState
from followup.services import visits as services

from ..conftest import client_for
from ..crf.conftest import PROCEDURE, put
from .mri_helpers import make_visit, put_mri
from .test_adjudication import mri
from .visit_helpers import at, complete_procedure

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def ours(make_participant):
    return make_participant()  # site 07


@pytest.fixture
def theirs(make_participant, other_coordinator, other_site):
    return make_participant(actor=other_coordinator, on_site=other_site)  # site 91


def sites_of(model, **filters) -> set[int]:
    return set(model.objects.filter(**filters).values_list("site_id", flat=True))


def visit_row(participant, code: str) -> dict:
    """A visit as the demo writes it (followup.demo._insert): every column but the site."""
    return {
        "participant_id": participant.pk,
        "code": code,
        "label": {"en": code, "zh-hans": code},
        "kind": "scheduled",
        "sequence": 9,
        "anchor": "procedure",
        "day": 30,
        "target_date": "2026-02-14",
        "window_open": "2026-02-07",
        "window_close": "2026-02-21",
        "forms": [],
        "questionnaires": [],
        "state": "pending",
        "visit_date": None,
        "reason": "",
        "created_at": "2026-01-20T04:00:00+00:00",
        "updated_at": "2026-01-20T04:00:00+00:00",
        "updated_by_id": None,
    }


def raw_insert(model, rows: list[dict]) -> None:
    """INSERT ... SELECT FROM json_to_recordset, naming no site: what the demo's bulk loaders do."""
    quote = connection.ops.quote_name
    fields = {f.column: f for f in model._meta.concrete_fields}
    columns = list(rows[0])
    definition = ", ".join(f"{quote(c)} {fields[c].db_type(connection)}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"SELECT {', '.join(f'r.{quote(c)}' for c in columns)} "
            f"FROM json_to_recordset(%s::json) AS r({definition})",
            [json.dumps(rows)],
        )


def test_visits_written_by_the_services_carry_their_participants_site(
    ours, theirs, coordinator, other_coordinator
):
    with at("2026-03-01 12:00"):
        complete_procedure(coordinator, ours)  # BL at enrollment, then bulk_create(ignore_conflicts)
        complete_procedure(other_coordinator, theirs)
        unscheduled = services.visit_unscheduled_create(
            actor=coordinator, participant=ours, visit_date=D(2026, 2, 27), reason="Back pain"
        )
    assert sites_of(Visit, participant=ours) == {ours.site_id}
    assert sites_of(Visit, participant=theirs) == {theirs.site_id}
    assert Visit.objects.filter(participant=ours).count() == 6
    assert unscheduled.site_id == ours.site_id  # read back from the insert: the object has it too


def test_create_bulk_create_and_raw_sql_get_the_site(ours, theirs):
    created = make_visit(ours)  # Visit.objects.create, naming no site
    assert created.site_id == ours.site_id
    bulk = Visit.objects.bulk_create(
        [
            Visit(
                participant=theirs, **{k: v for k, v in visit_row(theirs, "X1").items() if k[-3:] != "_id"}
            ),
            Visit(participant=ours, **{k: v for k, v in visit_row(ours, "X1").items() if k[-3:] != "_id"}),
        ]
    )
    assert [v.site_id for v in bulk] == [theirs.site_id, ours.site_id]
    raw_insert(Visit, [visit_row(ours, "R1"), visit_row(theirs, "R1")])
    assert dict(Visit.objects.filter(code__in=["X1", "R1"]).values_list("participant_id", "site_id")) == {
        ours.pk: ours.site_id,
        theirs.pk: theirs.site_id,
    }
    # A wrong site written by hand does not stick: the participant's stands.
    Visit.objects.filter(pk=created.pk).update(site_id=theirs.site_id)
    created.refresh_from_db()
    assert created.site_id == ours.site_id


def test_adjudication_cases_get_the_site(ours, coordinator):
    api = client_for(coordinator)
    make_visit(ours)
    assert put(api, ours, PROCEDURE).status_code == 200
    assert put_mri(api, ours, mri("L2", "T10")).status_code == 200  # the service opens two cases
    assert sites_of(AdjudicationCase) == {ours.site_id}
    record = FormRecord.objects.get(form_code="followup_mri")
    raw_insert(
        AdjudicationCase,
        [
            {
                "participant_id": ours.pk,
                "record_id": record.pk,
                "visit_id": None,
                "level": "L4",
                "location": "remote",
                "exam_date": "2026-06-01",
                "status": "open",
                "created_at": "2026-06-02T04:00:00+00:00",
                "updated_at": "2026-06-02T04:00:00+00:00",
            }
        ],
    )
    assert AdjudicationCase.objects.get(level="L4").site_id == ours.site_id


def count_sql(client, url: str, params: dict) -> str:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert len(counts) == 1, [q["sql"] for q in queries]
    return counts[0]


def test_the_lists_by_site_count_without_joining_the_participants(ours, coordinator, monitor):
    api = client_for(monitor)
    with at("2026-03-01 12:00"):
        complete_procedure(coordinator, ours)
        everything = count_sql(api, "/api/v1/visits/", {"site": "07"})
        overdue = count_sql(api, "/api/v1/visits/", {"site": "07", "status": "overdue"})
        cases = count_sql(api, "/api/v1/adjudication-cases/", {"site": "07"})
    for sql in (everything, cases):
        assert '"trial_participant"' not in sql, sql
    # Overdue leaves out the participants who are not followed: a NOT EXISTS on those few, never a join.
    assert 'JOIN "trial_participant"' not in overdue and "NOT (EXISTS(" in overdue, overdue
    assert '"followup_visit"."site_id" IN' in overdue
    assert Visit.objects.filter(participant=ours, state=VisitState.PENDING).exists()


def plan(sql: str) -> str:
    """The plan PostgreSQL would choose were every table large, and the visits had no index but the partial
    ones under test: sequential scans and sorts priced out, and every other index on the visits dropped inside
    the test's transaction (rolled back with it).

    On these tiny tables the planner otherwise takes whichever index autovacuum's latest statistics make
    cheapest, a full scan of the primary key or of the unique (participant, code) index standing in for the
    priced-out table scan (the test failed now and then). The question is only whether the queries can use
    the partial indexes at all: with nothing else left, they do so only if they repeat the indexes'
    conditions.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SET CONSTRAINTS ALL IMMEDIATE"
        )  # the deferred foreign-key checks first: ALTER waits for none
        cursor.execute(
            "SELECT i.relname, c.conname FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
            "WHERE x.indrelid = 'followup_visit'::regclass AND x.indpred IS NULL"
        )
        for index, constraint in cursor.fetchall():
            if constraint:  # the primary key and unique constraints (the foreign keys on them go too)
                name = connection.ops.quote_name(constraint)
                cursor.execute(f"ALTER TABLE followup_visit DROP CONSTRAINT {name} CASCADE")
            else:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(index)}")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_worklist_and_its_counts_can_be_read_from_their_indexes(ours, coordinator, monitor):
    """The partial indexes serve these queries only while the queries repeat their conditions (pending; a
    participant not enrolled): a change to either would silently read the tables again."""
    from followup.selectors.visits import DUE_OR_OVERDUE, dashboard_panel, visit_sites, visits_at

    with at("2026-03-01 12:00"):
        complete_procedure(coordinator, ours)
        sites = visit_sites(user=monitor)
        with CaptureQueriesContext(connection) as queries:
            visits_at(sites, status="overdue").count()
            list(visits_at(sites, status=DUE_OR_OVERDUE)[:50])
            dashboard_panel(user=monitor)
    overdue_count, page, _sites, panel = (q["sql"] for q in queries)
    for sql in (overdue_count, panel):
        # Index-only on a vacuumed table; a fresh test table may be read through a bitmap of the index.
        chosen = plan(sql)
        assert "visit_pending_open" in chosen, chosen
        # The participants not followed: their partial index, or (once autovacuum has analyzed these tiny
        # tables, whose statistics then decide) a probe of the primary key per visit or of the site's
        # participants through the site index; never a scan of the table.
        participant_indexes = (
            "participant_not_followed",
            "trial_participant_pkey",
            "trial_participant_site_id",
        )
        assert any(index in chosen for index in participant_indexes), chosen
        assert "Seq Scan" not in chosen, chosen
    # The page: read in window-close order from the partial index on pending visits, never a full sort.
    chosen = plan(page)
    assert "Index Scan using visit_pending_close" in chosen, chosen
    assert "Incremental Sort" in chosen and "Seq Scan" not in chosen, chosen
