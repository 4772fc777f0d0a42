"""reports.exports.redcap: the REDCap import file read back with pandas and compared with the database value
by value, every column and code checked against the REDCap data dictionary as the API serves it, de-identified
without any identifying value, as at the cut, streamed in a fixed number of queries."""

import csv
import datetime
import io
import re

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crf.dictionary import redcap_variables
from crf.engine.definitions import form_definitions
from crf.models import FormRecord, FormStatus
from reports.exports import redcap
from reports.exports.deid import Deidentifier, salt_new
from reports.exports.redcap import checkbox_code, redcap_repeating_rows, redcap_write
from trial.models import Participant, ParticipantIdentity, Role, Study

from ...conftest import client_for, frozen_clock
from ..test_dataset import CUT, seed

pytestmark = pytest.mark.django_db

SYSTEM = ("record_id", "redcap_repeat_instrument", "redcap_repeat_instance")
STATUS_CODES = {"draft": "0", "complete": "1", "verified": "2", "signed": "2", "locked": "2"}


def export(study, **options) -> bytes:
    out = io.BytesIO()
    rows = redcap_write(study=study, out=out, cut_at=options.pop("cut_at", CUT), **options)
    assert rows == len(read(out.getvalue()))
    return out.getvalue()


def read(content: bytes) -> pd.DataFrame:
    """The file as REDCap reads it: every value a string, nothing guessed."""
    return pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def names() -> dict:
    """(form, group, field) -> (REDCap name, instrument); (form, group, None) -> the instrument's visit."""
    return {
        (v.form.code, v.group, v.spec.code if v.spec else None): (v.name, v.instrument)
        for v in redcap_variables()
    }


def assert_cell(frame_row, name: str, spec, expected) -> None:
    """One value of the file against the stored value, read back by the field's type."""
    where = f"{frame_row['record_id']} {name}"
    if spec.type == "multichoice":
        ticks = {code: frame_row[f"{name}___{checkbox_code(code)}"] for code in spec.choice_codes}
        assert set(ticks.values()) <= {"0", "1"}, where
        assert {code for code, tick in ticks.items() if tick == "1"} == set(expected or ()), where
        return
    cell = frame_row[name]
    if expected is None:
        assert cell == "", where
    elif spec.type == "boolean":
        assert cell == ("1" if expected else "0"), where
    elif spec.type == "integer":
        assert int(cell) == expected, where
    elif spec.type == "decimal":
        assert float(cell) == pytest.approx(expected, abs=1e-9) and "e" not in cell.lower(), where
    elif spec.type == "date":
        assert datetime.date.fromisoformat(cell) == datetime.date.fromisoformat(expected), where
    else:
        assert cell == str(expected), where


