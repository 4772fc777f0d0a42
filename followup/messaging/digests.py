"""Staff digests: a daily e-mail to each coordinator and investigator about their sites, and a weekly one to
each principal investigator about the study, in the reader's language. Planned as outbox rows (one a day, or
a week, per person: the key names the period) and sent by the same dispatcher as the reminders; the figures
are counted when the digest is sent, so they are never stale.

Each person can switch each kind off (StaffMessageSetting); the switch is read again just before sending.
"""

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crf.models import DataQuery, FormRecord, FormStatus, QueryStatus
from trial.models import Role, Site, SiteCount, StaffRole
from trial.models.counts import ENROLLED

from ..models import VisitState, VisitStatus
from ..selectors.visits import visits_at
from .channels import Outgoing
from .models import MessageKind, MessageState, OutboxMessage, StaffMessageSetting
from .notes import Note
from .staff import StaffMessageKind

DAILY_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR)
WEEKLY_ROLES = (Role.PRINCIPAL_INVESTIGATOR,)
SEND_AT = datetime.time(8, 0)  # the reader's site wall clock; quiet hours end then by default
QUERY_AGE_DAYS = 7  # "open queries older than N days"
SETTING_OF = {MessageKind.DIGEST_DAILY: "daily_digest", MessageKind.DIGEST_WEEKLY: "weekly_digest"}
DEFAULT_LANGUAGE = StaffMessageSetting._meta.get_field("language").default


@dataclass(frozen=True)
class Reader:
    user_id: int
    kind: str
    sites: tuple[int, ...]
    zone: str


def digest_readers(*, user_ids: Iterable[int] | None = None) -> list[Reader]:
    """Who gets which digest (of all staff, or of `user_ids`), about which sites, by whose clock (their first
    site's zone). Two queries."""
    roles = StaffRole.objects.filter(
        active=True, user__is_active=True, role__in=(*DAILY_ROLES, *WEEKLY_ROLES)
    ).exclude(user__email="")
    if user_ids is not None:
        roles = roles.filter(user_id__in=list(user_ids))
    roles = roles.values_list("user_id", "role", "site_id", "study_id")
    sites = {site.pk: site for site in Site.objects.filter(active=True)}
    by_study: dict[int, list[int]] = {}
    for site in sites.values():
        by_study.setdefault(site.study_id, []).append(site.pk)
    found: dict[tuple[int, str], set[int]] = {}
    for user_id, role, site_id, study_id in roles:
        kind = MessageKind.DIGEST_DAILY if role in DAILY_ROLES else MessageKind.DIGEST_WEEKLY
        covered = [site_id] if site_id else by_study.get(study_id, [])
        found.setdefault((user_id, kind), set()).update(s for s in covered if s in sites)
    return [
        Reader(user_id, kind, tuple(sorted(ids)), sites[min(ids)].time_zone)
        for (user_id, kind), ids in sorted(found.items())
        if ids
    ]


def digests_plan(*, dry_run: bool = False) -> tuple[int, int]:
    """Plan today's daily digests and this week's weekly ones: (new, existing). Idempotent by key."""
    readers = digest_readers()
    settings_of = _settings([reader.user_id for reader in readers])
    rows = []
    for reader in readers:
        setting = settings_of.get(reader.user_id)
        if _switched_off(setting, reader.kind):
            continue
        zone = zoneinfo.ZoneInfo(reader.zone)
        today = timezone.localdate(timezone=zone)
        if reader.kind == MessageKind.DIGEST_DAILY:
            period, first_day = today.isoformat(), today
        else:
            year, week, weekday = today.isocalendar()
            period, first_day = f"{year}-W{week:02d}", today - datetime.timedelta(days=weekday - 1)
        due = datetime.datetime.combine(first_day, SEND_AT, tzinfo=zone)
        rows.append(
            OutboxMessage(
                key=f"{reader.kind}:u{reader.user_id}:{period}",
                kind=reader.kind,
                channel="email",
                recipient_id=reader.user_id,
                step=period,
                language=setting.language if setting else DEFAULT_LANGUAGE,
                state=MessageState.PENDING,
                due_at=max(due, timezone.now()),
            )
        )
    existing = set(
        OutboxMessage.objects.filter(key__in=[row.key for row in rows]).values_list("key", flat=True)
    )
    new = [row for row in rows if row.key not in existing]
    if new and not dry_run:
        OutboxMessage.objects.bulk_create(new, ignore_conflicts=True)
    return len(new), len(existing)


