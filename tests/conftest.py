"""Shared fixtures: protocols loaded from the shipped files, sites, staff with roles, API clients, and the
`frozen` marker that stops the clock for tests whose dates the services judge against the site's today.

TEST_CLOCK=2031-06-01T12:00+08:00 runs the whole session with the clock moved there (ticking), to show that
no test leans on the day it happens to run: a frozen test's own instant wins inside it.
"""

import datetime
import os
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.utils import translation
from rest_framework.test import APIClient, ForceAuthClientHandler

from followup.models import Visit
from trial.clock import site_today
from trial.eligibility import CriterionSpec
from trial.models import Role, Site, Study
from trial.services import participant_enroll, screening_create
from trial.services.protocols import protocol_load_file, protocol_parse

from .browser import page, plain_static_names  # noqa: F401 -- the browser tests' fixtures
from .factories import StaffRoleFactory, UserFactory

# The instant of `@pytest.mark.frozen` with no argument, at site 07's wall clock (Asia/Shanghai): after every
# date the tests enter as past (the latest, a reinstatement on 2026-09-01) and after the study opened
# (2023-12-01), so "not in the future" and "not before the study opened" judge them the same on any day.
FROZEN_AT = "2026-10-01 09:00"

ALL_NO = {"EXC1": False, "EXC2": False, "EXC3": False}
ELIGIBLE_ANSWERS = {"INC1": True, "INC2": True, **ALL_NO}


def frozen_clock(text: str = FROZEN_AT, zone: str = "Asia/Shanghai"):
    """Stop the clock at a wall-clock time of `zone` (time-machine patches the C-level clocks too)."""
    instant = datetime.datetime.fromisoformat(text).replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return time_machine.travel(instant, tick=False)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        f"frozen(at='{FROZEN_AT}', zone='Asia/Shanghai'): the test and its function-scoped fixtures run "
        "with the clock stopped at that wall-clock time",
    )
    if clock := os.environ.get("TEST_CLOCK"):
        config.test_clock = time_machine.travel(datetime.datetime.fromisoformat(clock), tick=True)
        config.test_clock.start()


def pytest_unconfigure(config):
    if clock := getattr(config, "test_clock", None):
        clock.stop()


@pytest.fixture(autouse=True)
def frozen_marker_clock(request):
    """Applies the `frozen` marker; autouse, so the clock stops before the other fixtures build any data.

    Not named `frozen`: tests/followup/test_visits.py has an autouse fixture of that name that would hide it.
    """
    marker = request.node.get_closest_marker("frozen")
    if marker is None:
        yield None
        return
    with frozen_clock(*marker.args, **marker.kwargs) as traveller:
        yield traveller


def shipped_criteria(code: str) -> list[CriterionSpec]:
    """The criteria of a shipped protocol file, as the loader reads them (no database)."""
    data = protocol_parse((settings.PROTOCOL_DIR / f"{code}.yaml").read_text(encoding="utf-8"))
    return [CriterionSpec(code=str(c["code"]), kind=c["kind"], rule=c.get("rule")) for c in data["criteria"]]


def load_study(code: str) -> Study:
    protocol_load_file(settings.PROTOCOL_DIR / f"{code}.yaml")
    return Study.objects.select_related("current_version").get(code=code)


@pytest.fixture
def study(db) -> Study:
    return load_study("NCT06379243")


@pytest.fixture
def study2(db) -> Study:
    return load_study("NCT06172179")


@pytest.fixture
def site(study) -> Site:
    return study.sites.get(code="07")


@pytest.fixture
def other_site(study) -> Site:
    return Site.objects.create(study=study, code="91", name={"en": "Other site", "zh-hans": "另一中心"})


@pytest.fixture
def make_user(db):
    def make(username: str, *, role: str | None = None, study=None, site=None, **extra):
        user = UserFactory(username=username, **extra)
        if role:
            StaffRoleFactory(user=user, study=study or site.study, site=site, role=role)
        return user

    return make


@pytest.fixture
def coordinator(make_user, study, site):
    return make_user("coord07", role=Role.COORDINATOR, study=study, site=site)


@pytest.fixture
def other_coordinator(make_user, study, other_site):
    return make_user("coord91", role=Role.COORDINATOR, study=study, site=other_site)


@pytest.fixture
def monitor(make_user, study):
    return make_user("monitor", role=Role.MONITOR, study=study)


@pytest.fixture
def api(coordinator) -> APIClient:
    client = APIClient()
    client.force_authenticate(coordinator)
    return client


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def make_screening(study, site, coordinator):
    def make(
        *,
        actor=None,
        on_site=None,
        answers=None,
        levels=("L1",),
        age=72,
        sex="female",
        day=datetime.date(2026, 1, 5),
    ):
        return screening_create(
            actor=actor or coordinator,
            study=study,
            site=on_site or site,
            data={
                "screening_date": day,
                "age": age,
                "sex": sex,
                "fracture_levels": list(levels),
                "answers": ELIGIBLE_ANSWERS if answers is None else answers,
            },
        )

    return make


