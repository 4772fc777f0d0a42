"""Database roles (deploy/README.md): migrations run as the tables' owner (MIGRATION_DATABASE_URL), the
application as a role that owns nothing. That role cannot switch the audit triggers off, change or remove an
event row, nor skip an audit trigger through pgtrigger's ignore flag; the application still works as it.

A fresh database of the throwaway server, migrated in a process of its own exactly as in production.
"""

import secrets

import pytest
from psycopg import errors, sql

from . import pg

SCREENING = """
import datetime, pgtrigger
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from trial.clock import site_today
from trial.models import Role, StaffRole, Study
from trial.services import screening_create
from trial.services.protocols import protocol_load_file

if not Study.objects.filter(code="NCT06379243").exists():
    protocol_load_file(settings.PROTOCOL_DIR / "NCT06379243.yaml")
study = Study.objects.get(code="NCT06379243")
site = study.sites.get(code="07")
user = get_user_model().objects.create_user("{username}")
StaffRole.objects.create(user=user, study=study, site=site, role=Role.COORDINATOR)
answers = {{"INC1": True, "INC2": True, "EXC1": False, "EXC2": False, "EXC3": False}}
data = {{"screening_date": site_today(site), "age": 70, "sex": "female", "fracture_levels": ["L1"],
        "answers": answers}}
# The library's own switch: SET pgtrigger.ignore to the screening's insert trigger for this block.
with pgtrigger.ignore("trial.Screening:insert_insert"):
    screening = screening_create(actor=user, study=study, site=site, data=data)
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM trial_screeningevent WHERE pgh_obj_id = %s", [screening.pk])
    print("saved", screening.pk, "events", cursor.fetchone()[0])
"""


@pytest.fixture(scope="module")
def roles():
    """(app role, database): a new role with LOGIN only, and a database the owner migrated and granted it."""
    suffix = secrets.token_hex(4)
    app, name = f"spinetrial_app_{suffix}", f"spinetrial_roles_{suffix}"
    with pg.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(app)))
    pg.create_database(name)
    try:
        done = pg.manage(
            "migrate",
            "--noinput",
            env={
                "DATABASE_URL": pg.url(user=app, name=name),
                "MIGRATION_DATABASE_URL": pg.url(user=pg.OWNER, name=name),
            },
            timeout=600,
        )
        assert f"granted {app} the application's privileges on {name} (owner {pg.OWNER})" in done.stdout
        yield app, name
    finally:
        pg.drop_database(name)
        with pg.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(app)))


def test_the_owner_owns_every_table_and_the_app_role_none(roles):
    _app, name = roles
    with pg.connect(name=name) as conn:
        owners = dict(
            conn.execute("SELECT tableowner, count(*) FROM pg_tables WHERE schemaname = 'public' GROUP BY 1")
        )
    assert set(owners) == {pg.OWNER}
    assert owners[pg.OWNER] > 50


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE trial_screening DISABLE TRIGGER ALL",
        "ALTER TABLE trial_screening DISABLE TRIGGER USER",
        "ALTER TABLE trial_screeningevent DISABLE TRIGGER USER",
        "ALTER TABLE trial_screening OWNER TO CURRENT_USER",
        "UPDATE trial_screeningevent SET pgh_label = 'changed'",
        "DELETE FROM trial_screeningevent",
        "TRUNCATE trial_screeningevent",
        "DELETE FROM pghistory_context",
        # Who made a change: fixed once set (the app role may add to a context while its request runs).
        "DO $$ DECLARE made uuid := gen_random_uuid(); BEGIN "
        "INSERT INTO pghistory_context (id, created_at, updated_at, metadata) "
        "VALUES (made, now(), now(), '{\"user\": 1}'); "
        "UPDATE pghistory_context SET metadata = jsonb_set(metadata, '{user}', '2') WHERE id = made; END $$",
        "DROP TRIGGER audit_context_user_fixed ON pghistory_context",
        # Replacing the ignore flag's reader, or shadowing it from a schema of its own: no way round either.
        "CREATE OR REPLACE FUNCTION public._pgtrigger_should_ignore(trigger_name NAME) RETURNS BOOLEAN "
        "AS 'SELECT TRUE' LANGUAGE sql",
        "CREATE SCHEMA audit_bypass",
        "CREATE TABLE public.mine (id int)",
    ],
)
def test_the_app_role_cannot_get_round_the_audit_trail(roles, statement):
    app, name = roles
    with pg.connect(user=app, name=name) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_app_role_works_and_the_ignore_flag_does_not_stop_its_audit_events(roles):
    """The application saves a screening as the app role, inside pgtrigger.ignore() for the screening's
    insert trigger: the screening and its event are there. The same code as the owner skips the event, so
    the flag does work, for the owner alone."""
    app, name = roles
    as_app = pg.manage(
        "shell",
        "-c",
        SCREENING.format(username="coord_app"),
        env={"DATABASE_URL": pg.url(user=app, name=name)},
    )
    assert as_app.stdout.split()[-2:] == ["events", "1"], as_app.stdout
    as_owner = pg.manage(
        "shell",
        "-c",
        SCREENING.format(username="coord_owner"),
        env={"DATABASE_URL": pg.url(user=pg.OWNER, name=name)},
    )
    assert as_owner.stdout.split()[-2:] == ["events", "0"], as_owner.stdout
    with pg.connect(user=app, name=name) as conn:
        # Read and appended to, never changed: the app role reads the trail and its privileges say the rest.
        assert conn.execute("SELECT count(*) FROM trial_screeningevent").fetchone()[0] == 1
        granted = conn.execute(
            "SELECT privilege_type FROM information_schema.table_privileges "
            "WHERE grantee = current_user AND table_name = 'trial_screeningevent' ORDER BY 1"
        ).fetchall()
    assert [row[0] for row in granted] == ["INSERT", "SELECT"]


def test_db_grant_refuses_the_owner_itself(roles):
    _app, name = roles
    done = pg.manage(
        "db_grant", "--role", pg.OWNER, env={"DATABASE_URL": pg.url(user=pg.OWNER, name=name)}, check=False
    )
    assert done.returncode != 0
    assert "it would own the audit trail" in done.stderr


def test_db_grant_by_hand_logs_in_as_the_owner_and_grants_the_app_role(roles):
    """After a restore, say: as the app's settings plus the owner's URL, it grants DATABASE_URL's user."""
    app, name = roles
    env = {
        "DATABASE_URL": pg.url(user=app, name=name),
        "MIGRATION_DATABASE_URL": pg.url(user=pg.OWNER, name=name),
    }
    done = pg.manage("db_grant", env=env)
    assert done.stdout.strip() == f"granted {app} the application's privileges on {name} (owner {pg.OWNER})"


def test_without_a_migration_url_one_role_migrates_as_before(roles):
    """make run and make test: no MIGRATION_DATABASE_URL, migrate is Django's (nothing to grant)."""
    _app, name = roles
    done = pg.manage("migrate", "--noinput", env={"DATABASE_URL": pg.url(user=pg.OWNER, name=name)})
    assert "granted" not in done.stdout
    assert "No migrations to apply." in done.stdout
