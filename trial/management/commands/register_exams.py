"""Register imaging exams from DICOM files or folders on this machine (headers only): a screening's, or a
participant's follow-up exams."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from trial.audit import audit_context
from trial.errors import DomainError
from trial.models import Participant, Screening
from trial.services import imaging_exams_register, participant_exams_register


class Command(BaseCommand):
    help = (
        "Register imaging exams from DICOM files or folders (walked): one exam per StudyInstanceUID, for a "
        "screening (--screening) or as a participant's follow-up exams (--participant). Only headers are "
        "read; no patient name, ID or birth date is kept."
    )

    def add_arguments(self, parser):
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--screening", type=int, help="The screening's id.")
        owner.add_argument(
            "--participant", help="The participant's study ID: follow-up exams (a visit form links them)."
        )
        parser.add_argument(
            "--user", required=True, help="The user who registers (site staff of the site, or data manager)."
        )
        parser.add_argument("paths", nargs="+", type=Path, help="DICOM files or folders.")

    def handle(self, *args, screening, participant, user, paths, **options):
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"No active user {user!r}.")
        register, owner, label = self._owner(screening, participant)
        missing = [str(path) for path in paths if not path.exists()]
        if missing:
            raise CommandError(f"No such file or folder: {', '.join(missing)}")
        try:
            with audit_context(command="register_exams"):
                result = register(actor=actor, paths=paths, **owner)
        except DomainError as error:
            lines = [line for messages in error.field_errors.values() for line in messages]
            raise CommandError("\n".join([error.message, *lines])) from None
        for problem in result.problems:
            self.stderr.write(f"skipped {problem.file}: {problem.message}")
        for exam in result.exams:
            self.stdout.write(
                f"registered {exam.modality} {exam.study_date} ({exam.series_count} series) as exam {exam.pk}"
            )
        if result.participant is None:
            self.stdout.write(f"{label}: {result.screening.outcome}")
        else:
            self.stdout.write(f"{label}: {len(result.exams)} follow-up exam(s) registered")

    @staticmethod
    def _owner(screening: int | None, study_id: str | None):
        """The service, its keyword argument and how the output names it."""
        if screening is not None:
            screenings = Screening.objects.select_related("site", "study", "protocol_version")
            found = screenings.filter(pk=screening).first()
            if found is None:
                raise CommandError(f"No screening {screening}.")
            return imaging_exams_register, {"screening": found}, f"screening {found.pk}"
        found = (
            Participant.objects.select_related("site", "screening__study").filter(study_id=study_id).first()
        )
        if found is None:
            raise CommandError(f"No participant {study_id!r}.")
        return participant_exams_register, {"participant": found}, f"participant {found.study_id}"
