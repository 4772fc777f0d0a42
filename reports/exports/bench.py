"""The exports as `manage.py bench` times them (trial.hooks.bench_jobs, through reports/bench.py).

The analysis dataset as CSV is held against PostgreSQL's own `COPY (SELECT ...) TO STDOUT` of the same
SELECT, run side by side at each size (target: within 2x), and its memory is capped flat (streamed). The
other formats are timed and their peak memory reported. Each writes to a temporary file (the disk is part of
the work) inside one REPEATABLE READ transaction, as the job does. The whole job (the data cut captured and
stored, the CSV, its dictionary, the zip and manifest) is timed too: its probe captures the cut without
storing it, so that the memory probe writes nothing.
"""

import tempfile
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from trial.bench import Job

from ..dataset import dataset_capture
from . import formats as F
from . import writers  # imported here, before any timing (it brings pandas and pyreadstat)
from .analysis import AnalysisDataset
from .long import long_tables
from .run import export_build, remove_export

COPY_NAME = "COPY (analysis SELECT) TO STDOUT"


def _snapshot(work):
    def run():
        outer = connection.in_atomic_block  # a probe inside another's snapshot
        with transaction.atomic():
            if not outer:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            with tempfile.TemporaryDirectory(prefix="spinetrial-bench-") as directory:
                return work(Path(directory))

    return run


def _copy(dataset: AnalysisDataset):
    def work(directory: Path) -> int:
        sql, params = dataset.sql(cut_at=timezone.now())
        connection.ensure_connection()
        written = 0
        with connection.connection.cursor() as cursor, (directory / "copy.csv").open("wb") as out:
            query = cursor.mogrify(sql, params)
            with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                for block in copy:
                    written += out.write(block)
        return written

    return _snapshot(work)


def _tabular(study, fmt: str, dataset: str | AnalysisDataset = F.ANALYSIS):
    """`dataset`: the long tables, or the analysis dataset (built once, like COPY's, outside the timing)."""

    def work(directory: Path):
        cut_at = timezone.now()
        tables = (
            long_tables(study=study, cut_at=cut_at)
            if dataset == F.LONG
            else [
                (dataset if isinstance(dataset, AnalysisDataset) else AnalysisDataset(study)).table(
                    cut_at=cut_at
                )
            ]
        )
        if fmt == F.XLSX:
            return writers.xlsx_write(tables, directory / "out.xlsx")
        for table in tables:
            path = directory / f"{table.name}.{fmt}"
            if fmt == F.CSV:
                with path.open("wb") as out:
                    writers.csv_write(table, out)
            elif fmt == F.DTA:
                writers.dta_write(table, path)
            else:
                writers.sav_write(table, path)
        return None

    return _snapshot(work)


def _exchange(study, fmt: str):
    def work(directory: Path):
        cut_at = timezone.now()
        with (directory / "out").open("wb") as out:
            if fmt == F.ODM:
                from .odm import odm_write

                return odm_write(study=study, out=out, cut_at=cut_at)
            from .redcap import redcap_write

            return redcap_write(study=study, out=out, cut_at=cut_at)

    return _snapshot(work)


def _whole_job(study):
    def run():
        built = export_build(
            study=study, params={"format": F.CSV, "dataset": F.ANALYSIS}, generated_by="bench"
        )
        remove_export(built)

    return run


def _whole_probe(study):
    def work(directory: Path):
        dataset_capture(study=study, cut_at=timezone.now().replace(microsecond=0))
        return _tabular(study, F.CSV)()

    return _snapshot(work)


def bench_jobs(*, study) -> list[Job]:
    if not study.current_version_id:
        return []
    # The dataset's columns and SELECT built once for both sides of the comparison (labels in two languages
    # for 230 columns: a fixed cost that is neither the export's rows nor COPY's).
    dataset = AnalysisDataset(study)
    jobs = [
        Job(name=COPY_NAME, run=_copy(dataset), probe=_copy(dataset)),
        Job(
            name="export analysis CSV (streamed)",
            run=_tabular(study, F.CSV, dataset),
            probe=_tabular(study, F.CSV, dataset),
            versus=COPY_NAME,
            versus_ratio=2.0,
        ),
    ]
    # Linear memory by design for .dta and .sav (pyreadstat writes a whole DataFrame): capped generously
    # and reported; XLSX (constant memory), ODM and the REDCap file stream.
    for fmt, cap in ((F.XLSX, 64.0), (F.DTA, 2048.0), (F.SAV, 2048.0)):
        jobs.append(
            Job(
                name=f"export analysis {fmt}",
                run=_tabular(study, fmt),
                probe=_tabular(study, fmt),
                memory_cap_mib=cap,
            )
        )
    for fmt in (F.ODM, F.REDCAP):
        jobs.append(Job(name=f"export {fmt}", run=_exchange(study, fmt), probe=_exchange(study, fmt)))
    jobs.append(
        Job(name="export job: cut + analysis CSV zip", run=_whole_job(study), probe=_whole_probe(study))
    )
    return jobs
