"""Real processes for the fault tests: a Celery worker (prefork) and a throwaway Redis, both killable.

The worker is a subprocess in its own session (process group), so a SIGKILL takes its pool children down
with it, as a machine or container crash would. Each worker consumes a queue of its own test, so nothing
another test left in the session's Redis reaches it. Every process is stopped by the fixtures, whatever the
test did.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from celery import Celery
from django.db import connection

from .servers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[3]
CELERY = ROOT / ".venv" / "bin" / "celery"


def database_url_of_test() -> str:
    """The URL of the database this test runs on (pytest-django's test_<name>), for a subprocess."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class RedisServer:
    """A redis-server of one test on a free loopback port, without persistence; stoppable and restartable."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.process is None, "already running"
        command = [shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1"]
        command += [
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
        ]
        self.process = subprocess.Popen(  # noqa: S603 -- redis-server on a port of our own
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self._answers, timeout=10, what=f"redis on port {self.port}")

    def stop(self) -> None:
        """Kill it (SIGKILL: no snapshot, no goodbye to the clients); what it held is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def _answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.ConnectionError:
            return False


class Worker:
    """`celery -A config worker --pool=prefork --concurrency=2` on one queue, its log in a file."""

    def __init__(self, *, env: dict[str, str], queue: str, log: Path):
        self.env, self.queue, self.log = env, queue, log
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 60) -> "Worker":
        start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 -- the project's own worker
                [
                    str(CELERY),
                    "-A",
                    "config",
                    "worker",
                    "--pool=prefork",
                    "--concurrency=2",
                    "-l",
                    "info",
                    "-Q",
                    self.queue,
                    "-n",
                    f"{self.queue}-{uuid.uuid4().hex[:6]}@%h",
                    "--without-gossip",
                    "--without-mingle",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited ({self.process.returncode}):\n{self.tail()}")
            return b" ready." in self.log.read_bytes()[start:]

        wait_until(ready, timeout=timeout, what="the Celery worker to be ready")
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once: no task finishes, nothing is acknowledged."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._reap()

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL whatever is left after a few seconds."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=8)
        self.kill()

    def _reap(self) -> None:
        # The pool children share the group: make sure none outlives the main process.
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class Cluster:
    """The workers and the producer of one test, on one broker; everything is stopped by close()."""

    def __init__(self, *, broker: str, env: dict[str, str], directory: Path):
        self.broker = broker
        self.queue = f"faults-{uuid.uuid4().hex[:10]}"
        self.env = {**env, "REDIS_URL": broker}
        self.directory = directory
        self.workers: list[Worker] = []
        self._producers: list[Celery] = []
        self.producer = self.new_producer()

    def new_producer(self, *, results: bool = True) -> Celery:
        """A Celery client on the broker (a fresh one after the broker restarted: no stale connections);
        without `results`, one that only queues, as beat does."""
        backend = self.broker if results else None
        app = Celery(f"producer-{len(self._producers)}", broker=self.broker, backend=backend)
        app.conf.broker_connection_retry_on_startup = False
        app.conf.broker_connection_timeout = 2
        self._producers.append(app)
        return app

    def worker(self) -> Worker:
        """Start a worker (a new one each call) and wait until it consumes."""
        worker = Worker(env=self.env, queue=self.queue, log=self.directory / f"worker{len(self.workers)}.log")
        self.workers.append(worker)
        return worker.start()

    def send(self, task: str, *, producer: Celery | None = None):
        """Queue `task` through the broker (raises when the broker cannot take it)."""
        return (producer or self.producer).send_task(task, queue=self.queue)

    def run(self, task: str, *, timeout: float = 60):
        """Queue `task` and wait for its result."""
        return self.send(task).get(timeout=timeout)

    def logs(self) -> str:
        return "\n\n".join(f"--- {w.log.name}\n{w.tail()}" for w in self.workers)

    def close(self) -> None:
        # Killed, not stopped warmly: the test has checked what it needed, and a warm shutdown costs each
        # test about 2 s; nothing of a killed worker outlives it but tasks in this test's own queue.
        for worker in self.workers:
            worker.kill()
        for app in self._producers:
            app.close()


def settle(seconds: float) -> None:
    """Let a fault last a while (a broker down, a server hanging)."""
    time.sleep(seconds)
