"""crf_seed: the CRFs of a study's demo participants, planned in worker processes and written in chunks."""

import datetime
import gc
import multiprocessing
import os
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, Min, OuterRef

from trial.audit import audit_context
from trial.bulk import json_batches
from trial.clock import site_today
from trial.demo import DEMO_COMMAND, DEMO_REASON, demo_inserted, demo_staff
from trial.models import ImagingExam, Participant, ProtocolVersion, Study

from ..models import DataQuery, FormRecord, Signature
from .casebook import crf_plan
from .plan import Enrolled
from .writer import crf_rows, crf_write

# Participants planned and written together: bounds the memory of a plan (a few MB), not a database limit,
# and small enough that the planning workers and PostgreSQL overlap from the start.
CHUNK_SIZE = 1000
MAX_WORKERS = 2


@dataclass
class CrfSeedResult:
    participants: int = 0  # participants given forms by this run
    records: Counter = field(default_factory=Counter)  # by status
    queries: Counter = field(default_factory=Counter)  # by status
    signatures: int = 0

    def add(self, other: "CrfSeedResult") -> None:
        self.participants += other.participants
        self.records.update(other.records)
        self.queries.update(other.queries)
        self.signatures += other.signatures


def _chunk(task) -> tuple[CrfSeedResult, list[tuple[type, tuple[str, ...], str]]]:
    """Plan a chunk of participants and encode its rows: all the Python work of seeding, in a worker."""
    enrolled, seed, today, users = task
    plan = crf_plan(enrolled, seed=seed, today=today)
    rows = crf_rows(plan, users=users)
    result = CrfSeedResult(
        participants=len({form.participant for form in plan}),
        records=Counter(form.status for form in plan),
        queries=Counter(row["status"] for row in rows[DataQuery]),
        signatures=len(rows[Signature]),
    )
    return result, [
        (model, tuple(model_rows[0]), batch)
        for model, model_rows in rows.items()
        if model_rows
        for batch in json_batches(model_rows)
    ]


def _records_dates(screenings: list[int]) -> dict[int, datetime.date]:
    """Each retrospective case's first imaging exam (its data in the records date from then); one query."""
    if not screenings:
        return {}
    first = (
        ImagingExam.objects.filter(screening__in=screenings)
        .values_list("screening")
        .annotate(first=Min("study_date"))
        .order_by()
    )
    return dict(first)


def _enrolled(participants) -> list[Enrolled]:
    """The plan's view of participants (a queryset), with the forms of their protocol versions."""
    rows = list(
        participants.values(
            "pk",
            "study_id",
            "site__code",
            "site__time_zone",
            "screening__age",
            "screening__sex",
            "screening__fracture_levels",
            "screening__screening_date",
            "screening__protocol_version",
            "screening",
            "consent_date",
            "enrollment_date",
            "status",
            "status_date",
        ).order_by("pk")
    )
    versions = {row["screening__protocol_version"] for row in rows}
    definitions = dict(ProtocolVersion.objects.filter(pk__in=versions).values_list("pk", "definition"))
    forms = {pk: tuple(definition.get("forms", [])) for pk, definition in definitions.items()}
    retrospective = {
        pk
        for pk, definition in definitions.items()
        if (definition.get("design") or {}).get("registration") == "retrospective"
    }
    records = _records_dates(
        [row["screening"] for row in rows if row["screening__protocol_version"] in retrospective]
    )
    return [
        Enrolled(
            key=row["pk"],
            study_id=row["study_id"],
            site=row["site__code"],
            time_zone=row["site__time_zone"],
            age=row["screening__age"],
            sex=row["screening__sex"],
            fracture_levels=tuple(row["screening__fracture_levels"] or ()),
            screening_date=row["screening__screening_date"],
            consent_date=row["consent_date"],
            enrollment_date=row["enrollment_date"],
            status=row["status"],
            status_date=row["status_date"],
            forms=forms[row["screening__protocol_version"]],
            records_date=records.get(row["screening"]),
        )
        for row in rows
    ]


def _workers(chunks: int) -> int:
    """Planning processes beside this one, which only writes: the plan is pure Python (about 0.6 ms a
    participant, most of it clean_data and evaluate) and runs while PostgreSQL inserts the previous chunk.
    0 for a single chunk: planned in this process."""
    return 0 if chunks < 2 else max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))


def crf_seed(
    *, study: Study, seed: int, today: datetime.date | None = None, workers: int | None = None
) -> CrfSeedResult:
    """Fill the CRFs of the study's demo participants (created by seed_demo) that have no form yet; a second
    run adds nothing.

    Atomic and durable so that a failed seed leaves nothing behind; the study row is locked so that two
    seeders cannot plan the same participants. `today` defaults to the earliest site date (every event is
    before it); `workers` to one planning process per core for more than one chunk.
    """
    with transaction.atomic(durable=True), audit_context(reason=DEMO_REASON, command=DEMO_COMMAND):
        study = Study.objects.select_for_update(of=("self",)).get(pk=study.pk)
        pending = Participant.objects.filter(
            demo_inserted(),  # never forms (and signatures) for real participants
            # NOT EXISTS, an anti-join: NOT IN (subquery) degrades to a scan per row once the subquery's
            # hash outgrows work_mem (a second run over 56,000 participants took minutes).
            ~Exists(FormRecord.objects.filter(participant=OuterRef("pk"))),
            site__study=study,
        )
        enrolled = _enrolled(pending)
        result = CrfSeedResult()
        if not enrolled:
            return result
        sites = list(study.sites.filter(code__in={person.site for person in enrolled}).order_by("code"))
        staff = demo_staff(study, sites)
        users = {key: (user.pk, user.get_full_name() or user.get_username()) for key, user in staff.items()}
        today = today or min(site_today(site) for site in sites)
        tasks = [
            (enrolled[start : start + CHUNK_SIZE], seed, today, users)
            for start in range(0, len(enrolled), CHUNK_SIZE)
        ]
        workers = _workers(len(tasks)) if workers is None else workers
        if not workers:
            for task in tasks:
                written, statements = _chunk(task)
                crf_write(statements)
                result.add(written)
            return result
        # Forked workers only plan (pure functions, no database). gc.freeze: the collector leaves the objects
        # inherited from this process alone, so their pages stay shared instead of being copied and scanned.
        with multiprocessing.get_context("fork").Pool(workers, initializer=gc.freeze) as pool:
            for written, statements in pool.imap(_chunk, tasks):
                crf_write(statements)
                result.add(written)
        return result
