"""Who may see and change what: site scoping by staff role. One place, used by API and pages."""

from django.db.models import Q, QuerySet

from .errors import Forbidden
from .models import Site, StaffRole
from .models.site import SITE_STAFF_ROLES, SITE_WRITE_ROLES


def _roles(user) -> QuerySet:
    return StaffRole.objects.filter(user=user, active=True)


def visible_sites(user) -> QuerySet:
    """Sites whose research data the user may read: their own sites, or all sites of a study-wide role."""
    if not user.is_authenticated:
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    roles = _roles(user)
    return Site.objects.filter(
        Q(pk__in=roles.filter(site__isnull=False).values("site"))
        | Q(study__in=roles.filter(site__isnull=True).values("study"))
    )


def writable_sites(user) -> QuerySet:
    """Sites where the user may screen, enroll and change status: coordinators and investigators there."""
    if user.is_superuser:
        return Site.objects.all()
    return Site.objects.filter(pk__in=_roles(user).filter(role__in=SITE_WRITE_ROLES).values("site"))


def identity_sites(user) -> QuerySet:
    """Sites whose identifying data the user may read: only their own site staff (not monitors,
    adjudicators or study-wide roles, and not superusers either)."""
    return Site.objects.filter(pk__in=_roles(user).filter(role__in=SITE_STAFF_ROLES).values("site"))


def can_write_at(user, site: Site) -> bool:
    return writable_sites(user).filter(pk=site.pk).exists()


def require_write_at(user, site: Site) -> None:
    if not can_write_at(user, site):
        raise Forbidden(f"You have no coordinator or investigator role at site {site.code}.")


def can_read_identity(user, site: Site) -> bool:
    return identity_sites(user).filter(pk=site.pk).exists()


def roles_at(user, site: Site) -> set[str]:
    """The user's active roles that apply at a site: those held there and the study-wide ones (one query)."""
    return set(
        _roles(user)
        .filter(Q(site=site) | Q(site__isnull=True, study_id=site.study_id))
        .values_list("role", flat=True)
    )


def require_role_at(user, site: Site, roles: frozenset[str] | set[str], action: str) -> None:
    """Refuse (403) unless the user holds one of `roles` at the site; superusers are not exempt."""
    if not roles_at(user, site) & set(roles):
        raise Forbidden(f"Your role does not allow you to {action} at site {site.code}.")
