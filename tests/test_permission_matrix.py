"""The permission matrix (config/permissions.py), walked: every URL pattern of the URL configuration (API,
pages, admin, downloads, health, language, schema and docs) for every persona, read and written.

Each (pattern, persona) is one test: the persona reads the URL (GET) and writes to it (the view's own write
method, with an empty body), and the answers must be the matrix's: those it allows are not refused (2xx,
3xx, or the 4xx of an empty body or a state that refuses it); the others get 401, 403 or 404 (anonymous users
of the pages are sent to the sign-in page), and the refusal shows nothing of the participant (name, phone,
study ID). A pattern the matrix does not name fails, so no endpoint added later escapes.

The site part of the rule (trial/access.py) is walked with a coordinator of another site, who gets a 404 for
every record of the participant's site that their role would otherwise open.
"""

from http.cookies import SimpleCookie
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from config.api_permissions import MatrixPermission
from config.permissions import (
    ANYONE,
    MATRIX,
    ROUTED_BY_SETTING,
    SIGNED_IN,
    STAFF,
    SUPERUSER,
    Rule,
    Scope,
    Verdict,
    judge,
    rule_for,
)
from followup.models import CaseAssignment
from trial.models import Role

from .permission_world import FULL_NAME, PHONE, Route, build_world, leaks, routes, url_for

PERSONAS = (
    "coordinator",
    "coordinator_other_site",
    "investigator",
    "principal_investigator",
    "monitor",
    "data_manager",
    "adjudicator",
    "superuser",
    "anonymous",
)
# What each persona is, in the matrix's names (config/permissions.py).
NAMES = {
    "coordinator": {Role.COORDINATOR},
    "coordinator_other_site": {Role.COORDINATOR},
    "investigator": {Role.INVESTIGATOR},
    "principal_investigator": {Role.PRINCIPAL_INVESTIGATOR},
    "monitor": {Role.MONITOR},
    "data_manager": {Role.DATA_MANAGER},
    "adjudicator": {Role.ADJUDICATOR},
    "superuser": {SUPERUSER, STAFF},
    "anonymous": set(),
}
# Those who may read the participant's identifying data: their own site's staff (trial.access).
IDENTITY_READERS = {"coordinator", "investigator"}
# The form life-cycle step each persona takes (the URL's <step>): the one its role may take.
STEP = {"monitor": "verify", "data_manager": "lock"}
REFUSED = {401, 403, 404}
WRITES = ("post", "put", "patch", "delete")
# The admin's own answers to staff: research data is read-only there (403 to a write), its catch-all and
# "view on site" redirect answer 404 for a page or object that is not there, its read-only pages 405.
ADMIN_OWN_ANSWERS = {403, 404, 405}
# Refusals of the site part that the role part cannot see: a principal investigator answers their own weekly
# digest (a message with no site), never a site's message to a participant (the walk's).
SITE_PART_REFUSES = {
    (name, "principal_investigator")
    for name in ("api:message-confirm", "api:message-resend", "message-confirm", "message-resend")
}
ROUTES = sorted(routes(), key=lambda r: (r.name, r.route))
# Views that authenticate an API token only (knox's logout): a session alone is a 401.
TOKEN_ONLY = {"api:api-logout", "api:api-logout-all"}


def _id(route: Route) -> str:
    return route.name if not route.name.endswith(":None") else f"{route.name}:{route.route}"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The walk's world (tests/permission_world.py) and a signed-in session per persona, built once and
    rolled back at the end of the module."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # the services' durable blocks nest here as in a TestCase
        outer.__enter__()
        try:
            built = build_world()
            # The adjudicator reads this case: their packet and review page are theirs to open.
            reader = built["users"]["adjudicator"]
            CaseAssignment.objects.create(case=built["case"], reader=reader, slot="first")
            sessions = {}
            for persona, user in built["users"].items():
                client = Client()
                client.force_login(user)
                sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
            built["sessions"] = sessions
            built["client"] = Client(raise_request_exception=False)  # a 500 is an answer like any other
            yield built
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def client_of(world: dict, persona: str) -> Client:
    """The module's one client (a new one loads the middleware again, WhiteNoise's scan of the static files
    included: most of the walk's time), with the persona's session cookie and no other."""
    client = world["client"]
    client.cookies = SimpleCookie()
    if persona != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][persona]
    return client


def write_method(route: Route) -> str:
    """The view's write method: a DRF view's own (its actions, or its handlers), else POST."""
    if getattr(route.callback, "cls", None) is None:
        return "post"
    writes = api_writes(route)
    return next((m for m in WRITES if m in writes), "post")


def expected_allowed(route: Route, rule: Rule, persona: str, method: str) -> bool:
    """The matrix's answer: the persona's names against the rule's, then the site part (Scope)."""
    names = rule.names_for(method.upper())
    held = {ANYONE} | (NAMES[persona] | {SIGNED_IN} if persona != "anonymous" else set())
    if not names & held:
        return False
    if (route.name, persona) in SITE_PART_REFUSES and method != "get":
        return False
    # Another site's coordinator opens none of the participant's records (trial.access.visible_sites).
    return not (persona == "coordinator_other_site" and rule.scope == Scope.SITE)


