"""Imaging exams (trial/dicom.py, trial/imaging.py, trial/services/imaging.py): DICOM headers read without
pixel data, no patient identity stored, UIDs hashed, the checks, the duplicate refusal and the re-judged
verdict. pydicom's own sample files, edited (tests/trial/imaging_data.py)."""

import datetime
import hashlib
import io

import pydicom
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from trial.dicom import FileProblem, read_exams, read_header
from trial.errors import Forbidden, InvalidInput
from trial.imaging import uid_hash
from trial.models import ImagingExam, Role
from trial.selectors import imaging_checks
from trial.services import imaging_exams_register, screening_create, screening_update

from ..conftest import ELIGIBLE_ANSWERS
from .imaging_data import BIRTH_DATE, PATIENT_ID, PATIENT_NAME, dicom_file, load_imaging_study

pytestmark = pytest.mark.frozen
DAY = datetime.date(2026, 1, 1)


@pytest.fixture
def imaging_study(study):
    return load_imaging_study()


@pytest.fixture
def case(imaging_study, site, coordinator):
    """A screening under the protocol version with the imaging rule: incomplete until CT and MR exist."""
    return screening_create(
        actor=coordinator,
        study=imaging_study,
        site=site,
        data={"screening_date": datetime.date(2026, 1, 5), "age": 72, "sex": "female",
              "fracture_levels": ["L1"], "answers": ELIGIBLE_ANSWERS},
    )  # fmt: skip


def register(actor, screening, *paths):
    return imaging_exams_register(actor=actor, screening=screening, paths=list(paths))


class Tracked(io.BytesIO):
    """A file that remembers the furthest byte anyone read."""

    furthest = 0

    def read(self, size=-1):
        data = super().read(size)
        self.furthest = max(self.furthest, self.tell())
        return data


def test_only_the_header_is_read_never_the_pixel_data(tmp_path):
    raw = dicom_file(tmp_path, "ct.dcm").read_bytes()
    pixel_tag = raw.rfind(b"\xe0\x7f\x10\x00")  # (7FE0,0010) Pixel Data, little endian
    pixels = len(pydicom.dcmread(io.BytesIO(raw)).PixelData)
    assert pixel_tag > 0 and pixels > 30_000
    tracked = Tracked(raw)
    header = read_header("ct.dcm", tracked)
    assert header["modality"] == "CT" and header["study_date"] == DAY
    # The pixel element's tag, VR and length at most (12 bytes): none of its 32 kB value.
    assert tracked.furthest <= pixel_tag + 12 < len(raw) - pixels + 12
    assert not {"PatientName", "PatientID", "PatientBirthDate"} & set(header)


def test_files_of_one_study_are_one_exam_with_its_series_counted(tmp_path):
    uid = pydicom.uid.generate_uid()
    series = pydicom.uid.generate_uid()
    paths = [
        dicom_file(tmp_path / "a", "1.dcm", study_uid=uid, series_uid=series),
        dicom_file(tmp_path / "a", "2.dcm", study_uid=uid, series_uid=series),
        dicom_file(tmp_path / "b", "3.dcm", study_uid=uid),
        dicom_file(tmp_path / "c", "mr.dcm", modality="MR", day=DAY + datetime.timedelta(days=3)),
    ]
    exams, problems = read_exams([(p.name, p) for p in paths])
    assert problems == []
    ct, mr = exams
    assert (ct.modality, ct.series_uids.__len__(), ct.files) == ("CT", 2, ("1.dcm", "2.dcm", "3.dcm"))
    assert (ct.slice_thickness, ct.manufacturer, ct.body_parts) == (5, "GE MEDICAL SYSTEMS", ("LSPINE",))
    assert (mr.modality, mr.study_date, len(mr.series_uids)) == ("MR", datetime.date(2026, 1, 4), 1)


def test_a_file_that_is_not_dicom_gets_a_message_not_a_crash(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 9)  # a DICOM preamble, then garbage
    exams, problems = read_exams([("notes.txt", text), ("broken.dcm", broken)])
    assert exams == []
    assert problems[0] == FileProblem("notes.txt", "Not a DICOM file.")
    assert problems[1].file == "broken.dcm" and problems[1].message


