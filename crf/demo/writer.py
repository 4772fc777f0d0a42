"""The database side of a plan: its rows by table (pure), and the statements that insert them."""

import datetime
import functools
from collections.abc import Iterable, Mapping, Sequence

from django.db import connection

from trial.bulk import recordset_insert_sql

from ..engine.definitions import form_definitions
from ..engine.paths import flatten, group_keys
from ..models import DataQuery, FormRecord, QueryMessage, QueryStatus, Signature, SignatureMeaning
from ..services import data_fingerprint
from .plan import DATA_MANAGER, ENTRY, INVESTIGATOR, MONITOR, FormPlan


def _stamp(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def crf_rows(plan: Sequence[FormPlan], *, users: Mapping[tuple[str, str], tuple[int, str]]) -> dict:
    """The rows of a plan by model, as dicts of column values; pure, so it can run in a worker process.

    `users` maps (role, site code or "*") to (user id, printed name). Rows name their record by participant
    and form code, and their query by record, field and check: unique among seeded rows (one record per form,
    one automatic query per check and field, at most one manual query per record), so the writer resolves
    them with a join and needs no ids from the database.
    """

    def user(role: str, site: str) -> tuple[int, str]:
        return users[(role, "*")] if role in (MONITOR, DATA_MANAGER) else users[(role, site)]

    rows = {FormRecord: [], Signature: [], DataQuery: [], QueryMessage: []}
    for form in plan:
        record = {"participant_id": form.participant, "form_code": form.form_code}
        values = flatten(form.data, group_keys(form_definitions()[form.form_code])) if form.queries else {}
        rows[FormRecord].append(
            {
                **record,
                "form_version": form.form_version,
                "status": form.status,
                "data": form.data,
                "version": form.version,
                "created_at": _stamp(form.created_at),
                "updated_at": _stamp(form.updated_at),
                "updated_by_id": user(form.entered_by, form.site)[0],
                "completed_at": _stamp(form.completed_at),
                "verified_by_id": user(MONITOR, form.site)[0] if form.verified_at else None,
                "verified_at": _stamp(form.verified_at),
                "locked_by_id": user(DATA_MANAGER, form.site)[0] if form.locked_at else None,
                "locked_at": _stamp(form.locked_at),
            }
        )
        if form.signed_at:
            signer, printed_name = user(INVESTIGATOR, form.site)
            rows[Signature].append(
                {
                    **record,
                    "signer_id": signer,
                    "printed_name": printed_name,
                    "meaning": SignatureMeaning.APPROVAL,
                    "signed_at": _stamp(form.signed_at),
                    "record_version": form.signed_version,
                    "data_sha256": data_fingerprint(form.data),
                }
            )
        for query in form.queries:
            key = {**record, "field_path": query.field_path, "check_code": query.check_code}
            rows[DataQuery].append(
                {
                    **key,
                    "auto": query.auto,
                    "status": query.status,
                    # What crf_save remembers: a person's closing stands until this value changes.
                    "trigger_value": values.get(query.field_path) if query.auto else None,
                    "resolved_by_data": False,
                    "reopened": False,
                    "raised_by_id": None if query.auto else user(MONITOR, form.site)[0],
                    "created_at": _stamp(query.steps[0].at),
                    "updated_at": _stamp(query.steps[-1].at),
                    "closed_at": _stamp(query.steps[-1].at) if query.status == QueryStatus.CLOSED else None,
                }
            )
            for step in query.steps:
                role = form.entered_by if step.role == ENTRY else step.role
                rows[QueryMessage].append(
                    {
                        **key,
                        "action": step.action,
                        "author_id": user(role, form.site)[0] if role else None,
                        "text": step.text,
                        "code": step.code,
                        "params": step.params,
                        "created_at": _stamp(step.at),
                    }
                )
    return rows


@functools.cache
def _insert_sql(model, columns: tuple[str, ...]) -> str:
    """INSERT ... SELECT from one JSON document of rows, joined to the records (and queries) they name.

    Signature and DataQuery rows carry participant_id and form_code in place of record_id; QueryMessage
    rows carry those and field_path and check_code in place of query_id.
    """
    if model is FormRecord:
        return recordset_insert_sql(model, columns)
    quote = connection.ops.quote_name
    own = [c for c in columns if c in {f.column for f in model._meta.concrete_fields}]
    # The naming columns that are not the model's own (participant_id, form_code...) are typed as text,
    # the participant as integer: they only meet the columns of the records and queries they join.
    types = {c: "text" for c in columns if c not in own} | {"participant_id": "integer"}
    joins = (
        f" JOIN {quote(FormRecord._meta.db_table)} fr"
        " ON fr.participant_id = r.participant_id AND fr.form_code = r.form_code"
        " AND fr.visit_code = ''"  # the demo writes the participant-level forms only
    )
    if model is QueryMessage:
        joins += (
            f" JOIN {quote(DataQuery._meta.db_table)} q ON q.record_id = fr.id"
            " AND q.field_path = r.field_path AND q.check_code = r.check_code"
        )
    return recordset_insert_sql(
        model,
        columns,
        types=types,
        into=["query_id" if model is QueryMessage else "record_id", *own],
        select=["q.id" if model is QueryMessage else "fr.id", *(f"r.{quote(c)}" for c in own)],
        joins=joins,
    )


def crf_write(statements: Iterable[tuple[type, tuple[str, ...], str]]) -> None:
    """Run the inserts of a chunk, records first. Call in a transaction, inside an audit_context.

    Each statement is trial.bulk's INSERT ... SELECT from one JSON document of rows (see there for why not
    bulk_create); it goes through Django's cursor, so pghistory attaches the audit context (who, why:
    seed_demo) to every event row as for any other write.
    """
    with connection.cursor() as cursor:
        for model, columns, batch in statements:
            cursor.execute(_insert_sql(model, columns), [batch])
