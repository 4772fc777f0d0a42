"""The Celery app. Tasks receive ids, never model instances, and are queued with transaction.on_commit.

Queues: the follow-up messaging (reminder sweep, outbox dispatch) and the reports (interim reports, exports)
each have their own, so that an hour-long export never delays a reminder, and each can have a worker of its
own (deploy/systemd/spinetrial-worker@.service, one instance per queue). Every worker also consumes the
default queue, which carries the health ping and any task not routed here.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

MESSAGING_QUEUE = "messaging"
REPORTS_QUEUE = "reports"
DEFAULT_QUEUE = "celery"  # Celery's own default name, kept: tests and tools that name no queue use it
QUEUES = (MESSAGING_QUEUE, REPORTS_QUEUE, DEFAULT_QUEUE)

app = Celery("spinetrial")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Routed by task name (the beat sends by name, without importing the task): the app's prefix names its queue.
app.conf.task_default_queue = DEFAULT_QUEUE
app.conf.task_routes = {
    "followup.*": {"queue": MESSAGING_QUEUE},
    "reports.*": {"queue": REPORTS_QUEUE},
}
app.autodiscover_tasks()


@app.task(name="spinetrial.ping", acks_late=True, time_limit=10)
def ping() -> str:
    """Health check: a worker that answers 'pong' is consuming from the broker (send it to a queue by name,
    `ping.apply_async(queue=...)`, to check that queue's worker)."""
    return "pong"
