"""The demo logins: who they are (per site and study-wide), their synthetic names, and their accounts."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from ..models import Role, Site, StaffRole, Study
from .marks import DEMO_EMAIL_DOMAIN

DEMO_PASSWORD = "spinetrial-demo"  # noqa: S105 -- printed on purpose: synthetic demo logins only


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    where: str


DEMO_GIVEN = ("Wei", "Fang", "Jun", "Min", "Hua", "Lei", "Yan", "Qiang", "Ling", "Tao")
DEMO_FAMILY = ("Li", "Wang", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou")


def demo_person_name(username: str) -> tuple[str, str]:
    """A synthetic full name for a demo account, printed on its e-signatures; the same for a username."""
    digest = sum(ord(c) * (i + 1) for i, c in enumerate(username))
    return DEMO_GIVEN[digest % len(DEMO_GIVEN)], f"{DEMO_FAMILY[digest // 7 % len(DEMO_FAMILY)]} (demo)"


def demo_logins(sites: Sequence[Site]) -> list[DemoLogin]:
    """Who the demo users are: per site a coordinator and an investigator, study-wide roles (three
    adjudicators), and an admin."""
    logins = []
    for site in sites:
        code = site.code.lower()
        logins += [
            DemoLogin(f"coord{code}", Role.COORDINATOR, site.code),
            DemoLogin(f"inv{code}", Role.INVESTIGATOR, site.code),
        ]
    logins += [
        DemoLogin("pi", Role.PRINCIPAL_INVESTIGATOR, "*"),
        DemoLogin("monitor", Role.MONITOR, "*"),
        DemoLogin("datamanager", Role.DATA_MANAGER, "*"),
        # Three central readers: two read each adjudication case and a third settles a disagreement.
        DemoLogin("adjudicator", Role.ADJUDICATOR, "*"),
        DemoLogin("adjudicator2", Role.ADJUDICATOR, "*"),
        DemoLogin("adjudicator3", Role.ADJUDICATOR, "*"),
        DemoLogin("admin", "superuser", "*"),
    ]
    return logins


def demo_staff(study: Study, sites: Sequence[Site]) -> dict[tuple[str, str], object]:
    """Create the demo users and their roles where missing; {(role, site code): user} (of the adjudicators,
    the last). Existing users keep their password."""
    user_model = get_user_model()
    by_code = {site.code: site for site in sites}
    logins = demo_logins(sites)
    existing = {
        u.get_username(): u
        for u in user_model.objects.filter(
            **{f"{user_model.USERNAME_FIELD}__in": [login.username for login in logins]}
        )
    }
    # One hash for all: PBKDF2 is deliberately slow (~0.5 s), and the password is printed anyway.
    password = make_password(DEMO_PASSWORD) if len(existing) < len(logins) else None
    staff = {}
    for login in logins:
        user = existing.get(login.username)
        if user is None:
            superuser = login.role == "superuser"
            first_name, last_name = demo_person_name(login.username)
            user = user_model.objects.create(
                **{user_model.USERNAME_FIELD: login.username},
                first_name=first_name,
                last_name=last_name,
                password=password,
                email=f"{login.username}@{DEMO_EMAIL_DOMAIN}",
                is_staff=superuser,
                is_superuser=superuser,
            )
        if login.role != "superuser":
            StaffRole.objects.get_or_create(
                user=user, study=study, site=by_code.get(login.where), role=login.role
            )
        staff[(login.role, login.where)] = user
    return staff
