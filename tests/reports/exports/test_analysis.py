"""The analysis dataset and the long tables, compared with the database read another way (the ORM, the
endpoint service, followup's MCID rule, hand-worked values): every participant, typed, in a fixed number of
queries; de-identified as promised; never an identifying value."""

import datetime
from decimal import Decimal

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from crf.models import FormRecord, Signature
from followup.instruments.mcid import change_from_baseline
from followup.models import QuestionnaireResponse, ResponseStatus, Verdict, Visit
from followup.selectors.endpoint import study_endpoint, study_today
from reports.exports.analysis import AnalysisDataset
from reports.exports.deid import Deidentifier, table_deidentify
from reports.exports.long import long_tables
from trial.models import Participant, ParticipantIdentity, Site

from ...conftest import frozen_clock, load_study
from ..test_dataset import seed

TODAY = datetime.date(2026, 11, 21)
CUT = datetime.datetime(2026, 11, 21, 2, 0, tzinfo=datetime.UTC)

pytestmark = pytest.mark.django_db


def rows_by_id(table) -> dict[str, dict]:
    names = [column.name for column in table.columns]
    return {row[0]: dict(zip(names, row, strict=True)) for row in table.rows}


def test_one_row_per_participant_with_every_field_as_recorded(seeded):
    dataset = AnalysisDataset(seeded)
    rows = rows_by_id(dataset.table(cut_at=CUT))
    participants = Participant.objects.filter(site__study=seeded)
    assert set(rows) == set(participants.values_list("study_id", flat=True))
    assert len(rows) == 30  # the seeded fixture's (conftest.py)
    for record in FormRecord.objects.filter(participant__in=participants, visit_code="").select_related(
        "participant"
    ):
        row = rows[record.participant.study_id]
        assert row[f"{record.form_code}_status"] == record.status
        for key, value in record.data.items():
            name = f"{record.form_code}_{key}"
            if isinstance(value, list) and value and isinstance(value[0], str):  # a multiple choice
                for code in value:
                    assert row[f"{name}___{code}"] is True
            elif isinstance(value, list | dict):
                continue  # a repeating group: summarised (below) and in the long tables
            elif name.endswith("_date") or key in ("onset_date", "exam_date", "mri_date"):
                assert row[name] == (datetime.date.fromisoformat(value) if value else None)
            else:
                assert row[name] == value, name


def test_the_derived_values_by_hand(seeded):
    """One participant's derived values worked out here from the records themselves."""
    dataset = AnalysisDataset(seeded)
    rows = rows_by_id(dataset.table(cut_at=CUT))
    participant = (
        Participant.objects.filter(site__study=seeded, forms__form_code="qmri").order_by("pk").first()
    )
    row = rows[participant.study_id]
    forms = {r.form_code: r.data for r in FormRecord.objects.filter(participant=participant, visit_code="")}
    dxa = forms["dxa"]
    assert row["t_score_min"] == min(
        dxa[k] for k in ("t_lumbar", "t_femoral_neck", "t_total_hip") if dxa.get(k) is not None
    )
    vertebrae = forms["qmri"]["vertebrae"]
    for entry in vertebrae:
        assert row[f"pdff_{entry['level']}"] == entry["pdff"]
        assert row[f"r2star_{entry['level']}"] == entry["r2star"]
    kept = [v["pdff"] for v in vertebrae if not v["fractured"] and not v["cemented"]]
    assert row["pdff_mean"] == pytest.approx(sum(kept) / len(kept), abs=0.0005)
    levels = forms["procedure"]["levels"]
    assert row["treated_n"] == len(levels)
    assert row["cement_volume"] == pytest.approx(sum(level["cement_volume"] for level in levels))
    assert row["leakage"] is any(level["leakage"] for level in levels)
    assert row["fractures_n"] == len(forms["fracture_levels"]["fractures"])


def test_scores_changes_and_mcid_agree_with_followups_rule(seeded):
    rows = rows_by_id(AnalysisDataset(seeded).table(cut_at=CUT))
    checked = 0
    responses = QuestionnaireResponse.objects.filter(
        participant__site__study=seeded,
        status=ResponseStatus.FINAL,
        score__isnull=False,
        visit__kind="scheduled",
    ).select_related("participant", "visit")
    scores = {(r.participant.study_id, r.instrument, r.visit.code): r.score for r in responses}
    for (study_id, instrument, visit), score in scores.items():
        row = rows[study_id]
        assert row[f"{instrument}_{visit}"] == float(score)
        baseline = scores.get((study_id, instrument, "BL"))
        if visit != "BL" and baseline is not None:
            change = change_from_baseline(instrument, baseline=baseline, value=score)
            assert row[f"{instrument}_{visit}_change"] == float(change.change)
            assert row[f"{instrument}_{visit}_mcid"] is change.mcid
            assert row[f"{instrument}_{visit}_mcid30"] is change.mcid_relative
            checked += 1
    assert checked > 20


