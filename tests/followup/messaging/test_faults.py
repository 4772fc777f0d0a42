"""Nothing sent twice, nothing lost: real Celery workers (prefork, subprocesses) against real Redis and
PostgreSQL, the loopback SMTP server and SMS gateway, and a fault in the middle: the worker killed, Redis
stopped, two sweeps at once, the SMTP server down. Afterwards the outbox and what the servers received must
agree: every key delivered at most once, every message sent or visibly unconfirmed or failed.

The workers run in real time (nothing frozen there): the visits' windows are open on the site's real date,
read from PostgreSQL's clock (a TEST_CLOCK session moves only this process's clock), and the workers' quiet
hours are empty (QUIET_HOURS=00:00-00:00), so the tests pass at any hour. Waiting out SENDING_TIMEOUT or a
backoff would take minutes: the tests move the claim or due time back in the database instead, as the passing
of time would.
"""

import collections
import datetime
import time
import zoneinfo

import kombu.exceptions
import pytest
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Now

from followup.messaging.dispatch import BACKOFF, SENDING_TIMEOUT
from followup.messaging.models import MessageState, OutboxMessage
from followup.models import Visit
from trial.models import ParticipantIdentity

from .servers import wait_until
from .workers import Cluster, settle

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

ENDED = {MessageState.SENT, MessageState.UNCONFIRMED, MessageState.FAILED}


