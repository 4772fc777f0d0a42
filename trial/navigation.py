"""The main menu, by role: nobody is offered a page that would refuse them (a 403 behind a menu item).

Each app declares its menu items (trial.hooks.menu_items: trial's here, crf's queries, followup's visits) with
the roles that may use them; the menu shows those the signed-in user holds. The user's roles are read once
per request (one query) and kept on the user object for the rest of it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from . import hooks
from .access import BLIND_ROLES, user_roles
from .models import Role
from .models.site import SITE_STAFF_ROLES

# Every role but the adjudicator's reads research data: adjudicators judge outcomes blind to the predictors.
READING_ROLES = frozenset(Role.values) - BLIND_ROLES


@dataclass(frozen=True)
class MenuItem:
    url_name: str
    label: str
    order: int
    active: tuple[str, ...] = ()  # url names of the pages under this item (it is marked current there)
    roles: frozenset[str] | None = None  # any one of these opens it; None: every signed-in user
    site_level: bool = False  # the role must be held at a site (screening is done at one's own site)
    study_wide: bool = False  # the role must be study-wide (a report covers every site)
    # The ids of the studies whose protocol has what the page is for (one query, asked only of a user who
    # holds one of `roles`); None: every study.
    studies: Callable[[], frozenset[int]] | None = None

    def opens_for(self, roles: frozenset[tuple[str, int, int | None]]) -> bool:
        if self.roles is None:
            return True
        held = [
            study
            for role, study, site in roles
            if role in self.roles and (site or not self.site_level) and not (site and self.study_wide)
        ]
        if not held or self.studies is None:
            return bool(held)
        return not self.studies().isdisjoint(held)


def can_screen_in(user, study=None) -> bool:
    """The user screens at one of the study's sites (at any site of any study when `study` is None): a
    coordinator or investigator there (trial.access.require_site_staff: superusers too need the role)."""
    return any(
        role in SITE_STAFF_ROLES and site and (study is None or study_id == study.pk)
        for role, study_id, site in user_roles(user)
    )


def menu_for(user, current: str | None) -> list[dict]:
    items = sorted(
        (item for provided in hooks.menu_items() for item in provided), key=lambda item: item.order
    )
    roles = user_roles(user)
    shown = [
        {"url_name": item.url_name, "label": item.label, "current": current in (item.url_name, *item.active)}
        for item in items
        # A superuser reads every site (trial.access) but, like anyone, screens only where they hold a role.
        if item.opens_for(roles)
        or (
            user.is_superuser
            and not item.site_level
            and not item.study_wide
            and (item.studies is None or item.studies())
        )
    ]
    # One entry a page: two items may lead to one page for different roles (the risk models for study-wide
    # readers and for investigators), and a user holding both sees it once.
    seen: set[str] = set()
    return [entry for entry in shown if not (entry["url_name"] in seen or seen.add(entry["url_name"]))]


def menu(request: HttpRequest) -> dict:
    """Context processor: `menu`, the items the user may open, computed only when a page draws it."""
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else None
    return {"menu": SimpleLazyObject(lambda: menu_for(request.user, current))}


def trial_menu() -> list[MenuItem]:
    return [
        MenuItem("dashboard", _("Dashboard"), 10),
        MenuItem("screening-new", _("New screening"), 20, roles=SITE_STAFF_ROLES, site_level=True),
        MenuItem("screening-log", _("Screening log"), 30, ("screening-detail",), roles=READING_ROLES),
        MenuItem("participant-list", _("Participants"), 40, ("participant-detail",), roles=READING_ROLES),
        MenuItem("identity-log", _("Identity reads"), 85, roles=frozenset({Role.DATA_MANAGER})),
        MenuItem("api-docs", _("API docs"), 90),
    ]