@pytest.mark.django_db
def test_registration_stores_no_identity_and_hashes_the_uids(tmp_path, case, coordinator):
    study_uid, series_uid = pydicom.uid.generate_uid(), pydicom.uid.generate_uid()
    ct = dicom_file(tmp_path, "ct.dcm", study_uid=study_uid, series_uid=series_uid)
    mr = dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY + datetime.timedelta(days=2))
    result = register(coordinator, case, ct, mr)
    assert len(result.exams) == 2
    exam = ImagingExam.objects.get(modality="CT")
    assert exam.study_uid_hash == uid_hash(study_uid) != study_uid
    assert exam.series_uid_hashes == [uid_hash(series_uid)]
    # A keyed hash: not the bare SHA-256 someone could compute from a guessed UID.
    assert exam.study_uid_hash != hashlib.sha256(study_uid.encode()).hexdigest()
    # Every column of the exams' table and of their audit events, as text: no identity, no raw UID.
    found = []
    for table in ("trial_imagingexam", "trial_imagingexamevent", "trial_screeningevent"):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608 -- our table names
            rows = [row[0] for row in cursor.fetchall()]
        assert rows, table
        for value in (PATIENT_NAME, "Zhang", "Sanfeng", PATIENT_ID, BIRTH_DATE, "1948-02-13", study_uid,
                      series_uid):  # fmt: skip
            found += [(table, value) for row in rows if value in row]
    assert found == []


@pytest.mark.django_db
def test_registration_rejudges_the_screening_and_audits_it(tmp_path, case, coordinator):
    assert (case.outcome, case.missing_criteria) == ("incomplete", ["IMG1"])
    register(coordinator, case, dicom_file(tmp_path, "ct.dcm"))
    case.refresh_from_db()
    assert case.outcome == "incomplete"  # no MR yet: unknown
    mr = dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY + datetime.timedelta(14))
    register(coordinator, case, mr)
    case.refresh_from_db()
    assert (case.outcome, case.missing_criteria, case.failed_criteria) == ("eligible", [], [])
    event = case.events.order_by("-pgh_id").first()
    assert event.outcome == "eligible"
    assert event.pgh_context.metadata["user"] == coordinator.pk


@pytest.mark.django_db
def test_an_interval_over_the_protocols_days_makes_the_case_ineligible(tmp_path, case, coordinator):
    register(coordinator, case, dicom_file(tmp_path, "ct.dcm"),
             dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY + datetime.timedelta(15)))  # fmt: skip
    case.refresh_from_db()
    assert (case.outcome, case.failed_criteria) == ("ineligible", ["IMG1"])
    # A correction re-judges with the exams too (the verdict does not fall back to unknown).
    screening_update(actor=coordinator, screening=case, data={"notes": "checked"}, reason="note")
    case.refresh_from_db()
    assert (case.outcome, case.failed_criteria) == ("ineligible", ["IMG1"])


@pytest.mark.django_db
@pytest.mark.parametrize(("days", "too_long"), [(13, False), (14, False), (15, True)])
def test_the_interval_check_at_13_14_and_15_days(tmp_path, case, coordinator, days, too_long):
    register(coordinator, case, dicom_file(tmp_path, "ct.dcm"),
             dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY + datetime.timedelta(days)))  # fmt: skip
    checks = imaging_checks(screening=case)
    assert checks == ([("interval_too_long", f"The CT-MR exams are {days} days apart, more than the "
                        "protocol's 14.")] if too_long else [])  # fmt: skip


@pytest.mark.django_db
def test_a_missing_modality_and_a_wrong_body_part_are_checks(tmp_path, case, coordinator):
    assert [code for code, _m in imaging_checks(screening=case)] == ["modality_missing", "modality_missing"]
    register(coordinator, case, dicom_file(tmp_path, "ct.dcm"),
             dicom_file(tmp_path, "mr.dcm", modality="MR", body_part="KNEE"))  # fmt: skip
    assert imaging_checks(screening=case) == [
        ("wrong_body_part", "The MR exam of 2026-01-01 shows KNEE, not a body part of the protocol "
                            "(SPINE, LSPINE, TSPINE, CSPINE)."),
        ("modality_missing", "No MR exam is registered."),
    ]  # fmt: skip
    case.refresh_from_db()
    assert case.outcome == "incomplete"  # a knee MR does not count for the spine rule


