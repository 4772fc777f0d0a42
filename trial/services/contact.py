"""A participant's refusal of messages on a channel, recorded by site staff (the patient's own, from a link
page, is another way in), and its end when they opt in again. The row stays: the history of consent to
contact is kept, and the audit trail names who recorded each step."""

import datetime
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..access import require_site_staff
from ..audit import audit_context, reason_required
from ..clock import site_today
from ..errors import Conflict, InvalidInput
from ..models import ContactChannel, ContactOptOut, OptOutSource, Participant


def _channel(channel: str) -> str:
    if channel not in ContactChannel.values:
        raise InvalidInput(_("Unknown channel."), field_errors={"channel": [_("Choose SMS or e-mail.")]})
    return channel


def opt_out_record(
    *, actor, participant: Participant, channel: str, since: datetime.date | None = None
) -> ContactOptOut:
    """Record that the participant wants no more messages on `channel` from `since` (default: today at the
    site; not in the future). Site staff only; 409 if an opt-out of that channel is already in force.

    Atomic: the participant's row is locked, so two recordings of the same opt-out cannot both pass."""
    require_site_staff(actor, participant.site, gettext_lazy("record an opt-out of messages"))
    _channel(channel)
    today = site_today(participant.site)
    since = since or today
    if since > today:
        raise InvalidInput(
            _("The date cannot be in the future."),
            field_errors={"since": [_("The date cannot be in the future.")]},
        )
    with transaction.atomic(durable=True), audit_context(actor=actor, reason="opt-out recorded by staff"):
        Participant.objects.select_for_update().get(pk=participant.pk)
        if ContactOptOut.objects.filter(participant=participant, channel=channel, ended_on=None).exists():
            raise Conflict(
                _("The participant has already opted out of this channel."), code="already_opted_out"
            )
        try:
            with transaction.atomic():
                return ContactOptOut.objects.create(
                    participant=participant,
                    channel=channel,
                    since=since,
                    source=OptOutSource.STAFF,
                    recorded_by=actor,
                )
        except IntegrityError:  # the one-live-opt-out constraint, should a writer not lock the participant
            raise Conflict(
                _("The participant has already opted out of this channel."), code="already_opted_out"
            ) from None


# The audit trail's reason for a patient's own opt-out (data, not a message: not translated). Nothing of the
# link that carried it: the URL in the request's context is masked (trial.privacy.mask_tokens).
OPTED_OUT_BY_PATIENT = "opt-out by the patient (link page)"


def opt_out_by_patient(
    *, participant: Participant, channel: str, guard: Callable[[], None] | None = None
) -> ContactOptOut:
    """Record the patient's own opt-out of `channel` from today at the site (source patient, recorded by no
    one) and return it. Idempotent: an opt-out already in force on the channel, whoever recorded it, is
    returned unchanged.

    No role is checked: the caller has established that the patient asks (a live patient link; its service
    passes `guard`, its last check under the participant's row lock, as questionnaire_save's). Atomic, with
    the participant's row locked as opt_out_record locks it, so two requests leave one opt-out."""
    _channel(channel)
    with (
        transaction.atomic(durable=True),
        audit_context(actor=None, reason=OPTED_OUT_BY_PATIENT, author="patient"),
    ):
        Participant.objects.select_for_update().filter(pk=participant.pk).exists()
        if guard is not None:
            guard()
        in_force = ContactOptOut.objects.filter(
            participant=participant, channel=channel, ended_on=None
        ).first()
        if in_force is not None:
            return in_force
        return ContactOptOut.objects.create(
            participant=participant,
            channel=channel,
            since=site_today(participant.site),
            source=OptOutSource.PATIENT,
            recorded_by=None,
        )


def opt_out_end(*, actor, participant: Participant, channel: str, reason: str) -> ContactOptOut:
    """End the opt-out in force on `channel` today at the site (the participant opted in again), with a
    reason. Site staff only; 409 if none is in force.

    Atomic: the opt-out's row is locked while it is ended."""
    require_site_staff(actor, participant.site, gettext_lazy("end an opt-out of messages"))
    _channel(channel)
    reason = reason_required(reason)
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason.strip()):
        opt_out = (
            ContactOptOut.objects.select_for_update()
            .filter(participant=participant, channel=channel, ended_on=None)
            .first()
        )
        if opt_out is None:
            raise Conflict(_("The participant has not opted out of this channel."), code="not_opted_out")
        opt_out.ended_on = max(site_today(participant.site), opt_out.since)
        opt_out.save(update_fields=["ended_on"])
        return opt_out