def real_site_today(site) -> datetime.date:
    """The site's date by the database server's clock: the worker's today, whatever this process's clock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        (now,) = cursor.fetchone()
    return now.astimezone(zoneinfo.ZoneInfo(site.time_zone)).date()


@pytest.fixture
def participants(make_participant, odi_wording):
    """make(n): n participants with an e-mail address and a phone, half in English, each with M12 open
    today (opened today: one reminder per questionnaire and channel, 4 rows a participant)."""

    def make(count: int) -> None:
        for index in range(count):
            participant = make_participant()
            ParticipantIdentity.objects.filter(participant=participant).update(
                email=f"patient{index}@example.invalid", contact_language=("en", "zh-hans")[index % 2]
            )
            today = real_site_today(participant.site)
            Visit.objects.create(
                participant=participant,
                code="M12",
                label={"en": "12 months", "zh-hans": "术后12个月"},
                sequence=5,
                target_date=today + datetime.timedelta(days=30),
                window_open=today,
                window_close=today + datetime.timedelta(days=60),
                questionnaires=["odi", "vas"],
            )

    return make


def states() -> dict[str, int]:
    return dict(collections.Counter(OutboxMessage.objects.values_list("state", flat=True)))


def delivered_keys(smtp_server, sms_gateway) -> list[str]:
    """Every key that reached a server: each e-mail accepted, each SMS request (a repeat is a re-send even
    when the gateway recognises its client message ID)."""
    sms = [request.json["client_message_id"] for request in sms_gateway.requests if request.json]
    return smtp_server.keys() + sms


def assert_once_each(smtp_server, sms_gateway, *, total: int) -> list[str]:
    """No key delivered twice; every message ended (sent, unconfirmed or failed); each sent one delivered."""
    keys = delivered_keys(smtp_server, sms_gateway)
    twice = [key for key, count in collections.Counter(keys).items() if count > 1]
    assert not twice, f"delivered more than once: {twice}"
    rows = dict(OutboxMessage.objects.values_list("key", "state"))
    assert len(rows) == total
    assert set(rows.values()) <= ENDED, states()
    assert {key for key, state in rows.items() if state == MessageState.SENT} <= set(keys)
    assert set(keys) <= set(rows)
    return keys


def test_a_worker_killed_mid_batch_sends_nothing_twice_and_loses_nothing(
    participants, cluster, smtp_server, sms_gateway
):
    participants(10)
    # Each server keeps the message at once but answers late: the kill lands between delivery and record.
    smtp_server.hang_after_data(0.3)
    sms_gateway.hang(0.3, times=10)
    first = cluster.worker()
    assert cluster.run("followup.reminders_sweep")["reminders"]["planned"] == 40
    cluster.send("followup.outbox_dispatch")
    cluster.send("followup.outbox_dispatch")  # both pool processes dispatch at once
    smtp_server.wait_for(3, timeout=30)
    first.kill()
    smtp_server.hang_after_data(0)  # the rest goes quickly

    at_kill = states()
    in_flight = set(delivered_keys(smtp_server, sms_gateway))
    assert at_kill.get(MessageState.SENDING, 0) > 0 and at_kill.get(MessageState.PENDING, 0) > 0, at_kill
    # Instead of waiting SENDING_TIMEOUT (10 minutes), the claims are moved back by as much.
    stale = OutboxMessage.objects.filter(state=MessageState.SENDING)
    stale.update(claimed_at=F("claimed_at") - SENDING_TIMEOUT)

    cluster.worker()
    outcome = cluster.run("followup.outbox_dispatch")
    assert outcome == {"unconfirmed": at_kill[MessageState.SENDING], "sent": at_kill[MessageState.PENDING]}
    assert cluster.run("followup.outbox_dispatch") == {}  # nothing is sent again blindly

    keys = assert_once_each(smtp_server, sms_gateway, total=40)
    unconfirmed = dict(
        OutboxMessage.objects.filter(state=MessageState.UNCONFIRMED).values_list("key", "note_code")
    )
    assert not set(unconfirmed) & (set(keys) - in_flight)  # an unconfirmed message is never sent again
    # Unconfirmed are only the messages the kill caught in hand (at most one a pool process), the one caught
    # between delivery and record among them: unknown, shown, not re-sent. The rest were sent afterwards.
    assert 1 <= len(unconfirmed) <= 2 and set(unconfirmed) & in_flight
    assert all(unconfirmed.values())


def test_redis_stopped_for_a_while_and_restarted_loses_nothing(
    participants, own_redis, worker_env, tmp_path, smtp_server, sms_gateway
):
    cluster = Cluster(broker=own_redis.url, env=worker_env, directory=tmp_path)
    try:
        participants(2)
        worker = cluster.worker()
        assert cluster.run("followup.reminders_sweep")["reminders"]["planned"] == 8
        own_redis.stop()
        with pytest.raises(kombu.exceptions.OperationalError):
            cluster.send("followup.outbox_dispatch", producer=cluster.new_producer(results=False))
        assert states() == {MessageState.PENDING: 8}  # the work the producer could not queue is still here
        participants(1)  # work that arrives during the outage lives in the database, not in the broker
        settle(2)
        own_redis.start()  # empty: anything queued before is gone with it
        producer = cluster.new_producer()
        pong = cluster.send("spinetrial.ping", producer=producer)
        deadline = time.monotonic() + 60
        while not pong.ready():
            if worker.process.poll() is not None:
                # Celery/kombu 5.7 give up on a lost Redis ("Unrecoverable error") and exit with a failure,
                # which systemd's Restart=on-failure (deploy/systemd/spinetrial-worker@.service) answers with
                # a new worker, as the test does here: whenever it happens, before or after Redis is back.
                assert worker.process.returncode != 0
                worker = cluster.worker()
            assert time.monotonic() < deadline, "no worker answered after Redis came back"
            time.sleep(0.5)
        assert pong.get(timeout=5) == "pong"
        assert (
            cluster.send("followup.reminders_sweep", producer=producer).get(timeout=30)["reminders"][
                "planned"
            ]
            == 4
        )

        def all_ended() -> bool:
            cluster.send("followup.outbox_dispatch", producer=producer).get(timeout=30)
            return set(states()) <= ENDED

        wait_until(all_ended, timeout=40, what="every message sent")
        assert states() == {MessageState.SENT: 12}
        assert len(assert_once_each(smtp_server, sms_gateway, total=12)) == 12
    finally:
        cluster.close()
        print(cluster.logs())


def test_two_sweeps_at_once_plan_and_send_each_reminder_once(participants, cluster, smtp_server, sms_gateway):
    participants(3)
    cluster.worker()
    table = OutboxMessage._meta.db_table
    # Holding a SHARE lock on the outbox lets both sweeps read it (no keys yet) but not insert: both reach
    # their insert with the same rows, and then race when the lock goes.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{table}" IN SHARE MODE')
        sweeps = [cluster.send("followup.reminders_sweep") for _ in range(2)]

        def both_waiting() -> bool:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted", [table]
            )
            return cursor.fetchone()[0] == 2

        wait_until(both_waiting, timeout=30, what="both sweeps waiting to insert")
    results = [sweep.get(timeout=30) for sweep in sweeps]
    assert [result["reminders"]["planned"] for result in results] == [
        12,
        12,
    ]  # each saw them as new: they did race
    assert OutboxMessage.objects.count() == 12
    assert cluster.run("followup.outbox_dispatch") == {"sent": 12}
    assert len(assert_once_each(smtp_server, sms_gateway, total=12)) == 12


def test_the_smtp_server_down_then_back_retries_with_backoff_and_sends_once(
    participants, cluster, smtp_server, sms_gateway
):
    participants(2)
    smtp_server.stop()
    cluster.worker()
    assert cluster.run("followup.reminders_sweep")["reminders"]["planned"] == 8
    assert cluster.run("followup.outbox_dispatch") == {"pending": 4, "sent": 4}
    emails = OutboxMessage.objects.filter(channel="email")

    def backoffs() -> set[datetime.timedelta]:
        """Each e-mail's wait before its next attempt, to the second."""
        return {
            datetime.timedelta(seconds=round((m.due_at - m.updated_at).total_seconds())) for m in emails.all()
        }

    assert set(emails.values_list("state", "attempts")) == {(MessageState.PENDING, 1)}
    assert backoffs() == {BACKOFF}
    emails.update(due_at=Now())  # the backoff has passed
    assert cluster.run("followup.outbox_dispatch") == {"pending": 4}
    assert set(emails.values_list("attempts", flat=True)) == {2} and backoffs() == {BACKOFF * 2}

    smtp_server.start()
    assert cluster.run("followup.outbox_dispatch") == {}  # back, but not before the backoff has passed
    assert not smtp_server.messages
    emails.update(due_at=Now())
    assert cluster.run("followup.outbox_dispatch") == {"sent": 4}
    assert set(emails.values_list("state", "attempts")) == {(MessageState.SENT, 3)}
    assert len(assert_once_each(smtp_server, sms_gateway, total=8)) == 8
    assert sorted(smtp_server.keys()) == sorted(emails.values_list("key", flat=True))
