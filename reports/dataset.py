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
import functools
import gzip
import hashlib
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

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
from .replica import read_snapshot

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
    """A captured cut: the canonical serialisation (UTF-8 JSON, sorted keys, no spaces) gzip-compressed as
    it was written, its SHA-256 and size, and the protocol version in force. The bytes and the dataset are
    read back from the compressed ones only when asked for (the report reads them; an export does not)."""

    compressed: bytes
    sha256: str
    size: int
    protocol_version: str

    @property
    def content(self) -> bytes:
        return gzip.decompress(self.compressed)

    @property
    def dataset(self) -> dict:
        return json.loads(self.content)


_dumps = functools.partial(json.dumps, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def dataset_serialise(dataset: dict) -> bytes:
    """The canonical bytes: the same dataset always gives the same bytes (and hash)."""
    return _dumps(dataset).encode()


class _Sink:
    """Canonical bytes written once: hashed and gzip-compressed as they come, never held whole."""

    def __init__(self):
        self.digest, self.size, self.buffer = hashlib.sha256(), 0, io.BytesIO()
        self.gzip = gzip.GzipFile(fileobj=self.buffer, mode="wb", mtime=0)

    def write(self, text: str) -> None:
        data = text.encode()
        self.digest.update(data)
        self.size += len(data)
        self.gzip.write(data)

    def rows(self, rows: Iterable) -> None:
        """A JSON array of rows, written a batch at a time: the same bytes as dumping the whole list."""
        self.write("[")
        batch, first = [], True
        for row in rows:
            batch.append(_dumps(row))
            if len(batch) == BATCH:
                self.write(("" if first else ",") + ",".join(batch))
                batch, first = [], False
        if batch:
            self.write(("" if first else ",") + ",".join(batch))
        self.write("]")

    def close(self) -> bytes:
        self.gzip.close()
        return self.buffer.getvalue()


def dataset_capture(*, study: Study, cut_at: datetime.datetime) -> Captured:
    """The study's dataset as at `cut_at`, serialised and hashed as it is read: memory does not grow with the
    participants (the rows stream from server-side cursors into the hash and the compressor).

    Read in one REPEATABLE READ, read-only transaction when called outside one (the worker, the command):
    every query sees the same snapshot, so a participant enrolled while the capture runs is either in every
    section or in none. On the streaming replica when one is configured (reports/replica.py). Inside a
    caller's transaction (the tests, an export's snapshot), that transaction's snapshot is used."""
    with read_snapshot(read_only=True):
        return _capture(study, cut_at)


def _capture(study: Study, cut_at: datetime.datetime) -> Captured:
    # The protocol version in force at the cut (loaded by then); the current one for a study loaded later.
    version = (
        study.versions.filter(loaded_at__lte=cut_at).order_by("-number").first() or study.current_version
    )
    sites = list(Site.objects.filter(study=study).order_by("code"))
    day = study_today(sites=sites, at=cut_at)
    # In the canonical (sorted) order of the keys; each section read as it is written.
    sections = {
        "agreement": lambda: _agreement(study, sites, cut_at),
        "cut": lambda: {"at": cut_at.astimezone(datetime.UTC).isoformat(), "date": day.isoformat()},
        "format": lambda: FORMAT,
        "participants": None,
        "quality": lambda: _quality(version.definition, sites, cut_at, day),
        "responses": lambda: _responses(sites, cut_at),
        "screenings": lambda: _screenings(study, sites, cut_at, day),
        "sites": lambda: [{"code": s.code, "name": s.name, "time_zone": s.time_zone} for s in sites],
        "study": lambda: _study(study, version),
    }
    sink = _Sink()
    sink.write("{")
    for i, (key, section) in enumerate(sorted(sections.items())):
        sink.write(("," if i else "") + _dumps(key) + ":")
        if key == "participants":
            sink.write('{"columns":' + _dumps(list(PARTICIPANT_COLUMNS)) + ',"rows":')
            sink.rows(_participants(study, sites, cut_at, day))
            sink.write("}")
        elif key in ("responses", "screenings"):
            sink.rows(section())
        else:
            sink.write(_dumps(section()))
    sink.write("}")
    return Captured(
        compressed=sink.close(),
        sha256=sink.digest.hexdigest(),
        size=sink.size,
        protocol_version=version.label,
    )


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


def _screenings(study, sites, cut_at, day) -> Iterator[list]:
    """[site, outcome, failed criteria, reason not enrolled, enrolled by the cut] per screening."""
    rows = (
        # Recorded by the cut: every participant's screening was (it is created first), so the flow adds up.
        Screening.objects.filter(site__in=sites, created_at__lte=cut_at)
        .annotate(enrolled=Count("participant", filter=Q(participant__created_at__lte=cut_at)))
        .order_by("site__code", "screening_date", "pk")
        .values_list("site__code", "outcome", "failed_criteria", "not_enrolled_reason", "enrolled")
    )
    for site, outcome, failed, reason, enrolled in rows.iterator(chunk_size=BATCH):
        yield [site, outcome, failed, reason, bool(enrolled)]


def _baseline_values(sites, cut_at) -> Iterator[tuple[str, dict]]:
    """(study ID, the baseline fields the report summarises) in study ID order, from the completed (not
    draft) records of the enrollment forms; only the keys read, never the whole record. One query."""
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
            participant__site__in=sites,
            participant__created_at__lte=cut_at,  # the participants' own filter: a subset of theirs
            visit_code="",
            form_code__in=list(keys),
            completed_at__lte=cut_at,
        )
        .exclude(status=FormStatus.DRAFT)
        .annotate(**{f"v_{name}": expr for name, expr in fields.items()})
        .values_list("participant__study_id", "form_code", *[f"v_{name}" for name in fields])
        .order_by("participant__study_id")
    )
    names = list(fields)
    current, found = None, {}
    for study_id, form_code, *values in records.iterator(chunk_size=BATCH):
        if study_id != current:
            if current is not None:
                yield current, found
            current, found = study_id, {}
        for name, value in zip(names, values, strict=True):
            if name in keys[form_code]:
                found[name] = value
    if current is not None:
        yield current, found


