"""After the load: every acknowledged write against the database and the audit trail (pghistory's events),
and the timings summed up per operation.

A write is acknowledged when the server answered 2xx; the client logged what it sent and the id or version
(ETag) it got back. Lost: the row, or its audit event at that version, is missing or holds other values.
Overwritten: two writes acknowledged as the same version of one record (a save that did not see the other),
or a record whose last state is not its last acknowledged write. Errors: any request whose status was not
one its operation expects (a 409 on a stale form is expected: the coordinator reads again).
"""

import json
import math
from collections import Counter, defaultdict
from pathlib import Path

from crf.models import FormRecord
from followup.models import PatientLink, QuestionnaireResponse
from trial.models import Participant, Screening


def _events(model):
    """The pghistory event model of a tracked model (its events are pgh_obj's related_name "events")."""
    return model.events.field.model


def read_lines(path: Path) -> dict[str, list[dict]]:
    kinds = defaultdict(list)
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            kinds[entry.pop("kind")].append(entry)
    return kinds


def percentile(sorted_ms: list[float], share: float) -> float:
    """Nearest rank: the smallest time that `share` of the requests did not exceed."""
    return sorted_ms[max(math.ceil(share * len(sorted_ms)) - 1, 0)]


def latency(timings: list[dict]) -> dict[str, dict]:
    by_name = defaultdict(list)
    for entry in timings:
        by_name[entry["name"]].append(entry)
    table = {}
    for name, entries in sorted(by_name.items()):
        times = sorted(entry["ms"] for entry in entries)
        table[name] = {
            "requests": len(entries),
            "p50_ms": round(percentile(times, 0.50), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "errors": sum(entry["error"] for entry in entries),
            "statuses": dict(sorted(Counter(str(entry["status"]) for entry in entries).items())),
        }
    return table


def check_screenings(acks: list[dict], problems: list[str]) -> None:
    found = Screening.objects.select_related("site", "screened_by").in_bulk([a["id"] for a in acks])
    inserted = set(
        _events(Screening)
        .objects.filter(pgh_obj_id__in=list(found), pgh_label="insert")
        .values_list("pgh_obj_id", flat=True)
    )
    for ack in acks:
        screening = found.get(ack["id"])
        if screening is None:
            problems.append(f"screening {ack['id']}: acknowledged, not in the database")
        elif (screening.site.code, screening.screened_by.get_username(), screening.age) != (
            ack["site"],
            ack["user"],
            ack["age"],
        ):
            problems.append(f"screening {ack['id']}: stored values differ from those acknowledged")
        elif screening.pk not in inserted:
            problems.append(f"screening {ack['id']}: no insert event in the audit trail")


def check_enrollments(acks: list[dict], problems: list[str]) -> None:
    study_ids = Counter(ack["study_id"] for ack in acks)
    problems += [f"study ID {sid}: acknowledged {n} times" for sid, n in study_ids.items() if n > 1]
    found = Participant.objects.in_bulk(list(study_ids), field_name="study_id")
    inserted = set(
        _events(Participant)
        .objects.filter(pgh_obj_id__in=[p.pk for p in found.values()], pgh_label="insert")
        .values_list("pgh_obj_id", flat=True)
    )
    for ack in acks:
        participant = found.get(ack["study_id"])
        if participant is None:
            problems.append(f"participant {ack['study_id']}: acknowledged, not in the database")
        elif participant.screening_id != ack["screening"]:
            problems.append(f"participant {ack['study_id']}: not the screening acknowledged")
        elif participant.pk not in inserted:
            problems.append(f"participant {ack['study_id']}: no insert event in the audit trail")


def check_versions(
    label: str, record, acks: list[dict], value_of, sent_of, problems: list[str]
) -> tuple[int, int]:
    """One record's acknowledged versions against its audit events and its last state; (acknowledged,
    committed without an acknowledgement, e.g. a request cut at the end of the run)."""
    versions = Counter(ack["version"] for ack in acks)
    problems += [f"{label} v{v}: acknowledged {n} times (overwritten)" for v, n in versions.items() if n > 1]
    events = defaultdict(list)
    for version, data in (
        _events(type(record)).objects.filter(pgh_obj_id=record.pk).values_list("version", value_of.field)
    ):
        events[version].append(value_of(data))
    for ack in acks:
        if sent_of(ack) not in events.get(ack["version"], []):
            problems.append(f"{label} v{ack['version']}: acknowledged, not in the audit trail as sent (lost)")
    last = max(acks, key=lambda ack: ack["version"])
    if record.version == last["version"] and value_of(getattr(record, value_of.field)) != sent_of(last):
        problems.append(f"{label}: its last state is not its last acknowledged write (overwritten)")
    if record.version < last["version"]:
        problems.append(f"{label}: at v{record.version}, behind its acknowledged v{last['version']} (lost)")
    return len(acks), max(record.version - last["version"], 0)


class Field:
    """Reads one value out of a JSON column (what the check compares), naming the column it reads."""

    def __init__(self, field: str, key: str):
        self.field, self.key = field, key

    def __call__(self, data):
        return (data or {}).get(self.key)


def check_forms(acks: list[dict], problems: list[str]) -> int:
    unacknowledged = 0
    by_form = defaultdict(list)
    for ack in acks:
        by_form[(ack["study_id"], ack["form"])].append(ack)
    for (study_id, form), form_acks in by_form.items():
        record = FormRecord.objects.get(participant__study_id=study_id, form_code=form, visit_code="")
        label = f"form {form} of {study_id}"
        value = Field("data", "operative_time")
        unacknowledged += check_versions(
            label, record, form_acks, value, lambda ack: ack["operative_time"], problems
        )[1]
    return unacknowledged


def check_patients(acks: list[dict], problems: list[str]) -> int:
    unacknowledged = 0
    by_link = defaultdict(list)
    for ack in acks:
        by_link[ack["link"]].append(ack)
    responses = dict(PatientLink.objects.filter(pk__in=list(by_link)).values_list("pk", "response_id"))
    records = QuestionnaireResponse.objects.in_bulk(list(responses.values()))
    for link, link_acks in by_link.items():
        record = records[responses[link]]
        value = Field("answers", "pain")
        unacknowledged += check_versions(
            f"patient link {link}", record, link_acks, value, lambda ack: ack["pain"], problems
        )[1]
    return unacknowledged


def check(path: Path) -> dict:
    """The run's summary: acknowledged writes by kind, problems (lost or overwritten), errors, latency."""
    kinds = read_lines(path)
    problems: list[str] = []
    check_screenings(kinds["screening"], problems)
    check_enrollments(kinds["enrollment"], problems)
    unacknowledged = check_forms(kinds["form"], problems) + check_patients(kinds["patient"], problems)
    table = latency(kinds["timing"])
    return {
        "acknowledged": {kind: len(kinds[kind]) for kind in ("screening", "enrollment", "form", "patient")},
        "form_conflicts": len(kinds["form_conflict"]),
        "committed_unacknowledged": unacknowledged,
        "problems": problems,
        "errors": sum(row["errors"] for row in table.values()),
        "latency": table,
    }
