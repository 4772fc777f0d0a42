"""The dataset of a study at a data cut: everything the interim report counts, read once from the database
into plain rows, serialised canonically and hashed, so that the report is a pure function of stored bytes.

What "as at the cut" means: what had been recorded by the cut's time. Screenings, participants and
questionnaires created after it are left out; a status, a visit, a query's closing, a form's completion,
verification, signature or lock, a reminder's outcome and a case's adjudication count only when they are
dated (or time-stamped) on or before it. A value corrected after the cut is read as it is now: the audit
trail keeps the older one, and a cut captured at its time (the usual case: a report of now, or a cut
stored earlier and reused) holds the value it had then.

The rows carry the study ID, never identifying data (no name, phone, record number or national ID is read).
A fixed number of queries whatever the number of participants.
"""

import datetime
import gzip
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, F, Func, IntegerField, Q, Sum
from django.db.models.fields.json import KT

from crf.models import DataQuery, FormRecord, FormStatus, QueryStatus, Signature
from followup.instruments.registry import instrument_def
from followup.messaging.models import MessageKind, MessageState, OutboxMessage
from followup.models import (
    AdjudicationCase,
    CaseStatus,
    QuestionnaireResponse,
    ResponseSource,
    ResponseStatus,
    Visit,
    VisitState,
)
from followup.selectors.agreement import agreement_pairs
from followup.selectors.endpoint import (
    endpoint_fractures,
    endpoint_participants,
    endpoint_rows,
    endpoint_settings,
    study_today,
)
from trial.models import Participant, ParticipantStatus, Screening, Site, Study

from .derived import lowest, number, procedure_summary, qmri_means

# Participants read this many at a time on one server-side cursor (a few hundred kilobytes a batch).
BATCH = 2000
PARTICIPANT_COLUMNS = (
    "study_id",
    "site",
    "enrolled",
    "status",
    "sex",
    "age",
    "bmi",
    "t_score_min",
    "fractured_levels",
    "procedure",
    "cement_volume",
    "leakage",
    "pdff",
    "r2star",
    "index_date",
    "event",
    "days",
    "location",
    "censor",
    "pending",
)
FORMAT = 1  # the layout of the dataset; a change of layout changes every hash, so it is stated


@dataclass(frozen=True)
class Captured:
    content: bytes  # the canonical serialisation (UTF-8 JSON, sorted keys, no spaces)
    sha256: str
    dataset: dict


