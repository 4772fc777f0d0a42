"""An export built: the study read in one snapshot, its data cut captured (or reused) in that snapshot, the
files written one after the other to a temporary directory, then zipped with the data dictionary and a
manifest (study, cut, its SHA-256, options, and each file's rows, bytes and SHA-256).

The job runner (`export_run`, registered for JobKind.EXPORT) and `manage.py export` both call
`export_build`, so the pages, the API and the command line give the same files.

Why one transaction: REPEATABLE READ makes every query of the export see the same snapshot, so the tables
agree with one another and with the data cut captured inside it. The cut is the time taken before the
snapshot, to the second; participants created after it are left out, so the export and the cut hold the
same participants.
"""

import csv
import datetime
import hashlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from trial.models import Study

from ..interim import cut_time, data_cut_get_or_capture
from ..jobs import JobOutput
from ..replica import read_snapshot
from . import formats as F
from .analysis import AnalysisDataset
from .deid import Deidentifier, table_deidentify
from .dictionary import dictionary_table
from .long import long_tables
from .table import Table

STEPS = ("capture", "tables", "write", "package")
CONTENT_TYPE = "application/zip"


@dataclass(frozen=True)
class Export:
    path: Path  # the zip, in a temporary directory the caller removes (remove_export)
    file_name: str
    manifest: dict
    cut_id: int


def export_name(*, study: str, cut_at: datetime.datetime, params: dict) -> str:
    """{study}_{cut}_{format}[_{dataset}][_deid].zip: named by study, data cut and format."""
    parts = [study, f"{cut_at.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}", params["format"]]
    if params["format"] in F.TABULAR:
        parts.append(params.get("dataset") or F.ANALYSIS)
    if params.get("deidentify"):
        parts.append("deid")
    return "_".join(parts) + ".zip"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _tables(study: Study, params: dict, cut_at, deid) -> list[Table] | object:
    salt = deid.salt if deid else None
    if (params.get("dataset") or F.ANALYSIS) == F.LONG:
        tables = long_tables(study=study, cut_at=cut_at, salt=salt)
    else:
        tables = iter([AnalysisDataset(study).table(cut_at=cut_at, salt=salt)])
    return (table_deidentify(t, deid) if deid else t for t in tables)


def _write_tabular(study, params, cut_at, deid, directory: Path, files: list, dictionary: list) -> None:
    from . import writers

    fmt, language = params["format"], params.get("language", "en")
    tables = _tables(study, params, cut_at, deid)
    if fmt == F.XLSX:
        kept = []

        def remembered():
            for table in tables:
                dictionary.append(table)
                kept.append(table.name)
                yield table

        path = directory / f"{params.get('dataset') or F.ANALYSIS}.xlsx"
        counts = writers.xlsx_write(remembered(), path, language=language)
        files.append((path, sum(counts.values()), counts))
        return
    for table in tables:
        dictionary.append(table)
        if fmt in (F.CSV, F.CSV_LABELS):
            path = directory / f"{table.name}.csv"
            with path.open("wb") as out:
                rows = writers.csv_write(
                    table, out, labels=fmt == F.CSV_LABELS, language=language, bom=params.get("bom", False)
                )
        elif fmt == F.DTA:
            path = directory / f"{table.name}.dta"
            rows = writers.dta_write(table, path, language=language)
        else:
            path = directory / f"{table.name}.sav"
            rows = writers.sav_write(table, path, language=language)
        files.append((path, rows, None))