def _settings(user_ids: Iterable[int]) -> dict[int, StaffMessageSetting]:
    """The readers' own settings (one query); a reader absent here has the defaults: both on, Chinese."""
    return {
        setting.user_id: setting for setting in StaffMessageSetting.objects.filter(user_id__in=list(user_ids))
    }


def _switched_off(setting: StaffMessageSetting | None, kind: str) -> bool:
    return setting is not None and not getattr(setting, SETTING_OF[kind])


def _reader(message: OutboxMessage) -> Reader | None:
    """The message's reader as they are now: read once per message (the check, the zone and the text)."""
    if not hasattr(message, "_digest_reader"):
        readers = digest_readers(user_ids=[message.recipient_id])
        message._digest_reader = next((r for r in readers if r.kind == message.kind), None)
    return message._digest_reader


def digest_no_longer_applies(message: OutboxMessage) -> Note | None:
    """Why the digest must not go now, or None: the person left, switched it off, or has no address."""
    user = get_user_model().objects.filter(pk=message.recipient_id).first()
    if user is None or not user.is_active:
        return Note("account_inactive")
    if not user.email:
        return Note("no_contact", {"channel": "email"})
    if _switched_off(_settings([user.pk]).get(user.pk), message.kind):
        return Note("switched_off")
    if _reader(message) is None:
        return Note("no_role")
    return None


def digest_zone(message: OutboxMessage) -> zoneinfo.ZoneInfo:
    reader = _reader(message)
    return zoneinfo.ZoneInfo(reader.zone if reader else "UTC")


def digest_compose(message: OutboxMessage) -> Outgoing:
    """The digest's figures, counted now, in the reader's language."""
    reader = _reader(message)
    sites = list(
        Site.objects.filter(pk__in=reader.sites).select_related("study__current_version").order_by("code")
    )
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(reader.zone))
    rows = [_site_figures(site, today) for site in sites]
    with translation.override(message.language):
        if message.kind == MessageKind.DIGEST_DAILY:
            subject = _("SpineTrial: your day, %(date)s") % {"date": today.isoformat()}
            template = "followup/digests/daily.txt"
        else:
            subject = _("SpineTrial: the week, %(week)s") % {"week": message.step}
            template = "followup/digests/weekly.txt"
        settings_url = f"{settings.PUBLIC_BASE_URL.rstrip('/')}{reverse('digest-settings')}"
        context = {"rows": rows, "today": today, "query_days": QUERY_AGE_DAYS, "settings_url": settings_url}
        body = render_to_string(template, context)
    user = get_user_model().objects.get(pk=message.recipient_id)
    return Outgoing(key=message.key, channel="email", to=user.email, subject=subject, body=body)


def _site_figures(site: Site, today: datetime.date) -> dict:
    week = today + datetime.timedelta(days=7)
    older = timezone.now() - datetime.timedelta(days=QUERY_AGE_DAYS)
    return {
        "site": site,
        "opening": visits_at([site])
        .filter(state=VisitState.PENDING, window_open__gt=today, window_open__lte=week)
        .count(),
        "overdue": visits_at([site], status=VisitStatus.OVERDUE).count(),
        "old_queries": DataQuery.objects.filter(
            site=site, status=QueryStatus.OPEN, created_at__lt=older
        ).count(),
        "open_queries": DataQuery.objects.filter(site=site, status=QueryStatus.OPEN).count(),
        "to_sign": FormRecord.objects.filter(participant__site=site, status=FormStatus.VERIFIED).count(),
        "messages_failed": OutboxMessage.objects.filter(
            Q(state=MessageState.FAILED) | Q(state=MessageState.UNCONFIRMED), site=site
        ).count(),
        "enrolled": SiteCount.objects.filter(site=site, key=ENROLLED).values_list("n", flat=True).first()
        or 0,
        "target": site.study.current_version.target_enrollment,
    }


# How the dispatcher sends a digest (followup/messaging/staff.py; registered in FollowupConfig.ready()).
DIGEST_MESSAGES = StaffMessageKind(
    compose=digest_compose, no_longer_applies=digest_no_longer_applies, zone=digest_zone
)
