"""Every way of starting the web server keeps patient-link tokens out of its log, proven on real servers.

Each server is started as the project starts it: gunicorn with the command line of scripts/run.sh (`make run`)
and of the systemd unit (deploy/), a bare `gunicorn config.wsgi` run from the project root, and
`manage.py runserver`. All serve the test database; a live patient link is opened through the page and the
API; the log must name the masked path and never the token or its key.
"""

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

from followup.services.links import SEPARATOR

ROOT = Path(settings.BASE_DIR)
START_SECONDS = 30  # an upper bound on a loaded CI machine; the servers start in about two seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The test database (pytest-django's test_ name), for the servers to read what the test wrote."""
    db = connection.settings_dict
    user = urllib.parse.quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        user += ":" + urllib.parse.quote(db["PASSWORD"], safe="")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def logical_lines(path: Path) -> list[str]:
    """A shell file's or a unit file's lines, with backslash continuations joined."""
    return path.read_text(encoding="utf-8").replace("\\\n", " ").splitlines()


def run_sh_command(port: int) -> tuple[list[str], dict]:
    """The gunicorn command of scripts/run.sh, as bash runs it with WEB_HOST and WEB_PORT set."""
    found = [
        re.sub(r"^setsid\s+", "", line.strip()).removesuffix("&").strip()
        for line in logical_lines(ROOT / "scripts" / "run.sh")
        if re.match(r"^\s*(setsid\s+)?\.venv/bin/gunicorn\b", line)
    ]
    assert len(found) == 1, f"scripts/run.sh should start gunicorn once: {found}"
    # One worker instead of run.sh's three: the number of workers has nothing to do with the log.
    command = re.sub(r"--workers\s+\d+", "--workers 1", found[0])
    return ["bash", "-c", f"exec {command}"], {"WEB_HOST": "127.0.0.1", "WEB_PORT": str(port)}


def systemd_command(port: int) -> tuple[list[str], dict]:
    """ExecStart of the web unit (instance 0), with the install directory (/opt/spinetrial) being this
    checkout and the instance's address (127.0.0.1:8000) moved to a free port; the workers come from the
    unit's EnvironmentFile in production, from here in the test. (tests/deploy/test_smoke.py starts the
    units whole.)"""
    unit = ROOT / "deploy" / "systemd" / "spinetrial-web@.service"
    (line,) = [line for line in logical_lines(unit) if line.startswith("ExecStart=")]
    command = line.removeprefix("ExecStart=").replace("/opt/spinetrial", str(ROOT)).replace("%i", "0")
    argv = shlex.split(command.replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
    return argv, {"GUNICORN_WORKERS": "1"}


def bare_gunicorn_command(port: int) -> tuple[list[str], dict]:
    """What someone types in the project root, with an address: no config file named, no logging flags
    (gunicorn reads ./gunicorn.conf.py from the working directory by itself)."""
    gunicorn = str(ROOT / ".venv" / "bin" / "gunicorn")
    return [gunicorn, "config.wsgi", "-b", f"127.0.0.1:{port}", "--workers", "1"], {}


def runserver_command(port: int) -> tuple[list[str], dict]:
    return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], {}


SERVERS = {
    "make run (scripts/run.sh)": run_sh_command,
    "systemd (deploy/systemd/spinetrial-web@.service)": systemd_command,
    "bare gunicorn config.wsgi": bare_gunicorn_command,
    "manage.py runserver": runserver_command,
}


def wait_for(port: int, process: subprocess.Popen) -> str:
    """'' once the server listens, else what went wrong."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with status {process.returncode}"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return ""
        time.sleep(0.1)
    return f"did not listen within {START_SECONDS} s"


def stop(process: subprocess.Popen) -> None:
    """TERM the server's process group (it was started in its own session), then KILL what is left."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_no_way_of_starting_the_web_server_logs_a_patient_link_token(token, tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "GUNICORN_CMD_ARGS"},
        "DATABASE_URL": database_url(),
        "SECRET_KEY": settings.SECRET_KEY,  # the servers must verify the link's signature
        "CONN_MAX_AGE": "0",  # no connection outlives the test (its database is dropped at the end)
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    started = {}
    problems = {}
    try:
        # All at once: they start in parallel, so the test takes one start-up, not four.
        for name, command in SERVERS.items():
            port = free_port()
            argv, extra = command(port)
            log = tmp_path / f"{len(started)}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(  # noqa: S603 -- the project's own commands
                    argv,
                    cwd=ROOT,
                    env={**env, **extra},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            started[name] = (process, port, log)
        for name, (process, port, _log) in started.items():
            problems[name] = wait_for(port, process) or _open_link(port, token)
    finally:
        for process, _port, _log in started.values():
            stop(process)

    wrong = {}
    for name, (_process, _port, log) in started.items():
        text = log.read_text(errors="replace")
        problem = problems[name] or _log_problem(text, token)
        if problem:
            wrong[name] = f"{problem}; its output:\n{text}"
    assert not wrong, "\n\n".join(f"{name}: {problem}" for name, problem in wrong.items())


def _log_problem(text: str, token: str) -> str:
    key = token.split(SEPARATOR)[0]
    if token in text or key in text:
        return "logged the token"
    if "/p/[token]/" not in text or "/api/v1/patient/[token]/" not in text:
        return "logged no masked request line"
    return ""


def _open_link(port: int, token: str) -> str:
    """'' once the page and the API of the link answered 200, else what they answered."""
    for path in (f"/p/{token}/", f"/api/v1/patient/{token}/"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
                if answer.status != 200:
                    return f"answered {answer.status}"
        except urllib.error.HTTPError as error:
            return f"answered {error.code}"
    return ""
