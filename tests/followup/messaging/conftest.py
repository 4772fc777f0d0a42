"""Shared by the messaging tests: the loopback SMTP server and SMS gateway, the real Celery workers, the
people of both sites, and an outbox with one message in each state."""

import datetime
import os
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from followup.messaging.models import OutboxMessage
from followup.models import Visit
from trial.models import ParticipantIdentity, Role

from ...conftest import open_visit
from .servers import sms_gateway, smtp_server  # noqa: F401 -- fixtures
from .workers import Cluster, RedisServer, database_url_of_test

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")  # the test sites' zone
OPENS = datetime.date(2027, 1, 1)  # M12's window opens on this day in the sweep and dispatch tests


def at(text: str):
    """Time frozen at a wall-clock time at the test sites ("2027-01-01 10:00")."""
    return time_machine.travel(datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI), tick=False)


def m12_open(
    participant, *, opens: datetime.date = OPENS, email: str = "patient@example.invalid", language: str
):
    """Give the participant an e-mail address (the phone is the factory's), a language for messages, and an
    M12 visit collecting ODI and VAS whose window opens on `opens` for 60 days: four reminders a step."""
    ParticipantIdentity.objects.filter(participant=participant).update(email=email, contact_language=language)
    return Visit.objects.create(
        participant=participant,
        code="M12",
        label={"en": "12 months", "zh-hans": "术后12个月"},
        sequence=5,
        target_date=opens + datetime.timedelta(days=30),
        window_open=opens,
        window_close=opens + datetime.timedelta(days=60),
        questionnaires=["odi", "vas"],
    )


STATES = ("sent", "held", "failed", "unconfirmed", "pending", "cancelled")


def message(participant, visit, *, state, channel="sms", instrument="odi", step="open+0", **extra):
    now = timezone.now()
    return OutboxMessage.objects.create(
        key=f"r:{participant.pk}:{visit.pk}:{instrument}:{channel}:{step}:{state}",
        kind="reminder",
        channel=channel,
        participant=participant,
        visit=visit,
        instrument=instrument,
        step=step,
        language="zh-hans",
        state=state,
        due_at=now,
        attempts=1,
        claimed_at=now if state == "unconfirmed" else None,
        sent_at=now if state == "sent" else None,
        **extra,
    )


@pytest.fixture
def people(make_user, study, site, other_site, coordinator, other_coordinator, monitor):
    return {
        "coordinator": coordinator,
        "other_coordinator": other_coordinator,
        "monitor": monitor,
        "investigator": make_user("inv07", role=Role.INVESTIGATOR, site=site),
        "pi": make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study),
        "data_manager": make_user("dm", role=Role.DATA_MANAGER, study=study),
        "adjudicator": make_user("adj", role=Role.ADJUDICATOR, study=study),
    }


@pytest.fixture
def outbox(make_participant, other_site, other_coordinator, people):
    """Site 07's participant with one message in each state; site 91's with one sent message."""
    here = make_participant()
    there = make_participant(actor=other_coordinator, on_site=other_site)
    visit_here, visit_there = open_visit(here), open_visit(there)
    rows = {state: message(here, visit_here, state=state) for state in STATES}
    rows["there"] = message(there, visit_there, state="sent")
    return {"here": here, "there": there, "visit": visit_here, **rows}


def page(user, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def worker_env(smtp_server, sms_gateway):  # noqa: F811 -- the fixtures imported above
    """The environment of a worker: this test's database, the loopback servers, no quiet hours."""
    env = {name: value for name, value in os.environ.items() if name != "TEST_CLOCK"}
    env.update(smtp_server.env())
    env.update(sms_gateway.env())
    env.update(
        DATABASE_URL=database_url_of_test(),
        QUIET_HOURS="00:00-00:00",
        EMAIL_TIMEOUT="5",
        SMS_GATEWAY_TIMEOUT="5",
        CONN_MAX_AGE="0",
    )
    return env


@pytest.fixture
def cluster(worker_env, tmp_path):
    """Workers and a producer on the session's Redis, on a queue of this test's own."""
    cluster = Cluster(broker=settings.REDIS_URL, env=worker_env, directory=tmp_path)
    try:
        yield cluster
    finally:
        cluster.close()
        print(cluster.logs())  # shown when the test failed


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test alone (the session's is shared): it can be stopped without harming others."""
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
