"""The REDCap import file of a study: one flat CSV that REDCap's Data Import Tool (or the API's Import
Records, `type=flat`) takes into a classic project built from the data dictionary
`/api/v1/forms/?export=redcap` (`crf.dictionary.redcap_rows`), unchanged.

What REDCap expects, and what this file does about it:

- **Columns.** The record ID first, then REDCap's system columns `redcap_repeat_instrument` and
  `redcap_repeat_instance` (a project with repeating instruments), then the fields in dictionary order, with
  each instrument's form status `<instrument>_complete` after its last field: the layout of REDCap's own
  "Data Import Template" [1][2]. Values are raw codes, never labels: the import takes raw values only [3].
- **Checkboxes** are one column per choice, `<field>___<code>`, 1 ticked and 0 not [2][4]. REDCap writes the
  code as `Project::getExtendedCheckboxCodeFormatted` does: `-` and `.` become `_`, letters are lower-cased,
  anything outside `[a-z0-9_]` is dropped; the Data Import Tool strips such characters from every header, so
  the dictionary's `L1` choice must be written `___l1` to be found. A record's unticked boxes are 0 (REDCap
  has no empty checkbox); the boxes of an instrument a row does not hold are left empty.
- **yesno** 1/0; **radio** the choice code; **date_ymd** YYYY-MM-DD (the import's default date format,
  `dateFormat=YMD`) [3][2]; **integer** and **number** in plain decimal notation (never 1e-05).
- **Form status** `<instrument>_complete`: 0 Incomplete, 1 Unverified, 2 Complete [5]. Ours, as at the cut:
  draft (or completed after the cut) 0; complete 1 (entered, not yet verified: REDCap's "Unverified");
  verified, signed and locked 2 (source-verified; REDCap's signatures and locks are its own actions, which
  no import can set). A group's rows carry the status of their form; an instrument without a record is empty.
- **Repeating instruments.** Every repeating group of a form is a repeating instrument named
  `<form>_<group>` in the dictionary; a form collected at visits (the follow-up MRI, at M12 and unscheduled
  visits) is a repeating instrument too, one instance per visit in the visits' order. A participant's first
  row holds the record ID and the forms collected once; each instance is a row of its own with
  `redcap_repeat_instrument` and `redcap_repeat_instance` (1, 2... per record and instrument) and only that
  instrument's fields. A row's `<instrument>_visit` says which visit it belongs to (empty for a form
  collected once), so that a follow-up MRI's level rows stay with their MRI: the dictionary gained these
  visit fields for this (crf.dictionary.redcap_variables). REDCap refuses redcap_repeat_* columns, or a row
  for an instrument not set to repeat, until a designer has set the instruments to repeat (Project Setup, or
  the API's Import Repeating Instruments): the data dictionary cannot say it [6][7]. `redcap_repeating_rows`
  lists them for that step.
- **Calculated fields** (the BMI) are left out: REDCap's import template leaves calc fields out and its
  import skips them (it computes them itself on import, or with data quality rule H), and the R client
  redcapAPI removes them before an import ("calculated fields and cannot be imported") [2][8][9].
- **@READONLY** fields (the follow-up MRI's treated level and relation, the visit fields) are imported: the
  action tag only disables the field on data entry forms, surveys and the mobile app [10].
- UTF-8, optionally with a byte-order mark for Excel (the Data Import Tool drops it with the header's other
  stray characters).

De-identified (`deid`): the record ID is the participant's hashed study ID, every date moves back by the
participant's shift, and free text (the dictionary's text fields without validation) is left empty; the
dictionary still has them. Identifying data (trial.ParticipantIdentity) is never read.

[1] https://ccts-bsc.netlify.app/redcap/data-import-tool/
[2] https://github.com/vanderbilt-redcap/redcap_rsvc/tree/HEAD/Feature%20Tests/B/Data%20Import_16 (B.3.16.0100
    the template's columns, .0400 dates and validation, .0500 radio and checkbox codes, .0800 repeating)
[3] https://github.com/redcap-tools/PyCap/blob/master/redcap/methods/records.py (`import_records`, dateFormat)
    and https://github.com/redcap-tools/PyCap/issues/152 (raw values only)
[4] https://rdocumentation.org/packages/redcapAPI/versions/2.8.0/topics/isZeroCodedCheckField
[5] https://help.redcap.ualberta.ca/help-and-faq/instrument-status
[6] https://rdrr.io/cran/redcapAPI/man/repeatingInstrumentMethods.html
[7] https://github.com/redcap-tools/PyCap/blob/master/redcap/methods/repeating.py
[8] https://github.com/vubiostat/redcapAPI/pull/348
[9] https://research.bidmc.org/redcap-core/faq/rule-h
[10] https://bdeveer.github.io/REDCap_KB_RAG/RC-AT-02_Action-Tags-Hidden-and-Readonly/
"""

