"""A participant's follow-up imaging exams (trial/services/imaging.py, participant_exams_register): the same
reading and rules as a screening's exams (headers only, no identity, UIDs hashed, one registration of a
study per study), kept apart from the screening's eligibility; refused after a withdrawal; the command
with --participant. pydicom's own sample files, edited (tests/trial/imaging_data.py)."""

import datetime

import pydicom
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from trial.errors import Forbidden, InvalidInput
from trial.imaging import uid_hash
from trial.models import ImagingExam, ParticipantStatus, Role
from trial.selectors import imaging_exams, participant_exams
from trial.services import imaging_exams_register, participant_exams_register, participant_set_status

from .imaging_data import BIRTH_DATE, PATIENT_ID, PATIENT_NAME, dicom_file

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]  # today at site 07: 2026-10-01
DAY = datetime.date(2026, 6, 1)  # the 12-month MRI of a participant treated in January 2026


@pytest.fixture
def participant(make_participant):
    return make_participant()


def register(actor, participant, *paths):
    return participant_exams_register(actor=actor, participant=participant, paths=list(paths))


def test_a_follow_up_exam_belongs_to_the_participant_not_to_the_screening(tmp_path, participant, coordinator):
    result = register(coordinator, participant, dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY))
    (exam,) = result.exams
    assert result.participant == participant and result.problems == []
    assert (exam.participant_id, exam.screening_id, exam.study_id) == (
        participant.pk,
        participant.screening_id,
        participant.site.study_id,
    )
    assert (exam.modality, exam.study_date, exam.body_parts, exam.series_count) == ("MR", DAY, ["LSPINE"], 1)
    assert list(participant_exams(participant=participant)) == [exam]
    # Never one of the screening's own exams: eligibility does not see it.
    assert list(imaging_exams(screening=participant.screening)) == []


def test_no_identity_is_stored_and_the_uids_are_hashed(tmp_path, participant, coordinator):
    study_uid, series_uid = pydicom.uid.generate_uid(), pydicom.uid.generate_uid()
    path = dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY, study_uid=study_uid, series_uid=series_uid)
    (exam,) = register(coordinator, participant, path).exams
    assert exam.study_uid_hash == uid_hash(study_uid) and exam.series_uid_hashes == [uid_hash(series_uid)]
    found = []
    for table in ("trial_imagingexam", "trial_imagingexamevent"):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608 -- our table names
            rows = [row[0] for row in cursor.fetchall()]
        assert rows, table
        for value in (PATIENT_NAME, "Zhang", PATIENT_ID, BIRTH_DATE, "1948-02-13", study_uid, series_uid):
            found += [(table, value) for row in rows if value in row]
    assert found == []
    event = exam.events.get()
    assert event.participant_id == participant.pk  # the audit row names the participant by id only
    assert event.pgh_context.metadata["reason"] == "follow-up imaging exams registered"


def test_a_study_is_registered_once_whoever_registers_it(
    tmp_path, participant, coordinator, make_participant
):
    uid = pydicom.uid.generate_uid()
    path = dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY, study_uid=uid)
    register(coordinator, participant, path)
    with pytest.raises(InvalidInput) as again:
        register(coordinator, participant, path)
    assert again.value.field_errors == {
        "files": [f"{path}: This study is already registered for this participant."]
    }
    with pytest.raises(InvalidInput) as other:
        register(coordinator, make_participant(), path)
    assert other.value.field_errors["files"] == [
        f"{path}: This study is already registered for another case of the study."
    ]
    # The participant's screening cannot take it either, and says whose it is.
    with pytest.raises(InvalidInput) as screening:
        imaging_exams_register(actor=coordinator, screening=participant.screening, paths=[path])
    assert screening.value.field_errors["files"] == [
        f"{path}: This study is already registered as a follow-up exam of this case."
    ]
    assert ImagingExam.objects.count() == 1


