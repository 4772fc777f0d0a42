"""Smoke test of the production stack, started exactly as deploy/systemd's units start it.

Each process is the unit's ExecStart in its WorkingDirectory with its Environment= and EnvironmentFile=
(tests/deploy/units.py reads them with systemd's rules); the only changes are the install prefix
(/opt/spinetrial: this checkout), the environment file (a copy of deploy/env.example with the throwaway
database, a Redis of the test's own, the test's secret key and fewer processes) and the web instances'
numbers (whose ports, 800%i, are free). Run alone with `make test ARGS="-m deploy"`.
"""

import json
import shutil
import signal
import subprocess
import time

import pytest
import redis
from celery import Celery
from django.conf import settings

from config.beat import LOCK_KEY
from config.celery import MESSAGING_QUEUE, REPORTS_QUEUE, app
from followup.messaging.heartbeats import Heartbeat, HeartbeatName
from followup.services.links import SEPARATOR

from ..config.test_server_logs import database_url
from ..followup.messaging.workers import RedisServer
from .stack import (
    START_SECONDS,
    Service,
    direct_get,
    env_file_write,
    free_port,
    free_web_instances,
    get,
    listening,
    nginx_site_variant,
    tls_client,
    web_port,
    web_unit,
)
from .units import ENV_FILE, PREFIX, ROOT, UNIT_DIR, unit_read

pytestmark = [pytest.mark.deploy, pytest.mark.django_db(transaction=True)]

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.fixture
def broker(tmp_path):
    """A Redis of this test's own: no task another test left queued reaches its workers."""
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def env_file(tmp_path, broker):
    return env_file_write(
        tmp_path / "env",
        {
            "SECRET_KEY": settings.SECRET_KEY,  # the web must verify the test's patient link
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker.url,
            "CONN_MAX_AGE": "0",  # no connection outlives the test (its database is dropped at the end)
            "MEDIA_ROOT": str(tmp_path / "media"),
            "STATIC_ROOT": str(settings.STATIC_ROOT),  # collected by `make test` (the pages' manifest)
            "GUNICORN_WORKERS": "1",
            "CELERY_CONCURRENCY_messaging": "1",
            "CELERY_CONCURRENCY_reports": "1",
        },
    )


@pytest.fixture
def services(tmp_path):
    """Start units; every one is stopped after the test, whatever happened."""
    started: list[Service] = []

    def start(unit) -> Service:
        service = Service(unit, tmp_path).start()
        started.append(service)
        return service

    yield start
    for service in reversed(started):
        service.stop()


def run_oneshots(*units, tmp_path) -> list[tuple[int, str]]:
    """Type=oneshot units' ExecStart run to their end, side by side: (exit status, output) of each."""
    running = [Service(unit, tmp_path).start() for unit in units]
    try:
        statuses = [service.process.wait(timeout=START_SECONDS) for service in running]
    finally:
        for service in running:
            service.stop()
    return [(status, service.output()) for status, service in zip(statuses, running, strict=True)]


