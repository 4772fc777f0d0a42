"""An export asked for through the API, built by a real Celery worker running the real runner, downloaded
(logged) and read back: the whole path a data manager takes."""

import io
import json
import zipfile

import pyreadstat
import pytest

from reports.models import Download, Job
from trial.models import Participant

from ...conftest import frozen_clock
from ..conftest import api_for, wait_for
from ..test_dataset import seed

URL = "/api/v1/studies/NCT06379243/exports/"


@pytest.mark.django_db(transaction=True)
def test_a_deidentified_stata_export_through_a_real_worker(people, study, report_worker, tmp_path):
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 8)
    client = api_for(people["data_manager"], "zh-hans")
    answer = client.post(URL, {"format": "dta", "deidentify": True, "language": "zh-hans"}, format="json")
    assert answer.status_code == 202, answer.content
    detail = f"/api/v1/jobs/{answer.json()['id']}/"
    done = wait_for(lambda: client.get(detail).json(), lambda job: job["status"] in ("done", "failed"))
    assert done["status"] == "done", done
    assert done["steps_done"] == done["steps_total"] == 4
    assert "salt" not in json.dumps(done)
    download = client.get(f"{detail}download/")
    assert download["Content-Type"] == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    manifest = json.loads(bundle.read("manifest.json"))
    job = Job.objects.select_related("cut").get(pk=done["id"])
    assert manifest["data_cut_sha256"] == job.cut.sha256 == done["dataset_sha256"]
    assert manifest["deidentified"] is True and job.file_name.endswith("_dta_analysis_deid.zip")
    path = tmp_path / "analysis.dta"
    path.write_bytes(bundle.read("analysis.dta"))
    frame, meta = pyreadstat.read_dta(str(path))
    assert len(frame) == Participant.objects.filter(site__study=study).count() == 8
    ids = set(Participant.objects.filter(site__study=study).values_list("study_id", flat=True))
    assert not ids & set(frame["study_id"])
    assert set(meta.variable_value_labels["sex"].values()) == {"男", "女"}
    assert Download.objects.filter(job=job, user=people["data_manager"], via="api").count() == 1


@pytest.mark.django_db(transaction=True)
def test_progress_made_inside_the_runners_transaction_is_seen_at_once(people, study):
    """An export reads one snapshot in one transaction; its progress is committed on its own connection, so
    the page sees it while the export runs (and the job's row is not held locked to the end)."""
    from django.db import connection, transaction

    from reports.jobs import _progress_of
    from reports.models import JobStatus

    job = Job.objects.create(
        study=study, kind="export", trigger="on_demand", params={}, status=JobStatus.RUNNING
    )
    progress = _progress_of(job.pk)
    with transaction.atomic():
        progress("tables", 1, 4)
        other = connection.get_new_connection(connection.get_connection_params())
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT step, steps_done, steps_total FROM reports_job WHERE id = %s", [job.pk]
                )
                seen = cursor.fetchone()
        finally:
            other.close()
    assert seen == ("tables", 1, 4)
