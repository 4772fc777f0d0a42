"""An export built end to end (reports/exports/run.py, and `manage.py export`): each format's zip read back
with an independent reader and compared with the database; the manifest's hashes, rows and data cut checked
against the zip and the stored cut."""

import datetime
import hashlib
import io
import json
import zipfile

import pandas as pd
import pyreadstat
import pytest
from django.core.management import CommandError, call_command
from lxml import etree

from crf.models import FormRecord
from reports.exports import formats as F
from reports.exports.deid import Deidentifier
from reports.exports.run import export_build, remove_export
from reports.models import DataCut, Job, JobStatus, JobTrigger
from trial.models import Participant, ParticipantIdentity

from ...conftest import frozen_clock

pytestmark = pytest.mark.django_db
SCHEMA = "tests/standards/odm-1.3.2/ODM1-3-2.xsd"


def build(study, tmp_path, **params):
    params = {"language": "en", "dataset": F.ANALYSIS, "deidentify": False, "bom": False, **params}
    if params["deidentify"]:
        params["salt"] = "ab" * 16
    with frozen_clock("2026-11-22 10:00"):
        built = export_build(study=study, params=params, generated_by="test")
    data = built.path.read_bytes()
    remove_export(built)
    assert not built.path.parent.exists()
    return built, zipfile.ZipFile(io.BytesIO(data))


def database_heights(study) -> dict[str, float]:
    return {
        r.participant.study_id: r.data.get("height")
        for r in FormRecord.objects.filter(
            participant__site__study=study, form_code="baseline"
        ).select_related("participant")
    }


def test_the_manifest_names_every_file_with_its_rows_and_hash_and_the_cut(seeded, tmp_path):
    built, bundle = build(seeded, tmp_path, format=F.CSV)
    manifest = json.loads(bundle.read("manifest.json"))
    assert built.file_name == "NCT06379243_20261122T020000Z_csv_analysis.zip"
    cut = DataCut.objects.get(pk=built.cut_id)
    assert manifest["data_cut_sha256"] == cut.sha256
    assert manifest["data_cut"] == "2026-11-22T02:00:00+00:00"
    assert sorted(bundle.namelist()) == sorted([*(f["name"] for f in manifest["files"]), "manifest.json"])
    for entry in manifest["files"]:
        content = bundle.read(entry["name"])
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
        assert len(content) == entry["bytes"]
    analysis = next(f for f in manifest["files"] if f["name"] == "analysis.csv")
    assert analysis["rows"] == Participant.objects.filter(site__study=seeded).count() == 30


