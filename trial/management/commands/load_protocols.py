"""Load protocol files: every shipped one by default, or the files named."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from trial.audit import audit_context
from trial.services.protocols import ProtocolFileError, protocol_load_file


class Command(BaseCommand):
    help = "Load protocol files (YAML). A changed file becomes a new version; an unchanged one is skipped."

    def add_arguments(self, parser):
        parser.add_argument(
            "files", nargs="*", type=Path, help="Protocol files (default: every shipped one)."
        )

    def handle(self, *args, files, **options):
        paths = files or sorted(Path(settings.PROTOCOL_DIR).glob("*.yaml"))
        for path in paths:
            if not path.is_file():
                raise CommandError(f"No such protocol file: {path}")
            try:
                with audit_context(command="load_protocols"):
                    result = protocol_load_file(path)
            except ProtocolFileError as exc:
                raise CommandError(f"{path.name}: {exc}") from exc
            state = "loaded as" if result.created else "unchanged,"
            self.stdout.write(
                f"{result.version.study.code}: {state} version {result.version.number} "
                f"({result.version.label})"
            )
