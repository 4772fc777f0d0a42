"""A read replica (REPLICA_DATABASE_URL): a real streaming replica of the throwaway server on loopback
(pg_basebackup -R, hot standby on another port). An export read through it is the primary's, byte for byte;
its reads ran on the replica and its rows (job, data cut) were written on the primary; the replica alias
refuses writes; a replica that lags is passed over for the primary rather than read short of the cut.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from django.db import connection

from reports.models import Job, JobStatus
from tests.conftest import frozen_clock
from tests.reports.test_dataset import seed

from . import pg

pytestmark = pytest.mark.django_db(transaction=True)

EXPORT_AT = "2026-12-01T04:00:00+00:00"  # noon at the sites, days after the seeding
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
WRITE_ON_REPLICA = """
from django.db import DatabaseError
from trial.models import Site
try:
    Site.objects.using("replica").filter(code="07").update(name={"en": "changed"})
except DatabaseError as refused:
    print("refused:", refused)
site = Site.objects.using("replica").get(code="07")
site.save(update_fields=["name"])  # an object read on the replica is written on the primary
print("saved on", site._state.db)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pg(*args: str, timeout: float = 120) -> None:
    done = subprocess.run(  # noqa: S603 -- PostgreSQL's own programs
        [*AS_POSTGRES, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args[0]}: {done.stdout}\n{done.stderr}"


@pytest.fixture
def replica():
    """(port, log path) of a hot standby streaming from the test server."""
    with pg.connect() as conn:
        assert conn.execute("SHOW wal_level").fetchone()[0] in ("replica", "logical")
    base = Path(tempfile.mkdtemp(prefix="spinetrial-replica-"))
    base.chmod(0o755)  # the postgres user must reach its data directory
    data, log, port = base / "data", base / "replica.log", _free_port()
    if AS_POSTGRES:
        shutil.chown(base, "postgres", "postgres")
    try:
        _pg(
            pg.pg_bin("pg_basebackup"),
            *("-h", pg.HOST, "-p", str(pg.PORT), "-U", "postgres", "-D", str(data)),
            *("-R", "-X", "stream", "-c", "fast"),  # -R: standby.signal and primary_conninfo written for us
        )
        # hot_standby_feedback: a long export on the replica is not cancelled by the primary's vacuum.
        options = f"-p {port} -c hot_standby_feedback=on -c log_statement=all"
        _pg(pg.pg_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        _wait_streaming(port)
        yield port, log
    finally:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            _pg(pg.pg_bin("pg_ctl"), "-D", str(data), "stop", "-m", "immediate", "-w")
        shutil.rmtree(base, ignore_errors=True)


def _wait_streaming(port: int, timeout: float = 60) -> None:
    """Until the primary has a walsender streaming and the replica says it is in recovery."""
    deadline = time.monotonic() + timeout
    while True:
        with pg.connect() as conn:
            states = [row[0] for row in conn.execute("SELECT state FROM pg_stat_replication")]
        if "streaming" in states:
            with pg.connect(port=port) as conn:
                assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
            return
        assert time.monotonic() < deadline, f"the replica is not streaming: {states}"
        time.sleep(0.2)


def _scans(table: str, port: int = pg.PORT) -> int:
    """Sequential and index scans of `table` counted by the server on `port` (its own statistics)."""
    with pg.connect(name=connection.settings_dict["NAME"], port=port) as conn:
        row = conn.execute(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
            "WHERE relname = %s",
            [table],
        ).fetchone()
    return row[0]


def _export(directory: Path, **env: str) -> tuple[str, dict, str]:
    """(analysis.csv SHA-256, manifest, what it logged) of `manage.py export --format csv` with `env`."""
    directory.mkdir()
    done = pg.manage(
        *("export", "--study", "NCT06379243", "--format", "csv", "--out", str(directory)),
        env={"DATABASE_URL": pg.url(user=pg.OWNER, name=connection.settings_dict["NAME"]), **env},
        clock=EXPORT_AT,
    )
    (path,) = directory.iterdir()
    with zipfile.ZipFile(path) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    analysis = next(f for f in manifest["files"] if f["name"] == "analysis.csv")
    assert analysis["rows"] == 30
    return analysis["sha256"], manifest, done.stderr


@pytest.fixture
def seeded(study):
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 30)
    return study


def test_an_export_read_on_the_replica_is_the_primarys(seeded, replica, tmp_path):
    port, log = replica
    replica_url = pg.url(user=pg.OWNER, name=connection.settings_dict["NAME"], port=port)
    primary_sha, primary_manifest, _ = _export(tmp_path / "primary")
    assert "read_from" not in primary_manifest

    # This process's connection seeded the study: its scans may still wait in its backend to be counted
    # (a backend flushes its statistics at most once a second, on going idle), and would land in the middle.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # flushed as the backend goes idle, right after
        cursor.execute("SELECT 1")
    scans = _scans("trial_participant"), _scans("trial_participant", port)
    replica_sha, manifest, _ = _export(tmp_path / "replica", REPLICA_DATABASE_URL=replica_url)
    assert replica_sha == primary_sha
    assert manifest["read_from"]["database"] == "replica" and manifest["read_from"]["replay_lsn"]
    # The participants were read on the replica, not on the primary: each server counts its own scans, and
    # the replica's log has the analysis dataset's cursor.
    time.sleep(1)  # statistics are flushed at most once a second
    assert _scans("trial_participant", port) > scans[1]
    assert _scans("trial_participant") == scans[0]
    assert 'DECLARE "export_analysis"' in log.read_text()
    # The job and its data cut were written on the primary (this connection is the primary's).
    jobs = Job.objects.filter(status=JobStatus.DONE).order_by("pk")
    assert [job.cut.sha256 for job in jobs] == [
        primary_manifest["data_cut_sha256"],
        manifest["data_cut_sha256"],
    ]

    env = {
        "DATABASE_URL": pg.url(user=pg.OWNER, name=connection.settings_dict["NAME"]),
        "REPLICA_DATABASE_URL": replica_url,
    }
    wrote = pg.manage("shell", "-c", WRITE_ON_REPLICA, env=env).stdout
    assert "refused: cannot execute UPDATE in a read-only transaction" in wrote
    assert "saved on default" in wrote


def test_a_lagging_replica_is_passed_over_for_the_primary(seeded, replica, tmp_path):
    """Replay paused on the replica, then a commit on the primary: the export does not read the replica
    short of its cut; after REPLICA_WAIT_SECONDS it reads the primary. Resumed, the replica is read again."""
    port, _log = replica
    with pg.connect(port=port) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    with pg.connect(name=connection.settings_dict["NAME"]) as conn:
        conn.execute("UPDATE trial_study SET title = title")  # any commit: WAL the replica has not replayed
    url = pg.url(user=pg.OWNER, name=connection.settings_dict["NAME"], port=port)
    _sha, manifest, logged = _export(tmp_path / "lagging", REPLICA_DATABASE_URL=url, REPLICA_WAIT_SECONDS="2")
    assert "read_from" not in manifest  # read on the primary
    assert "has not replayed up to" in logged and "reading from the primary" in logged
    with pg.connect(port=port) as conn:
        conn.execute("SELECT pg_wal_replay_resume()")
    _sha, manifest, _ = _export(tmp_path / "caught_up", REPLICA_DATABASE_URL=url)
    assert manifest["read_from"]["database"] == "replica"
