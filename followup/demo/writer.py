"""followup_write: a chunk's plans inserted, visits first, then the rows that name them; adjudication_write:
the cases of a run with their evidence, assignments and verdicts, once their reading is known."""

import datetime
from collections.abc import Mapping, Sequence

from crf.models import FormRecord
from trial.bulk import bulk_insert
from trial.models import Role

from ..models import AdjudicationCase, CaseAssignment, CaseEvidence, QuestionnaireResponse, Verdict, Visit
from ..reading_codes import new_reading_codes
from .plan import Plan
from .reading import Reading


def with_reading_codes(assignments: list[dict]) -> list[dict]:
    """The assignment rows, each with a reading code of its own (followup/reading_codes.py), none already in
    use: rows inserted in bulk take no model default. One query (the codes in use)."""
    taken = set(CaseAssignment.objects.values_list("reading_code", flat=True))
    codes = new_reading_codes(len(assignments), taken=taken)
    return [{**row, "reading_code": code} for row, code in zip(assignments, codes, strict=True)]


def _stamp(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def followup_write(
    plans: Sequence[Plan], *, users: Mapping[tuple[str, str], int], sites: Mapping[int, str]
) -> tuple[list[dict], list[dict]]:
    """Insert the plans' visits, then the responses and MRIs that name them. In a transaction. Returns the
    plans' cases and evidence with the ids of the visit and MRI record each names, for adjudication_write."""
    visits = [row for plan in plans for row in plan.visits]
    for row in visits:
        row["updated_by_id"] = users[(Role.COORDINATOR, sites[row["participant_id"]])]
    ids = {
        (pk, code): visit_id
        for visit_id, pk, code in bulk_insert(Visit, visits, returning=("id", "participant_id", "code"))
    }
    responses = []
    for plan in plans:
        for row in plan.responses:
            row = dict(row)
            row["visit_id"] = ids[(row["participant_id"], row.pop("visit_code"))]
            role = row.pop("entered_by")
            row["entered_by_id"] = users[(role, sites[row["participant_id"]])] if role else None
            responses.append(row)
    bulk_insert(QuestionnaireResponse, responses)
    mris = []
    for plan in plans:
        for row in plan.mris:
            row = dict(row)
            site = sites[row["participant_id"]]
            row["updated_by_id"] = users[(Role.COORDINATOR, site)]
            row["verified_by_id"] = users[(Role.MONITOR, "*")] if row["verified_at"] else None
            mris.append(row)
    records = {
        (pk, code): record_id
        for record_id, pk, code in bulk_insert(
            FormRecord, mris, returning=("id", "participant_id", "visit_code")
        )
    }
    cases, evidence = [], []
    for plan in plans:
        for row in plan.cases:
            row = dict(row)
            key = (row["participant_id"], row.pop("visit_code"))
            cases.append({**row, "visit_id": ids[key], "record_id": records[key]})
        for row in plan.evidence:
            row = dict(row)
            row["record_id"] = records[(row["participant_id"], row.pop("visit_code"))]
            evidence.append(row)
    return cases, evidence


def adjudication_write(cases: Sequence[dict], evidence: Sequence[dict], readings: Sequence[Reading]) -> None:
    """Insert the cases, each as its reading leaves it, then their evidence, assignments and verdicts. In a
    transaction. `readings` are in the order of `cases`; evidence names its case by participant and level."""
    rows = []
    for case, reading in zip(cases, readings, strict=True):
        rows.append(
            {
                **case,
                "status": reading.status,
                "final_fracture": reading.final_fracture,
                "final_levels": reading.final_levels,
                "final_event_date": _stamp(reading.final_event_date),
                "finalized_at": _stamp(reading.finalized_at),
                "updated_at": _stamp(reading.updated_at) or case["created_at"],
            }
        )
    ids = {
        (pk, level): case_id
        for case_id, pk, level in bulk_insert(
            AdjudicationCase, rows, returning=("id", "participant_id", "level")
        )
    }
    supporting = []
    for row in evidence:
        row = dict(row)
        supporting.append({"case_id": ids[(row.pop("participant_id"), row.pop("level"))], **row})
    bulk_insert(CaseEvidence, supporting)
    assignments = []
    for case, reading in zip(cases, readings, strict=True):
        case_id = ids[(case["participant_id"], case["level"])]
        for slot, (reader, assigned_at) in reading.assigned.items():
            assignments.append(
                {
                    "case_id": case_id,
                    "reader_id": reader,
                    "slot": slot,
                    "active": True,
                    "assigned_at": assigned_at.isoformat(),
                }
            )
    assigned = {
        (case_id, slot): assignment_id
        for assignment_id, case_id, slot in bulk_insert(
            CaseAssignment, with_reading_codes(assignments), returning=("id", "case_id", "slot")
        )
    }
    verdicts = []
    for case, reading in zip(cases, readings, strict=True):
        case_id = ids[(case["participant_id"], case["level"])]
        for slot, verdict in reading.verdicts.items():
            verdict = dict(verdict)
            verdicts.append(
                {
                    "case_id": case_id,
                    "assignment_id": assigned[(case_id, slot)],
                    "reader_id": verdict.pop("reader"),
                    **verdict,
                    "event_date": _stamp(verdict["event_date"]),
                    "signed_at": verdict["signed_at"].isoformat(),
                }
            )
    bulk_insert(Verdict, verdicts)
