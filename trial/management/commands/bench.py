"""Benchmark: seed a study with synthetic data of growing size and time the main endpoints and pages.

Run it on a throwaway database only (`make bench`): it writes tens of thousands of rows that cannot be
deleted (screenings are protected and the audit tables are append-only). Sizes are reached by topping up
one study, e.g. 560 participants, then 55,440 more for 56,000.
"""

import datetime
import gc
import json
import logging
import math
import statistics
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trial.demo import criteria_specs, demo_logins, demo_seed
from trial.models import Participant, Role, Study

HOST = "127.0.0.1"  # in the default ALLOWED_HOSTS, unlike the test client's "testserver"
USERS = ("coordinator", "monitor")


class Command(BaseCommand):
    help = (
        "Seed the study up to each size (enrolled participants) and time the API and pages as a "
        "coordinator and a monitor. Throwaway databases only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sizes",
            default="560,56000",
            help="Comma-separated participant counts, ascending (default 560,56000).",
        )
        parser.add_argument("--study", default="NCT06379243")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--requests", type=int, default=20, help="Timed requests per endpoint and user.")
        parser.add_argument("--output", type=Path, default=None, help="JSON output (default var/bench.json).")

    def handle(self, *args, sizes, study, seed, requests, output, **options):
        try:
            targets = sorted({int(size) for size in sizes.split(",") if size.strip()})
        except ValueError as exc:
            raise CommandError(f"--sizes: {exc}") from exc
        if not targets or targets[0] < 1 or requests < 1:
            raise CommandError("give positive --sizes and --requests")
        found = Study.objects.select_related("current_version").filter(code=study).first()
        if found is None or found.current_version is None:
            raise CommandError(f"Unknown study {study}: run `manage.py load_protocols` first.")
        if found.screenings.exists():
            raise CommandError(
                f"{study} already has screenings: run the benchmark on a throwaway database "
                "(`make bench`), it adds data that cannot be removed."
            )
        output = output or Path(settings.BASE_DIR) / "var" / "bench.json"

        seeding, rows = [], []
        for i, size in enumerate(targets):
            enrolled = Participant.objects.filter(site__study=found).count()
            started = time.perf_counter()
            result = demo_seed(study=found, participants=size - enrolled, seed=seed + i, add=i > 0)
            seconds = time.perf_counter() - started
            seeding.append(
                {
                    "size": size,
                    "participants_added": result.participants,
                    "screenings_added": result.screenings,
                    "seconds": round(seconds, 2),
                }
            )
            self.stdout.write(
                f"size {size}: seeded {result.participants} participants and "
                f"{result.screenings} screenings in {seconds:.1f} s"
            )
            # The seeder's plan (one object per row) would stay alive while we measure, and the garbage
            # collector would walk it on every request: a web worker never holds it, so neither do we.
            del result
            gc.collect()
            # Measure the steady state autovacuum would reach after a bulk load: fresh statistics and a
            # visibility map (index-only COUNTs), not the minute right after 70,000 inserts.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            rows += self._measure(found, size, requests)

        self._print_table(seeding, rows)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(
            json.dumps(
                {
                    "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                    "study": study,
                    "requests_per_endpoint": requests,
                    "seeding": seeding,
                    "endpoints": rows,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        self.stdout.write(f"written {output}")

    def _endpoints(self, study: Study) -> list[tuple[str, str, dict | None]]:
        site = study.sites.order_by("code").first()
        criteria = criteria_specs(study.current_version)
        answers = {c.code: c.kind == "inclusion" for c in criteria if not c.computed}
        verdict_input = {
            "site": site.code,
            "age": 72,
            "sex": "female",
            "fracture_levels": ["L1"],
            "answers": answers,
        }
        return [
            ("GET", "/api/v1/screenings/", None),
            ("GET", "/api/v1/participants/", None),
            ("GET", f"/api/v1/studies/{study.code}/", None),
            ("POST", f"/api/v1/studies/{study.code}/eligibility/", verdict_input),
            ("GET", "/", None),
            ("GET", "/screenings/", None),
            ("GET", "/participants/", None),
        ]

    def _measure(self, study: Study, size: int, requests: int) -> list[dict]:
        # The first site's coordinator (site-scoped) and the study-wide monitor.
        logins = demo_logins(study.sites.order_by("code"))
        names = {login.role: login.username for login in reversed(logins)}
        users = get_user_model().objects
        logins = {
            "coordinator": users.get_by_natural_key(names[Role.COORDINATOR]),
            "monitor": users.get_by_natural_key(names[Role.MONITOR]),
        }
        rows = []
        # 404s of pages not built yet (and 500s, reported in the table) would log once per request.
        request_log = logging.getLogger("django.request")
        level, request_log.level = request_log.level, logging.CRITICAL
        try:
            for method, url, body in self._endpoints(study):
                for role in USERS:
                    rows.append(self._time_one(logins[role], role, size, method, url, body, requests))
        finally:
            request_log.level = level
        return rows

    def _time_one(self, user, role: str, size: int, method: str, url: str, body, requests: int) -> dict:
        client = Client(HTTP_HOST=HOST, raise_request_exception=False)
        client.force_login(user)

        def call():
            if method == "POST":
                return client.post(url, data=json.dumps(body), content_type="application/json")
            return client.get(url)

        row = {"size": size, "endpoint": f"{method} {url}", "user": role}
        with CaptureQueriesContext(connection) as queries:  # a warm-up request, also counting its queries
            response = call()
        row.update(status=response.status_code, queries=len(queries))
        if response.status_code == 404:
            return {**row, "median_ms": None, "p95_ms": None, "note": "404: not there yet, skipped"}
        if response.status_code >= 500:  # a bug to fix, not a number to report
            error = response.exc_info[1] if getattr(response, "exc_info", None) else ""
            return {
                **row,
                "median_ms": None,
                "p95_ms": None,
                "note": f"{response.status_code}, skipped: {type(error).__name__}: {error}",
            }
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = call()
            times.append(1000 * (time.perf_counter() - started))
        times.sort()
        note = "" if response.status_code < 400 else f"answered {response.status_code}"
        return {
            **row,
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[math.ceil(0.95 * len(times)) - 1], 1),
            "note": note,
        }

    def _print_table(self, seeding: list[dict], rows: list[dict]) -> None:
        self.stdout.write("\n size    seeding (participants / screenings added)        seconds")
        for entry in seeding:
            self.stdout.write(
                f" {entry['size']:>6}  {entry['participants_added']:>6} / "
                f"{entry['screenings_added']:<6}{'':>33}{entry['seconds']:>8.1f}"
            )
        self.stdout.write(
            f"\n {'size':>6}  {'endpoint':<46} {'user':<12} {'status':>6} {'median ms':>10} "
            f"{'p95 ms':>8} {'queries':>8}  note"
        )
        for row in rows:
            median = "-" if row["median_ms"] is None else f"{row['median_ms']:.1f}"
            p95 = "-" if row["p95_ms"] is None else f"{row['p95_ms']:.1f}"
            self.stdout.write(
                f" {row['size']:>6}  {row['endpoint']:<46} {row['user']:<12} "
                f"{row['status']:>6} {median:>10} {p95:>8} {row['queries']:>8}  {row['note']}"
            )
