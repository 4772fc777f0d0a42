"""The long tables: one per form (a row per record, with its visit, status, version and signature state),
one per repeating group (a row per repeating row), the visits, the questionnaires and the adjudication
verdicts. Each is one SELECT streamed on a server-side cursor; the first column is always the study ID (the
de-identification rule reads it). Participants enrolled by `cut_at`, in study ID order.
"""

import datetime
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from crf.engine.definitions import form_definitions
from crf.models import FormRecord, FormStatus, Signature
from followup.models import (
    AdjudicationCase,
    CaseAssignment,
    CaseStatus,
    Confidence,
    FractureLocation,
    QuestionnaireResponse,
    ReaderSlot,
    ResponseSource,
    ResponseStatus,
    Verdict,
    Visit,
    VisitKind,
    VisitState,
)
from trial.models import Participant, Site, Study

from ..replica import read_connection
from .analysis import BATCH, ORDER_BY_SALT
from .fields import field_select
from .labels import both, label_join, text_choices
from .table import Column, Table
from .table import ColumnType as T

P, S = Participant._meta.db_table, Site._meta.db_table
SIGNATURE_STATES = (
    ("signed", both(_("signed"))),
    ("invalidated", both(_("signature invalidated by a later change"))),
    ("unsigned", both(_("not signed"))),
)
ITEMS = 10  # item columns of the questionnaires table: the longest instrument (ODI) has ten


def _common() -> list[Column]:
    return [
        Column("study_id", both(_("Study ID")), T.STRING),
        Column("site", both(_("Site")), T.STRING),
    ]


def _record_columns() -> list[Column]:
    return [
        *_common(),
        Column("visit", both(_("Visit")), T.STRING),
        Column("status", both(_("Form status")), T.CHOICE, choices=text_choices(FormStatus)),
        Column("version", both(_("Record version")), T.INTEGER),
        Column("signature", both(_("Signature")), T.CHOICE, choices=SIGNATURE_STATES),
    ]


def _stream(name: str, sql: str, params: list, salt: str | None) -> Iterator[tuple]:
    """The rows of `sql` on a server-side cursor; with a de-identification salt, participants in the order
    it draws (analysis.ORDER_BY_SALT: the ORDER BY is every query's last clause, its parameter the last)."""
    if salt:
        sql, params = sql.replace("ORDER BY p.study_id", f"ORDER BY {ORDER_BY_SALT}"), [*params, salt]
    connection = read_connection()  # the snapshot's: the replica's when it reads there
    connection.ensure_connection()
    with connection.connection.cursor(name=f"export_{name}"[:60]) as cursor:
        cursor.itersize = BATCH
        cursor.execute(sql, params)
        yield from cursor


def _records_sql(form_code: str, selected: list[str], source: str = "") -> str:
    records, signatures = FormRecord._meta.db_table, Signature._meta.db_table
    return f"""
        SELECT p.study_id, s.code, r.visit_code, r.status, r.version,
            (SELECT CASE WHEN count(*) = 0 THEN NULL WHEN bool_or(g.invalidated_at IS NULL) THEN 'signed'
                ELSE 'invalidated' END
                FROM {signatures} g WHERE g.record_id = r.id),
            {", ".join(selected)}
        FROM {records} r JOIN {P} p ON p.id = r.participant_id JOIN {S} s ON s.id = p.site_id {source}
        WHERE s.study_id = %s AND p.created_at <= %s AND r.form_code = %s
        ORDER BY p.study_id, r.visit_code, r.id"""  # noqa: S608 (table names from the models; values are parameters)


def _signed(rows: Iterator[tuple]) -> Iterator[tuple]:
    for row in rows:
        yield (*row[:5], row[5] or "unsigned", *row[6:])