@pytest.mark.django_db
def test_two_exams_of_one_modality_on_one_day_are_a_duplicate_check(tmp_path, case, coordinator):
    # The same exam exported twice with new UIDs (anonymising tools do that): the hashes differ.
    register(coordinator, case, dicom_file(tmp_path, "a.dcm"), dicom_file(tmp_path, "b.dcm"),
             dicom_file(tmp_path, "mr.dcm", modality="MR"))  # fmt: skip
    assert imaging_checks(screening=case) == [
        ("duplicate_study", "2 CT exams are dated 2026-01-01: the same study registered twice?")
    ]


@pytest.mark.django_db
def test_a_study_registered_twice_is_refused_and_nothing_saved(tmp_path, case, coordinator, make_screening):
    uid = pydicom.uid.generate_uid()
    register(coordinator, case, dicom_file(tmp_path / "1", "ct.dcm", study_uid=uid))
    again = [
        dicom_file(tmp_path / "2", "ct.dcm", study_uid=uid),
        dicom_file(tmp_path / "2", "mr.dcm", modality="MR"),
    ]
    with pytest.raises(InvalidInput) as refused:
        register(coordinator, case, *again)
    message = "This study is already registered for this screening."
    assert refused.value.field_errors["files"] == [f"{again[0]}: {message}"]
    other = make_screening()
    with pytest.raises(InvalidInput) as refused:
        register(coordinator, other, again[0])
    assert "another case" in refused.value.field_errors["files"][0]
    assert ImagingExam.objects.count() == 1


@pytest.mark.django_db
def test_no_dicom_file_at_all_is_a_400_naming_each_file(tmp_path, case, coordinator):
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(InvalidInput) as refused:
        register(coordinator, case, tmp_path)
    assert refused.value.field_errors == {"files": [f"{tmp_path / 'readme.txt'}: Not a DICOM file."]}


@pytest.mark.django_db
@pytest.mark.frozen("2026-01-10 09:00")
def test_an_exam_dated_after_the_sites_today_is_refused(tmp_path, case, coordinator):
    register(coordinator, case, dicom_file(tmp_path, "today.dcm", day=datetime.date(2026, 1, 10)))
    with pytest.raises(InvalidInput):
        register(coordinator, case, dicom_file(tmp_path, "tomorrow.dcm", day=datetime.date(2026, 1, 11)))


@pytest.mark.django_db
def test_who_may_register(tmp_path, case, make_user, imaging_study, monitor, other_coordinator):
    for refused in (monitor, other_coordinator):
        with pytest.raises(Forbidden):
            register(refused, case, dicom_file(tmp_path, "x.dcm"))
    manager = make_user("dm", role=Role.DATA_MANAGER, study=imaging_study)
    assert len(register(manager, case, dicom_file(tmp_path, "y.dcm")).exams) == 1


@pytest.mark.django_db
def test_the_command_walks_a_folder(tmp_path, case, coordinator, capsys):
    dicom_file(tmp_path / "exam" / "ct", "1.dcm")
    dicom_file(tmp_path / "exam" / "mr", "1.dcm", modality="MR", day=DAY + datetime.timedelta(7))
    (tmp_path / "exam" / "DICOMDIR.txt").write_text("index")
    call_command("register_exams", "--screening", str(case.pk), "--user", "coord07", str(tmp_path / "exam"))
    out, err = capsys.readouterr()
    assert "registered CT 2026-01-01" in out and "registered MR 2026-01-08" in out
    assert f"screening {case.pk}: eligible" in out
    assert "DICOMDIR.txt: Not a DICOM file." in err
    with pytest.raises(CommandError, match="already registered"):
        call_command("register_exams", "--screening", str(case.pk), "--user", "coord07", str(tmp_path))
