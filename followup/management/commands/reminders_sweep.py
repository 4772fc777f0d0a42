"""manage.py reminders_sweep [--study CODE] [--dry-run]: plan today's reminders once and say what happened."""

from django.core.management.base import BaseCommand

from ...messaging.digests import digests_plan
from ...messaging.sweep import reminders_sweep


class Command(BaseCommand):
    help = (
        "Plan the questionnaire reminders due today (each site by its own date) and the staff digests; "
        "--dry-run writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", help="only this study's sites (its code)")
        parser.add_argument("--dry-run", action="store_true", help="count, write nothing")

    def handle(self, *args, study, dry_run, **options):
        result = reminders_sweep(study=study, dry_run=dry_run)
        verb = "would queue" if dry_run else "queued"
        self.stdout.write(f"{verb} {result.planned}, already queued {result.existing}")
        for reason, count in sorted(result.skipped.items()):
            self.stdout.write(f"skipped {count}: {reason}")
        if not study:  # digests cover a person's sites, not one study's
            planned, existing = digests_plan(dry_run=dry_run)
            self.stdout.write(f"digests: {verb} {planned}, already queued {existing}")