def dataset_serialise(dataset: dict) -> bytes:
    """The canonical bytes: the same dataset always gives the same bytes (and hash)."""
    return json.dumps(
        dataset, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def dataset_capture(*, study: Study, cut_at: datetime.datetime) -> Captured:
    """The study's dataset as at `cut_at`, serialised and hashed.

    Read in one REPEATABLE READ, read-only transaction when called outside one (the worker, the command):
    every query sees the same snapshot, so a participant enrolled while the capture runs is either in every
    section or in none. Inside a caller's transaction (the tests), that transaction's snapshot is used."""
    if connection.in_atomic_block:
        return _capture(study, cut_at)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _capture(study, cut_at)


def _capture(study: Study, cut_at: datetime.datetime) -> Captured:
    # The protocol version in force at the cut (loaded by then); the current one for a study loaded later.
    version = (
        study.versions.filter(loaded_at__lte=cut_at).order_by("-number").first() or study.current_version
    )
    sites = list(Site.objects.filter(study=study).order_by("code"))
    day = study_today(sites=sites, at=cut_at)
    dataset = {
        "format": FORMAT,
        "study": _study(study, version),
        "cut": {"at": cut_at.astimezone(datetime.UTC).isoformat(), "date": day.isoformat()},
        "sites": [{"code": s.code, "name": s.name, "time_zone": s.time_zone} for s in sites],
        "screenings": _screenings(study, sites, cut_at, day),
        "participants": _participants(study, sites, cut_at, day),
        "responses": _responses(sites, cut_at),
        "quality": _quality(version.definition, sites, cut_at, day),
        "agreement": _agreement(study, sites, cut_at),
    }
    content = dataset_serialise(dataset)
    return Captured(content=content, sha256=hashlib.sha256(content).hexdigest(), dataset=json.loads(content))


def dataset_load(content: bytes) -> dict:
    """A stored cut's dataset (reports.DataCut.content is gzip of the canonical bytes)."""
    return json.loads(gzip.decompress(content))


def _study(study: Study, version) -> dict:
    definition = version.definition
    first = study.versions.order_by("number").values_list("effective_date", flat=True).first()
    schedule = definition.get("visits", {}).get("schedule", [])
    instruments = []
    for code in dict.fromkeys(code for visit in schedule for code in visit.get("questionnaires", [])):
        found = instrument_def(code)
        instruments.append({"code": code, "name": found.name, "unit": found.unit, "mcid": float(found.mcid)})
    return {
        "code": study.code,
        "title": study.title,
        "protocol_version": version.label,
        "opened": first.isoformat() if first else None,
        "target": version.target_enrollment,
        "endpoint": definition.get("endpoint"),
        "criteria": [
            {"code": c["code"], "kind": c["kind"], "text": c["text"]} for c in definition.get("criteria", [])
        ],
        "visits": [
            {"code": v["code"], "label": v["label"], "questionnaires": v.get("questionnaires", [])}
            for v in schedule
        ],
        "instruments": instruments,
    }


def _screenings(study, sites, cut_at, day) -> list[list]:
    """[site, outcome, failed criteria, reason not enrolled, enrolled by the cut] per screening."""
    rows = (
        # Recorded by the cut: every participant's screening was (it is created first), so the flow adds up.
        Screening.objects.filter(site__in=sites, created_at__lte=cut_at)
        .annotate(enrolled=Count("participant", filter=Q(participant__created_at__lte=cut_at)))
        .order_by("site__code", "screening_date", "pk")
        .values_list("site__code", "outcome", "failed_criteria", "not_enrolled_reason", "enrolled")
    )
    return [
        [site, outcome, failed, reason, bool(enrolled)] for site, outcome, failed, reason, enrolled in rows
    ]


def _baseline_values(sites, cut_at) -> dict[int, dict]:
    """{participant id: the baseline fields the report summarises}, from the completed (not draft) records
    of the enrollment forms; only the keys read, never the whole record. One query."""
    keys = {
        "baseline": {"bmi": KT("data__bmi")},
        "dxa": {
            "t_lumbar": KT("data__t_lumbar"),
            "t_femoral_neck": KT("data__t_femoral_neck"),
            "t_total_hip": KT("data__t_total_hip"),
        },
        "procedure": {"technique": KT("data__technique"), "levels": F("data__levels")},
        "qmri": {"vertebrae": F("data__vertebrae")},
        "fracture_levels": {
            "fractures": Func(
                F("data__fractures"), function="jsonb_array_length", output_field=IntegerField()
            )
        },
    }
    fields = {name: expr for exprs in keys.values() for name, expr in exprs.items()}
    records = (
        FormRecord.objects.filter(
            participant__site__in=sites, visit_code="", form_code__in=list(keys), completed_at__lte=cut_at
        )
        .exclude(status=FormStatus.DRAFT)
        .annotate(**{f"v_{name}": expr for name, expr in fields.items()})
        .values_list("participant_id", "form_code", *[f"v_{name}" for name in fields])
        .order_by()
    )
    names = list(fields)
    found: dict[int, dict] = defaultdict(dict)
    for participant_id, form_code, *values in records.iterator(chunk_size=BATCH):
        for name, value in zip(names, values, strict=True):
            if name in keys[form_code]:
                found[participant_id][name] = value
    return found


def _participants(study, sites, cut_at, day) -> dict:
    """One row per participant enrolled by the cut: site, enrollment date, sex and age at screening, the
    baseline values, and the primary endpoint at the cut (followup.selectors.endpoint)."""
    settings = endpoint_settings(study=study)
    participants = Participant.objects.filter(site__in=sites, created_at__lte=cut_at)
    baseline = _baseline_values(sites, cut_at)
    people = {
        pk: (enrolled, sex, age, status if status_date and status_date <= day else ParticipantStatus.ENROLLED)
        for pk, enrolled, sex, age, status, status_date in participants.values_list(
            "pk", "enrollment_date", "screening__sex", "screening__age", "status", "status_date"
        ).order_by()
    }
    cases = AdjudicationCase.objects.filter(site__in=sites, finalized_at__lte=cut_at)
    pending = set(
        AdjudicationCase.objects.filter(site__in=sites, created_at__lte=cut_at)
        .filter(Q(status__in=(CaseStatus.OPEN, CaseStatus.DISPUTED)) | Q(finalized_at__gt=cut_at))
        .exclude(status=CaseStatus.CANCELLED)
        .values_list("participant_id", flat=True)
    )
    listed = endpoint_participants(settings=settings, data_cut=day, participants=participants)
    rows, pks = [], []
    for participant in listed.iterator(chunk_size=BATCH):
        pks.append(participant["pk"])
        participant["adjudication_pending"] = participant["pk"] in pending
        rows.append(participant)
    ends = endpoint_rows(
        settings=settings, data_cut=day, participants=rows, fractures=endpoint_fractures(cases)
    )
    out = []
    for pk, end in zip(pks, ends, strict=True):
        values = baseline.get(pk, {})
        enrolled, sex, age, status = people[pk]
        row = {
            "study_id": end.study_id,
            "site": end.site,
            "enrolled": enrolled.isoformat(),
            "status": str(status),  # as at the cut: a change dated after it had not happened
            "sex": sex,
            "age": age,
            "bmi": number(values.get("bmi")),
            "t_score_min": lowest(values, ("t_lumbar", "t_femoral_neck", "t_total_hip")),
            "fractured_levels": values.get("fractures"),
            "procedure": values.get("technique"),
            **procedure_summary(values.get("levels")),
            **qmri_means(values.get("vertebrae")),
            "index_date": end.index_date.isoformat() if end.index_date else None,
            "event": end.event,
            "days": end.days,
            "location": end.location,
            "censor": end.censor_reason,
            "pending": end.adjudication_pending,
        }
        out.append([row[column] for column in PARTICIPANT_COLUMNS])
    # Columns and rows rather than a dict per participant: a third of the memory at 56,000.
    return {"columns": list(PARTICIPANT_COLUMNS), "rows": out}


def _responses(sites, cut_at) -> list[list]:
    """[study ID, visit code, instrument, score] of every submitted questionnaire with a score."""
    rows = (
        QuestionnaireResponse.objects.filter(
            visit__participant__site__in=sites,
            status=ResponseStatus.FINAL,
            submitted_at__lte=cut_at,
            score__isnull=False,
        )
        .order_by("visit__participant__study_id", "visit__sequence", "instrument")
        .values_list("visit__participant__study_id", "visit__code", "instrument", "score")
    )
    return [
        [study_id, visit, instrument, float(score)]
        for study_id, visit, instrument, score in rows.iterator(chunk_size=BATCH * 4)
    ]


def _quality(definition, sites, cut_at, day) -> dict:
    """Per site code: forms expected and how far they went, open queries' ages, visits due, overdue and
    missed, questionnaires by who entered them, reminders by outcome. A fixed number of grouped queries."""
    enrollment_forms = len(definition.get("forms", []))
    quality = {
        site.code: {
            "forms": dict.fromkeys(("expected", "complete", "verified", "signed", "locked"), 0),
            "query_ages": [],
            "visits": dict.fromkeys(("due", "overdue", "missed"), 0),
            "questionnaires": {"patient": 0, "staff": 0},
            "reminders": dict.fromkeys(("sent", "failed", "unconfirmed"), 0),
        }
        for site in sites
    }
    participants = Participant.objects.filter(site__in=sites, created_at__lte=cut_at)
    for code, n in participants.values_list("site__code").annotate(n=Count("pk")).order_by():
        quality[code]["forms"]["expected"] += n * enrollment_forms
    # Each visit as it stood at the cut: done or missed by then, not applicable by then (a withdrawal after
    # the cut left it due), and on hold while its participant was lost to follow-up (followup.schedule:
    # neither due nor overdue).
    done = Q(state=VisitState.COMPLETED, visit_date__lte=day)
    missed = Q(state=VisitState.MISSED, updated_at__lte=cut_at)
    on_hold = Q(participant__status=ParticipantStatus.LOST_TO_FOLLOW_UP, participant__status_date__lte=day)
    visits = Visit.objects.filter(participant__in=participants).exclude(
        state=VisitState.NOT_APPLICABLE, updated_at__lte=cut_at
    )
    due = visits.filter(done | missed | (Q(window_open__lte=day) & ~on_hold))
    visit_counts = (
        due.values_list("participant__site__code")
        .annotate(
            forms=Sum(Func(F("forms"), function="jsonb_array_length", output_field=IntegerField())),
            due=Count("pk"),
            overdue=Count("pk", filter=Q(window_close__lt=day) & ~done & ~missed & ~on_hold),
            missed=Count("pk", filter=missed),
        )
        .order_by()
    )
    for code, forms, n_due, overdue, missed in visit_counts:
        quality[code]["forms"]["expected"] += forms or 0
        quality[code]["visits"].update(due=n_due, overdue=overdue, missed=missed)
    records = FormRecord.objects.filter(participant__in=participants).exclude(status=FormStatus.DRAFT)
    form_counts = (
        records.values_list("participant__site__code")
        .annotate(
            complete=Count("pk", filter=Q(completed_at__lte=cut_at)),
            verified=Count(
                "pk",
                filter=Q(verified_at__lte=cut_at)
                & Q(status__in=(FormStatus.VERIFIED, FormStatus.SIGNED, FormStatus.LOCKED)),
            ),
            locked=Count("pk", filter=Q(status=FormStatus.LOCKED, locked_at__lte=cut_at)),
        )
        .order_by()
    )
    # The forms with a signature in force at the cut (one invalidated by a later change still counts then):
    # counted from the signatures, joined once (a subquery inside the count above would run per form).
    signed = (
        Signature.objects.filter(record__in=records, signed_at__lte=cut_at)
        .filter(Q(invalidated_at__isnull=True) | Q(invalidated_at__gt=cut_at))
        .values_list("record__participant__site__code")
        .annotate(n=Count("record_id", distinct=True))
        .order_by()
    )
    for code, n in signed:
        quality[code]["forms"]["signed"] = n
    for code, *counts in form_counts:
        quality[code]["forms"].update(zip(("complete", "verified", "locked"), counts, strict=True))
    queries = (
        DataQuery.objects.filter(site__in=sites, created_at__lte=cut_at)
        .filter(~Q(status=QueryStatus.CLOSED) | Q(closed_at__gt=cut_at))
        .values_list("site__code", "created_at")
        .order_by("site__code", "created_at")
    )
    for code, created in queries.iterator(chunk_size=BATCH * 4):
        quality[code]["query_ages"].append((cut_at - created).days)
    sources = (
        QuestionnaireResponse.objects.filter(
            visit__participant__in=participants, status=ResponseStatus.FINAL, submitted_at__lte=cut_at
        )
        .values_list("visit__participant__site__code")
        .annotate(
            patient=Count("pk", filter=Q(source=ResponseSource.PATIENT)),
            staff=Count("pk", filter=~Q(source=ResponseSource.PATIENT)),
        )
        .order_by()
    )
    for code, patient, staff in sources:
        quality[code]["questionnaires"].update(patient=patient, staff=staff)
    reminders = (
        OutboxMessage.objects.filter(kind=MessageKind.REMINDER, site__in=sites)
        .values_list("site__code")
        .annotate(
            sent=Count("pk", filter=Q(state=MessageState.SENT, sent_at__lte=cut_at)),
            failed=Count("pk", filter=Q(state=MessageState.FAILED, updated_at__lte=cut_at)),
            unconfirmed=Count("pk", filter=Q(state=MessageState.UNCONFIRMED, updated_at__lte=cut_at)),
        )
        .order_by()
    )
    for code, sent, failed, unconfirmed in reminders:
        quality[code]["reminders"].update(sent=sent, failed=failed, unconfirmed=unconfirmed)
    return quality


def _agreement(study, sites, cut_at) -> dict:
    """The readers' pairs (the main question; Genant grades where both graded), of verdicts by the cut."""
    main, genant = agreement_pairs(study=study, sites=sites, signed_by=cut_at)
    return {"main": [list(pair) for pair in main], "genant": [list(pair) for pair in genant]}