def test_csv_read_back_with_pandas_matches_the_database(seeded, tmp_path):
    _built, bundle = build(seeded, tmp_path, format=F.CSV, bom=True)
    raw = bundle.read("analysis.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype={"study_id": str, "site": str})
    heights = database_heights(seeded)
    assert dict(zip(frame["study_id"], frame["baseline_height"], strict=True)) == pytest.approx(heights)
    dictionary = pd.read_csv(io.BytesIO(bundle.read("dictionary.csv")))
    assert list(dictionary["name"]) == list(frame.columns)


def test_csv_with_labels_in_chinese(seeded, tmp_path):
    _built, bundle = build(seeded, tmp_path, format=F.CSV_LABELS, language="zh-hans")
    frame = pd.read_csv(io.BytesIO(bundle.read("analysis.csv")), dtype=str)
    assert set(frame["sex"].dropna()) <= {"男", "女"}
    assert set(frame["baseline_diabetes"].dropna()) <= {"是", "否"}


def test_xlsx_read_back_with_pandas(seeded, tmp_path):
    _built, bundle = build(seeded, tmp_path, format=F.XLSX)
    frame = pd.read_excel(io.BytesIO(bundle.read("analysis.xlsx")), dtype={"study_id": str})
    assert dict(zip(frame["study_id"], frame["baseline_height"], strict=True)) == pytest.approx(
        database_heights(seeded)
    )


@pytest.mark.parametrize("fmt", [F.DTA, F.SAV])
def test_stata_and_spss_read_back_with_value_labels(seeded, tmp_path, fmt):
    _built, bundle = build(seeded, tmp_path, format=fmt, language="zh-hans")
    path = tmp_path / f"analysis.{fmt}"
    path.write_bytes(bundle.read(f"analysis.{fmt}"))
    read = pyreadstat.read_dta if fmt == F.DTA else pyreadstat.read_sav
    frame, meta = read(str(path))
    heights = database_heights(seeded)
    assert dict(zip(frame["study_id"], frame["baseline_height"], strict=True)) == pytest.approx(heights)
    labels = meta.variable_value_labels["sex"]
    assert set(labels.values()) == {"男", "女"}
    sexes = dict(Participant.objects.filter(site__study=seeded).values_list("study_id", "screening__sex"))
    names = {"男": "male", "女": "female"}
    assert {
        sid: names[labels[code]] for sid, code in zip(frame["study_id"], frame["sex"], strict=True)
    } == sexes
    assert meta.column_names_to_labels["baseline_height"].startswith("身高")


def test_long_tables_csv_one_file_per_table(seeded, tmp_path):
    _built, bundle = build(seeded, tmp_path, format=F.CSV, dataset=F.LONG)
    names = set(bundle.namelist())
    assert {"form_baseline.csv", "form_qmri_vertebrae.csv", "visits.csv", "questionnaires.csv"} <= names
    assert {"verdicts.csv", "dictionary.csv", "manifest.json"} <= names
    vertebrae = pd.read_csv(io.BytesIO(bundle.read("form_qmri_vertebrae.csv")), dtype={"study_id": str})
    expected = sum(
        len(r.data.get("vertebrae") or [])
        for r in FormRecord.objects.filter(participant__site__study=seeded, form_code="qmri")
    )
    assert len(vertebrae) == expected


def test_odm_validates_against_the_official_schema(seeded, tmp_path):
    _built, bundle = build(seeded, tmp_path, format=F.ODM)
    (name,) = [n for n in bundle.namelist() if n.endswith(".xml")]
    schema = etree.XMLSchema(etree.parse(SCHEMA))
    document = etree.parse(io.BytesIO(bundle.read(name)))
    schema.assertValid(document)


def readable(name: str, content: bytes, tmp_path) -> bytes:
    """A file's text as its reader sees it: the sheets of an XLSX (itself a zip, compressed), the values and
    labels of a .dta or .sav (.sav compresses its rows); other files as they are."""
    if name.endswith(".xlsx"):
        inner = zipfile.ZipFile(io.BytesIO(content))
        return b"".join(inner.read(member) for member in inner.namelist())
    if name.endswith((".dta", ".sav")):
        path = tmp_path / name
        path.write_bytes(content)
        frame, meta = (pyreadstat.read_dta if name.endswith(".dta") else pyreadstat.read_sav)(str(path))
        return (frame.to_csv() + json.dumps(meta.variable_value_labels, ensure_ascii=False)).encode()
    return content


def test_no_identifying_value_in_any_format(seeded, tmp_path):
    secrets = set()
    for identity in ParticipantIdentity.objects.filter(participant__site__study=seeded):
        secrets |= {identity.full_name, identity.phone, identity.national_id, identity.hospital_record_number}
    secrets.discard("")
    assert secrets
    ids = set(Participant.objects.filter(site__study=seeded).values_list("study_id", flat=True))
    for fmt in F.FORMATS:
        _built, bundle = build(seeded, tmp_path, format=fmt)
        seen_ids = False
        for name in bundle.namelist():
            content = readable(name, bundle.read(name), tmp_path)
            seen_ids |= any(sid.encode() in content for sid in ids)
            for secret in secrets:
                assert secret.encode() not in content, (fmt, name)
        assert seen_ids, fmt  # the search reads the values: the study IDs are found where they are


def test_deidentified_zip_has_no_study_id_and_keeps_the_salt_out(seeded, tmp_path):
    ids = list(Participant.objects.filter(site__study=seeded).values_list("study_id", flat=True))
    for fmt in F.FORMATS:
        _built, bundle = build(seeded, tmp_path, format=fmt, deidentify=True)
        manifest = json.loads(bundle.read("manifest.json"))
        assert manifest["deidentified"] is True
        for name in bundle.namelist():
            content = readable(name, bundle.read(name), tmp_path)
            assert b"ab" * 16 not in content
            assert not any(f'"{sid}"'.encode() in content or f"{sid},".encode() in content for sid in ids), (
                fmt,
                name,
            )


def test_the_command_writes_the_zip_and_prints_the_manifest(seeded, tmp_path, capsys):
    with frozen_clock("2026-11-22 10:00"):
        call_command("export", study=seeded.code, format=F.SAV, out=tmp_path)
    printed = capsys.readouterr().out
    zip_path = tmp_path / "NCT06379243_20261122T020000Z_sav_analysis.zip"
    assert zip_path.exists()
    assert json.loads(printed[: printed.rindex("}") + 1])["format"] == "sav"
    with pytest.raises(CommandError, match="never overwritten"), frozen_clock("2026-11-22 10:00"):
        call_command("export", study=seeded.code, format=F.SAV, out=zip_path)
    with pytest.raises(CommandError, match="no study"):
        call_command("export", study="NCT00000000", format=F.CSV, out=tmp_path)
    # The same rule as the pages: an option that does not apply to the format is refused, naming it.
    with pytest.raises(CommandError, match="--dataset"):
        call_command("export", study=seeded.code, format=F.ODM, dataset=F.LONG, out=tmp_path)
    with pytest.raises(CommandError, match="--bom"):
        call_command("export", study=seeded.code, format=F.XLSX, bom=True, out=tmp_path)
    with pytest.raises(CommandError, match="not a directory"):
        call_command("export", study=seeded.code, format=F.CSV, out=tmp_path / "missing" / "x.zip")


def test_a_command_line_export_is_a_job_that_keeps_its_salt(seeded, tmp_path, capsys):
    with frozen_clock("2026-11-22 10:00"):
        call_command("export", study=seeded.code, format=F.CSV, deidentify=True, out=tmp_path)
    job = Job.objects.get(trigger=JobTrigger.COMMAND)
    assert job.status == JobStatus.DONE and job.kind == "export" and len(job.params["salt"]) == 32
    output = capsys.readouterr()
    assert job.params["salt"] not in output.out + output.err
    bundle = zipfile.ZipFile(tmp_path / job.file_name)
    assert job.params["salt"].encode() not in bundle.read("analysis.csv") + bundle.read("manifest.json")
    assert json.loads(bundle.read("manifest.json"))["generated_by"].startswith("manage.py export")


def test_a_cut_stored_at_that_second_is_reused(seeded, tmp_path):
    first, _ = build(seeded, tmp_path, format=F.CSV)
    second, _ = build(seeded, tmp_path, format=F.DTA)
    assert first.cut_id == second.cut_id
    assert (
        DataCut.objects.filter(
            study=seeded, cut_at=datetime.datetime(2026, 11, 22, 2, tzinfo=datetime.UTC)
        ).count()
        == 1
    )


def test_deidentified_odm_and_redcap_are_not_in_study_id_order(seeded, tmp_path):
    """Row k must not give away the k-th study ID: subjects (ODM) and records (REDCap) in a salted order."""
    deid = Deidentifier("ab" * 16)
    ids = sorted(Participant.objects.filter(site__study=seeded).values_list("study_id", flat=True))
    by_id = [deid.study_id(sid) for sid in ids]
    by_pk = [
        deid.study_id(sid)
        for sid in Participant.objects.filter(site__study=seeded)
        .order_by("pk")
        .values_list("study_id", flat=True)
    ]
    _built, bundle = build(seeded, tmp_path, format=F.ODM, deidentify=True)
    (xml,) = [n for n in bundle.namelist() if n.endswith(".xml")]
    keys = [e.get("SubjectKey") for e in etree.parse(io.BytesIO(bundle.read(xml))).iter("{*}SubjectData")]
    assert sorted(keys) == sorted(by_id) and keys not in (by_id, by_pk)
    _built, bundle = build(seeded, tmp_path, format=F.REDCAP, deidentify=True)
    (name,) = [n for n in bundle.namelist() if n.endswith("_import.csv")]
    records = list(dict.fromkeys(pd.read_csv(io.BytesIO(bundle.read(name)), dtype=str)["record_id"]))
    assert sorted(records) == sorted(by_id) and records not in (by_id, by_pk)
