"""Sending the outbox: claim due rows, check each again, send it, record what happened. Never twice.

- **Claim** one due pending or held row at a time, just before sending it, in a short transaction with
  `FOR UPDATE SKIP LOCKED` (two dispatchers never claim the same row): marked `sending` with the time and one
  more attempt, then committed. One at a time, so a crash leaves only the message in hand of unknown outcome,
  not a whole batch that was never attempted.
- **Check again** just before sending, under the row's lock: the questionnaire is not submitted, the visit
  still pending and its window open, the participant still followed, the channel not opted out, an address
  on file. A row that no longer applies is `cancelled` with the reason; one in the site's quiet hours is
  `held` until they end (not an attempt).
- **Send** outside any transaction, with a fresh patient link (older links revoked). Sent: `sent`. Refused
  for good: `failed`. Refused for now: back to `pending` after a backoff, `failed` after MAX_ATTEMPTS. Outcome
  unknown (a timeout after the request left): `unconfirmed`.
- **A crash** between claiming and recording leaves the row `sending`; after SENDING_TIMEOUT it becomes
  `unconfirmed` for staff to confirm or resend. It is never sent again blindly.
"""

import datetime
import logging
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone, translation

from trial.errors import DomainError
from trial.i18n import localized
from trial.models import ContactOptOut, ParticipantIdentity
from trial.selectors import CHANNEL_ADDRESS

from ..instruments import instrument_def
from ..models import QuestionnaireResponse, ResponseStatus, Visit
from ..services.links import patient_link_issue_for_reminder
from .channels import OutcomeUnknown, Outgoing, SendFailed, channel_send
from .heartbeats import HeartbeatName, heartbeat_record
from .models import CLAIMABLE, MessageState, OutboxMessage
from .notes import Note
from .rules import quiet_hours_end, reminder_obstacle, reminder_rule
from .staff import STAFF_MESSAGE_KINDS

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF = datetime.timedelta(minutes=5)  # doubled after each failed attempt
SENDING_TIMEOUT = datetime.timedelta(minutes=10)
CRASHED = Note("crashed")


@dataclass
class DispatchResult:
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, state: str) -> None:
        self.outcomes[state] = self.outcomes.get(state, 0) + 1


def outbox_dispatch(*, limit: int = 100) -> DispatchResult:
    """Send the due messages (at most `limit`); what became of each, by state.

    Claimed one at a time, just before it is sent: a worker killed mid-batch leaves at most the message it was
    sending unconfirmed, and no claimed row waits behind slow sends past SENDING_TIMEOUT (either would mark
    messages unconfirmed that were never tried).
    """
    result = DispatchResult()
    stale = OutboxMessage.objects.filter(
        state=MessageState.SENDING, claimed_at__lt=timezone.now() - SENDING_TIMEOUT
    )
    for _ in range(stale.update(state=MessageState.UNCONFIRMED, **CRASHED.fields())):
        result.add(MessageState.UNCONFIRMED)
    for _ in range(limit):
        claimed = outbox_claim(now=timezone.now(), limit=1)
        if not claimed:
            break
        result.add(message_deliver(claimed[0]))
        # Alive: a run slowed by a slow gateway is not taken for a hung worker (worker_watchdog, /healthz).
        heartbeat_record(name=HeartbeatName.DISPATCH)
    return result


