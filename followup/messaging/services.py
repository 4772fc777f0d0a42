"""Staff's own digest settings, and staff's answers to a message whose outcome is unknown (a crash or a
lost gateway answer left it `unconfirmed`): it did arrive (confirm), or send it again (resend). Nothing else
changes a message by hand.

Who: for a reminder, the site staff of the participant's site or a data manager; for a digest, its reader or
a data manager of the reader's study. Each step takes the row's lock and judges its state under it, so a
confirm and a resend clicked at once do one thing, and the loser gets a 409. The actor is named in the
message's note, and the step is an audit-trail row with its actor and reason (models.OutboxMessage's
tracker).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trial.access import require_role_at
from trial.audit import audit_context
from trial.errors import Conflict, Forbidden, InvalidInput
from trial.i18n import LANGUAGES
from trial.models import Role
from trial.models.site import SITE_STAFF_ROLES

from .models import MessageState, OutboxMessage, StaffMessageSetting
from .notes import Note
from .selectors import digests_seen_by

ACTING_ROLES = SITE_STAFF_ROLES | {Role.DATA_MANAGER}


def _unconfirmed(*, actor, message: OutboxMessage, action) -> OutboxMessage:
    """The message re-read under its row lock, if it is still unconfirmed and the actor may act on it."""
    if message.site_id is not None:
        require_role_at(actor, message.site, ACTING_ROLES, action)
    elif not digests_seen_by(actor).filter(pk=message.pk).exists():
        # A digest has no site: its reader answers it, or a data manager of the reader's study.
        raise Forbidden(
            _("Only the reader of this digest or a data manager can %(action)s.") % {"action": action}
        )
    locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if locked.state != MessageState.UNCONFIRMED:
        raise Conflict(
            _("Only a message whose outcome is unknown can be confirmed or resent; this one is %(state)s.")
            % {"state": locked.get_state_display()},
            code="not_unconfirmed",
        )
    return locked


def message_confirm(*, actor, message: OutboxMessage) -> OutboxMessage:
    """Staff say the message did arrive: `sent`, the note naming who confirmed it. 409 unless unconfirmed.

    Atomic: the state is judged and changed under the row's lock."""
    with transaction.atomic(durable=True), audit_context(actor=actor, reason="message confirmed by staff"):
        locked = _unconfirmed(actor=actor, message=message, action=gettext_lazy("confirm this message"))
        locked.state = MessageState.SENT
        locked.sent_at = locked.sent_at or locked.claimed_at or timezone.now()
        locked.set_note(Note("confirmed", {"by": actor.get_username()}))
        locked.save(update_fields=["state", "sent_at", "note_code", "note_params", "updated_at"])
    return locked


def message_resend(*, actor, message: OutboxMessage) -> OutboxMessage:
    """Send the message again: `pending`, due now; the dispatcher re-checks it and sends it with a fresh link
    (which revokes the one it may have carried). 409 unless unconfirmed.

    Atomic: the state is judged and changed under the row's lock."""
    with transaction.atomic(durable=True), audit_context(actor=actor, reason="message resent by staff"):
        locked = _unconfirmed(actor=actor, message=message, action=gettext_lazy("send this message again"))
        locked.state = MessageState.PENDING
        locked.due_at = timezone.now()
        locked.claimed_at = None
        locked.set_note(Note("resend", {"by": actor.get_username()}))
        locked.save(update_fields=["state", "due_at", "claimed_at", "note_code", "note_params", "updated_at"])
    return locked


def digest_settings_update(*, actor, daily: bool, weekly: bool, language: str) -> StaffMessageSetting:
    """Save the actor's own digests: each kind on or off and their language (400 for a language SpineTrial
    does not write). Anyone signed in sets their own; the dispatcher reads the switches again before sending,
    so a digest planned today and switched off now is not sent."""
    if language not in LANGUAGES:
        raise InvalidInput(
            _("Unknown language."),
            field_errors={"language": [_("Choose one of: %(codes)s.") % {"codes": ", ".join(LANGUAGES)}]},
        )
    # Atomic (update_or_create locks the row it updates); audited as every setting a person changes.
    with transaction.atomic(), audit_context(actor=actor, reason="digest settings changed by their reader"):
        setting, _created = StaffMessageSetting.objects.update_or_create(
            user=actor, defaults={"daily_digest": daily, "weekly_digest": weekly, "language": language}
        )
    return setting
