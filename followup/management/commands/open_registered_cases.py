"""Open the adjudication cases of a study's registered fractured vertebrae (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from followup.services.registered import study_registered_cases_open
from trial.audit import audit_context
from trial.errors import DomainError
from trial.models import Study


class Command(BaseCommand):
    help = (
        "Open one adjudication case per registered fractured vertebra of each registered participant that "
        "lacks it, and give every open case its two readers, under a protocol whose cases are its registered "
        "vertebrae (adjudication.cases: registered_levels). A second run opens and assigns nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="Registration number, e.g. NCT07306858.")

    def handle(self, *args, study, **options):
        found = Study.objects.filter(code=study).first()
        if found is None:
            raise CommandError(f"Unknown study {study}: run `manage.py load_protocols` first.")
        try:
            with audit_context(command="open_registered_cases"):
                opened = study_registered_cases_open(study=found)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{study}: {opened.cases} cases opened, {opened.assigned} reader slots filled.")
