"""DICOM headers of imaging exams: read with pydicom, never the pixel data, never an identifying tag.

Only the tags in TAGS are parsed (`specific_tags`), so a patient's name, ID or birth date is never even read
into memory, let alone stored, logged or echoed in a message. Files of one StudyInstanceUID are one exam;
its series are the distinct SeriesInstanceUIDs among them. A file that is not DICOM, or not readable, gets a
message of its own and is left out: a folder of exams often holds a DICOMDIR, a thumbnail or a text file.
"""

import datetime
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

import pydicom
from django.utils.translation import gettext as _

# The tags an exam is made of; nothing else is parsed.
TAGS = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "StudyDate",
    "BodyPartExamined",
    "SliceThickness",
    "Manufacturer",
)
MANUFACTURER_LENGTH = 64  # DICOM's LO value representation holds at most 64 characters
THICKNESS_LIMIT = Decimal("1000")  # millimetres; anything larger is a broken header, kept as unknown


@dataclass(frozen=True)
class FileProblem:
    """Why one file gave no exam: its name as the user gave it, and a message with no value of the file."""

    file: str
    message: str


@dataclass(frozen=True)
class ExamHeader:
    """One exam (a StudyInstanceUID) as its files' headers describe it. The UIDs are hashed before storage."""

    study_uid: str
    series_uids: tuple[str, ...]
    modality: str
    study_date: datetime.date
    body_parts: tuple[str, ...]
    slice_thickness: Decimal | None
    manufacturer: str
    files: tuple[str, ...]


Source = tuple[str, Path | BinaryIO]  # (the name shown in messages, a path or an open binary file)


def sources_from_paths(paths: Iterable[Path]) -> list[Source]:
    """Files and folders as sources: a folder is walked (sorted, hidden files included: DICOM files often
    have no extension or odd names)."""
    sources: list[Source] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                sources += [(str(Path(root) / name), Path(root) / name) for name in sorted(files)]
        else:
            sources.append((str(path), path))
    return sources


def _text(value) -> str:
    # UIDs may be padded with a NUL byte, texts with spaces.
    return str(value or "").strip("\x00 ").strip()


def _date(text: str) -> datetime.date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _thickness(value) -> Decimal | None:
    try:
        thickness = Decimal(str(value).strip()) if value not in (None, "") else None
    except InvalidOperation:
        return None
    if thickness is None or not thickness.is_finite() or not 0 < thickness < THICKNESS_LIMIT:
        return None
    return thickness.quantize(Decimal("0.01"))


def read_header(name: str, source: Path | BinaryIO) -> dict | FileProblem:
    """The exam tags of one file, or why it has none. Headers only: pixel data is never read."""
    try:
        if hasattr(source, "seek"):
            source.seek(0)
        dataset = pydicom.dcmread(source, stop_before_pixels=True, specific_tags=list(TAGS))
        values = {tag: dataset.get(tag) for tag in TAGS}
    except pydicom.errors.InvalidDicomError:
        return FileProblem(name, _("Not a DICOM file."))
    except FileNotFoundError:
        return FileProblem(name, _("No such file."))
    except Exception:  # a broken file is the user's input: a message, never a crash
        return FileProblem(name, _("The file could not be read as DICOM (damaged or truncated)."))
    study_uid = _text(values["StudyInstanceUID"])
    if not study_uid:
        return FileProblem(name, _("The file has no StudyInstanceUID: it is not an image of an exam."))
    modality = _text(values["Modality"]).upper()
    if not modality:
        return FileProblem(name, _("The file does not say its modality (Modality)."))
    study_date = _date(_text(values["StudyDate"]))
    if study_date is None:
        return FileProblem(name, _("The file has no valid study date (StudyDate)."))
    body_part = _text(values["BodyPartExamined"]).upper()
    return {
        "study_uid": study_uid,
        "series_uid": _text(values["SeriesInstanceUID"]),
        "modality": modality,
        "study_date": study_date,
        "body_part": body_part,
        "slice_thickness": _thickness(values["SliceThickness"]),
        "manufacturer": _text(values["Manufacturer"])[:MANUFACTURER_LENGTH],
    }


def read_exams(sources: Iterable[Source]) -> tuple[list[ExamHeader], list[FileProblem]]:
    """The exams the files make up (one per StudyInstanceUID, in the order first seen), and the files that
    gave none. Files of one study that disagree on the modality or the study date make no exam."""
    groups: dict[str, list[tuple[str, dict]]] = {}
    problems: list[FileProblem] = []
    for name, source in sources:
        header = read_header(name, source)
        if isinstance(header, FileProblem):
            problems.append(header)
        else:
            groups.setdefault(header["study_uid"], []).append((name, header))
    exams = []
    for study_uid, files in groups.items():
        names = tuple(name for name, _header in files)
        headers = [header for _name, header in files]
        if len({h["modality"] for h in headers}) > 1 or len({h["study_date"] for h in headers}) > 1:
            problems += [
                FileProblem(name, _("The files of this study disagree on its modality or date."))
                for name in names
            ]
            continue
        thicknesses = [h["slice_thickness"] for h in headers if h["slice_thickness"] is not None]
        makers = Counter(h["manufacturer"] for h in headers if h["manufacturer"])
        exams.append(
            ExamHeader(
                study_uid=study_uid,
                series_uids=tuple(sorted({h["series_uid"] for h in headers if h["series_uid"]})),
                modality=headers[0]["modality"],
                study_date=headers[0]["study_date"],
                body_parts=tuple(sorted({h["body_part"] for h in headers if h["body_part"]})),
                # The thinnest series: the one a reader or a model would analyse.
                slice_thickness=min(thicknesses) if thicknesses else None,
                manufacturer=makers.most_common(1)[0][0] if makers else "",
                files=names,
            )
        )
    return exams, problems