def form_tables(*, study: Study, cut_at: datetime.datetime, salt: str | None = None) -> Iterator[Table]:
    """A table per form of the study (enrollment forms and those collected at visits), and per group."""
    definition = study.current_version.definition
    codes = list(definition.get("forms", []))
    for visit in [
        *definition.get("visits", {}).get("schedule", []),
        definition.get("visits", {}).get("unscheduled", {}),
    ]:
        codes += [code for code in visit.get("forms", []) if code not in codes]
    definitions = form_definitions()
    for code in codes:
        form = definitions.get(code)
        if form is None:
            continue
        columns, exprs, params = field_select(form.fields, form.code, "r.data")
        sql = _records_sql(code, exprs or ["NULL"])
        yield Table(
            f"form_{code}",
            (*_record_columns(), *columns),
            _signed(_stream(code, sql, [*params, study.pk, cut_at, code], salt)),
            label_join(form.title, _("records")),
        )
        for group in form.groups:
            columns, exprs, params = field_select(group.fields, group.code, "e.value")
            sql = _records_sql(
                code,
                ["e.n", *exprs],
                "CROSS JOIN LATERAL jsonb_array_elements(CASE jsonb_typeof(r.data -> %s) WHEN 'array' "
                "THEN r.data -> %s ELSE '[]'::jsonb END) WITH ORDINALITY e(value, n)",
            ).replace(
                "ORDER BY p.study_id, r.visit_code, r.id", "ORDER BY p.study_id, r.visit_code, r.id, e.n"
            )
            yield Table(
                f"form_{code}_{group.code}",
                (*_record_columns(), Column("row", both(_("Row")), T.INTEGER), *columns),
                _signed(
                    _stream(
                        f"{code}_{group.code}",
                        sql,
                        [*params, group.code, group.code, study.pk, cut_at, code],
                        salt,
                    )
                ),
                label_join(form.title, group.label),
            )


def visits_table(*, study: Study, cut_at: datetime.datetime, salt: str | None = None) -> Table:
    visits = Visit._meta.db_table
    sql = f"""
        SELECT p.study_id, s.code, v.code, v.kind, v.sequence, v.target_date, v.window_open, v.window_close,
            v.state, v.visit_date, v.reason
        FROM {visits} v JOIN {P} p ON p.id = v.participant_id JOIN {S} s ON s.id = p.site_id
        WHERE s.study_id = %s AND p.created_at <= %s
        ORDER BY p.study_id, v.sequence, v.id"""  # noqa: S608
    columns = (
        *_common(),
        Column("visit", both(_("Visit")), T.STRING),
        Column("kind", both(_("Kind of visit")), T.CHOICE, choices=text_choices(VisitKind)),
        Column("sequence", both(_("Order")), T.INTEGER),
        Column("target_date", both(_("Target date")), T.DATE),
        Column("window_open", both(_("Window opens")), T.DATE),
        Column("window_close", both(_("Window closes")), T.DATE),
        Column("state", both(_("State")), T.CHOICE, choices=text_choices(VisitState)),
        Column("visit_date", both(_("Visit date")), T.DATE),
        Column("reason", both(_("Reason (missed, not applicable, unscheduled)")), T.STRING, free_text=True),
    )
    return Table("visits", columns, _stream("visits", sql, [study.pk, cut_at], salt), both(_("Visits")))


def questionnaires_table(*, study: Study, cut_at: datetime.datetime, salt: str | None = None) -> Table:
    responses, visits = QuestionnaireResponse._meta.db_table, Visit._meta.db_table
    items = ", ".join(
        f"CASE jsonb_typeof(q.answers) WHEN 'array' THEN q.answers ->> {i} "  # noqa: S608 (i: an int)
        f"WHEN 'object' THEN (SELECT e.value #>> '{{}}' FROM jsonb_each(q.answers) e "
        f"ORDER BY e.key OFFSET {i} LIMIT 1) END"
        for i in range(ITEMS)
    )
    sql = f"""
        SELECT p.study_id, s.code, v.code, q.instrument, q.instrument_version, q.source, q.language, q.status,
            q.completed_on, q.score::float8, q.band, q.answered, {items}
        FROM {responses} q JOIN {visits} v ON v.id = q.visit_id JOIN {P} p ON p.id = q.participant_id
        JOIN {S} s ON s.id = p.site_id
        WHERE s.study_id = %s AND p.created_at <= %s
        ORDER BY p.study_id, v.sequence, q.instrument, q.id"""  # noqa: S608
    columns = (
        *_common(),
        Column("visit", both(_("Visit")), T.STRING),
        Column("instrument", both(_("Questionnaire")), T.STRING),
        Column("instrument_version", both(_("Questionnaire version")), T.STRING),
        Column("source", both(_("Entered by")), T.CHOICE, choices=text_choices(ResponseSource)),
        Column("language", both(_("Language answered in")), T.STRING),
        Column("status", both(_("Status")), T.CHOICE, choices=text_choices(ResponseStatus)),
        Column("completed_on", both(_("Date answered")), T.DATE),
        Column("score", both(_("Score")), T.DECIMAL),
        Column("band", both(_("Band")), T.STRING),
        Column("answered", both(_("Items answered")), T.INTEGER),
        # As answered: a number, or a list where a section allows two answers ("[3, 4]").
        *(Column(f"item_{i + 1}", label_join(_("Item"), str(i + 1)), T.STRING) for i in range(ITEMS)),
    )
    return Table(
        "questionnaires",
        columns,
        _stream("questionnaires", sql, [study.pk, cut_at], salt),
        both(_("Questionnaires")),
    )