def test_a_screening_exam_cannot_be_registered_again_as_a_follow_up_exam(tmp_path, participant, coordinator):
    path = dicom_file(tmp_path, "mr.dcm", modality="MR", day=datetime.date(2026, 1, 4))
    imaging_exams_register(actor=coordinator, screening=participant.screening, paths=[path])
    with pytest.raises(InvalidInput) as refused:
        register(coordinator, participant, path)
    assert refused.value.field_errors["files"] == [
        f"{path}: This study is already registered for this participant's screening."
    ]


def test_an_exam_after_a_withdrawal_is_refused_one_before_it_is_not(tmp_path, participant, coordinator):
    participant_set_status(
        actor=coordinator,
        participant=participant,
        status=ParticipantStatus.WITHDRAWN,
        date=datetime.date(2026, 7, 1),
        reason="Consent withdrawn.",
    )
    participant.refresh_from_db()
    after = dicom_file(tmp_path, "after.dcm", modality="MR", day=datetime.date(2026, 7, 2))
    with pytest.raises(InvalidInput) as refused:
        register(coordinator, participant, after)
    assert refused.value.message == "An exam is dated after the participant's follow-up ended."
    assert refused.value.field_errors == {
        "files": [f"{after}: The study date is after the participant's withdrawal (2026-07-01)."]
    }
    on_the_day = dicom_file(tmp_path, "on.dcm", modality="MR", day=datetime.date(2026, 7, 1))
    assert len(register(coordinator, participant, on_the_day).exams) == 1


def test_future_and_non_dicom_files_are_refused_as_for_a_screening(tmp_path, participant, coordinator):
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    with pytest.raises(InvalidInput) as none:
        register(coordinator, participant, notes)
    assert none.value.field_errors == {"files": [f"{notes}: Not a DICOM file."]}
    tomorrow = dicom_file(tmp_path, "t.dcm", modality="MR", day=datetime.date(2026, 10, 2))
    with pytest.raises(InvalidInput, match="dated in the future"):
        register(coordinator, participant, tomorrow)
    assert not ImagingExam.objects.exists()


def test_who_may_register(tmp_path, participant, make_user, study, monitor, other_coordinator):
    for refused in (monitor, other_coordinator):
        with pytest.raises(Forbidden):
            register(refused, participant, dicom_file(tmp_path, "x.dcm", modality="MR", day=DAY))
    manager = make_user("dm", role=Role.DATA_MANAGER, study=study)
    assert (
        len(register(manager, participant, dicom_file(tmp_path, "y.dcm", modality="MR", day=DAY)).exams) == 1
    )


def test_the_command_takes_a_participant(tmp_path, participant, coordinator, capsys):
    dicom_file(tmp_path / "m12", "1.dcm", modality="MR", day=DAY)
    dicom_file(tmp_path / "m12", "2.dcm", modality="MR", day=DAY + datetime.timedelta(days=1))
    (tmp_path / "m12" / "DICOMDIR.txt").write_text("index")
    call_command(
        "register_exams", "--participant", participant.study_id, "--user", "coord07", str(tmp_path / "m12")
    )
    out, err = capsys.readouterr()
    assert "registered MR 2026-06-01 (1 series)" in out and "registered MR 2026-06-02" in out
    assert f"participant {participant.study_id}: 2 follow-up exam(s) registered" in out
    assert "DICOMDIR.txt: Not a DICOM file." in err
    assert participant_exams(participant=participant).count() == 2
    with pytest.raises(CommandError, match="already registered for this participant"):
        call_command(
            "register_exams", "--participant", participant.study_id, "--user", "coord07", str(tmp_path)
        )
    with pytest.raises(CommandError, match="No participant 'NOPE'"):
        call_command("register_exams", "--participant", "NOPE", "--user", "coord07", str(tmp_path))
    with pytest.raises(CommandError):  # one owner: a screening or a participant
        call_command(
            "register_exams", "--participant", participant.study_id, "--screening", "1", "--user", "coord07",
            str(tmp_path),
        )  # fmt: skip