def test_every_url_is_in_the_matrix():
    missing = sorted({_id(r) for r in ROUTES if rule_for_route(r) is None})
    assert missing == [], f"add these URL names to config/permissions.py MATRIX: {missing}"
    names = {r.name for r in ROUTES}
    declared = set(MATRIX) - ROUTED_BY_SETTING
    stale = sorted(name for name in declared if not name.endswith(":*") and name not in names)
    assert stale == [], f"MATRIX names URLs that no longer exist: {stale}"


def test_every_api_view_checks_the_matrix():
    """An API view that names its own permission classes still applies the matrix, or is open to anyone; so
    does a viewset action that names its own (@action(permission_classes=...), in the route's initkwargs)."""

    def permission_classes(callback) -> list:
        return getattr(callback, "initkwargs", {}).get("permission_classes", callback.cls.permission_classes)

    unchecked = [
        route.name
        for route in ROUTES
        if isinstance(getattr(route.callback, "cls", None), type)
        and MatrixPermission not in permission_classes(route.callback)
        and rule_for_route(route).read != {ANYONE}
    ]
    assert unchecked == []


def api_writes(route: Route) -> set[str]:
    """The write methods a DRF view offers (its actions, or its handlers)."""
    actions = getattr(route.callback, "actions", None)
    cls = route.callback.cls
    offered = set(actions) if actions else {m for m in WRITES if hasattr(cls, m)}
    return offered & set(WRITES)


def test_the_matrix_declares_the_writes_the_api_takes():
    """A Rule whose write is None answers every write with a 405 before the view: an API view that takes one
    must declare who may."""
    wrong = [
        f"{route.name}: takes {sorted(api_writes(route))}, declares {rule_for_route(route).write}"
        for route in ROUTES
        if getattr(route.callback, "cls", None) is not None
        and bool(api_writes(route)) != (rule_for_route(route).write is not None)
    ]
    assert wrong == []


def rule_for_route(route: Route) -> Rule | None:
    namespace = route.name.rpartition(":")[0]
    return rule_for(SimpleNamespace(view_name=route.name, namespace=namespace))


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", ROUTES, ids=_id)
def test_the_matrix_is_enforced(world, route, persona):
    rule = rule_for_route(route)
    assert rule is not None, f"{route.name} is not in config/permissions.py MATRIX"
    url = url_for(route, world)
    if "<step>" in route.route or "(?P<step>" in route.route:
        url = url.replace("/complete/", f"/{STEP.get(persona, 'complete')}/")
    problems = []
    for method in ("get", write_method(route)):
        if method != "get" and route.name in ("logout", "admin:logout"):
            continue  # a signed-in persona's session is shared by its tests
        extra = {}
        if route.name in TOKEN_ONLY and persona != "anonymous":
            # Logging a token out needs the token: a fresh one of the persona's (a write ends it).
            extra["HTTP_AUTHORIZATION"] = f"Token {AuthToken.objects.create(world['users'][persona])[1]}"
        response = getattr(client_of(world, persona), method)(url, content_type="application/json", **extra)
        status = response.status_code
        shown = f"{method.upper()} {url} as {persona}: {status}"
        if status >= 500:
            problems.append(shown)
        elif expected_allowed(route, rule, persona, method):
            # Inside the admin, Django's model permissions decide (tests/test_admin.py).
            admins_own = route.name.startswith("admin:") and status in ADMIN_OWN_ANSWERS
            if not admins_own and (status in REFUSED or (status == 405 and method != "get" and rule.write)):
                problems.append(f"{shown}, allowed by the matrix")
        elif persona == "anonymous" and not route.name.startswith("api:") and status == 302:
            login = "/admin/login/" if route.name.startswith("admin:") else "/login/"
            if not response["Location"].startswith(login):
                problems.append(f"{shown} to {response['Location']}, not to the sign-in page")
        elif status not in REFUSED and status != 405:  # a 405 is the same for every object
            problems.append(f"{shown}, refused by the matrix")
        elif found := leaks(response, world, url):
            problems.append(f"{shown} refused but shows {found}")
        if persona not in IDENTITY_READERS and status < 400:
            body = b"" if response.streaming else response.content
            identifying = [value for value in (FULL_NAME, PHONE) if value.encode() in body]
            if identifying:
                problems.append(f"{shown} shows identifying data {identifying}")
    assert problems == [], "\n".join(problems)


def test_a_url_missing_from_the_matrix_is_refused_to_everyone(world):
    """Fail closed: an endpoint nobody declared is a 404, even for a superuser."""
    match = SimpleNamespace(view_name="no-such-entry", namespace="")
    assert judge(world["users"]["superuser"], match, "GET") is Verdict.NOT_FOUND


@pytest.mark.django_db
def test_a_token_is_judged_like_a_session(world):
    """The API's refusals come after DRF has authenticated the token (the middleware cannot see it): the
    monitor's write and the adjudicator's read are refused before the view, naming who may."""
    participant = world["participant"]
    monitor = APIClient(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(world['users']['monitor'])[1]}")
    answer = monitor.put(f"/api/v1/participants/{participant.study_id}/forms/procedure/", {}, format="json")
    assert answer.status_code == 403
    assert answer.json()["detail"] == "Only the research coordinator or investigator can do this."
    adjudicator = APIClient(
        HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(world['users']['adjudicator'])[1]}"
    )
    assert adjudicator.get("/api/v1/participants/").status_code == 403
    assert adjudicator.get(f"/api/v1/participants/{participant.study_id}/").status_code == 404
    assert APIClient().get("/api/v1/participants/").status_code == 401
