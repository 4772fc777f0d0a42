"""Who may see and change what: site scoping by staff role. One place, used by API and pages."""

from django.db.models import Q, QuerySet

from .errors import Forbidden
from .models import Site, StaffRole
from .models.site import SITE_STAFF_ROLES, SITE_WRITE_ROLES


def _roles(user) -> QuerySet:
    return StaffRole.objects.filter(user=user, active=True)


def visible_sites(user, *, without: frozenset[str] = frozenset()) -> QuerySet:
    """Sites whose research data the user may read: their own sites, or all sites of a study-wide role.

    `without` leaves out roles that do not open this kind of data (adjudicators do not read the CRFs: they
    judge outcomes blind to the predictors).
    """
    if not user.is_authenticated:
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    roles = _roles(user).exclude(role__in=without)
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


def roles_at(user, site: Site, *, site_level: bool = False) -> set[str]:
    """The user's active roles that apply at a site: those held there and (unless `site_level`) the
    study-wide ones. One query."""
    where = Q(site=site) if site_level else Q(site=site) | Q(site__isnull=True, study_id=site.study_id)
    return set(_roles(user).filter(where).values_list("role", flat=True))


def require_role_at(
    user, site: Site, roles: frozenset[str] | set[str], action: str, *, site_level: bool = False
) -> None:
    """Refuse (403) unless the user holds one of `roles` at the site; superusers are not exempt.

    `site_level`: the role must be held at this very site (data entry), not study-wide.
    """
    if not roles_at(user, site, site_level=site_level) & set(roles):
        raise Forbidden(f"Your role does not allow you to {action} at site {site.code}.")