@given(
    baseline=st.integers(min_value=0, max_value=1000),
    value=st.integers(min_value=0, max_value=1000),
    instrument=st.sampled_from(["odi", "vas"]),
)
def test_the_integer_tenths_rule_is_followups_mcid_rule(baseline, value, instrument):
    """The export's change in integer tenths (for speed) against followup's Decimal rule, the reference."""
    from reports.exports.analysis import AnalysisDataset as Dataset

    reference = change_from_baseline(instrument, baseline=Decimal(baseline) / 10, value=Decimal(value) / 10)
    dataset = Dataset.__new__(Dataset)
    from followup.instruments.registry import instrument_def

    spec = instrument_def(instrument)
    dataset.instruments_rule = [(instrument, ["BL", "M3"], True, int(spec.mcid * 10), spec.lower_is_better)]
    out = dataset._scores({f"{instrument} BL": baseline, f"{instrument} M3": value})
    assert out == [
        baseline / 10,
        value / 10,
        float(reference.change),
        reference.mcid,
        reference.mcid_relative,
    ]


def test_the_endpoint_is_the_endpoint_services(seeded):
    rows = rows_by_id(AnalysisDataset(seeded).table(cut_at=CUT))
    day = study_today(sites=Site.objects.filter(study=seeded), at=CUT)
    ends = list(study_endpoint(study=seeded, data_cut=day))
    assert len(ends) == len(rows)
    assert any(end.event for end in ends) and any(not end.event for end in ends)
    for end in ends:
        row = rows[end.study_id]
        assert row["endpoint_event"] is end.event
        assert row["endpoint_days"] == end.days
        assert row["endpoint_date"] == (end.event_date or end.censor_date)
        assert row["endpoint_censor"] == end.censor_reason
        assert row["endpoint_location"] == end.location


def test_visits_as_recorded(seeded):
    rows = rows_by_id(AnalysisDataset(seeded).table(cut_at=CUT))
    for visit in Visit.objects.filter(participant__site__study=seeded, kind="scheduled").select_related(
        "participant"
    ):
        row = rows[visit.participant.study_id]
        assert row[f"visit_{visit.code}"] == visit.state
        assert row[f"visit_{visit.code}_date"] == visit.visit_date


def test_a_participant_enrolled_after_the_cut_is_left_out(seeded):
    before = CUT - datetime.timedelta(days=400)
    ids = set(rows_by_id(AnalysisDataset(seeded).table(cut_at=before)))
    expected = set(
        Participant.objects.filter(site__study=seeded, created_at__lte=before).values_list(
            "study_id", flat=True
        )
    )
    assert ids == expected and len(ids) < 30


def count_queries(study, monkeypatch) -> int:
    """Django's queries and the exports' own server-side cursors (psycopg, not seen by Django): counted by
    wrapping ServerCursor.execute, which still runs."""
    raw = []
    execute = psycopg.ServerCursor.execute
    monkeypatch.setattr(
        psycopg.ServerCursor, "execute", lambda self, *a, **k: raw.append(a[0]) or execute(self, *a, **k)
    )
    with CaptureQueriesContext(connection) as queries:
        for table in [AnalysisDataset(study).table(cut_at=CUT), *long_tables(study=study, cut_at=CUT)]:
            for _row in table.rows:
                pass
    monkeypatch.undo()
    return len(queries) + len(raw)


def test_a_fixed_number_of_queries_whatever_the_number_of_participants(study, monkeypatch):
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 10)
    study.refresh_from_db()
    count_queries(study, monkeypatch)  # warm: the form definitions and the protocol cached
    small = count_queries(study, monkeypatch)
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 30, add=True)
    assert count_queries(study, monkeypatch) == small
    assert small < 30


def test_long_tables_hold_every_record_row_visit_response_and_verdict(seeded):
    tables = {table.name: table for table in long_tables(study=seeded, cut_at=CUT)}
    counts = {name: sum(1 for _ in table.rows) for name, table in tables.items()}
    records = FormRecord.objects.filter(participant__site__study=seeded)
    assert counts["form_baseline"] == records.filter(form_code="baseline").count()
    assert counts["form_followup_mri"] == records.filter(form_code="followup_mri").count()
    assert counts["form_qmri_vertebrae"] == sum(
        len(r.data.get("vertebrae") or []) for r in records.filter(form_code="qmri")
    )
    assert counts["visits"] == Visit.objects.filter(participant__site__study=seeded).count()
    assert (
        counts["questionnaires"]
        == QuestionnaireResponse.objects.filter(participant__site__study=seeded).count()
    )
    assert counts["verdicts"] == Verdict.objects.filter(case__participant__site__study=seeded).count() > 0


