"""The loopback SMTP server and SMS gateway, and the real Celery workers, for every test of the messaging
package."""

import os

import pytest
from django.conf import settings

from .servers import sms_gateway, smtp_server  # noqa: F401 -- fixtures
from .workers import Cluster, RedisServer, database_url_of_test


@pytest.fixture
def worker_env(smtp_server, sms_gateway):  # noqa: F811 -- the fixtures imported above
    """The environment of a worker: this test's database, the loopback servers, no quiet hours."""
    env = {name: value for name, value in os.environ.items() if name != "TEST_CLOCK"}
    env.update(smtp_server.env())
    env.update(sms_gateway.env())
    env.update(
        DATABASE_URL=database_url_of_test(),
        QUIET_HOURS="00:00-00:00",
        EMAIL_TIMEOUT="5",
        SMS_GATEWAY_TIMEOUT="5",
        CONN_MAX_AGE="0",
    )
    return env


@pytest.fixture
def cluster(worker_env, tmp_path):
    """Workers and a producer on the session's Redis, on a queue of this test's own."""
    cluster = Cluster(broker=settings.REDIS_URL, env=worker_env, directory=tmp_path)
    try:
        yield cluster
    finally:
        cluster.close()
        print(cluster.logs())  # shown when the test failed


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test alone (the session's is shared): it can be stopped without harming others."""
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