def verdicts_table(*, study: Study, cut_at: datetime.datetime, salt: str | None = None) -> Table:
    """The readers' signed verdicts, case by case: never the reader's name (the slot says which reader)."""
    cases, verdicts, slots = (
        AdjudicationCase._meta.db_table,
        Verdict._meta.db_table,
        CaseAssignment._meta.db_table,
    )
    sql = f"""
        SELECT p.study_id, s.code, c.id, c.level, c.location, c.status, c.exam_date, a.slot, d.round,
            d.fracture, (SELECT string_agg(l, ' ') FROM jsonb_array_elements_text(d.levels) l),
            d.acute_signal, d.genant_grade, d.event_date, d.confidence, d.signed_at::date, d.comment
        FROM {verdicts} d JOIN {cases} c ON c.id = d.case_id JOIN {slots} a ON a.id = d.assignment_id
        JOIN {P} p ON p.id = c.participant_id JOIN {S} s ON s.id = p.site_id
        WHERE s.study_id = %s AND p.created_at <= %s
        ORDER BY p.study_id, c.id, d.round, a.slot"""  # noqa: S608
    columns = (
        *_common(),
        Column("case", both(_("Case")), T.INTEGER, key=True),
        Column("case_level", both(_("Level in question")), T.STRING),
        Column("case_location", both(_("Location")), T.CHOICE, choices=text_choices(FractureLocation)),
        Column("case_status", both(_("Case status")), T.CHOICE, choices=text_choices(CaseStatus)),
        Column("exam_date", both(_("MRI date")), T.DATE),
        Column("reader", both(_("Reader")), T.CHOICE, choices=text_choices(ReaderSlot)),
        Column("round", both(_("Round")), T.INTEGER),
        Column("fracture", both(_("New non-operative vertebral fracture")), T.BOOLEAN),
        Column("levels", both(_("Levels")), T.STRING),
        Column("acute_signal", both(_("Acute signal on MRI")), T.BOOLEAN),
        Column("genant_grade", both(_("Genant grade")), T.INTEGER),
        Column("event_date", both(_("Event date")), T.DATE),
        Column("confidence", both(_("Confidence")), T.CHOICE, choices=text_choices(Confidence)),
        Column("signed_on", both(_("Signed on")), T.DATE),
        Column("comment", both(_("Comment")), T.STRING, free_text=True),
    )
    return Table(
        "verdicts",
        columns,
        _stream("verdicts", sql, [study.pk, cut_at], salt),
        both(_("Adjudication verdicts")),
    )


def long_tables(*, study: Study, cut_at: datetime.datetime, salt: str | None = None) -> Iterator[Table]:
    """Every long table, one after the other (each streams while it is written, then the next starts)."""
    yield from form_tables(study=study, cut_at=cut_at, salt=salt)
    yield visits_table(study=study, cut_at=cut_at, salt=salt)
    yield questionnaires_table(study=study, cut_at=cut_at, salt=salt)
    yield verdicts_table(study=study, cut_at=cut_at, salt=salt)
