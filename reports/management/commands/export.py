"""manage.py export --study CODE --format csv|csv-labels|xlsx|dta|sav|redcap|odm [--dataset analysis|long]
[--deidentify] [--bom] [--language en|zh-hans] --out PATH: an export built here, as the worker builds it, for
scheduled jobs on the server. PATH is the zip to write, or a directory to write it into under its own name;
the manifest is printed.

The export is a job like the pages' (trigger "command line"): its options are checked by the same rule, its
file and manifest are stored with it, and a de-identified export's salt is kept in the job, never printed
nor written beside the file.
"""

import getpass
import json
import shutil
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from trial.errors import DomainError
from trial.models import Study

from ...exports import formats as F
from ...jobs import job_execute, job_state
from ...models import Job, JobKind, JobStatus, JobTrigger
from ...services import export_params


class Command(BaseCommand):
    help = "Export a study's data (zip with the data dictionary and a manifest) and print the manifest."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="the study's registration number")
        parser.add_argument("--format", required=True, choices=list(F.FORMATS))
        parser.add_argument("--dataset", choices=list(F.DATASETS), default=F.ANALYSIS)
        parser.add_argument(
            "--deidentify", action="store_true", help="hashed IDs, shifted dates, no free text"
        )
        parser.add_argument("--bom", action="store_true", help="a UTF-8 byte-order mark (CSV, for Excel)")
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES], default="en")
        parser.add_argument(
            "--out", required=True, type=Path, help="the zip, or a directory (never overwritten)"
        )

    def handle(self, *args, study, format, dataset, deidentify, bom, language, out, **options):
        found = Study.objects.select_related("current_version").filter(code=study).first()
        if found is None:
            raise CommandError(f"no study {study}")
        if not found.current_version_id:
            raise CommandError(f"study {study} has no protocol loaded")
        if not (out if out.is_dir() else out.parent).is_dir():
            raise CommandError(f"{out.parent} is not a directory")
        try:
            params = export_params(
                format=format, dataset=dataset, deidentify=deidentify, bom=bom, language=language
            )
        except DomainError as refused:
            problems = "; ".join(
                f"--{k}: {' '.join(v)}" for k, v in getattr(refused, "field_errors", {}).items()
            )
            raise CommandError(problems or str(refused)) from refused
        params["generated_by"] = f"manage.py export ({getpass.getuser()})"
        # Run here, not queued: the row is created queued and executed in this process.
        job = Job.objects.create(
            study=found,
            kind=JobKind.EXPORT,
            trigger=JobTrigger.COMMAND,
            params=params,
            status=JobStatus.QUEUED,
        )
        job_execute(job.pk)
        job.refresh_from_db()
        if job.status != JobStatus.DONE:
            raise CommandError(f"export job {job.pk} failed: {job_state(job).error}")
        target = out / job.file_name if out.is_dir() else out
        try:
            # Exclusive creation: an existing file is never overwritten.
            with job.file.open("rb") as source, open(target, "xb") as file:
                shutil.copyfileobj(source, file)
        except FileExistsError as taken:
            raise CommandError(f"{target} exists: an export is never overwritten") from taken
        with zipfile.ZipFile(target) as bundle:
            manifest = json.loads(bundle.read("manifest.json"))
        self.stdout.write(json.dumps(manifest, indent=2, ensure_ascii=False))
        self.stdout.write(f"job {job.pk}: wrote {target}")
