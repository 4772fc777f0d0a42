"""manage.py export --study CODE --format csv|csv-labels|xlsx|dta|sav|redcap|odm [--dataset analysis|long]
[--deidentify] [--bom] [--language en|zh-hans] --out PATH: an export built here, as the worker builds it, for
scheduled jobs on the server. PATH is the zip to write, or a directory to write it into under its own name;
the manifest is printed."""

import getpass
import json
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from trial.errors import DomainError
from trial.models import Study

from ...exports import formats as F
from ...exports.deid import salt_new
from ...exports.run import export_build, remove_export


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
        params = {
            "format": format,
            "dataset": dataset,
            "deidentify": deidentify,
            "bom": bom,
            "language": language,
        }
        if deidentify:
            params["salt"] = salt_new()
        try:
            built = export_build(
                study=found, params=params, generated_by=f"manage.py export ({getpass.getuser()})"
            )
        except DomainError as refused:
            raise CommandError(str(refused)) from refused
        try:
            target = out / built.file_name if out.is_dir() else out
            # Exclusive creation: an existing file is never overwritten.
            with built.path.open("rb") as source, open(target, "xb") as file:
                shutil.copyfileobj(source, file)
        except FileExistsError as taken:
            raise CommandError(f"{target} exists: an export is never overwritten") from taken
        finally:
            remove_export(built)
        if deidentify:
            self.stderr.write(
                f"salt {params['salt']} (keep it to re-link the hashed study IDs; not in the zip)"
            )
        self.stdout.write(json.dumps(built.manifest, indent=2, ensure_ascii=False))
        self.stdout.write(f"wrote {target}")
