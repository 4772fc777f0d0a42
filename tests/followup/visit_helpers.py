"""Helpers of the visit tests: a procedure completed through the CRF services, a site in another time zone,
and time frozen at a site's local wall-clock time. Fixtures here are imported by the test modules that use
them (tests/followup/conftest.py is shared and not ours)."""

import datetime
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.conf import settings

from crf.models import FormRecord
from crf.services import crf_complete, crf_save
from trial.models import Role, Site
from trial.services.protocols import protocol_parse

from ..crf.conftest import PROCEDURE

PROCEDURE_DATE = "2026-01-15"
FIXTURES = Path(__file__).resolve().parent / "protocols"


def shipped_visits(code: str = "NCT06379243") -> dict:
    return protocol_parse((settings.PROTOCOL_DIR / f"{code}.yaml").read_text(encoding="utf-8"))["visits"]


def fixture_text(name: str = "EURRADIOL2016") -> str:
    return (FIXTURES / f"{name}.yaml").read_text(encoding="utf-8")


def local(text: str, zone: str) -> datetime.datetime:
    """'2026-02-07 00:00' at the wall clock of `zone`, as an aware datetime."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=zoneinfo.ZoneInfo(zone))


def at(text: str, zone: str = "Asia/Shanghai"):
    """Freeze time at a local wall-clock time (time-machine patches the C-level clocks too)."""
    return time_machine.travel(local(text, zone), tick=False)


def complete_procedure(actor, participant, procedure_date: str = PROCEDURE_DATE) -> FormRecord:
    """The coordinator saves the procedure form, then completes it: what creates the procedure's visits."""
    crf_save(
        actor=actor,
        participant=participant,
        form_code="procedure",
        data=PROCEDURE | {"procedure_date": procedure_date},
        expected_version=None,
    )
    return crf_complete(actor=actor, participant=participant, form_code="procedure")


def change_procedure_date(actor, participant, procedure_date: str, reason: str = "date typed wrongly"):
    record = FormRecord.objects.get(participant=participant, form_code="procedure", visit_code="")
    return crf_save(
        actor=actor,
        participant=participant,
        form_code="procedure",
        data=record.data | {"procedure_date": procedure_date},
        expected_version=record.version,
        reason=reason,
    )


@pytest.fixture
def la_site(study) -> Site:
    return Site.objects.create(
        study=study,
        code="LA",
        name={"en": "Los Angeles", "zh-hans": "洛杉矶"},
        time_zone="America/Los_Angeles",
    )


@pytest.fixture
def la_coordinator(make_user, study, la_site):
    return make_user("coordLA", role=Role.COORDINATOR, study=study, site=la_site)
