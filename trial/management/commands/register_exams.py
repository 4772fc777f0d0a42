"""Register a screening's imaging exams from DICOM files or folders on this machine (headers only)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from trial.audit import audit_context
from trial.errors import DomainError
from trial.models import Screening
from trial.services import imaging_exams_register


class Command(BaseCommand):
    help = (
        "Register imaging exams of a screening from DICOM files or folders (walked): one exam per "
        "StudyInstanceUID. Only headers are read; no patient name, ID or birth date is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--screening", type=int, required=True, help="The screening's id.")
        parser.add_argument(
            "--user", required=True, help="The user who registers (site staff of the site, or data manager)."
        )
        parser.add_argument("paths", nargs="+", type=Path, help="DICOM files or folders.")

    def handle(self, *args, screening, user, paths, **options):
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"No active user {user!r}.")
        screenings = Screening.objects.select_related("site", "study", "protocol_version")
        found = screenings.filter(pk=screening).first()
        if found is None:
            raise CommandError(f"No screening {screening}.")
        missing = [str(path) for path in paths if not path.exists()]
        if missing:
            raise CommandError(f"No such file or folder: {', '.join(missing)}")
        try:
            with audit_context(command="register_exams"):
                result = imaging_exams_register(actor=actor, screening=found, paths=paths)
        except DomainError as error:
            lines = [line for messages in error.field_errors.values() for line in messages]
            raise CommandError("\n".join([error.message, *lines])) from None
        for problem in result.problems:
            self.stderr.write(f"skipped {problem.file}: {problem.message}")
        for exam in result.exams:
            self.stdout.write(
                f"registered {exam.modality} {exam.study_date} ({exam.series_count} series) as exam {exam.pk}"
            )
        self.stdout.write(f"screening {found.pk}: {result.screening.outcome}")