def test_web_workers_and_beat_started_as_the_units_say_serve_and_work(
    services, env_file, broker, token, tmp_path
):
    (instance,) = free_web_instances(1)
    web = services(web_unit(instance, env_file))
    workers = {
        queue: services(unit_read("spinetrial-worker@.service", instance=queue, env_file=env_file))
        for queue in (MESSAGING_QUEUE, REPORTS_QUEUE)
    }
    beat = services(unit_read("spinetrial-beat.service", env_file=env_file))
    port = web_port(web.unit)

    # Health: the web answers on its instance's port (127.0.0.1:800%i).
    web.wait_until(lambda: listening(port), what=f"listener on {port}")
    status, _headers, body = direct_get(port, "/healthz")
    assert (status, json.loads(body)["status"]) == (200, "ok"), body

    # The workers consume their own queue and the default one, under the node names the unit gives them.
    for worker in workers.values():
        worker.wait_until(lambda w=worker: " ready." in w.output(), what="'ready'")
    client = Celery("smoke", broker=broker.url, backend=broker.url, set_as_current=False)
    try:
        consumed = client.control.inspect(timeout=5).active_queues()
        assert {name.partition("@")[0]: {q["name"] for q in queues} for name, queues in consumed.items()} == {
            MESSAGING_QUEUE: {MESSAGING_QUEUE, "celery"},
            REPORTS_QUEUE: {REPORTS_QUEUE, "celery"},
        }
        # A Celery round trip through each queue's worker, then a real task by the project's route.
        for queue in (MESSAGING_QUEUE, REPORTS_QUEUE, "celery"):
            assert client.send_task("spinetrial.ping", queue=queue).get(timeout=60) == "pong", queue
        route = app.amqp.router.route({}, "followup.outbox_dispatch", (), {})["queue"].name
        assert client.send_task("followup.outbox_dispatch", queue=route).get(timeout=60) == {}
    finally:
        client.close()
    assert Heartbeat.objects.filter(name=HeartbeatName.DISPATCH).exists()  # the messaging worker's run

    # The beat holds the one beat lock and has recorded its start.
    beat.wait_until(lambda: redis.Redis.from_url(broker.url).exists(LOCK_KEY), what="beat lock")
    beat.wait_until(
        lambda: Heartbeat.objects.filter(name=HeartbeatName.SCHEDULER).exists(), what="start heartbeat"
    )

    # The watchdog of each queue (its timer's oneshot unit) finds its worker; without the reports worker,
    # only the reports queue's watchdog fails, with the status its ExecStopPost turns into a restart of it.
    watchdogs = {
        queue: unit_read("spinetrial-worker-watchdog@.service", instance=queue, env_file=env_file)
        for queue in (MESSAGING_QUEUE, REPORTS_QUEUE)
    }
    for status, said in run_oneshots(*watchdogs.values(), tmp_path=tmp_path):
        assert status == 0, said
    workers[REPORTS_QUEUE].stop()
    (reports, reports_said), (messaging, messaging_said) = run_oneshots(
        watchdogs[REPORTS_QUEUE], watchdogs[MESSAGING_QUEUE], tmp_path=tmp_path
    )
    assert reports == 10 and "no Celery worker consuming the reports queue answered" in reports_said
    assert messaging == 0, messaging_said
    assert restarted_by(watchdogs[REPORTS_QUEUE], exit_status=10, tmp_path=tmp_path) == [
        "restart spinetrial-worker@reports.service"
    ]
    assert restarted_by(watchdogs[MESSAGING_QUEUE], exit_status=11, tmp_path=tmp_path) == [
        "restart spinetrial-beat.service"
    ]

    # The access log masks the patient link: the page answers, its line is in gunicorn's log, masked.
    status, _headers, body = direct_get(port, f"/p/{token}/")
    assert status == 200, body[:2000]
    web.stop()  # everything it logged is in the file
    log = web.output()
    assert token not in log and token.split(SEPARATOR)[0] not in log, log
    assert "GET /p/[token]/ " in log, log
    assert beat.process.poll() is None, beat.output()  # still running: it was the only beat


