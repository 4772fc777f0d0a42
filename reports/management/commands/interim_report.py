"""manage.py interim_report --study CODE --language en|zh-hans --out FILE.pdf [--cut ISO-TIME]: the interim
report built here, as the worker builds it, for scheduled runs on the server."""

import datetime
import getpass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from trial.errors import DomainError
from trial.models import Study

from ...interim import report_build


class Command(BaseCommand):
    help = "Build the interim report of a study into a PDF file and print its data cut's SHA-256."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="the study's registration number")
        parser.add_argument("--language", required=True, choices=[code for code, _name in settings.LANGUAGES])
        parser.add_argument("--out", required=True, type=Path, help="the PDF to write (never overwritten)")
        parser.add_argument("--cut", help="the data cut, ISO 8601 (default: now); a stored cut is reused")

    def handle(self, *args, study, language, out, cut, **options):
        found = Study.objects.select_related("current_version").filter(code=study).first()
        if found is None:
            raise CommandError(f"no study {study}")
        cut_at = None
        if cut:
            cut_at = parse_datetime(cut)
            if cut_at is None:
                raise CommandError(f"--cut {cut!r} is not an ISO 8601 time (e.g. 2026-11-01T00:00:00+08:00)")
            if cut_at.tzinfo is None:
                raise CommandError("--cut needs its time zone (e.g. +08:00 or Z)")
        if out.exists():
            raise CommandError(f"{out} exists: a report is never overwritten")
        try:
            report = report_build(
                study=found,
                language=language,
                cut_at=cut_at,
                generated_by=f"manage.py interim_report ({getpass.getuser()})",
            )
        except DomainError as refused:
            raise CommandError(str(refused)) from refused
        # Exclusive creation: a file that appeared meanwhile is still not overwritten.
        with open(out, "xb") as file:
            file.write(report.pdf)
        at = report.cut.cut_at.astimezone(datetime.UTC).isoformat()
        self.stdout.write(f"data cut {at}\nsha256 {report.cut.sha256}\nwrote {out} ({len(report.pdf)} bytes)")