import csv
import datetime
import decimal
import functools
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from crf.dictionary import RedcapVariable, redcap_variables
from crf.engine.definitions import form_definitions
from crf.models import FormRecord, FormStatus
from followup.models import Visit
from followup.schedule import visit_specs
from trial.models import Participant, Study

from .deid import Deidentifier, salted_order

# Rows fetched per round trip of each server-side cursor: a few hundred participants' records (about ten
# each) keep memory small and the round trips few.
BATCH = 2000
BOM = b"\xef\xbb\xbf"
SYSTEM_COLUMNS = ("record_id", "redcap_repeat_instrument", "redcap_repeat_instance")
VERIFIED = (FormStatus.VERIFIED, FormStatus.SIGNED, FormStatus.LOCKED)
RECORD_VALUES = ("participant_id", "form_code", "visit_code", "status", "completed_at", "verified_at", "data")


def checkbox_code(code: str) -> str:
    """A choice code as REDCap writes it in a checkbox column name (`<field>___<code>`)."""
    return re.sub(r"[^a-z0-9_]", "", code.replace("-", "_").replace(".", "_").lower())


@dataclass(frozen=True)
class _Cell:
    index: int  # the column (a checkbox's first)
    variable: RedcapVariable
    codes: tuple[str, ...] = ()  # a checkbox's choices, one column each from `index`


@dataclass(frozen=True)
class _Instrument:
    cells: tuple[_Cell, ...]
    complete: int  # the column of <instrument>_complete


@dataclass(frozen=True)
class _Layout:
    """The file's columns, where each instrument's values go, and the forms in dictionary order."""

    columns: tuple[str, ...]
    instruments: dict[str, _Instrument]
    order: dict[str, int]


def _layout() -> _Layout:
    columns = list(SYSTEM_COLUMNS)
    cells: dict[str, list[_Cell]] = {}
    instruments: dict[str, _Instrument] = {}

    def close(name: str) -> None:
        instruments[name] = _Instrument(tuple(cells[name]), len(columns))
        columns.append(f"{name}_complete")

    for variable in redcap_variables():
        if variable.instrument not in cells:
            if cells:
                close(next(reversed(cells)))
            cells[variable.instrument] = []
        if variable.field_type == "calc":
            continue
        if variable.field_type == "checkbox":
            codes = variable.spec.choice_codes
            cells[variable.instrument].append(_Cell(len(columns), variable, codes))
            columns.extend(f"{variable.name}___{checkbox_code(code)}" for code in codes)
        else:
            cells[variable.instrument].append(_Cell(len(columns), variable))
            columns.append(variable.name)
    if cells:
        close(next(reversed(cells)))
    order = {code: position for position, code in enumerate(form_definitions())}
    return _Layout(tuple(columns), instruments, order)


def redcap_repeating_rows(*, study: Study) -> list[dict]:
    """The instruments to set to repeat before importing, as REDCap's Import Repeating Instruments and Events
    takes them for a classic project (form_name, custom_form_label): every repeating group, and the forms the
    protocol collects at visits. An instance is labelled by its visit, a group row by its key (the level)."""
    visits = (study.current_version.definition if study.current_version else {}).get("visits") or {}
    at_visits = {form for spec in visit_specs(visits) for form in spec.forms}
    at_visits |= set((visits.get("unscheduled") or {}).get("forms", ()))
    labels: dict[str, str] = {}
    for variable in redcap_variables():
        form, spec = variable.form, variable.spec
        group_key = variable.group and spec is not None and spec.code == form.group(variable.group).key
        if group_key or (not variable.group and spec is None and form.code in at_visits):
            labels[variable.instrument] = f"[{variable.name}]"
    return [{"form_name": name, "custom_form_label": label} for name, label in labels.items()]


def _decimal(value) -> str:
    number = decimal.Decimal(repr(value) if isinstance(value, float) else str(value))
    return format(number, "f")


def _value(spec, value, *, shift: Callable, deid: bool) -> str:
    if value is None or value == "":
        return ""
    if spec.type == "boolean":
        return "1" if value else "0"
    if spec.type in ("integer", "exam"):  # an exam: the linked trial.ImagingExam's id
        return str(int(value))
    if spec.type == "decimal":
        return _decimal(value)
    if spec.type == "date":
        return shift(datetime.date.fromisoformat(str(value))).isoformat()
    if spec.type == "text":
        return "" if deid else str(value)
    return str(value)  # a choice code


