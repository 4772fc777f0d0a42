"""DICOM test files for the imaging tests: pydicom's own sample files (CT_small.dcm, MR_small.dcm: synthetic,
shipped with pydicom), copied and edited per test. Never a real patient's image.

Every copy carries a made-up patient name, ID and birth date, which the tests look for in the database."""

import datetime
from pathlib import Path

import pydicom
from django.conf import settings
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from trial.models import Study
from trial.services.protocols import protocol_load

PATIENT_NAME = "Zhang^Sanfeng"
PATIENT_ID = "PID778899"
BIRTH_DATE = "19480213"
SPINE = ["SPINE", "LSPINE", "TSPINE", "CSPINE"]
IMAGING_CRITERION = """  - code: IMG1
    kind: inclusion
    text:
      en: CT and MRI of the spine at most 14 days apart.
      zh-hans: 脊柱 CT 与 MRI 检查间隔不超过 14 天。
    rule:
      imaging: {modalities: [CT, MR], max_interval_days: 14, body_parts: [SPINE, LSPINE, TSPINE, CSPINE]}
"""


def load_imaging_study() -> Study:
    """NCT06379243 with one more computed criterion, the imaging rule (a new protocol version)."""
    text = (settings.PROTOCOL_DIR / "NCT06379243.yaml").read_text(encoding="utf-8")
    text = text.replace('version: "1.0"', 'version: "1.1-imaging"').replace(
        "visits:\n", IMAGING_CRITERION + "visits:\n", 1
    )
    protocol_load(text=text, source_name="imaging-test.yaml")
    return Study.objects.select_related("current_version").get(code="NCT06379243")


def dicom_file(
    folder: Path,
    name: str,
    *,
    modality: str = "CT",
    day: datetime.date = datetime.date(2026, 1, 1),
    body_part: str | None = "LSPINE",
    study_uid: str | None = None,
    series_uid: str | None = None,
) -> Path:
    """A copy of pydicom's CT (or MR) sample, edited: modality, study date, body part, UIDs, patient."""
    source = "MR_small.dcm" if modality == "MR" else "CT_small.dcm"
    dataset = pydicom.dcmread(get_testdata_file(source))
    dataset.Modality = modality
    dataset.StudyDate = day.strftime("%Y%m%d")
    if body_part is None:
        if "BodyPartExamined" in dataset:
            del dataset.BodyPartExamined
    else:
        dataset.BodyPartExamined = body_part
    dataset.StudyInstanceUID = study_uid or generate_uid()
    dataset.SeriesInstanceUID = series_uid or generate_uid()
    dataset.PatientName = PATIENT_NAME
    dataset.PatientID = PATIENT_ID
    dataset.PatientBirthDate = BIRTH_DATE
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    dataset.save_as(path)
    return path


def register_ct_and_mr(actor, screening, folder: Path, *, days_apart: int = 3):
    """A spine CT on 2026-01-01 and a spine MR `days_apart` later, registered for `screening` from their DICOM
    files (so that an imaging rule, as NCT07306858's CT-MRI criterion, is judged)."""
    from trial.services.imaging import imaging_exams_register

    ct_day = datetime.date(2026, 1, 1)
    files = [
        dicom_file(folder, "ct.dcm", modality="CT", day=ct_day),
        dicom_file(folder, "mr.dcm", modality="MR", day=ct_day + datetime.timedelta(days=days_apart)),
    ]
    return imaging_exams_register(actor=actor, screening=screening, paths=files)
