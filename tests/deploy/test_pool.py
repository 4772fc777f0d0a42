"""DB_POOL_MAX_SIZE turns on Django's PostgreSQL pool, and the project works through it: a connection closed
by Django goes back to the pool and is lent again, the pgtrigger.ignore startup option holds on pooled
connections, the audit triggers record a write, and no more than DB_POOL_MAX_SIZE connections are open at
once. Run in a process of its own, since settings are read at start-up."""

import json
import os
import subprocess
import sys

import pytest
from django.apps import apps
from django.conf import settings

from ..config.test_server_logs import database_url
from .units import ROOT

pytestmark = [pytest.mark.deploy, pytest.mark.django_db(transaction=True)]

SCRIPT = """
import json, sys, threading
import django
django.setup()
import pghistory
from django.db import connection, transaction
from trial.models import Site

def backend():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), current_setting('pgtrigger.ignore', true), pg_sleep(0.3)")
        return cursor.fetchone()[:2]

said = {"pooled": connection.pool is not None}
sequential = []
for _ in range(6):
    sequential.append(backend())
    connection.close()  # what Django does at the end of each request
said["sequential_backends"] = len({pid for pid, _ignore in sequential})
said["ignore"] = sorted({ignore for _pid, ignore in sequential})
with transaction.atomic(), pghistory.context(reason="through the pool"):
    Site.objects.filter(pk=int(sys.argv[1])).update(name={"en": "Pooled", "zh-hans": "连接池"})
connection.close()

pids = []
def request():
    pids.append(backend()[0])
    connection.close()
threads = [threading.Thread(target=request) for _ in range(5)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
said["requests"], said["backends"] = len(pids), len(set(pids))
print(json.dumps(said))
"""


def run(site_pk: int, **env: str) -> dict:
    done = subprocess.run(  # noqa: S603 -- this interpreter on the script above
        [sys.executable, "-c", SCRIPT, str(site_pk)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings"} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_pool_lends_connections_again_keeps_the_startup_options_and_caps_their_number(site):
    said = run(site.pk, DB_POOL_MAX_SIZE="2", CONN_MAX_AGE="60")
    # Six requests one after another, then five at once, shared two connections, opened once and lent again
    # (without a pool each request opens its own), each with the session's startup options.
    assert said.pop("sequential_backends") <= 2
    assert said == {"pooled": True, "ignore": ["{}"], "requests": 5, "backends": 2}
    event = apps.get_model("trial", "SiteEvent").objects.filter(pgh_obj_id=site.pk, pgh_label="update")
    assert event.get().name == {"en": "Pooled", "zh-hans": "连接池"}


def test_without_the_setting_there_is_no_pool():
    assert settings.DB_POOL_MAX_SIZE == 0
    assert "pool" not in settings.DATABASES["default"]["OPTIONS"]
