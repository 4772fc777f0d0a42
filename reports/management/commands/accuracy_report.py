"""manage.py accuracy_report --study CODE --language en|zh-hans --out FILE.pdf [--json FILE.json]
[--interval wilson|clopper-pearson]: the STARD accuracy report built here, as the worker builds it."""

import getpass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from trial.errors import DomainError
from trial.models import Study

from ...stard.figures import INTERVALS
from ...stard.report import accuracy_report_build


class Command(BaseCommand):
    help = (
        "Build the STARD accuracy report of a study into a PDF (and its JSON) and print the data's SHA-256."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="the study's registration number")
        parser.add_argument("--language", required=True, choices=[code for code, _name in settings.LANGUAGES])
        parser.add_argument("--out", required=True, type=Path, help="the PDF to write (never overwritten)")
        parser.add_argument("--json", type=Path, help="also the JSON of every estimate (never overwritten)")
        parser.add_argument("--interval", choices=INTERVALS, default="wilson", help="of the five proportions")

    def handle(self, *args, study, language, out, json, interval, **options):
        found = Study.objects.select_related("current_version").filter(code=study).first()
        if found is None:
            raise CommandError(f"no study {study}")
        for path in (out, json):
            if path is not None and path.exists():
                raise CommandError(f"{path} exists: a report is never overwritten")
        if json is not None and json.resolve() == out.resolve():
            raise CommandError("--json and --out name the same file")
        try:
            report = accuracy_report_build(
                study=found,
                language=language,
                interval=interval,
                generated_by=f"manage.py accuracy_report ({getpass.getuser()})",
            )
        except DomainError as refused:
            raise CommandError(str(refused)) from refused
        # Exclusive creation: a file that appeared meanwhile is still not overwritten.
        with open(out, "xb") as file:
            file.write(report.pdf)
        lines = [f"sha256 {report.figures['dataset_sha256']}"]
        if not report.figures["lock"]["locked"]:
            lines.append("analysis NOT LOCKED: the current imports were used")
        lines.append(f"wrote {out} ({len(report.pdf)} bytes)")
        if json is not None:
            with open(json, "xb") as file:
                file.write(report.json)
            lines.append(f"wrote {json} ({len(report.json)} bytes)")
        self.stdout.write("\n".join(lines))
