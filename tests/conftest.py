"""Shared fixtures: protocols loaded from the shipped files, sites, staff with roles, API clients."""

import datetime

import pytest
from django.conf import settings
from django.utils import translation
from rest_framework.test import APIClient

from trial.models import Role, Site, Study
from trial.services import participant_enroll, screening_create
from trial.services.protocols import protocol_load_file

from .browser import page, plain_static_names  # noqa: F401 -- the browser tests' fixtures
from .factories import StaffRoleFactory, UserFactory

ALL_NO = {"EXC1": False, "EXC2": False, "EXC3": False}
ELIGIBLE_ANSWERS = {"INC1": True, "INC2": True, **ALL_NO}


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


@pytest.fixture
def odi_wording(db):
    """The demo's ODI wording loaded in both languages (plainly a demonstration, not the licensed text): an
    ODI patient link needs wording in its language."""
    from followup.demo_wording import demo_wording_files, demo_wording_load

    return {text.language: text for text, _state in map(demo_wording_load, demo_wording_files())}


@pytest.fixture(autouse=True)
def _language_reset():
    """A request activates its language in the test's thread, and it would stay for the next test (whose
    messages then come out in Chinese): back to the default after each test."""
    yield
    translation.deactivate()