@pytest.fixture
def make_participant(make_screening, coordinator):
    def make(**kwargs):
        screening = make_screening(**kwargs)
        return participant_enroll(
            actor=kwargs.get("actor") or coordinator,
            screening=screening,
            consent_date=datetime.date(2026, 1, 6),
            enrollment_date=datetime.date(2026, 1, 7),
            identity={"full_name": "Synthetic Person", "phone": "13800000000"},
        )

    return make


def open_visit(participant, *, code="M12", questionnaires=("odi", "vas"), **extra):
    """The participant's visit `code`, its window open today at their site (30 days either side)."""
    today = site_today(participant.site)
    visit, _ = Visit.objects.update_or_create(
        participant=participant,
        code=code,
        defaults={
            "label": {"en": "12 months", "zh-hans": "术后12个月"},
            "sequence": 5,
            "target_date": today,
            "window_open": today - datetime.timedelta(days=30),
            "window_close": today + datetime.timedelta(days=30),
            "questionnaires": list(questionnaires),
            **extra,
        },
    )
    return visit


@pytest.fixture
def odi_wording(db):
    """The demo's ODI wording loaded in both languages (plainly a demonstration, not the licensed text): an
    ODI patient link needs wording in its language."""
    from followup.demo_wording import demo_wording_files, demo_wording_load

    return {text.language: text for text, _state in map(demo_wording_load, demo_wording_files())}


@pytest.fixture
def token(transactional_db, coordinator, make_participant, odi_wording) -> str:
    """A live ODI patient link's token, committed so that servers in other processes (gunicorn started by
    the server-log and deploy tests) open it."""
    from django.utils import timezone

    from followup.services.links import patient_link_issue

    today = timezone.localdate()
    visit = Visit.objects.create(
        participant=make_participant(),
        code="M12",
        label={"en": "12 months"},
        sequence=5,
        target_date=today,
        window_open=today,
        window_close=today,
        questionnaires=["odi"],
    )
    return patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="en")[1]


@pytest.fixture(autouse=True)
def _two_factor_off(settings):
    """Two-factor sign-in is on by default (production) and off here, so that the suite's logins need the
    password alone; tests/trial/test_twofactor*.py turn it on."""
    settings.TWO_FACTOR_REQUIRED = False


@pytest.fixture(autouse=True)
def _roles_read_per_request(monkeypatch):
    """An APIClient's force_authenticate hands one user object to every request, where production loads the
    user afresh for each (from the session or the token): the roles kept on it for one request
    (trial.access.user_roles) are dropped before the next, so that a role changed between two requests
    counts and every request reads the roles as in production (once)."""
    get_response = ForceAuthClientHandler.get_response

    def fresh_roles(handler, request):
        if handler._force_user is not None:
            handler._force_user.__dict__.pop("_spinetrial_roles", None)
        return get_response(handler, request)

    monkeypatch.setattr(ForceAuthClientHandler, "get_response", fresh_roles)


@pytest.fixture(autouse=True)
def _language_reset():
    """A request activates its language in the test's thread, and it would stay for the next test (whose
    messages then come out in Chinese): back to the default after each test."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def patient_link_limits_off(settings):
    """The per-client limits on patient links are off: the suite's clients all come from one address and
    would add up across tests. tests/followup/test_link_limits*.py switch them on."""
    settings.RATELIMIT_ENABLE = False


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashes():
    """tests/hashers.py first: the same PBKDF2-SHA256, fewer rounds (the suite checks passwords thousands
    of times); the production hashers stay listed after it."""
    from django.test import override_settings

    with override_settings(
        PASSWORD_HASHERS=["tests.hashers.FewRoundsPBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]
    ):
        yield


@pytest.fixture(autouse=True, scope="session")
def _static_files_scanned_once():
    """WhiteNoise walks STATIC_ROOT (some 700 files, ~80 ms) whenever a middleware chain is built, which a
    server does once per process but the test client does once per client, i.e. in almost every test
    (about six minutes of a full run). The collected files do not change during a run: the walk's result
    is kept per directory and handed to every later chain, which still serves the same files."""
    from whitenoise.base import WhiteNoise

    walk = WhiteNoise.update_files_dictionary
    walked: dict[tuple[str, str], dict] = {}

    def update_files_dictionary(self, root, prefix):
        if (root, prefix) not in walked:
            before = set(self.files)
            walk(self, root, prefix)
            walked[root, prefix] = {url: self.files[url] for url in self.files.keys() - before}
        self.files.update(walked[root, prefix])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WhiteNoise, "update_files_dictionary", update_files_dictionary)
        yield
