"""Backup and restore (deploy/backup.sh, deploy/restore.sh): a seeded study backed up by the script and
restored into a fresh database gives the same analysis export, byte for byte (the SHA-256 of analysis.csv in
the export's manifest), and the audit trail came across whole.

The exports are `manage.py export --format csv` in processes of their own, at one fixed instant, against the
test database and against the restored one.
"""

import gzip
import hashlib
import json
import os
import secrets
import subprocess
import time
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from psycopg import sql

from tests.conftest import frozen_clock
from tests.reports.test_dataset import seed
from trial.management.commands.db_grant import HARDENED_MARK, event_tables

from . import pg

pytestmark = pytest.mark.django_db(transaction=True)

BACKUP, RESTORE = str(pg.ROOT / "deploy" / "backup.sh"), str(pg.ROOT / "deploy" / "restore.sh")
# Noon at the sites (Asia/Shanghai), days after the seeding: both exports cut on the same day.
EXPORT_AT = "2026-12-01T04:00:00+00:00"


@pytest.fixture
def seeded(study):
    """30 participants (screening, enrollment, CRFs, visits, questionnaires, adjudication), committed."""
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 30)
    return study


@pytest.fixture
def app_role():
    """An application role with LOGIN only; dropped with what it was granted in the test database."""
    role = f"spinetrial_app_{secrets.token_hex(4)}"
    with pg.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    yield role
    with pg.connect(name=connection.settings_dict["NAME"]) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    with pg.connect() as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def fresh_database():
    name = f"spinetrial_restored_{secrets.token_hex(4)}"
    pg.create_database(name)
    yield name
    pg.drop_database(name)


def _script(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(  # noqa: S603 -- the project's own scripts
        ["/bin/bash", *args], env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=300
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def _analysis_sha256(*, database: str, directory) -> tuple[str, dict]:
    """The analysis.csv SHA-256 of `manage.py export --format csv` against `database`, and the manifest."""
    directory.mkdir()
    pg.manage(
        "export",
        "--study",
        "NCT06379243",
        "--format",
        "csv",
        "--out",
        str(directory),
        env={"DATABASE_URL": pg.url(user=pg.OWNER, name=database)},
        clock=EXPORT_AT,
    )
    (path,) = directory.iterdir()
    with zipfile.ZipFile(path) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    analysis = next(f for f in manifest["files"] if f["name"] == "analysis.csv")
    assert analysis["rows"] == 30
    return analysis["sha256"], manifest


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _privileges(database: str, role: str, table: str) -> list[str]:
    kinds = ("DELETE", "INSERT", "SELECT", "TRUNCATE", "UPDATE")
    with pg.connect(name=database) as conn:
        return [
            kind
            for kind in kinds
            if conn.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, kind]).fetchone()[0]
        ]


def _event_counts(database: str) -> dict[str, int]:
    with pg.connect(name=database) as conn:
        return {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 (model tables)
            for table in [*event_tables(), "pghistory_context"]
        }


def _cut_without_instant(database: str) -> dict:
    """The newest data cut of `database`, decompressed, without its "cut" section (instant and date)."""
    with pg.connect(name=database) as conn:
        newest = "SELECT content FROM reports_datacut ORDER BY cut_at DESC LIMIT 1"
        (content,) = conn.execute(newest).fetchone()
    cut = json.loads(gzip.decompress(content))
    del cut["cut"]
    return cut


