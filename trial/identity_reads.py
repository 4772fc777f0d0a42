"""Reading the log of reads of identifying data (trial.models.IdentityRead): data managers, for their sites
(every site of their study when they hold the role study-wide), and superusers (the installation's admins),
for all. Nobody else reads it: a 403, not an empty list, so that no one takes silence for a clean log."""

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .access import user_roles
from .errors import Forbidden
from .filters import IsoDateFilter
from .forms import DateInput
from .models import IdentityRead, Role, Site, StaffRole


def identity_log_sites(user) -> QuerySet | None:
    """The sites whose log the user reads: None for every site (a superuser); an empty queryset for
    someone who may not read it. A subquery, not run here."""
    if user.is_superuser:
        return None
    held = StaffRole.objects.filter(user=user, active=True, role=Role.DATA_MANAGER)
    return Site.objects.filter(
        Q(pk__in=held.filter(site__isnull=False).values("site"))
        | Q(study__in=held.filter(site__isnull=True).values("study"))
    )


def may_read_identity_log(user) -> bool:
    """A superuser, or a data manager somewhere: the user's roles, read once a request (shared with the
    menu)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or any(role == Role.DATA_MANAGER for role, _study, _site in user_roles(user))


def identity_read_list(*, user) -> QuerySet:
    """The log rows the user may read, newest first, with the reader, the participant and the site joined
    (one query a page). 403 for anyone but a data manager or a superuser."""
    if not may_read_identity_log(user):
        raise Forbidden(_("Only data managers may see the log of reads of identifying data."))
    sites = identity_log_sites(user)
    rows = IdentityRead.objects.select_related("user", "participant", "site")
    if sites is not None:
        rows = rows.filter(site__in=sites)
    return rows.order_by("-read_at", "-id")


class IdentityReadFilter(django_filters.FilterSet):
    """The log's filters, for the page and the API: the reader's user name, the participant's study ID, and
    days (in the installation's time zone, both ends included)."""

    user = django_filters.CharFilter(
        field_name="user__username", lookup_expr="iexact", label=gettext_lazy("User"), max_length=150
    )
    participant = django_filters.CharFilter(
        field_name="participant__study_id",
        lookup_expr="iexact",
        label=gettext_lazy("Study ID"),
        max_length=32,
    )
    date_from = IsoDateFilter(
        field_name="read_at", lookup_expr="date__gte", label=gettext_lazy("From"), widget=DateInput()
    )
    date_to = IsoDateFilter(
        field_name="read_at", lookup_expr="date__lte", label=gettext_lazy("To"), widget=DateInput()
    )

    class Meta:
        model = IdentityRead
        fields = ["user", "participant", "date_from", "date_to"]
