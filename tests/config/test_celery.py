"""A real Celery worker consumes from the real Redis broker configured by REDIS_URL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.celery import app, ping

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            "celery",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_ping_round_trips_through_redis_and_a_worker(worker):
    result = ping.delay()
    assert result.get(timeout=60) == "pong"
    assert app.conf.broker_url.startswith("redis://")
