"""Load a site's licensed wording of a questionnaire (ODI 2.1a, VAS) from its own JSON or YAML file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from trial.errors import InvalidInput

from ...instruments.texts import MAX_FILE_BYTES
from ...services.questionnaires import instrument_text_load


class Command(BaseCommand):
    help = (
        "Load a site's licensed wording of an instrument in one language (JSON or YAML; see "
        "followup/instruments/texts.py). Checked strictly: nothing is loaded unless the whole file is valid. "
        "The wording itself is never printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The site's file, e.g. odi-2.1a-zh-hans.yaml")

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        if file.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(f"{file.name}: the file is too large (at most 1 MB).")
        try:
            text, state = instrument_text_load(raw=file.read_bytes(), name=file.name)
        except InvalidInput as exc:
            problems = "\n".join(
                f"  {where}: {message}"
                for where, messages in exc.field_errors.items()
                for message in messages
            )
            raise CommandError(f"{file.name}: {exc.message} Nothing was loaded.\n{problems}") from exc
        self.stdout.write(
            f"{text.instrument} {text.instrument_version} ({text.language}): {state}, "
            f"sha256 {text.source_sha256}"
        )