def test_signature_state_per_record(seeded):
    table = next(t for t in long_tables(study=seeded, cut_at=CUT) if t.name == "form_procedure")
    states = {(row[0]): row[5] for row in table.rows}
    for record in FormRecord.objects.filter(
        participant__site__study=seeded, form_code="procedure"
    ).select_related("participant"):
        signatures = Signature.objects.filter(record=record)
        expected = (
            "unsigned"
            if not signatures.exists()
            else ("signed" if signatures.filter(invalidated_at__isnull=True).exists() else "invalidated")
        )
        assert states[record.participant.study_id] == expected


def test_deidentified_ids_hashed_dates_shifted_intervals_kept_free_text_gone(seeded):
    deid = Deidentifier("00" * 16)
    plain = rows_by_id(AnalysisDataset(seeded).table(cut_at=CUT))
    table = table_deidentify(AnalysisDataset(seeded).table(cut_at=CUT), deid)
    names = [c.name for c in table.columns]
    assert (
        "status_reason" not in names and "procedure_operator" not in names and "qmri_roi_notes" not in names
    )
    shifted = {row[0]: dict(zip(names, row, strict=True)) for row in table.rows}
    assert not set(shifted) & set(plain)
    shifts = set()
    for study_id, row in plain.items():
        other = shifted[deid.study_id(study_id)]
        shift = (row["enrollment_date"] - other["enrollment_date"]).days
        assert 0 <= shift <= 364
        shifts.add(shift)
        assert (row["procedure_procedure_date"] is None) or (
            row["procedure_procedure_date"] - row["enrollment_date"]
            == other["procedure_procedure_date"] - other["enrollment_date"]
        )
        assert other["endpoint_days"] == row["endpoint_days"]
    assert len(shifts) > 5  # per participant, not one shift for all


def test_no_identifying_value_in_any_table(seeded):
    secrets = set()
    for identity in ParticipantIdentity.objects.filter(participant__site__study=seeded):
        secrets |= {
            v
            for v in (
                identity.full_name,
                identity.phone,
                identity.national_id,
                identity.hospital_record_number,
                identity.email,
            )
            if v
        }
    assert secrets
    for table in [AnalysisDataset(seeded).table(cut_at=CUT), *long_tables(study=seeded, cut_at=CUT)]:
        for row in table.rows:
            text = "\x1f".join(str(value) for value in row)
            assert not any(secret in text for secret in secrets), table.name


def test_no_change_from_baseline_when_the_first_score_is_after_treatment(db):
    """The sister study's first VAS is at 1 month and its first ODI at 6 months: a change between two
    post-operative scores is not a change from baseline, so none is computed (and its qMRI columns, a form it
    does not collect, are not there)."""
    sister = load_study("NCT06172179")
    names = [column.name for column in AnalysisDataset(sister).columns]
    assert {"vas_M1", "vas_M6", "odi_M6", "odi_M12"} <= set(names)
    assert not [name for name in names if name.endswith(("_change", "_mcid", "_mcid30"))]
    assert not [name for name in names if name.startswith(("pdff_", "r2star_"))]
    main = [column.name for column in AnalysisDataset(load_study("NCT06379243")).columns]
    assert {"vas_M6_change", "odi_M12_mcid", "pdff_L1", "r2star_mean"} <= set(main)


def test_forms_collected_at_a_scheduled_visit_have_their_columns(seeded):
    rows = rows_by_id(AnalysisDataset(seeded).table(cut_at=CUT))
    records = FormRecord.objects.filter(
        participant__site__study=seeded, form_code="followup_mri", visit_code="M12"
    )
    assert records.exists()
    for record in records.select_related("participant"):
        row = rows[record.participant.study_id]
        assert row["followup_mri_M12_status"] == record.status
        assert row["followup_mri_M12_exam_date"] == datetime.date.fromisoformat(record.data["exam_date"])
        assert row["followup_mri_M12_any_new_fracture"] == record.data.get("any_new_fracture")


def test_deidentified_rows_are_not_in_study_id_order(seeded):
    """Row k of a de-identified file must not be the k-th study ID (nor row k of another export)."""
    ids = sorted(Participant.objects.filter(site__study=seeded).values_list("study_id", flat=True))
    orders = []
    for salt in ("01" * 16, "02" * 16):
        deid = Deidentifier(salt)
        table = table_deidentify(AnalysisDataset(seeded).table(cut_at=CUT, salt=salt), deid)
        hashed = [row[0] for row in table.rows]
        assert sorted(hashed) == sorted(deid.study_id(sid) for sid in ids)
        assert hashed != [deid.study_id(sid) for sid in ids]
        orders.append([next(sid for sid in ids if deid.study_id(sid) == h) for h in hashed])
    assert orders[0] != orders[1]
    for table in long_tables(study=seeded, cut_at=CUT, salt="01" * 16):
        if table.name == "visits":
            firsts = list(dict.fromkeys(row[0] for row in table.rows))
            assert firsts != sorted(firsts)
