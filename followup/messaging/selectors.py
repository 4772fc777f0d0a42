"""Reads of the outbox: the list across the user's sites, one participant's messages, the dashboard's counts.

Scoped as visits are (trial.access.visible_sites: blinded adjudicators read none), each a fixed number of
queries whatever the number of messages. Nothing here reads an address or a text: the outbox holds neither.
"""

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from trial.access import visible_sites
from trial.errors import InvalidInput
from trial.models import Role, StaffRole

from ..selectors.visits import followed_sites
from .models import MessageState, OutboxMessage, StaffMessageSetting

SENT_RECENTLY = datetime.timedelta(days=7)  # the dashboard's "sent" count: the last week's


def message_list(
    *,
    user,
    participant: str | None = None,
    state: str | None = None,
    kind: str | None = None,
    channel: str | None = None,
    site: str | None = None,
    sent_within: int | None = None,
) -> QuerySet:
    """Messages at the user's sites and the digests they may see, newest first, filtered by study ID, state,
    kind, channel, site code, and sent in the last `sent_within` days.

    A site the user cannot see is a 400 (as in the visits API); an unknown study ID lists nothing.
    """
    messages = OutboxMessage.objects.filter(
        Q(site__in=visible_sites(user)) | Q(pk__in=digests_seen_by(user).values("pk"))
    )
    if site:
        if not visible_sites(user).filter(code=site).exists():
            raise InvalidInput(
                _("Unknown site."), field_errors={"site": [_("Unknown site: %(code)s.") % {"code": site}]}
            )
        messages = messages.filter(site__code=site)
    if participant:
        messages = messages.filter(participant__study_id=participant)
    if sent_within:
        messages = messages.filter(sent_at__gte=timezone.now() - datetime.timedelta(days=sent_within))
    for name, value in (("state", state), ("kind", kind), ("channel", channel)):
        if value:
            messages = messages.filter(**{name: value})
    return messages.select_related("participant", "site", "visit", "recipient").order_by("-created_at", "-id")


def digests_seen_by(user) -> QuerySet:
    """The messages to staff a user may see (digests, a report ready...): their own, and a data manager those
    of the staff of their studies (a staff message has no site: it may cover several). A subquery, not a
    query."""
    digests = OutboxMessage.objects.filter(recipient__isnull=False)
    if not user.is_authenticated:
        return digests.none()
    managed = StaffRole.objects.filter(user=user, role=Role.DATA_MANAGER, active=True).values("study")
    staff = StaffRole.objects.filter(study__in=managed).values("user")
    return digests.filter(Q(recipient=user) | Q(recipient__in=staff))


def participant_messages(participant) -> QuerySet:
    """A participant's messages, newest first, with their visits. One query."""
    return (
        OutboxMessage.objects.filter(participant=participant)
        .select_related("visit")
        .order_by("-created_at", "-id")
    )


def messages_panel(*, user) -> dict | None:
    """The dashboard's messages panel: sent in the last 7 days, held, failed and unconfirmed at the user's
    sites; None for a user who reads no visits (blinded adjudicators included), or only those of studies
    without follow-up (no message to send). Two queries."""
    sites = followed_sites(user=user)
    if not sites:
        return None
    since = timezone.now() - SENT_RECENTLY
    counts = OutboxMessage.objects.filter(site__in=[site.pk for site in sites]).aggregate(
        sent=Count("id", filter=Q(state=MessageState.SENT, sent_at__gte=since)),
        held=Count("id", filter=Q(state=MessageState.HELD)),
        failed=Count("id", filter=Q(state=MessageState.FAILED)),
        unconfirmed=Count("id", filter=Q(state=MessageState.UNCONFIRMED)),
    )
    return {"template": "followup/_messages_panel.html", "sent_days": SENT_RECENTLY.days, **counts}


def digest_setting(user) -> StaffMessageSetting:
    """The user's digest settings; the defaults (both kinds on, in Chinese) if they never changed them."""
    return StaffMessageSetting.objects.filter(user=user).first() or StaffMessageSetting(user=user)
