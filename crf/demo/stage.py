"""The CRF stage of seed_demo (trial.hooks.demo_stages): seed, then say what the study holds."""

from collections import Counter

from django.db.models import Count

from trial.hooks import DemoAdded
from trial.models import Study

from ..models import DataQuery, FormRecord, FormStatus, QueryStatus
from .seeder import crf_seed


def crf_summary(*, study: Study) -> dict:
    """Forms and data queries of a study by status, for the seeding summary (two queries)."""
    records = Counter(
        dict(
            FormRecord.objects.filter(participant__site__study=study)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
    )
    queries = Counter(
        dict(
            DataQuery.objects.filter(record__participant__site__study=study)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
    )
    return {"records": records, "queries": queries}


def crf_demo_stage(*, study: Study, seed: int) -> DemoAdded:
    """trial.hooks.demo_stages: the CRFs of the demo participants, with a line saying what was added."""
    added = crf_seed(study=study, seed=seed)
    summary = crf_summary(study=study)
    records, queries = summary["records"], summary["queries"]
    by_status = ", ".join(f"{status} {records[status]:,}" for status in FormStatus.values if records[status])
    done = (
        f"added {sum(added.records.values()):,} forms for {added.participants:,} participants"
        if added.participants
        else "nothing to add"
    )
    return DemoAdded(
        name="crf",
        line=(
            f"{study.code} CRFs: {done}; {sum(records.values()):,} forms ({by_status or 'none'}), "
            f"{sum(queries.values()):,} data queries ({queries[QueryStatus.OPEN]:,} open, "
            f"{queries[QueryStatus.ANSWERED]:,} answered)"
        ),
        counts={
            "crf_forms_added": sum(added.records.values()),
            "crf_queries_added": sum(added.queries.values()),
        },
    )
