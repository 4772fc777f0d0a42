"""The Celery app. Tasks receive ids, never model instances, and are queued with transaction.on_commit."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("spinetrial")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="spinetrial.ping", acks_late=True, time_limit=10)
def ping() -> str:
    """Health check: a worker that answers 'pong' is consuming from the broker."""
    return "pong"
