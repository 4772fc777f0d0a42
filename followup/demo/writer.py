"""followup_write: a chunk's plans inserted, visits first, then the rows that name them."""

from collections.abc import Mapping, Sequence

from crf.models import FormRecord
from trial.bulk import bulk_insert
from trial.models import Role

from ..models import AdjudicationCase, QuestionnaireResponse, Visit
from .plan import Plan


def followup_write(plans: Sequence[Plan], *, users: Mapping[tuple[str, str], int], sites: Mapping[int, str]):
    """Insert the plans' rows: visits, then the responses, MRIs and cases that name them. In a transaction."""
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
    cases = []
    for plan in plans:
        for row in plan.cases:
            row = dict(row)
            key = (row["participant_id"], row.pop("visit_code"))
            cases.append({**row, "visit_id": ids[key], "record_id": records[key]})
    bulk_insert(AdjudicationCase, cases)
