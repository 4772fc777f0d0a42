"""manage.py db_grant [--role APP_ROLE]: as the tables' owner, give the application's role (default:
DATABASE_URL's user) exactly what it needs, and no way around the audit trail (deploy/README.md "Database
roles"). With MIGRATION_DATABASE_URL set it logs in as that owner; migrate runs it itself after migrating.

- Data tables: SELECT, INSERT, UPDATE, DELETE; sequences: USAGE, SELECT; the same by default for tables and
  sequences the owner creates later (the next migration), until this runs again after it.
- Audit event tables (every pghistory event model): SELECT and INSERT only. UPDATE, DELETE and TRUNCATE are
  refused by privileges before any trigger runs. pghistory_context (who and why): SELECT, INSERT, and UPDATE
  of its metadata only, which pghistory's context upsert needs.
- No CREATE in the database or its public schema: the role can define no object of its own.
- Triggers: only a table's owner may ALTER TABLE ... DISABLE TRIGGER, so the role cannot. The one switch
  left is pgtrigger's ignore flag, a session setting any role may SET (pgtrigger.ignore). Its reader,
  public._pgtrigger_should_ignore (owned by the owner, so the role cannot replace it), is rewritten to honour
  the flag only for members of the owner's role: for the application the flag is read and ignored. pgtrigger
  recreates that function whenever a migration installs a trigger, which is why migrate runs this afterwards.
"""

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from pghistory.models import Context, Event

from .migrate import as_owner

# pgtrigger's reader of the ignore flag (its compiler's template), with one change: a trigger named in the
# flag is skipped only when the role running the statement is a member of the owner's role.
IGNORE_FUNCTION = """
CREATE OR REPLACE FUNCTION "public"._pgtrigger_should_ignore(trigger_name NAME)
RETURNS BOOLEAN AS $$
    DECLARE
        _pgtrigger_ignore TEXT[];
    BEGIN
        BEGIN
            SELECT INTO _pgtrigger_ignore CURRENT_SETTING('pgtrigger.ignore');
            EXCEPTION WHEN OTHERS THEN
        END;
        -- SpineTrial (manage.py db_grant): only the tables' owner may skip a trigger.
        IF _pgtrigger_ignore IS NOT NULL AND trigger_name = ANY(_pgtrigger_ignore) THEN
            RETURN pg_has_role(current_user, {owner}, 'MEMBER');
        END IF;
        RETURN FALSE;
    END;
$$ LANGUAGE plpgsql
"""
HARDENED_MARK = "SpineTrial (manage.py db_grant)"


def event_tables() -> list[str]:
    """The audit trail's append-only tables: every concrete pghistory event model's."""
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, Event) and model._meta.managed and not model._meta.proxy
    )


def grant_statements(*, role: str, owner: str, database: str, quote) -> list[str]:
    """The SQL, in order, that gives `role` the application's privileges on the owner's tables."""
    app, own, db = quote(role), quote(owner), quote(database)
    protected = ", ".join(quote(t) for t in [*event_tables(), Context._meta.db_table])
    return [
        f"REVOKE CREATE ON DATABASE {db} FROM PUBLIC, {app}",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {app}",
        f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {app}",
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {protected} FROM {app}",
        f"GRANT UPDATE (metadata, updated_at) ON {quote(Context._meta.db_table)} TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {own} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {own} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}",
    ]


class Command(BaseCommand):
    help = "As the tables' owner: grant the application's role its privileges, none over the audit trail."

    def add_arguments(self, parser):
        parser.add_argument("--role", help="the application's database role (default: DATABASE_URL's user)")

    def handle(self, *args, role, **options):
        owner = settings.MIGRATION_DATABASE
        connection = connections[DEFAULT_DB_ALIAS]
        if owner is not None and connection.settings_dict["USER"] != owner.get("USER"):
            with as_owner() as app_role:
                return self._grant(role or app_role)
        return self._grant(role or connection.settings_dict["USER"])

    def _grant(self, role: str) -> None:
        database = DEFAULT_DB_ALIAS
        connection = connections[database]
        quote = connection.ops.quote_name
        with transaction.atomic(using=database), connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            owner, name = cursor.fetchone()
            cursor.execute(
                "SELECT pg_has_role(%s, current_user, 'MEMBER') FROM pg_roles WHERE rolname = %s",
                [role, role],
            )
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"no database role {role}: create it first (createuser)")
            if role == owner or found[0]:
                raise CommandError(f"{role} is (a member of) the owner {owner}: it would own the audit trail")
            for statement in grant_statements(role=role, owner=owner, database=name, quote=quote):
                cursor.execute(statement)
            cursor.execute("SELECT quote_literal(%s)", [owner])
            cursor.execute(IGNORE_FUNCTION.format(owner=cursor.fetchone()[0]))
        self.stdout.write(f"granted {role} the application's privileges on {name} (owner {owner})")