def restarted_by(unit, *, exit_status: int, tmp_path) -> list[str]:
    """What the watchdog unit's ExecStopPost asks systemctl to do after ExecStart exited with
    `exit_status` (a stand-in systemctl on the PATH writes down its arguments)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "systemctl-calls"
    calls.unlink(missing_ok=True)
    systemctl = bin_dir / "systemctl"
    systemctl.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    systemctl.chmod(0o755)
    env = {**unit.environment(), "EXIT_STATUS": str(exit_status)}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    argv = unit.command(env, key="ExecStopPost")
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=30)  # noqa: S603
    return calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze is not installed")
def test_systemd_reads_the_units_without_a_complaint(tmp_path):
    """systemd's own reading of the shipped units (syntax, specifiers, executables), each template for an
    instance, with the install prefix and the environment file where this test has them."""
    env_file = env_file_write(tmp_path / "env", {})
    names = {
        "spinetrial-web@.service": "0",
        "spinetrial-worker@.service": MESSAGING_QUEUE,
        "spinetrial-worker-watchdog@.service": REPORTS_QUEUE,
        "spinetrial-worker-watchdog@.timer": REPORTS_QUEUE,
        "spinetrial-beat.service": "",
    }
    paths = []
    for template in sorted(path.name for path in UNIT_DIR.iterdir()):
        assert template in names, f"a unit this test does not verify: {template}"
        text = (UNIT_DIR / template).read_text().replace(PREFIX, str(ROOT)).replace(ENV_FILE, str(env_file))
        (tmp_path / template).write_text(text)
        instance = names[template]
        paths.append(str(tmp_path / (template.replace("@.", f"@{instance}.") if instance else template)))
    verified = subprocess.run(  # noqa: S603
        [SYSTEMD_ANALYZE, "verify", "--man=no", *paths], capture_output=True, text=True, timeout=60
    )
    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")


@pytest.mark.skipif(not NGINX, reason="nginx is not installed (scripts/services.sh installs it)")
def test_nginx_with_the_shipped_site_spreads_requests_over_two_web_instances_and_fails_over(
    services, env_file, token, tmp_path
):
    webs = [services(web_unit(instance, env_file)) for instance in free_web_instances(2)]
    ports = [web_port(web.unit) for web in webs]
    http_port, https_port = free_port(), free_port()
    conf = nginx_site_variant(tmp_path, upstream_ports=ports, http_port=http_port, https_port=https_port)
    with (tmp_path / "nginx.out").open("wb") as out:
        nginx = subprocess.Popen(  # noqa: S603 -- the distribution's nginx on the shipped site
            [NGINX, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=out,
            start_new_session=True,
        )
    try:
        for web, port in zip(webs, ports, strict=True):
            web.wait_until(lambda p=port: listening(p), what=f"listener on {port}")
        deadline = time.monotonic() + START_SECONDS
        while not listening(https_port):
            assert nginx.poll() is None, (tmp_path / "nginx.out").read_text()
            assert time.monotonic() < deadline, "nginx did not listen"
            time.sleep(0.1)
        tls = tls_client(tmp_path)

        # Plain HTTP is only a redirect; HTTPS reaches the application, with the site's headers.
        status, headers, _body = get(http_port, "/healthz")
        assert (status, headers["Location"]) == (301, "https://spinetrial.hospital.example/healthz")
        answers = [get(https_port, "/healthz", tls=tls) for _ in range(6)]
        assert [status for status, _h, _b in answers] == [200] * 6
        assert "max-age=31536000" in answers[0][1]["Strict-Transport-Security"]
        # The application sets the security headers; nginx adds none of its own to a proxied answer.
        for header in ("Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy"):
            assert len(answers[0][1].get_all(header) or []) == 1, header
        # Both instances served some of them (round robin).
        assert all("GET /healthz" in web.output() for web in webs), [web.output()[-2000:] for web in webs]

        # A patient link through nginx: answered, and its token in neither nginx's log nor gunicorn's.
        status, _headers, body = get(https_port, f"/p/{token}/", tls=tls)
        assert status == 200, body[:2000]

        # One instance stops (a restart, a crash): nginx sends every request to the other.
        webs[0].process.send_signal(signal.SIGTERM)
        webs[0].process.wait(timeout=60)
        # Patient links first: nginx's first try goes to the stopped instance and fails (it logs the request
        # line of a failed try), which must leave the token in no log (below).
        assert [get(https_port, f"/p/{token}/", tls=tls)[0] for _ in range(4)] == [200] * 4
        answers = [get(https_port, "/healthz", tls=tls)[0] for _ in range(6)]
        assert answers == [200] * 6
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
    key = token.split(SEPARATOR)[0]
    for log in [tmp_path / "access.log", tmp_path / "error.log", *(web.log for web in webs)]:
        text = log.read_text(errors="replace")
        assert token not in text and key not in text, f"{log.name}: {text}"
    assert "GET /healthz" in (tmp_path / "access.log").read_text()
