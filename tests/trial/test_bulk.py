"""trial.bulk: the seeders' INSERT ... SELECT from JSON documents stores rows as given, audited as usual."""

import datetime
import json

import pytest
from django.apps import apps
from django.db import transaction

from trial.audit import audit_context
from trial.bulk import BATCH_SIZE, bulk_insert, json_batches, recordset_insert_sql
from trial.models import Screening

pytestmark = pytest.mark.django_db

LONG_AGO = datetime.datetime(2024, 3, 1, 2, 30, tzinfo=datetime.UTC)


def screening_rows(study, site, user, count: int) -> list[dict]:
    return [
        {
            "study_id": study.pk,
            "protocol_version_id": study.current_version_id,
            "site_id": site.pk,
            "screening_date": "2024-03-01",
            "age": 60 + n % 30,
            "sex": "female",
            "fracture_levels": ["T12", "L1"],
            "answers": {"INC1": True, "EXC1": None},
            "outcome": "incomplete",
            "failed_criteria": [],
            "missing_criteria": ["EXC1"],
            "not_enrolled_reason": "",
            "notes": f"合成 第 {n} 号",
            "screened_by_id": user.pk,
            "created_at": LONG_AGO.isoformat(),
            "updated_at": LONG_AGO.isoformat(),
        }
        for n in range(count)
    ]


def test_rows_are_stored_as_given_across_batches(study, site, coordinator):
    """Past timestamps stay past (no auto_now), arrays and JSON arrive typed, every batch returns its ids."""
    rows = screening_rows(study, site, coordinator, BATCH_SIZE + 1)

    with transaction.atomic(), audit_context(reason="bulk test", command="test_bulk"):
        returned = bulk_insert(Screening, rows, returning=("id", "age"))

    assert len(returned) == Screening.objects.count() == BATCH_SIZE + 1
    assert {pk for pk, _age in returned} == set(Screening.objects.values_list("pk", flat=True))
    last = Screening.objects.get(pk=max(pk for pk, _age in returned))
    assert (last.created_at, last.updated_at) == (LONG_AGO, LONG_AGO)
    assert last.fracture_levels == ["T12", "L1"] and last.answers == {"INC1": True, "EXC1": None}
    assert last.notes == f"合成 第 {BATCH_SIZE} 号"
    assert last.screening_date == datetime.date(2024, 3, 1) and last.age == 60 + BATCH_SIZE % 30
    events = apps.get_model("trial", "ScreeningEvent").objects.filter(pgh_label="insert")
    assert events.filter(pgh_context__metadata__command="test_bulk").count() == BATCH_SIZE + 1


def test_nothing_to_insert_runs_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk_insert(Screening, [], returning=("id",)) == []


def test_batches_hold_at_most_their_size_and_keep_the_text():
    rows = [{"n": n, "text": "王秀英"} for n in range(5)]

    batches = json_batches(rows, size=2)

    assert [len(json.loads(batch)) for batch in batches] == [2, 2, 1]
    assert [row for batch in batches for row in json.loads(batch)] == rows
    assert "王秀英" in batches[0]  # not \\u escapes: half the bytes per Chinese character


def test_the_statement_names_other_columns_and_joins_when_asked():
    """What crf.demo's writer builds on: JSON keys that are not the model's, typed and joined as asked."""
    sql = recordset_insert_sql(
        Screening,
        ("site_code", "age"),
        types={"site_code": "text"},
        into=("site_id", "age"),
        select=("s.id", 'r."age"'),
        joins=' JOIN "trial_site" s ON s.code = r.site_code',
        returning=("id",),
    )

    assert sql == (
        'INSERT INTO "trial_screening" ("site_id", "age") SELECT s.id, r."age" '
        'FROM json_to_recordset(%s::json) AS r("site_code" text, "age" smallint) '
        'JOIN "trial_site" s ON s.code = r.site_code RETURNING "id"'
    )
