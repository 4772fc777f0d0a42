"""The load test of `make bench` (loadtest/), kept from rotting: a few seconds and a handful of users against
a real gunicorn (the project's gunicorn.conf.py) on the test database. Nothing acknowledged is lost, the
guesser is stopped by the rate limit, and the checker does find a lost or an overwritten write."""

import urllib.parse

import pytest
from django.db import connection

from crf.models import FormRecord
from crf.services import crf_save
from loadtest.check import check_forms
from loadtest.run import run, table

from .crf.conftest import PROCEDURE

pytestmark = pytest.mark.django_db(transaction=True)  # gunicorn, another process, reads what is committed


def database_url() -> str:
    db = connection.settings_dict
    user = urllib.parse.quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        user += ":" + urllib.parse.quote(db["PASSWORD"], safe="")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_short_load_loses_nothing_and_stops_the_guesser(study, monkeypatch):
    # The server's failure limit made small, so that the guesser meets it within seconds on a slow machine.
    monkeypatch.setenv("PATIENT_LINK_FAILURE_RATE", "2/h")
    summary = run(
        seconds=12, users=4, patients=2, workers=2, database_url=database_url(), demo_participants=30
    )
    report = table(summary)
    assert summary["errors"] == 0 and summary["problems"] == [], report
    assert summary["server_errors_logged"] == 0, report
    assert sum(summary["acknowledged"].values()) > 0, report
    latency = summary["latency"]
    assert latency["floor, idle server"]["requests"] == 50 and latency["floor, idle server"]["p95_ms"] > 0
    # The burst of made-up tokens met the failure limit and was answered 429 from then on.
    assert latency["guess a token"]["statuses"].get("429", 0) > 0, report


def test_the_checker_finds_a_lost_and_an_overwritten_write(study, make_participant, coordinator):
    participant = make_participant()
    record, _findings = crf_save(
        actor=coordinator,
        participant=participant,
        form_code="procedure",
        data=dict(PROCEDURE),
        expected_version=None,
        reason="",
        visit=None,
    )
    form = FormRecord.objects.get(pk=record.pk)
    sent = {"study_id": participant.study_id, "form": "procedure", "version": form.version}
    problems: list[str] = []
    check_forms([{**sent, "operative_time": form.data["operative_time"]}], problems)
    assert problems == []
    check_forms([{**sent, "operative_time": 1}], problems)  # acknowledged, but not what is stored
    assert any("lost" in problem for problem in problems)
    problems.clear()
    twice = {**sent, "operative_time": form.data["operative_time"]}
    check_forms([twice, twice], problems)  # two saves acknowledged as one version
    assert any("overwritten" in problem for problem in problems)
