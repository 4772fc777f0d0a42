"""Reports' and exports' reads in one consistent snapshot, on the streaming replica when there is one.

With REPLICA_DATABASE_URL set (alias "replica"), `read_snapshot` opens a REPEATABLE READ, READ ONLY
transaction on the replica, and the router (config/routers.py) sends every read of the block there; writes
(the job, its progress, the data cut, the file) stay on the primary. Without it, the snapshot is the
primary's, as before.

Why the snapshot waits for the replica rather than recording its lag: a data cut is "everything recorded by
its time", and it is stored and reused (captured once). A replica a few seconds behind would leave out what
was committed just before the cut, and the stored cut would say otherwise for good. So the primary's WAL
insert position is read after the cut's time was taken, and the snapshot opens on the replica only once the
replica has replayed that far (every commit before the cut is then visible there). A replica that has not
caught up within REPLICA_WAIT_SECONDS is passed over: the snapshot is the primary's (more load there, never a
wrong cut). `Source` says which one was read, and at which LSN, for the export's manifest.
"""

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)

REPLICA = "replica"
_POLL_SECONDS = 0.05

_snapshot: contextvars.ContextVar[str | None] = contextvars.ContextVar("reports_snapshot_alias", default=None)


def snapshot_alias() -> str | None:
    """The alias of the read snapshot open in this context; None outside one."""
    return _snapshot.get()


def read_connection():
    """The connection that the open snapshot reads on (the primary's outside one): for raw SQL cursors."""
    return connections[_snapshot.get() or DEFAULT_DB_ALIAS]


@dataclass(frozen=True)
class Source:
    """Where a snapshot was read: the alias, and on the replica the WAL position it had replayed."""

    alias: str
    replay_lsn: str | None = None

    def manifest(self) -> dict | None:
        """The manifest's note of the replica read; None for the primary (the manifest stays as it was)."""
        if self.alias != REPLICA:
            return None
        return {"database": "replica", "replay_lsn": self.replay_lsn}


@contextlib.contextmanager
def read_snapshot(*, read_only: bool = True) -> Iterator[Source]:
    """One REPEATABLE READ transaction that the block's reads go to: the replica's when one is configured and
    has replayed the primary's WAL up to now, else the primary's (READ ONLY when `read_only`; the replica's
    always is).

    Nested in an open snapshot (an export's capture), or inside a caller's transaction on the primary (the
    tests), that snapshot or transaction is used as it is."""
    current = _snapshot.get()
    if current is not None:
        yield Source(current)
        return
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        token = _snapshot.set(DEFAULT_DB_ALIAS)
        try:
            yield Source(DEFAULT_DB_ALIAS)
        finally:
            _snapshot.reset(token)
        return
    alias, lsn = _caught_up()
    with transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:
            only = " READ ONLY" if read_only or alias == REPLICA else ""
            cursor.execute(f"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ{only}")
        token = _snapshot.set(alias)
        try:
            yield Source(alias, lsn)
        finally:
            _snapshot.reset(token)


def _caught_up() -> tuple[str, str | None]:
    """(REPLICA, its replay LSN) once the replica has replayed what the primary had written by now;
    (DEFAULT_DB_ALIAS, None) without a replica, or when it is down or does not catch up in time."""
    if REPLICA not in settings.DATABASES:
        return DEFAULT_DB_ALIAS, None
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        # The insert position, not the write one: an asynchronous commit is visible before its WAL is written.
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + settings.REPLICA_WAIT_SECONDS
    try:
        with connections[REPLICA].cursor() as cursor:
            while True:
                cursor.execute(
                    "SELECT pg_last_wal_replay_lsn()::text, pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
                )
                replayed, done = cursor.fetchone()
                if done:
                    return REPLICA, replayed
                if time.monotonic() >= deadline:
                    break
                time.sleep(_POLL_SECONDS)
    except Exception:  # a replica that is down must not stop the report: the primary has the data
        logger.exception("replica unreachable; reading from the primary")
        connections[REPLICA].close()
        return DEFAULT_DB_ALIAS, None
    logger.warning(
        "replica at %s has not replayed up to %s in %ss; reading from the primary",
        replayed,
        target,
        settings.REPLICA_WAIT_SECONDS,
    )
    return DEFAULT_DB_ALIAS, None
