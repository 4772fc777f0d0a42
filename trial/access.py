"""Who may see and change what: site scoping by staff role. One place, used by the API, the pages and the
services.

- Reading: `visible_sites`. Adjudicators read their case packets only (TRIPOD: the outcome is judged blind to
  the predictors), so by default no role of theirs opens a site; the adjudication-case list alone asks for
  them (`adjudication=True`).
- Acting: `require_role_at`, with the roles that `roles_at` counts at the site: every role held there, and
  the study-wide ones. A coordinator or an investigator (site staff) acts only where the role is held: the
  model refuses a study-wide one (StaffRole's constraint), and `roles_at` would not count one either. So every
  write that site staff make (`require_site_staff`) is the same check of a role held at that site.
- Superusers read every site (they run the installation) but act nowhere without a role: every entry is
  attributable to someone who holds a role (21 CFR 11.10(d), (e)).
"""

from collections.abc import Iterable

from django.db.models import Exists, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .errors import Forbidden
from .models import Site, StaffRole
from .models.site import SITE_STAFF_ROLES, Role

# Roles that read their adjudication case packets and nothing else: no screening, participant, CRF, visit or
# questionnaire data, which hold the predictors of the outcome they judge.
BLIND_ROLES = frozenset({Role.ADJUDICATOR})


def user_roles(user) -> frozenset[tuple[str, int, int | None]]:
    """(role, study id, site id or None) of the user's active roles: one query, then kept on the user object,
    which lives for one request (the permission matrix, the two-factor rule, the menu and `roles_at` share
    it). Code that changes a user's roles and judges the same object again reloads the user."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_spinetrial_roles"):
        user._spinetrial_roles = frozenset(
            StaffRole.objects.filter(user=user, active=True).values_list("role", "study_id", "site_id")
        )
    return user._spinetrial_roles


def _roles(user) -> QuerySet:
    return StaffRole.objects.filter(user=user, active=True)


def visible_sites(user, *, adjudication: bool = False) -> QuerySet:
    """Sites whose research data the user may read: their own sites, or all sites of a study-wide role.

    Adjudicators' roles open nothing unless `adjudication` (the adjudication-case list, which shows no
    predictor).
    """
    if not user.is_authenticated:
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    roles = _roles(user).exclude(role__in=() if adjudication else BLIND_ROLES)
    study_wide = roles.filter(site__isnull=True).exclude(role__in=SITE_STAFF_ROLES)
    return Site.objects.filter(
        Q(pk__in=roles.filter(site__isnull=False).values("site")) | Q(study__in=study_wide.values("study"))
    )


def writable_sites(user) -> QuerySet:
    """Sites where the user is site staff (coordinator or investigator): where they screen, enroll, change
    status and enter data."""
    return Site.objects.filter(
        pk__in=_roles(user).filter(role__in=SITE_STAFF_ROLES, site__isnull=False).values("site")
    )


def identity_sites(user) -> QuerySet:
    """Sites whose identifying data the user may read: only their own site staff (not monitors,
    adjudicators or study-wide roles, and not superusers either)."""
    return writable_sites(user)


def roles_at(user, site: Site) -> set[str]:
    """The user's active roles that apply at a site: those held there and the study-wide ones, never a
    study-wide coordinator or investigator. From `user_roles` (no query once the request has read them)."""
    return {
        role
        for role, study_id, site_id in user_roles(user)
        if site_id == site.pk
        or (site_id is None and study_id == site.study_id and role not in SITE_STAFF_ROLES)
    }


def can_write_at(user, site: Site) -> bool:
    """Whether the user is site staff at this site (the rule of `require_site_staff`)."""
    return bool(roles_at(user, site) & SITE_STAFF_ROLES)


def can_read_identity(user, site: Site) -> bool:
    return can_write_at(user, site)


def role_names(roles: Iterable[str]) -> str:
    """The roles' names in the user's language, in Role's order: "research coordinator or investigator"."""
    names = [str(label) for value, label in Role.choices if value in set(roles)]
    if len(names) < 2:
        return "".join(names)
    return _("%(roles)s or %(last)s") % {
        "roles": pgettext("between the items of a list", ", ").join(names[:-1]),
        "last": names[-1],
    }


def refusal(site: Site, roles: Iterable[str], action: str | Promise) -> Forbidden:
    """The 403 of a role check, in the user's language: who may do the action, where.

    `action` completes "can ...": a lazily translated phrase such as _("enter data in this form").
    """
    return Forbidden(
        _("Only the %(roles)s of site %(site)s can %(action)s.")
        % {"roles": role_names(roles), "site": site.code, "action": action}
    )


def require_role_at(user, site: Site, roles: Iterable[str], action: str | Promise) -> None:
    """Refuse (403) unless the user holds one of `roles` at the site (see `roles_at`); superusers are not
    exempt. `action`: see `refusal`."""
    roles = frozenset(roles)
    if not roles_at(user, site) & roles:
        raise refusal(site, roles, action)


def require_site_staff(user, site: Site, action: str | Promise) -> None:
    """The one rule of every write site staff make (screening, enrollment, status, identity, CRF entry,
    query answers, visits, questionnaires, patient links): a coordinator or investigator role held at the
    site."""
    require_role_at(user, site, SITE_STAFF_ROLES, action)


def sites_with_role(user, *, study, roles: Iterable[str]) -> QuerySet:
    """The study's sites where the user holds one of `roles`: the sites of roles held at a site, and every
    site of the study for a study-wide one (never site staff study-wide, as `roles_at` counts them).
    Superusers are not exempt: a read kept to named roles (the endpoint's outcomes) needs the role. A
    subquery."""
    if not user.is_authenticated:
        return Site.objects.none()
    held = _roles(user).filter(study=study, role__in=frozenset(roles))
    study_wide = held.filter(site__isnull=True).exclude(role__in=SITE_STAFF_ROLES)
    return Site.objects.filter(study=study).filter(
        Q(pk__in=held.filter(site__isnull=False).values("site")) | Q(Exists(study_wide))
    )