def test_the_file_holds_every_value_of_the_database(seeded):
    frame = read(export(seeded))
    variables, forms = names(), form_definitions()
    participants = Participant.objects.filter(site__study=seeded)
    main = frame[frame.redcap_repeat_instrument == ""]
    assert sorted(main.record_id) == sorted(participants.values_list("study_id", flat=True))
    assert "baseline_bmi" not in frame.columns  # a calculated field: REDCap computes it
    expected_rows = len(main)
    records = FormRecord.objects.filter(participant__site__study=seeded).select_related("participant")
    assert records.filter(visit_code="U1").exists() and records.filter(visit_code="M12").exists()
    for record in records:
        form = forms[record.form_code]
        sid, visit = record.participant.study_id, record.visit_code
        assert record.created_at <= CUT and (record.completed_at or CUT) <= CUT
        mine = frame[frame.record_id == sid]
        if visit:
            visit_field, _instrument = variables[(form.code, "", None)]
            row = mine[(mine.redcap_repeat_instrument == form.code) & (mine[visit_field] == visit)]
            expected_rows += 1
        else:
            row = mine[mine.redcap_repeat_instrument == ""]
        assert len(row) == 1, (sid, form.code, visit)
        row = row.iloc[0]
        assert row[f"{form.code}_complete"] == STATUS_CODES[record.status]
        for spec in form.fields:
            name, _instrument = variables[(form.code, "", spec.code)]
            if name != "baseline_bmi":
                assert_cell(row, name, spec, record.data.get(spec.code))
        for group in form.groups:
            visit_field, instrument = variables[(form.code, group.code, None)]
            rows = mine[(mine.redcap_repeat_instrument == instrument) & (mine[visit_field] == visit)]
            stored = record.data.get(group.code) or []
            assert len(rows) == len(stored), (sid, instrument, visit)
            expected_rows += len(stored)
            for frame_row, data_row in zip(rows.itertuples(index=False), stored, strict=True):
                frame_row = frame_row._asdict()
                assert frame_row[f"{instrument}_complete"] == STATUS_CODES[record.status]
                for spec in group.fields:
                    name, _instrument = variables[(form.code, group.code, spec.code)]
                    assert_cell(frame_row, name, spec, data_row.get(spec.code))
    assert len(frame) == expected_rows  # nothing else: no row the database has not
    # Instances are numbered 1, 2... per record and instrument; a form collected at two visits is two.
    repeating = frame[frame.redcap_repeat_instrument != ""]
    for (_sid, _instrument), group in repeating.groupby(["record_id", "redcap_repeat_instrument"]):
        assert sorted(int(n) for n in group.redcap_repeat_instance) == list(range(1, len(group) + 1))
    mris = repeating[repeating.redcap_repeat_instrument == "followup_mri"]
    assert mris.groupby("record_id").size().max() == 2


def _choices(row: dict) -> list[str]:
    text = row["Choices, Calculations, OR Slider Labels"]
    return [choice.split(",", 1)[0].strip() for choice in text.split("|")] if text else []


def test_every_column_and_code_is_the_dictionarys(seeded, make_user):
    # The dictionary as a REDCap administrator downloads it to build the project.
    manager = make_user("dm", role=Role.DATA_MANAGER, study=seeded)
    response = client_for(manager).get("/api/v1/forms/", {"export": "redcap"})
    assert response.status_code == 200
    dictionary = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    fields = {row["Variable / Field Name"]: row for row in dictionary}
    instrument_of = {name: row["Form Name"] for name, row in fields.items()}
    instruments = set(instrument_of.values())
    frame = read(export(seeded))
    assert list(frame.columns[:3]) == list(SYSTEM) and dictionary[0]["Variable / Field Name"] == "record_id"

    column_instrument = {}
    for column in frame.columns:
        values = set(frame[column]) - {""}
        if column in SYSTEM:
            continue
        if column.endswith("_complete") and column.removesuffix("_complete") in instruments:
            column_instrument[column] = column.removesuffix("_complete")
            assert values <= {"0", "1", "2"}, column
            continue
        field, _, code = column.partition("___")
        assert field in fields, f"{column} is not a field of the dictionary"
        row = fields[field]
        column_instrument[column] = row["Form Name"]
        kind, validation = row["Field Type"], row["Text Validation Type OR Show Slider Number"]
        assert kind != "calc", column
        if code:
            assert kind == "checkbox", column
            # REDCap's column name of a choice: lower case, `-` and `.` as `_`, nothing else but [a-z0-9_].
            codes = {re.sub("[^a-z0-9_]", "", re.sub("[-.]", "_", c).lower()) for c in _choices(row)}
            assert code in codes, column
            assert values <= {"0", "1"}, column
        elif kind == "radio":
            assert values <= set(_choices(row)), column
        elif kind == "yesno":
            assert values <= {"0", "1"}, column
        elif kind == "checkbox":
            pytest.fail(f"{column}: a checkbox has a column per choice, never its own")
        elif validation in ("integer", "number"):
            low, high = row["Text Validation Min"], row["Text Validation Max"]
            for value in values:
                number = int(value) if validation == "integer" else float(value)
                assert re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value), (column, value)
                assert low == "" or float(low) <= number, (column, value)
                assert high == "" or number <= float(high), (column, value)
        elif validation == "date_ymd":
            for value in values:
                assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value), (column, value)
                datetime.date.fromisoformat(value)
        else:
            assert (kind, validation) == ("text", ""), column
    # Every importable field of the dictionary is there, and every instrument's status.
    for name, row in fields.items():
        if row["Field Type"] == "checkbox":
            for code in _choices(row):
                assert f"{name}___{checkbox_code(code)}" in frame.columns
        elif row["Field Type"] != "calc":
            assert name in frame.columns, name
    assert {f"{name}_complete" for name in instruments} <= set(frame.columns)
    # A row holds one instrument's values when it is an instance, and no repeating instrument's otherwise.
    repeating = set(frame.redcap_repeat_instrument) - {""}
    assert repeating <= instruments and "followup_mri" in repeating
    for row in frame.to_dict("records"):
        filled = {column_instrument[c] for c, value in row.items() if c not in SYSTEM and value != ""}
        if row["redcap_repeat_instrument"]:
            assert filled == {row["redcap_repeat_instrument"]}, row["record_id"]
            assert int(row["redcap_repeat_instance"]) >= 1
        else:
            assert not filled & repeating and row["redcap_repeat_instance"] == "", row["record_id"]
    # The instruments to set to repeat before the import are those the file repeats.
    assert {r["form_name"] for r in redcap_repeating_rows(study=seeded)} == repeating


