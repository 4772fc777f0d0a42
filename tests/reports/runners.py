"""Stand-in job runners for the tests, registered through the real extension point (reports.jobs).

Imported by the tests' conftest (this process) and by the tests' Celery worker (`--include`), so both know
the same kinds. In the worker, REPORTS_TEST_GATE_DIR makes `test_report` wait after its first step until
the test opens the gate (a file named after the job), so the test sees the progress while the job runs;
REPORTS_FAKE_INTERIM=1 puts `test_report` in the place of the interim report (its own tests come with it),
REPORTS_FAKE_EXPORT=1 `test_export` in the place of the exports' runner (the pages' tests need no real file).
"""

import os
import time
from pathlib import Path

from django.utils.translation import get_language

from reports.jobs import JobOutput, job_runner_register
from trial.errors import DomainError

GATE_TIMEOUT = 60


def gate_path(directory: str | Path, job_id: int) -> Path:
    return Path(directory) / f"job-{job_id}"


def _wait_at_gate(job_id: int) -> None:
    if gate := os.environ.get("REPORTS_TEST_GATE_DIR"):
        deadline = time.monotonic() + GATE_TIMEOUT
        while not gate_path(gate, job_id).exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def test_report(job, progress) -> JobOutput:
    """Three steps; the file says which study and in which language it was built."""
    progress("first", 1, 3)
    _wait_at_gate(job.pk)
    progress("second", 2, 3)
    progress("third", 3, 3)
    content = f"report of {job.study.code} in {get_language()}\n".encode()
    return JobOutput(content=content, file_name=f"report-{job.pk}.txt", content_type="text/plain")


def test_export(job, progress) -> JobOutput:
    """The exports' four steps; a small file that says which options it was asked for (the salt is none)."""
    progress("capture", 1, 4)
    _wait_at_gate(job.pk)
    progress("tables", 2, 4)
    progress("write", 3, 4)
    progress("package", 4, 4)
    options = {key: job.params.get(key) for key in ("format", "dataset", "deidentify", "bom", "language")}
    content = f"export of {job.study.code} {sorted(options.items())}\n".encode()
    return JobOutput(content=content, file_name=f"export-{job.pk}.txt", content_type="text/plain")


class NothingToReport(DomainError):
    code = "nothing_to_report"


def test_refused(job, progress) -> JobOutput:
    progress("first", 1, 2)
    raise NothingToReport("Rien: the study has no data yet.")


def test_crash(job, progress) -> JobOutput:
    progress("first", 1, 2)
    raise RuntimeError("secret detail: /srv/spinetrial/var/media password=hunter2")


job_runner_register("test_report", test_report)
job_runner_register("test_refused", test_refused)
job_runner_register("test_crash", test_crash)
if os.environ.get("REPORTS_FAKE_INTERIM") == "1":
    job_runner_register("interim_report", test_report, replace=True)
if os.environ.get("REPORTS_FAKE_EXPORT") == "1":
    job_runner_register("export", test_export, replace=True)