def _fill(row: list, instrument: _Instrument, scope: dict, *, visit: str, complete: str, shift, deid) -> None:
    """Put a record's (or a group row's) values in the instrument's columns of `row`."""
    for cell in instrument.cells:
        spec = cell.variable.spec
        if spec is None:
            row[cell.index] = visit
        elif cell.codes:
            ticked = set(scope.get(spec.code) or ())
            for offset, code in enumerate(cell.codes):
                row[cell.index + offset] = "1" if code in ticked else "0"
        else:
            row[cell.index] = _value(spec, scope.get(spec.code), shift=shift, deid=deid)
    row[instrument.complete] = complete


def _complete(status, completed_at, verified_at, cut_at) -> str:
    """REDCap's form status of a record as at the cut (module docstring)."""
    if status == FormStatus.DRAFT or (completed_at is not None and completed_at > cut_at):
        return "0"
    if status not in VERIFIED or (verified_at is not None and verified_at > cut_at):
        return "1"
    return "2"


def _participant_rows(
    layout: _Layout, record_id: str, records: list, *, shift: Callable, deid: bool, cut_at: datetime.datetime
) -> Iterator[list]:
    """The participant's rows: the record ID with the forms collected once, then one row per instance."""
    width = len(layout.columns)
    main = [""] * width
    main[0] = record_id
    instances: list[list] = []
    counts: dict[str, int] = {}

    def instance(name: str) -> list:
        counts[name] = counts.get(name, 0) + 1
        row = [""] * width
        row[0:3] = record_id, name, str(counts[name])
        instances.append(row)
        return row

    forms, order = form_definitions(), layout.order
    records.sort(key=lambda record: order.get(record[0], len(order)))  # stable: visits stay in their order
    for form_code, visit, status, completed_at, verified_at, data in records:
        form = forms.get(form_code)
        if form is None:  # a form no longer defined has no place in the dictionary
            continue
        complete = _complete(status, completed_at, verified_at, cut_at)
        row = instance(form_code) if visit else main
        options = {"visit": visit, "complete": complete, "shift": shift, "deid": deid}
        _fill(row, layout.instruments[form_code], data, **options)
        for group in form.groups:
            name = f"{form_code}_{group.code}"
            for scope in data.get(group.code) or ():
                _fill(instance(name), layout.instruments[name], scope, **options)
    yield main
    yield from instances


def _records(study: Study, cut_at: datetime.datetime, salt: str | None = None):
    """The study's records as at the cut, by participant (in the participants' order: deid.salted_order),
    each participant's visits in their order."""
    sequence = Visit.objects.filter(participant=OuterRef("participant_id"), code=OuterRef("visit_code"))
    return (
        FormRecord.objects.filter(
            participant__site__study=study, participant__created_at__lte=cut_at, created_at__lte=cut_at
        )
        .annotate(visit_sequence=Subquery(sequence.values("sequence")[:1]))
        .order_by(
            *salted_order(salt, "participant__study_id", "participant_id"),
            "visit_sequence",
            "visit_code",
            "form_code",
        )
        .values_list(*RECORD_VALUES)
        .iterator(chunk_size=BATCH)
    )


def redcap_write(
    *, study: Study, out, cut_at: datetime.datetime, deid: Deidentifier | None = None, bom: bool = False
) -> int:
    """Write the study's REDCap import file to `out` (a binary file opened for writing); the number of rows
    written after the header.

    Participants created after `cut_at`, and records created after it, are left out; a form's status is as at
    the cut. Streamed: participants and records are read in batches from two server-side cursors (two
    queries, whatever the study's size) and each participant's rows are written before the next is read. Run
    it inside a REPEATABLE READ transaction so that the two cursors see the same data.
    """
    layout = _layout()
    if bom:
        out.write(BOM)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(layout.columns)
        participants = (
            Participant.objects.filter(site__study=study, created_at__lte=cut_at)
            .order_by(*salted_order(deid.salt if deid else None, "study_id", "pk"))
            .values_list("pk", "study_id")
            .iterator(chunk_size=BATCH)
        )
        records = _records(study, cut_at, deid.salt if deid else None)
        pending = next(records, None)
        written = 0
        for pk, study_id in participants:
            # Both streams list the participants in the same order, the records' only those enrolled by the
            # cut: the next record is this participant's, or a later one's.
            mine = []
            while pending is not None and pending[0] == pk:
                mine.append(pending[1:])
                pending = next(records, None)
            if deid is None:
                record_id, shift = study_id, _same
            else:
                record_id, shift = deid.study_id(study_id), functools.partial(deid.date, study_id)
            options = {"shift": shift, "deid": deid is not None, "cut_at": cut_at}
            for row in _participant_rows(layout, record_id, mine, **options):
                writer.writerow(row)
                written += 1
        text.flush()
    finally:
        text.detach()  # the caller's file stays open
    return written


def _same(day: datetime.date) -> datetime.date:
    return day
