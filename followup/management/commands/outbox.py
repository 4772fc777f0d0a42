"""manage.py outbox [--participant STUDY_ID] [--state STATE]: list messages (no address, no text)."""

from django.core.management.base import BaseCommand, CommandError

from ...messaging.models import MessageState, OutboxMessage
from ...messaging.notes import note_text


class Command(BaseCommand):
    help = "List the outbox's messages, newest first: state, channel, participant, visit, step, times."

    def add_arguments(self, parser):
        parser.add_argument("--participant", help="a study ID, e.g. 07-0012")
        parser.add_argument("--state", help=f"one of {', '.join(MessageState.values)}")
        parser.add_argument("--limit", type=int, default=100)

    def handle(self, *args, participant, state, limit, **options):
        messages = OutboxMessage.objects.select_related("participant", "visit").order_by("-created_at", "-pk")
        if state:
            if state not in MessageState.values:
                raise CommandError(f"--state must be one of {', '.join(MessageState.values)}")
            messages = messages.filter(state=state)
        if participant:
            messages = messages.filter(participant__study_id=participant)
        for message in messages[:limit]:
            note = note_text(message.note_code, message.note_params, "en")
            sent = message.sent_at.isoformat(timespec="seconds") if message.sent_at else "-"
            visit = message.visit.code if message.visit else "-"
            who = message.participant.study_id if message.participant else f"staff {message.recipient_id}"
            columns = [
                f"{message.pk:>8}",
                f"{message.state:<12}",
                f"{message.channel:<6}",
                f"{who:<10}",
                f"{visit:<6} {message.instrument:<4} {message.step:<10}",
                f"attempts {message.attempts} sent {sent} {note}",
            ]
            self.stdout.write(" ".join(columns))
