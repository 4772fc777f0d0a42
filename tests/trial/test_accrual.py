"""Accrual per group and per centre (with its cohort) against the protocol's group targets: the participant
flow's `accrual` and the dashboard, in a fixed number of queries; none for a study without groups."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import client_for, load_study
from trial.models import Role
from trial.services import participant_enroll, screening_create

from .imaging_data import register_ct_and_mr

pytestmark = pytest.mark.frozen

ASKED = {"INC1": True, "INC3": True, "INC4": True, "EXC1": False, "EXC2": False, "EXC3": False}
FLOW = "/api/v1/studies/NCT07306858/flow/"


@pytest.fixture
def retro(db):
    return load_study("NCT07306858")


@pytest.fixture
def staff(make_user, retro):
    """A coordinator at each centre, and a study-wide monitor."""
    return {
        code: make_user(f"coord{code}", role=Role.COORDINATOR, study=retro, site=retro.sites.get(code=code))
        for code in ("CQ1", "EXT1")
    } | {"monitor": make_user("retromonitor", role=Role.MONITOR, study=retro)}


@pytest.fixture
def register(retro, staff, tmp_path):
    def register(site_code: str, group: str):
        site = retro.sites.get(code=site_code)
        screening = screening_create(
            actor=staff[site_code],
            study=retro,
            site=site,
            data={
                "screening_date": datetime.date(2026, 1, 5),
                "age": 70,
                "sex": "male",
                "fracture_levels": ["T12"],
                "answers": ASKED,
            },
        )
        register_ct_and_mr(staff[site_code], screening, tmp_path / f"case{screening.pk}")
        screening.refresh_from_db()
        return participant_enroll(
            actor=staff[site_code],
            screening=screening,
            enrollment_date=datetime.date(2026, 1, 6),
            group=group,
            identity={"full_name": "Synthetic Case"},
        )

    return register


def test_the_flow_gives_accrual_per_group_and_centre_against_the_targets(register, staff):
    for site_code, group in [("CQ1", "acute"), ("CQ1", "acute"), ("CQ1", "chronic"), ("EXT1", "chronic")]:
        register(site_code, group)
    accrual = client_for(staff["monitor"]).get(FLOW).json()["accrual"]
    assert accrual == {
        "target": 276,
        "registered": 4,
        "groups": [
            {"code": "acute", "label": "Acute fracture", "target": 138, "registered": 2, "percent": 1.4},
            {"code": "chronic", "label": "Chronic fracture", "target": 138, "registered": 2, "percent": 1.4},
        ],
        "centres": [
            {
                "site": "CQ1",
                "name": "The First Affiliated Hospital of Chongqing Medical University",
                "cohort": "development",
                "registered": 3,
                "groups": {"acute": 2, "chronic": 1},
            },
            {
                "site": "EXT1",
                "name": "External validation centre (placeholder name)",
                "cohort": "external_validation",
                "registered": 1,
                "groups": {"acute": 0, "chronic": 1},
            },
        ],
    }


def test_a_centre_s_coordinator_sees_only_their_centre(register, staff):
    register("CQ1", "acute")
    register("EXT1", "chronic")
    accrual = client_for(staff["EXT1"]).get(FLOW).json()["accrual"]
    assert [c["site"] for c in accrual["centres"]] == ["EXT1"]
    assert [g["registered"] for g in accrual["groups"]] == [0, 1]


def test_a_study_without_groups_has_no_accrual(monitor):
    assert client_for(monitor).get("/api/v1/studies/NCT06379243/flow/").json()["accrual"] is None


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_flow_and_the_dashboard_run_a_fixed_number_of_queries(register, staff):
    api = client_for(staff["monitor"])
    page = Client()
    page.force_login(staff["monitor"])
    register("CQ1", "acute")
    few = (count_queries(api, FLOW), count_queries(page, reverse("dashboard")))
    for site_code, group in [("CQ1", "chronic"), ("EXT1", "acute"), ("EXT1", "chronic"), ("CQ1", "acute")]:
        register(site_code, group)
    assert (count_queries(api, FLOW), count_queries(page, reverse("dashboard"))) == few


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["By group", "By centre", "Acute fracture", "external validation"]),
        ("zh-hans", ["急性骨折", "慢性骨折", "外部验证中心"]),
    ],
)
def test_the_dashboard_shows_the_accrual_in_both_languages(register, staff, language, words):
    register("EXT1", "chronic")
    page = Client()
    page.force_login(staff["monitor"])
    page.cookies["django_language"] = language
    html = page.get(reverse("dashboard")).content.decode()
    assert 'data-role="accrual"' in html
    row = html[html.index('data-site="EXT1"') :]
    row = row[: row.index("</tr>")]
    assert ">0<" in row and ">1<" in row  # acute 0, chronic 1, registered 1
    for word in words:
        assert word in html
