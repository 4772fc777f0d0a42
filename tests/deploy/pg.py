"""The throwaway PostgreSQL of `make test` seen from outside Django: its superuser, its binaries, other
databases and roles made in it, and manage.py run as a separate process against any of them."""

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
from django.conf import settings
from psycopg import sql

ROOT = Path(settings.BASE_DIR)
SERVER = settings.DATABASES["default"]
HOST, PORT, OWNER = SERVER["HOST"], int(SERVER["PORT"]), SERVER["USER"]


def url(*, user: str, name: str, port: int = PORT) -> str:
    """A DATABASE_URL of the throwaway server (trust authentication on loopback: no password)."""
    return f"postgres://{user}@{HOST}:{port}/{name}"


@contextlib.contextmanager
def connect(
    *, user: str = "postgres", name: str = "postgres", port: int = PORT
) -> Iterator[psycopg.Connection]:
    """A plain psycopg connection in autocommit (the superuser's by default)."""
    with psycopg.connect(host=HOST, port=port, user=user, dbname=name, autocommit=True) as conn:
        yield conn


def create_database(name: str, *, owner: str = OWNER) -> None:
    with connect() as conn:
        statement = sql.SQL("CREATE DATABASE {} OWNER {}")
        conn.execute(statement.format(sql.Identifier(name), sql.Identifier(owner)))


def drop_database(name: str) -> None:
    with connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def pg_bin(program: str) -> str:
    """A PostgreSQL client or server program of the newest installed version (Debian's layout)."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), key=lambda p: int(p.parts[4]))
    assert found, f"no {program} under /usr/lib/postgresql"
    return str(found[-1])


# manage.py with the clock moved to an instant (ticking on from there): time-machine before Django starts.
CLOCKED = (
    "import sys, time_machine; time_machine.travel(sys.argv[1], tick=True).start(); "
    "from django.core.management import execute_from_command_line; "
    "execute_from_command_line(['manage.py', *sys.argv[2:]])"
)


def manage(
    *args: str, env: dict, timeout: float = 300, check: bool = True, clock: str | None = None
) -> subprocess.CompletedProcess:
    """`python manage.py ARGS` in a process of its own with `env` over the test run's environment; with
    `clock` (an ISO instant) its clock starts there."""
    command = [sys.executable, "-c", CLOCKED, clock] if clock else [sys.executable, "manage.py"]
    done = subprocess.run(  # noqa: S603 -- the project's own command
        [*command, *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert done.returncode == 0, f"manage.py {' '.join(args)}: {output}"
    return done