def test_deidentified_hashes_ids_shifts_dates_and_empties_free_text(seeded):
    deid = Deidentifier(salt_new())
    plain, hidden = export(seeded), export(seeded, deid=deid)
    plain_rows, hidden_rows = read(plain), read(hidden)
    study_ids = list(Participant.objects.filter(site__study=seeded).values_list("study_id", flat=True))
    assert set(hidden_rows.record_id) == {deid.study_id(sid) for sid in study_ids}
    text = hidden.decode()
    assert not any(sid in text for sid in study_ids)
    dates = {v.name for v in redcap_variables() if v.spec and v.spec.type == "date"}
    free_text = {v.name for v in redcap_variables() if v.spec and v.spec.type == "text"}
    assert len(plain_rows) == len(hidden_rows)
    # Not in the study IDs' order (row k must not give away the k-th study ID): each participant's rows are
    # matched through the hash, in their own order.
    hidden_order = list(dict.fromkeys(hidden_rows.record_id))
    assert hidden_order != [deid.study_id(sid) for sid in dict.fromkeys(plain_rows.record_id)]
    by_hash: dict[str, list] = {}
    for after in hidden_rows.to_dict("records"):
        by_hash.setdefault(after["record_id"], []).append(after)
    pairs = [
        (before, by_hash[deid.study_id(before["record_id"])].pop(0))
        for before in plain_rows.to_dict("records")
    ]
    shifted = emptied = 0
    for before, after in pairs:
        assert after["record_id"] == deid.study_id(before["record_id"])
        days = datetime.timedelta(days=deid.shift_days(before["record_id"]))
        for column, value in before.items():
            if column == "record_id":
                continue
            if column in dates and value:
                assert datetime.date.fromisoformat(after[column]) == datetime.date.fromisoformat(value) - days
                shifted += 1
            elif column in free_text:
                assert after[column] == ""
                emptied += bool(value)
            else:
                assert after[column] == value, column
    assert shifted > 100 and emptied > 50


def test_no_identifying_value_in_either_file(seeded):
    content = (export(seeded) + export(seeded, deid=Deidentifier(salt_new()))).decode()
    identities = ParticipantIdentity.objects.filter(participant__site__study=seeded)
    assert identities.count() == 30  # the seeded fixture's participants
    checked = 0
    for identity in identities:
        for value in (
            identity.full_name,
            identity.phone,
            identity.national_id,
            identity.hospital_record_number,
            identity.email,
        ):
            if value:
                assert value not in content
                checked += 1
    assert checked >= 80