def outbox_claim(*, now: datetime.datetime, limit: int) -> list[int]:
    """Claim due rows: marked sending, with the claim time and one more attempt; their ids."""
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(state__in=CLAIMABLE, due_at__lte=now)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        OutboxMessage.objects.filter(pk__in=ids).update(
            state=MessageState.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return ids


def message_deliver(pk: int) -> str:
    """Check one claimed message again, send it, and record the outcome; its new state."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .select_related("participant__site__study", "participant__screening__protocol_version", "visit")
            .get(pk=pk)
        )
        if message.state != MessageState.SENDING:
            return message.state  # recorded meanwhile (e.g. marked unconfirmed after a long stall)
        # A staff member's message (a digest, a report ready...) is sent as its kind says (staff.py).
        staff = STAFF_MESSAGE_KINDS.get(message.kind) if message.recipient_id else None
        if message.recipient_id and staff is None:
            unknown = Note("not_composed", {"error": f"unregistered kind {message.kind}"})
            return _record(message, MessageState.FAILED, unknown)
        reason = staff.no_longer_applies(message) if staff else _no_longer_applies(message)
        if reason:
            return _record(message, MessageState.CANCELLED, reason, attempt=False)
        zone = staff.zone(message) if staff else zoneinfo.ZoneInfo(message.participant.site.time_zone)
        start, end = settings.QUIET_HOURS
        held_until = quiet_hours_end(timezone.now().astimezone(zone), start=start, end=end)
        if held_until is not None:
            message.due_at = held_until
            return _record(message, MessageState.HELD, Note("quiet_hours"), attempt=False)
    try:
        outgoing = staff.compose(message) if staff else _compose(message)
    except DomainError as refused:  # e.g. the wording is not loaded in the patient's language
        return _record(message, MessageState.FAILED, Note("no_link", {"code": refused.code}))
    except Exception as error:  # a bug: this message fails visibly, the others are still sent
        logger.exception("message %s could not be composed", message.pk)
        return _record(message, MessageState.FAILED, Note("not_composed", {"error": type(error).__name__}))
    try:
        provider_id = channel_send(outgoing)
    except OutcomeUnknown:
        return _record(message, MessageState.UNCONFIRMED, Note("no_answer"))
    except SendFailed as failure:
        refused = Note("refused", {"detail": failure.reason})
        if failure.permanent or message.attempts >= MAX_ATTEMPTS:
            return _record(message, MessageState.FAILED, refused)
        message.due_at = timezone.now() + BACKOFF * 2 ** (message.attempts - 1)
        return _record(message, MessageState.PENDING, refused)
    message.sent_at, message.provider_id = timezone.now(), provider_id[:128]
    return _record(message, MessageState.SENT, None)


def _no_longer_applies(message: OutboxMessage) -> Note | None:
    """Why the reminder must not be sent now, or None: the facts re-read under the message's lock, just
    before sending, judged by the sweep's rule (rules.reminder_obstacle)."""
    participant = message.participant
    visit = Visit.objects.get(pk=message.visit_id)
    return reminder_obstacle(
        participant_status=participant.status,
        visit_state=visit.state,
        today=timezone.localdate(timezone=zoneinfo.ZoneInfo(participant.site.time_zone)),
        window_close=visit.window_close,
        submitted=QuestionnaireResponse.objects.filter(
            visit=visit, instrument=message.instrument, status=ResponseStatus.FINAL
        ).exists(),
        channel=message.channel,
        opted_out=ContactOptOut.objects.filter(
            participant=participant, channel=message.channel, ended_on=None
        ).exists(),
        address=_address(message),
    )


def _address(message: OutboxMessage) -> str:
    """The participant's address on the message's channel (trial.selectors.CHANNEL_ADDRESS), or ""."""
    identity = ParticipantIdentity.objects.filter(participant=message.participant).first()
    if identity is None:
        return ""
    return (getattr(identity, CHANNEL_ADDRESS[message.channel]) or "").strip()


def _compose(message: OutboxMessage) -> Outgoing:
    """The text in the participant's language, with a fresh link (the older ones revoked)."""
    visit = message.visit
    study = message.participant.site.study
    rule = reminder_rule(message.participant.screening.protocol_version.definition)
    _link, token = patient_link_issue_for_reminder(
        visit=visit, instrument=message.instrument, language=message.language, planned_at=message.created_at
    )
    with translation.override(message.language):
        fields = {
            "study": study.code,
            "visit": localized(visit.label),
            "questionnaire": localized(instrument_def(message.instrument).name),
            "closes": formats.date_format(visit.window_close, "SHORT_DATE_FORMAT"),
            "link": f"{settings.PUBLIC_BASE_URL.rstrip('/')}/p/{token}/",
        }
    text = rule.texts[message.language]
    return Outgoing(
        key=message.key,
        channel=message.channel,
        to=_address(message),
        subject=text["subject"].format(**fields) if message.channel == "email" else "",
        body=text["body"].format(**fields),
    )


def _record(message: OutboxMessage, state: str, note: Note | None, *, attempt: bool = True) -> str:
    """Store the message's outcome and why. A hold or a cancellation was not an attempt to send."""
    message.state = state
    message.set_note(note)
    if not attempt:
        message.attempts = max(0, message.attempts - 1)
    message.save(
        update_fields=[
            "state",
            "note_code",
            "note_params",
            "due_at",
            "sent_at",
            "provider_id",
            "attempts",
            "updated_at",
        ]
    )
    logger.info("message %s %s", message.pk, state)
    return state