def _recording_bindir(tmp_path: Path) -> Path:
    """PG_BINDIR with pg_dump, pg_restore and psql that write their command line (and PGPASSWORD) to
    calls.log, then run the real program."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for program in ("pg_dump", "pg_restore", "psql"):
        wrapper = bindir / program
        wrapper.write_text(
            "#!/bin/bash\n"
            f'printf "%s %s PGPASSWORD=%s\\n" {program} "$*" "${{PGPASSWORD:-}}" >>"{bindir}/calls.log"\n'
            f'exec {pg.pg_bin(program)} "$@"\n'
        )
        wrapper.chmod(0o755)
    return bindir


def test_a_restored_backup_gives_the_same_analysis_export_and_audit_trail(
    seeded, app_role, tmp_path, fresh_database
):
    source = connection.settings_dict["NAME"]
    call_command("db_grant", role=app_role, stdout=StringIO())  # the app role's grants, to come back too
    before, manifest = _analysis_sha256(database=source, directory=tmp_path / "before")
    events = _event_counts(source)
    assert events["trial_participantevent"] >= 30 and events["pghistory_context"] > 0

    # URLs with a password (loopback trusts, so any password signs in): it must reach the programs through
    # PGPASSWORD, never on their command lines, which `ps` shows to every user of the host.
    secret, bindir = "s@cret:pass", _recording_bindir(tmp_path)
    owner = f"{pg.OWNER}:s%40cret%3Apass"
    backup = {"BACKUP_DATABASE_URL": pg.url(user=owner, name=source), "PG_BINDIR": str(bindir)}
    path = Path(_script(BACKUP, str(tmp_path / "backups"), env=backup).stdout.strip().splitlines()[-1])
    assert path.suffix == ".dump"
    assert Path(f"{path}.sha256").read_text().split() == [_sha256(path), path.name]
    _script(RESTORE, str(path), pg.url(user=owner, name=fresh_database), env={"PG_BINDIR": str(bindir)})
    calls = [line.rsplit(" PGPASSWORD=", 1) for line in (bindir / "calls.log").read_text().splitlines()]
    assert {"pg_dump", "pg_restore", "psql"} <= {argv.split()[0] for argv, _password in calls}
    assert [argv for argv, _password in calls if "s%40cret" in argv or "s@cret" in argv] == []
    assert {password for _argv, password in calls} == {secret}

    assert _event_counts(fresh_database) == events
    with pg.connect(name=fresh_database) as conn:
        triggers = conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgtrigger_%'").fetchone()
        owners = conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        ignore = conn.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = '_pgtrigger_should_ignore'"
        ).fetchone()
    # The audit triggers, the owner, and the app role's grants (append-only on the trail) came back.
    assert triggers[0] > 50 and owners == [(pg.OWNER,)] and HARDENED_MARK in ignore[0]
    assert _privileges(fresh_database, app_role, "trial_screeningevent") == ["INSERT", "SELECT"]
    assert _privileges(fresh_database, app_role, "trial_screening") == [
        "DELETE",
        "INSERT",
        "SELECT",
        "UPDATE",
    ]
    after, restored_manifest = _analysis_sha256(database=fresh_database, directory=tmp_path / "after")
    assert after == before
    # The whole data cut is the same but for its instant: each export process starts its clock at EXPORT_AT
    # and lets it tick, so each cut falls a few seconds after it, by how long that process took to get there
    # (the instant is part of a cut's SHA-256).
    assert EXPORT_AT <= manifest["data_cut"] < "2026-12-01T04:01:00+00:00"
    assert EXPORT_AT <= restored_manifest["data_cut"] < "2026-12-01T04:01:00+00:00"
    assert _cut_without_instant(fresh_database) == _cut_without_instant(source)


def test_backups_rotate_and_restore_refuses_a_changed_dump_or_a_used_database(
    seeded, tmp_path, fresh_database
):
    source = pg.url(user=pg.OWNER, name=connection.settings_dict["NAME"])
    directory = tmp_path / "backups"
    made = []
    for _ in range(3):
        made.append(
            _script(
                BACKUP, env={"BACKUP_DIR": str(directory), "BACKUP_DATABASE_URL": source, "BACKUP_KEEP": "2"}
            )
        )
        # One dump per second at most: the names are the UTC time to the second.
        time.sleep(1.1)
    paths = [done.stdout.strip() for done in made]
    kept = sorted(p.name for p in directory.iterdir())
    assert kept == sorted(f"{os.path.basename(p)}{ext}" for p in paths[1:] for ext in ("", ".sha256"))
    assert oct(os.stat(paths[-1]).st_mode & 0o777) == "0o600"

    # A dump changed after it was made is refused before anything is written.
    changed = tmp_path / "changed.dump"
    data = bytearray(Path(paths[-1]).read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte flipped
    changed.write_bytes(bytes(data))
    (tmp_path / "changed.dump.sha256").write_text(Path(f"{paths[-1]}.sha256").read_text())
    refused = _script(RESTORE, str(changed), pg.url(user=pg.OWNER, name=fresh_database), check=False)
    assert refused.returncode == 1 and "checksum mismatch" in refused.stderr
    # A database that holds tables already is not a restore target.
    used = _script(RESTORE, paths[-1], source, check=False)
    assert used.returncode == 1 and "restore into a fresh one" in used.stderr
    with pg.connect(name=fresh_database) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
