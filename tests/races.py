"""Two real transactions on PostgreSQL: a participant's status change committed while another service runs.

The status change (the real service, in its own thread and connection) writes the new status and then holds
the participant's row, uncommitted, until the other action either waits for a lock or finishes without
waiting; then it commits. So the other action read the participant before the change committed, and any
check it makes after taking its locks sees the change only if it reads again under them.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, connections

from trial import hooks
from trial.models import Participant
from trial.services import participant_set_status

POLL_SECONDS = 0.01
POLLS = 1000  # 10 s at most; counted rather than timed, so a frozen clock does not matter


@dataclass
class Race:
    outcome: object  # what the action returned, or the exception it raised
    waited: bool  # the action queued behind the status change's row lock
    change_error: BaseException | None  # the status change's own failure, if any


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        # Inside a transaction, pg_stat_activity is a snapshot taken at its first read: drop it each time.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid())"
        )
        return cursor.fetchone()[0]


def status_change_during(
    monkeypatch, action: Callable[[], object], *, actor, participant, status: str, date, reason: str
) -> Race:
    """Run `action` (in a thread of its own) while `participant_set_status` holds its written, uncommitted
    change; see the module's docstring."""
    inside, finished = threading.Event(), threading.Event()
    waited: list[bool] = []
    results: dict[str, object] = {}

    def hold(*, participant, actor):
        inside.set()
        for _ in range(POLLS):
            if finished.is_set():
                return
            if _someone_waits_for_a_lock():
                waited.append(True)
                return
            time.sleep(POLL_SECONDS)

    hook = hooks.participant_status_changed
    monkeypatch.setattr(hook, "_callables", [*hook, hold])

    def change():
        try:
            participant_set_status(
                actor=actor,
                participant=Participant.objects.get(pk=participant.pk),
                status=status,
                date=date,
                reason=reason,
            )
        except BaseException as exc:  # reported to the test
            results["change_error"] = exc
            inside.set()
        finally:
            connections.close_all()

    def act():
        try:
            results["outcome"] = action()
        except BaseException as exc:  # the outcome under test
            results["outcome"] = exc
        finally:
            finished.set()
            connections.close_all()

    changer = threading.Thread(target=change)
    changer.start()
    assert inside.wait(POLLS * POLL_SECONDS), "the status change never reached its hook"
    actor_thread = threading.Thread(target=act)
    actor_thread.start()
    actor_thread.join()
    changer.join()
    return Race(results.get("outcome"), bool(waited), results.get("change_error"))
