"""Benchmark: seed a study with synthetic data of growing size and time the main endpoints and pages.

Run it on a throwaway database only (`make bench`): it writes hundreds of thousands of rows that cannot be
deleted (screenings are protected and the audit tables are append-only). Sizes are reached by topping up
one study, e.g. 560 participants, then 55,440 more for 56,000, each with its CRFs (crf.demo). The CRF rows
use one participant of the coordinator's site, the same at every size, so the table can compare each
endpoint's median with its figure at the first size (the issue's target: within 1.5x at 56,000).
"""

import datetime
import gc
import json
import logging
import math
import statistics
import time
import tracemalloc
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trial import hooks
from trial.bench import Endpoint, Job
from trial.demo import criteria_specs, demo_logins, demo_seed
from trial.models import Participant, Role, Study

HOST = "127.0.0.1"  # in the default ALLOWED_HOSTS, unlike the test client's "testserver"
TARGET_RATIO = 1.5  # the participant page and list at the largest size, against the first size


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

        seeding, rows, jobs = [], [], []
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
            # The seeder's plan (one object per row) would stay alive while we measure, and the garbage
            # collector would walk it on every request: a web worker never holds it, so neither do we.
            del result
            gc.collect()
            # The apps built on trial seed theirs (crf: forms; followup: visits, questionnaires...).
            for stage in hooks.demo_stages:
                started = time.perf_counter()
                added = stage(study=found, seed=seed + i)
                seeding[-1] |= {
                    **added.counts,
                    f"{added.name}_seconds": round(time.perf_counter() - started, 2),
                }
            self.stdout.write(
                f"size {size}: seeded "
                + ", ".join(f"{key.removesuffix('_added')} {value:,}" for key, value in seeding[-1].items())
            )
            # Measure the steady state autovacuum would reach after a bulk load: fresh statistics and a
            # visibility map (index-only COUNTs), not the minute right after 70,000 inserts.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            rows += self._measure(found, size, requests)
            jobs += self._run_jobs(found, size)

        self._print_table(seeding, rows)
        self._print_jobs(jobs)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(
            json.dumps(
                {
                    "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                    "study": study,
                    "requests_per_endpoint": requests,
                    "seeding": seeding,
                    "endpoints": rows,
                    "jobs": jobs,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        self.stdout.write(f"written {output}")

    def _endpoints(self, study: Study) -> list[Endpoint]:
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
        endpoints = [
            Endpoint("GET", "/api/v1/screenings/"),
            Endpoint("GET", "/api/v1/participants/", target=True),
            Endpoint("GET", f"/api/v1/studies/{study.code}/"),
            Endpoint("POST", f"/api/v1/studies/{study.code}/eligibility/", verdict_input),
            Endpoint("GET", "/", target=True),
            Endpoint("GET", "/screenings/"),
            Endpoint("GET", "/participants/", target=True),
        ]
        for provided in hooks.bench_endpoints(study=study, site=site):
            endpoints += provided
        return endpoints

    def _measure(self, study: Study, size: int, requests: int) -> list[dict]:
        # The first site's coordinator (site-scoped), the study-wide monitor, data manager, principal
        # investigator and the first adjudicator.
        logins = demo_logins(study.sites.order_by("code"))
        names = {login.role: login.username for login in reversed(logins)}
        users = get_user_model().objects
        logins = {
            "coordinator": users.get_by_natural_key(names[Role.COORDINATOR]),
            "monitor": users.get_by_natural_key(names[Role.MONITOR]),
            # Study-wide roles the apps' endpoints are timed for too (e.g. followup's adjudication).
            "data_manager": users.get_by_natural_key(names[Role.DATA_MANAGER]),
            "principal_investigator": users.get_by_natural_key(names[Role.PRINCIPAL_INVESTIGATOR]),
            "adjudicator": users.get_by_natural_key(names[Role.ADJUDICATOR]),
        }
        rows = []
        # 404s of pages not built yet (and 500s, reported in the table) would log once per request.
        request_log = logging.getLogger("django.request")
        level, request_log.level = request_log.level, logging.CRITICAL
        try:
            for endpoint in self._endpoints(study):
                for role in endpoint.users:
                    rows.append(self._time_one(logins[role], role, size, endpoint, requests))
        finally:
            request_log.level = level
        return rows

    def _time_one(self, user, role: str, size: int, endpoint: Endpoint, requests: int) -> dict:
        client = Client(HTTP_HOST=HOST, raise_request_exception=False)
        client.force_login(user)
        call = endpoint.caller(client, endpoint)

        row = {"size": size, "endpoint": endpoint.label, "user": role, "target": endpoint.target}
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

    def _run_jobs(self, study: Study, size: int) -> list[dict]:
        rows = []
        for provided in hooks.bench_jobs(study=study):
            for job in provided:
                rows.append(self._run_job(job, size))
        return rows

    def _run_job(self, job: Job, size: int) -> dict:
        gc.collect()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            job.run()
            seconds = time.perf_counter() - started
        gc.collect()
        tracemalloc.start()
        try:
            job.probe()
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return {
            "size": size,
            "job": job.name,
            "seconds": round(seconds, 2),
            "seconds_exact": seconds,  # ratios from these: at 560 a job takes a few hundredths of a second
            "queries": len(queries),
            "peak_mib": round(peak / 2**20, 1),
            "time_ratio": job.time_ratio,
            "memory_cap_mib": job.memory_cap_mib,
            "versus": job.versus,
            "versus_ratio": job.versus_ratio,
        }

    def _print_jobs(self, jobs: list[dict]) -> None:
        if not jobs:
            return
        first = {}
        for row in jobs:
            first.setdefault(row["job"], row)
        self.stdout.write(
            f"\n {'size':>6}  {'job':<40} {'seconds':>8} {'queries':>8} {'peak MiB':>9} "
            f"{'time x':>7} {'memory x':>9}  note"
        )
        for row in jobs:
            base, note = first[row["job"]], ""
            times = row["seconds"] / base["seconds"] if row is not base and base["seconds"] else None
            memory = row["peak_mib"] / base["peak_mib"] if row is not base and base["peak_mib"] else None
            if times is not None:
                within = times <= row["time_ratio"] and row["peak_mib"] <= row["memory_cap_mib"]
                note = (
                    f"{'within' if within else 'OVER'} the targets "
                    f"(time {row['time_ratio']:g}x, peak at most {row['memory_cap_mib']:g} MiB)"
                )
            versus = next(
                (r for r in jobs if row["versus"] and r["job"] == row["versus"] and r["size"] == row["size"]),
                None,
            )
            if versus is not None and versus["seconds_exact"]:
                row["versus_x"] = round(row["seconds_exact"] / versus["seconds_exact"], 2)
                verdict = "within" if row["versus_x"] <= row["versus_ratio"] else "OVER"
                note += (
                    f"{'; ' if note else ''}{row['versus_x']:.2f}x {row['versus']}: {verdict} the target "
                    f"({row['versus_ratio']:g}x)"
                )
            row["time_x"] = None if times is None else round(times, 2)
            row["memory_x"] = None if memory is None else round(memory, 2)
            self.stdout.write(
                f" {row['size']:>6}  {row['job']:<40} {row['seconds']:>8.2f} {row['queries']:>8} "
                f"{row['peak_mib']:>9.1f} {'-' if times is None else f'{times:.2f}':>7} "
                f"{'-' if memory is None else f'{memory:.2f}':>9}  {note}"
            )

    def _print_table(self, seeding: list[dict], rows: list[dict]) -> None:
        self.stdout.write("\n seeding (rows added, seconds)")
        for entry in seeding:
            self.stdout.write(f" {entry['size']:>6}  " + ", ".join(f"{k} {v:,}" for k, v in entry.items()))
        # Each endpoint's median against its median at the first size (the same participant at each size).
        first = {}
        for row in rows:
            first.setdefault((row["endpoint"], row["user"]), row)
        for row in rows:
            base = first[(row["endpoint"], row["user"])]
            ratio = None
            if row is not base and row["median_ms"] and base["median_ms"]:
                ratio = round(row["median_ms"] / base["median_ms"], 2)
            row["ratio"] = ratio
            if ratio is not None and row.get("target"):
                verdict = "within" if ratio <= TARGET_RATIO else "OVER"
                row["note"] = f"{verdict} the {TARGET_RATIO}x target {row['note']}".strip()
        self.stdout.write(
            f"\n {'size':>6}  {'endpoint':<54} {'user':<12} {'status':>6} {'median ms':>10} "
            f"{'p95 ms':>8} {'queries':>8} {'ratio':>6}  note"
        )
        for row in rows:
            median = "-" if row["median_ms"] is None else f"{row['median_ms']:.1f}"
            p95 = "-" if row["p95_ms"] is None else f"{row['p95_ms']:.1f}"
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
            self.stdout.write(
                f" {row['size']:>6}  {row['endpoint']:<54} {row['user']:<12} "
                f"{row['status']:>6} {median:>10} {p95:>8} {row['queries']:>8} {ratio:>6}  {row['note']}"
            )
