"""The daily sweep: plan the reminders due today as outbox rows, once each (their key is unique).

The visits that may need one are read in SQL (pending, window open today, participant followed); each
reminder is then judged by the rule the dispatcher applies again before sending (rules.reminder_obstacle).
Visits are read in batches by id at each site, so the sweep runs a bounded number of queries a batch (visits,
submitted questionnaires, contacts, opt-outs, existing keys, one insert) whatever the number of participants,
and holds one batch in memory. Planning twice plans nothing new: a row's key names the participant's visit,
the questionnaire, the channel and the step, and the insert ignores keys that exist.
"""

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from trial.clock import site_today
from trial.models import ContactOptOut, ParticipantIdentity, ParticipantStatus, ProtocolVersion, Site
from trial.selectors import CHANNEL_ADDRESS

from ..models import QuestionnaireResponse, ResponseStatus, Visit, VisitState
from .models import MessageKind, MessageState, OutboxMessage
from .rules import reminder_obstacle, reminder_rule, step_due

BATCH = 2000


@dataclass
class SweepResult:
    planned: int = 0  # new outbox rows
    existing: int = 0  # due today but planned by an earlier sweep
    # reason -> count; a reason is the note's code with its parameters ("submitted", "opted_out sms")
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def reminder_key(*, visit_id: int, instrument: str, channel: str, step: str) -> str:
    return f"reminder:v{visit_id}:{instrument}:{channel}:{step}"


def reminders_sweep(*, study: str | None = None, dry_run: bool = False) -> SweepResult:
    """Plan today's reminders at every site (of one study), each site by its own date."""
    result = SweepResult()
    sites = Site.objects.filter(active=True).order_by("pk")
    if study:
        sites = sites.filter(study__code=study)
    rules = {
        version.pk: reminder_rule(version.definition)
        for version in ProtocolVersion.objects.filter(study__sites__in=sites).distinct()
    }
    for site in sites:
        _sweep_site(site, rules, result, dry_run=dry_run)
    return result


def _sweep_site(site: Site, rules: dict, result: SweepResult, *, dry_run: bool) -> None:
    today = site_today(site)
    midnight = datetime.datetime.combine(today, datetime.time(), tzinfo=zoneinfo.ZoneInfo(site.time_zone))
    visits = (
        Visit.objects.filter(
            site=site,
            state=VisitState.PENDING,
            window_open__lte=today,
            window_close__gte=today,
            participant__status=ParticipantStatus.ENROLLED,
        )
        .exclude(questionnaires=[])
        .order_by("pk")
        .values_list(
            "pk",
            "participant_id",
            "window_open",
            "window_close",
            "questionnaires",
            "participant__screening__protocol_version_id",
            "participant__status",
            "state",
        )
    )
    last = 0
    while batch := list(visits.filter(pk__gt=last)[:BATCH]):
        last = batch[-1][0]
        rows = _plan_batch(batch, rules, today, max(midnight, timezone.now()), result)
        existing = set(
            OutboxMessage.objects.filter(key__in=[row.key for row in rows]).values_list("key", flat=True)
        )
        new = [row for row in rows if row.key not in existing]
        result.existing += len(existing)
        result.planned += len(new)
        if new and not dry_run:
            with transaction.atomic():
                # A sweep running at the same moment inserts the same keys: the second insert is a no-op.
                OutboxMessage.objects.bulk_create(new, ignore_conflicts=True)


def _plan_batch(batch, rules, today, due_at, result: SweepResult) -> list[OutboxMessage]:
    visit_ids = [row[0] for row in batch]
    participants = {row[1] for row in batch}
    submitted = set(
        QuestionnaireResponse.objects.filter(visit_id__in=visit_ids, status=ResponseStatus.FINAL).values_list(
            "visit_id", "instrument"
        )
    )
    # {participant: {channel: address, "language": ...}}: each channel's address as trial names it.
    contacts = {
        row["participant_id"]: {channel: row[field] for channel, field in CHANNEL_ADDRESS.items()}
        | {"language": row["contact_language"]}
        for row in ParticipantIdentity.objects.filter(participant_id__in=participants).values(
            "participant_id", "contact_language", *CHANNEL_ADDRESS.values()
        )
    }
    opted_out = set(
        ContactOptOut.objects.filter(participant_id__in=participants, ended_on__isnull=True).values_list(
            "participant_id", "channel"
        )
    )
    rows = []
    for visit_id, participant, window_open, window_close, questionnaires, version, status, state in batch:
        rule = rules.get(version)
        if rule is None:
            result.skip("no reminders in the protocol")
            continue
        due = step_due(rule, window_open, window_close, today)
        if due is None:
            continue
        _day, step = due
        contact = contacts.get(participant, {})
        for instrument in questionnaires:
            for channel in rule.channels:
                obstacle = reminder_obstacle(
                    participant_status=status,
                    visit_state=state,
                    today=today,
                    window_close=window_close,
                    submitted=(visit_id, instrument) in submitted,
                    channel=channel,
                    opted_out=(participant, channel) in opted_out,
                    address=contact.get(channel, ""),
                )
                if obstacle:
                    result.skip(" ".join((obstacle.code, *obstacle.params.values())))
                    continue
                rows.append(
                    OutboxMessage(
                        key=reminder_key(
                            visit_id=visit_id, instrument=instrument, channel=channel, step=step
                        ),
                        kind=MessageKind.REMINDER,
                        channel=channel,
                        participant_id=participant,
                        visit_id=visit_id,
                        instrument=instrument,
                        step=step,
                        language=contact.get("language") or "zh-hans",
                        state=MessageState.PENDING,
                        due_at=due_at,
                    )
                )
    return rows
