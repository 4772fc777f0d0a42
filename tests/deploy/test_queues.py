"""The reports' and the follow-up messaging's tasks each land in their own queue of the real broker (Redis),
whether queued by the code (.delay) or by name as the beat sends them; `make run`'s one worker consumes
every queue. (tests/deploy/test_smoke.py runs a worker per queue from the systemd unit.)"""

import json
import re

import pytest
import redis
from django.conf import settings

from config.celery import DEFAULT_QUEUE, MESSAGING_QUEUE, QUEUES, REPORTS_QUEUE, app
from followup.tasks import outbox_dispatch_task, reminders_sweep_task
from reports.tasks import job_run, monthly_reports_task

from .units import ROOT


def landed_in(store: redis.Redis, task_id: str) -> list[str]:
    """The queues (kombu keeps a Redis list per queue, named after it) holding the message of `task_id`;
    the message is taken out, so that no later test's worker runs it."""
    found = []
    for queue in QUEUES:
        for raw in store.lrange(queue, 0, -1):
            if json.loads(raw)["headers"]["id"] == task_id:
                found.append(queue)
                store.lrem(queue, 0, raw)
    return found


@pytest.fixture
def store():
    # A Celery app created by an earlier test (a producer of its own) makes itself the current app, which
    # shared tasks then send through, without the project's routes; in production the project's is the only.
    app.set_current()
    return redis.Redis.from_url(settings.REDIS_URL)


def test_reports_and_reminders_land_in_their_own_queues(store):
    queued = {
        "reports.job_run": job_run.delay(987654321),
        "reports.monthly_reports": monthly_reports_task.delay(),
        "followup.reminders_sweep": reminders_sweep_task.delay(),
        "followup.outbox_dispatch": outbox_dispatch_task.delay(),
        # By name, as the beat sends its periodic tasks (django-celery-beat rows name no queue).
        "followup.outbox_dispatch by name": app.send_task("followup.outbox_dispatch"),
        "reports.monthly_reports by name": app.send_task("reports.monthly_reports"),
        "spinetrial.ping": app.send_task("spinetrial.ping"),
    }
    landed = {name: landed_in(store, result.id) for name, result in queued.items()}
    assert landed == {
        "reports.job_run": [REPORTS_QUEUE],
        "reports.monthly_reports": [REPORTS_QUEUE],
        "followup.reminders_sweep": [MESSAGING_QUEUE],
        "followup.outbox_dispatch": [MESSAGING_QUEUE],
        "followup.outbox_dispatch by name": [MESSAGING_QUEUE],
        "reports.monthly_reports by name": [REPORTS_QUEUE],
        "spinetrial.ping": [DEFAULT_QUEUE],
    }


def test_every_task_of_the_project_has_a_queue_that_a_worker_consumes():
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert {"reports.job_run", "followup.outbox_dispatch", "spinetrial.ping"} <= set(ours)
    routed = {name: app.amqp.router.route({}, name, (), {})["queue"].name for name in ours}
    assert set(routed.values()) <= set(QUEUES), routed


def test_make_run_starts_a_worker_for_every_queue():
    text = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8").replace("\\\n", " ")
    (queues,) = re.findall(r"\.venv/bin/celery -A config worker [^\n]*--queues=(\S+)", text)
    assert set(queues.split(",")) == set(QUEUES)


def test_workers_take_one_task_at_a_time():
    """Prefetch 1 with late acknowledgement: a worker busy with an hour-long export holds no other task
    back from an idle one, and a killed worker's task is delivered again."""
    assert (app.conf.worker_prefetch_multiplier, app.conf.task_acks_late) == (1, True)