def _write_exchange(study, params, cut_at, deid, directory: Path, files: list, progress) -> None:
    fmt = params["format"]
    if fmt == F.REDCAP:
        from crf.dictionary import REDCAP_COLUMNS, redcap_rows

        from .redcap import redcap_repeating_rows, redcap_write

        path = directory / f"{study.code}_redcap_import.csv"
        with path.open("wb") as out:
            rows = redcap_write(study=study, out=out, cut_at=cut_at, deid=deid, bom=params.get("bom", False))
        files.append((path, rows, None))
        # What a REDCap designer loads before the data: the dictionary, then the instruments that repeat.
        for name, columns, entries in (
            ("redcap_data_dictionary.csv", REDCAP_COLUMNS, redcap_rows()),
            (
                "redcap_repeating_instruments.csv",
                ("form_name", "custom_form_label"),
                redcap_repeating_rows(study=study),
            ),
        ):
            path = directory / name
            with path.open("w", newline="", encoding="utf-8-sig" if params.get("bom") else "utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=columns)
                writer.writeheader()
                writer.writerows(entries)
            files.append((path, len(entries), None))
        return
    from .odm import odm_write

    path = directory / f"{study.code}_odm.xml"
    with path.open("wb") as out:
        counts = odm_write(study=study, out=out, cut_at=cut_at, deid=deid)
    files.append((path, counts.get("subjects", 0), counts))


def export_build(
    *,
    study: Study,
    params: dict,
    actor=None,
    generated_by: str = "",
    progress: Callable[[str], None] = lambda step: None,
) -> Export:
    """The export `params` ask for (reports/exports/formats.py), zipped with its dictionary and manifest."""
    directory = Path(tempfile.mkdtemp(prefix="spinetrial-export-"))
    try:
        return _build(study, params, actor, generated_by, progress, directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _build(study, params, actor, generated_by, progress, directory: Path) -> Export:
    fmt = params["format"]
    deid = Deidentifier(params["salt"]) if params.get("deidentify") else None
    files: list[tuple[Path, int, dict | None]] = []
    dictionary: list[Table] = []
    cut_at = cut_time(None)  # before the snapshot: everything recorded by then is in it
    # Inside a caller's transaction (the tests), that transaction's snapshot is used. Not read-only: without a
    # replica the data cut is stored inside it (with one, on the primary beside it; reports/replica.py).
    with read_snapshot(read_only=False) as source:
        progress("capture")
        cut, _ = data_cut_get_or_capture(study=study, cut_at=cut_at, actor=actor, load=False)
        progress("tables")
        if fmt in F.TABULAR:
            progress("write")
            _write_tabular(study, params, cut_at, deid, directory, files, dictionary)
        else:
            progress("write")
            _write_exchange(study, params, cut_at, deid, directory, files, progress)
    progress("package")
    if dictionary:
        from . import writers

        path = directory / "dictionary.csv"
        with path.open("wb") as out:
            rows = writers.csv_write(
                dictionary_table(dictionary), out, bom=params.get("bom", False) and fmt in F.BOM_FORMATS
            )
        files.append((path, rows, None))
    manifest = {
        "study": study.code,
        "protocol_version": cut.protocol_version,
        "data_cut": cut.cut_at.astimezone(datetime.UTC).isoformat(),
        "data_cut_sha256": cut.sha256,
        "format": fmt,
        "dataset": (params.get("dataset") or F.ANALYSIS) if fmt in F.TABULAR else None,
        "deidentified": bool(deid),
        "bom": bool(params.get("bom")) and fmt in F.BOM_FORMATS,
        "language": params.get("language", "en"),
        "generated_at": timezone.now().astimezone(datetime.UTC).isoformat(timespec="seconds"),
        "generated_by": generated_by,
        # Only when read on the streaming replica: where, and the WAL position it had replayed.
        **({"read_from": source.manifest()} if source.manifest() else {}),
        "files": [
            {
                "name": path.name,
                "rows": rows,
                **({"tables": extra} if extra and fmt == F.XLSX else {}),
                **({"counts": extra} if extra and fmt == F.ODM else {}),
                "bytes": path.stat().st_size,
                "sha256": _sha256(path),
            }
            for path, rows, extra in files
        ],
    }
    name = export_name(study=study.code, cut_at=cut.cut_at, params=params)
    archive = directory / name
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as bundle:
        for path, _rows, _extra in files:
            bundle.write(path, path.name)
            path.unlink()  # the disk holds one copy of each file at a time
        bundle.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    return Export(path=archive, file_name=name, manifest=manifest, cut_id=cut.pk)


def remove_export(export: Export) -> None:
    shutil.rmtree(export.path.parent, ignore_errors=True)


def export_run(job, progress) -> JobOutput:
    """The job runner (reports/jobs.py): the export the job's params ask for, step by step."""
    from ..interim import generator_name

    built = export_build(
        study=job.study,
        params=job.params,
        actor=job.requested_by,
        # The command line names itself (manage.py export); a person or the beat otherwise.
        generated_by=job.params.get("generated_by") or generator_name(job.requested_by),
        progress=lambda step: progress(step, STEPS.index(step), len(STEPS)),
    )
    return JobOutput(
        content=built.path,
        file_name=built.file_name,
        content_type=CONTENT_TYPE,
        cut_id=built.cut_id,
        remove_after=True,
    )