def _participants(study, sites, cut_at, day) -> Iterator[list]:
    """One row per participant enrolled by the cut, in study ID order: site, enrollment date, sex and age at
    screening, the baseline values, and the primary endpoint at the cut (followup.selectors.endpoint).

    Streamed: the participants (with their endpoint inputs) and their baseline values come from two cursors
    in the same study ID order, merged as they are read; only the cases being read at the cut (a set of ids)
    and the final fractures are held. A protocol without an endpoint gives the endpoint columns empty."""
    participants = Participant.objects.filter(site__in=sites, created_at__lte=cut_at)
    baseline = _baseline_values(sites, cut_at)
    cases = AdjudicationCase.objects.filter(site__in=sites, finalized_at__lte=cut_at)
    pending = set(
        AdjudicationCase.objects.filter(site__in=sites, created_at__lte=cut_at)
        .filter(Q(status__in=(CaseStatus.OPEN, CaseStatus.DISPUTED)) | Q(finalized_at__gt=cut_at))
        .exclude(status=CaseStatus.CANCELLED)
        .values_list("participant_id", flat=True)
    )
    people_fields = ("enrollment_date", "screening__sex", "screening__age")
    if study.current_version.definition.get("endpoint"):
        settings = endpoint_settings(study=study)
        listed = endpoint_participants(settings=settings, data_cut=day, participants=participants)
        listed = listed.values(*listed.query.values_select, *listed.query.annotation_select, *people_fields)
    else:
        settings = None
        listed = participants.order_by("study_id").values(
            "pk", "study_id", "status", "status_date", "site__code", *people_fields
        )
    people = _pending_marked(listed.iterator(chunk_size=BATCH), pending)
    if settings is None:
        ends = itertools.repeat(None)
    else:
        people, feed = itertools.tee(people)  # read in step: tee holds one participant at a time
        ends = endpoint_rows(
            settings=settings, data_cut=day, participants=feed, fractures=endpoint_fractures(cases)
        )
    values_of = _Merge(baseline)
    for participant, end in zip(people, ends, strict=False):  # ends: endless when there is no endpoint
        values = values_of.take(participant["study_id"])
        status, status_date = participant["status"], participant["status_date"]
        row = {
            "study_id": participant["study_id"],
            "site": participant.get("site_code") or participant.get("site__code"),
            "enrolled": participant["enrollment_date"].isoformat(),
            # As at the cut: a change dated after it had not happened.
            "status": str(status if status_date and status_date <= day else ParticipantStatus.ENROLLED),
            "sex": participant["screening__sex"],
            "age": participant["screening__age"],
            "bmi": number(values.get("bmi")),
            "t_score_min": lowest(values, ("t_lumbar", "t_femoral_neck", "t_total_hip")),
            "fractured_levels": values.get("fractures"),
            "procedure": values.get("technique"),
            **procedure_summary(values.get("levels")),
            **qmri_means(values.get("vertebrae")),
            "index_date": end.index_date.isoformat() if end and end.index_date else None,
            "event": end.event if end else None,
            "days": end.days if end else None,
            "location": end.location if end else None,
            "censor": end.censor_reason if end else None,
            "pending": end.adjudication_pending if end else participant["adjudication_pending"],
        }
        yield [row[column] for column in PARTICIPANT_COLUMNS]


def _pending_marked(participants: Iterator[dict], pending: set) -> Iterator[dict]:
    """Each participant with `adjudication_pending` as at the cut (a case open then, or finalised after)."""
    for participant in participants:
        participant["adjudication_pending"] = participant["pk"] in pending
        yield participant


class _Merge:
    """The values of one study ID at a time from a stream of (study ID, values) in study ID order."""

    def __init__(self, rows: Iterator[tuple[str, dict]]):
        self._rows = rows
        self._next = next(rows, None)

    def take(self, study_id: str) -> dict:
        """Both streams come in the database's study ID order (its collation, not Python's), and every ID of
        this one is among the participants': the next entry is this participant's, or a later one's."""
        if self._next is not None and self._next[0] == study_id:
            found, self._next = self._next[1], next(self._rows, None)
            return found
        return {}


def _responses(sites, cut_at) -> Iterator[list]:
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
    for study_id, visit, instrument, score in rows.iterator(chunk_size=BATCH * 4):
        yield [study_id, visit, instrument, float(score)]


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
    # counted from the signatures, joined once (a subquery inside the count above would run per form). The
    # form's conditions are on the join itself: an IN over `records` nests two subqueries, which a planner
    # without statistics (a fresh table) ran as a nested loop for minutes.
    signed = (
        Signature.objects.filter(record__participant__in=participants, signed_at__lte=cut_at)
        .exclude(record__status=FormStatus.DRAFT)
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
