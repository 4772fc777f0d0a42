"""The database router: reports' reads on the streaming replica while a report's snapshot is open there.

Nothing is read from the replica unless reports/replica.py's `read_snapshot` opened one on it: the block's
reads go there (the data cut, the datasets, the selectors they call), except the reports app's own rows
(Job, DataCut), which the same code writes and must read where it writes them. Every write goes to the
primary, an object read from the replica included. Nothing migrates on the replica.
"""

from django.db import DEFAULT_DB_ALIAS

from reports.replica import REPLICA, snapshot_alias

# Read and written by the job itself: a replica behind the primary would not have them yet.
PRIMARY_APPS = frozenset({"reports"})


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        alias = snapshot_alias()
        if alias is None or model._meta.app_label in PRIMARY_APPS:
            return None
        return alias

    def db_for_write(self, model, **hints):
        instance = hints.get("instance")
        if instance is not None and instance._state.db == REPLICA:
            return DEFAULT_DB_ALIAS
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows: an object from either relates to any other

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None
