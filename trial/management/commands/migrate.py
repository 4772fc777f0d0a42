"""manage.py migrate, as the tables' owner when MIGRATION_DATABASE_URL is set, then `db_grant` for the
application's role (DATABASE_URL's user). Without it (make run, make test), Django's migrate as it is.

The default connection's credentials are swapped for the owner's while it runs, rather than migrating through
another alias: data migrations and post-migrate handlers that write without .using() then write as the owner
too. The database is DATABASE_URL's (the owner's URL gives the role, password, host, port and options).
"""

import contextlib
from collections.abc import Iterator

from django.conf import settings
from django.core.management import call_command
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DEFAULT_DB_ALIAS, connections

CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


@contextlib.contextmanager
def as_owner(alias: str = DEFAULT_DB_ALIAS) -> Iterator[str]:
    """The connection `alias` logged in as MIGRATION_DATABASE_URL's role inside; the application's role, which
    it had before, is yielded."""
    connection = connections[alias]
    saved = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
    app_role = saved["USER"]
    connection.close()
    connection.settings_dict.update({key: settings.MIGRATION_DATABASE.get(key) for key in CREDENTIALS})
    options = connection.settings_dict["OPTIONS"] = dict(connection.settings_dict.get("OPTIONS") or {})
    # The same session default as every connection's (settings.py): no failed read in each trigger.
    options["options"] = f"{options.get('options', '')} -c pgtrigger.ignore={{}}".strip()
    try:
        yield app_role
    finally:
        connection.close()
        connection.settings_dict.update(saved)


class Command(DjangoMigrate):
    help = (
        f"{DjangoMigrate.help} With MIGRATION_DATABASE_URL set: as that (owner) role, then grants the "
        "application's role its privileges (db_grant)."
    )

    def handle(self, *args, **options):
        if settings.MIGRATION_DATABASE is None or options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        with as_owner() as app_role:
            super().handle(*args, **options)
            if app_role and app_role != settings.MIGRATION_DATABASE.get("USER"):
                call_command("db_grant", role=app_role, stdout=self.stdout)