def test_as_at_the_cut_and_the_form_status_mapping(seeded):
    late = CUT + datetime.timedelta(hours=1)
    early = CUT - datetime.timedelta(hours=1)
    first, second, third, fourth = Participant.objects.filter(site__study=seeded).order_by("pk")[:4]
    Participant.objects.filter(pk=first.pk).update(created_at=late)  # enrolled after the cut
    records = FormRecord.objects.filter(visit_code="")
    records.filter(participant=second, form_code="discharge").update(created_at=late)  # entered after it
    stamps = {"completed_at": early, "verified_at": early}
    expected = {}
    for participant, status, form, code in (
        (second, FormStatus.DRAFT, "baseline", "0"),
        (second, FormStatus.COMPLETE, "dxa", "1"),
        (second, FormStatus.VERIFIED, "procedure", "2"),
        (third, FormStatus.SIGNED, "baseline", "2"),
        (third, FormStatus.LOCKED, "dxa", "2"),
    ):
        records.filter(participant=participant, form_code=form).update(status=status, **stamps)
        expected[(participant.study_id, form)] = code
    # Completed after the cut: not complete at it; verified after it: complete, not verified.
    mine = records.filter(participant=fourth)
    mine.filter(form_code="baseline").update(status=FormStatus.COMPLETE, completed_at=late)
    mine.filter(form_code="dxa").update(status=FormStatus.LOCKED, completed_at=early, verified_at=late)
    expected[(fourth.study_id, "baseline")], expected[(fourth.study_id, "dxa")] = "0", "1"

    frame = read(export(seeded))
    main = frame[frame.redcap_repeat_instrument == ""].set_index("record_id")
    assert first.study_id not in set(frame.record_id)
    assert main.loc[second.study_id, "discharge_discharge_date"] == ""
    assert main.loc[second.study_id, "discharge_complete"] == ""  # no record at the cut: no status
    for (study_id, form), code in expected.items():
        assert main.loc[study_id, f"{form}_complete"] == code, (study_id, form)
    # The same cut a day later leaves the late participant in.
    later = read(export(seeded, cut_at=late + datetime.timedelta(days=1)))
    assert first.study_id in set(later.record_id)


def test_a_fixed_number_of_queries_whatever_the_size(study):
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 10)
    study = Study.objects.get(pk=study.pk)
    with CaptureQueriesContext(connection) as small:
        export(study)
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 30, add=True)
    with CaptureQueriesContext(connection) as large:
        frame = read(export(study))
    assert frame[frame.redcap_repeat_instrument == ""].shape[0] == 40
    assert len(large.captured_queries) == len(small.captured_queries) == 2


class Recording(io.BytesIO):
    """A file that remembers the size of each write."""

    def __init__(self):
        super().__init__()
        self.writes: list[int] = []

    def write(self, data) -> int:
        self.writes.append(len(data))
        return super().write(data)


def test_streamed_with_a_byte_order_mark_when_asked(seeded, monkeypatch):
    monkeypatch.setattr(redcap, "BATCH", 7)  # several round trips of each cursor
    out = Recording()
    rows = redcap_write(study=seeded, out=out, cut_at=CUT, bom=True)
    content = out.getvalue()
    assert content.startswith(redcap.BOM) and read(content).shape[0] == rows
    # Written as it is read: many writes, each small beside the file.
    assert len(out.writes) > 5 and max(out.writes) < len(content) / 4
    plain = export(seeded)
    assert not plain.startswith(redcap.BOM) and plain == content[len(redcap.BOM) :]
    assert plain.startswith(b"record_id,redcap_repeat_instrument,redcap_repeat_instance,baseline_visit,")


def test_checkbox_codes_as_redcap_writes_them():
    codes = ("L1", "t2_fs", "-1", "1.5", "B")
    assert [checkbox_code(code) for code in codes] == ["l1", "t2_fs", "_1", "1_5", "b"]


def test_the_instruments_to_set_to_repeat(study):
    rows = redcap_repeating_rows(study=study)
    assert rows == [
        {"form_name": "fracture_levels_fractures", "custom_form_label": "[fractures_level]"},
        {"form_name": "qmri_vertebrae", "custom_form_label": "[vertebrae_level]"},
        {"form_name": "procedure_levels", "custom_form_label": "[levels_level]"},
        {"form_name": "followup_mri", "custom_form_label": "[followup_mri_visit]"},
        {"form_name": "followup_mri_levels", "custom_form_label": "[followup_mri_levels_level]"},
    ]
