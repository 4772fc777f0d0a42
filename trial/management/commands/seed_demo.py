"""Seed a study with a synthetic screening log, enrollment, CRFs and demo logins (idempotent)."""

import time
from collections import Counter

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from trial import hooks
from trial.demo import DEMO_PASSWORD, demo_foreign_participants, demo_logins, demo_seed
from trial.models import Outcome, Study

DEFAULT_STUDY = "NCT06379243"


class Command(BaseCommand):
    help = (
        "Seed synthetic demo data: N enrolled participants (registered cases, where the protocol waives "
        "consent) with their screening log, their CRFs and follow-up, the protocol's sites (up to three, "
        "with synthetic ones, unless it tags its centres with cohorts) and demo logins. Adds no screening "
        "when the study already has screenings, no CRF to a participant who already has one, and no "
        "follow-up to one who has visits."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--participants",
            type=int,
            default=None,
            help="Enrolled participants per study (default: its protocol's target_enrollment).",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed; the same seed gives the same data."
        )
        parser.add_argument(
            "--study",
            action="append",
            help=(
                f"Registration number (default {DEFAULT_STUDY}); give it again to seed several studies in "
                "one run (one start-up: `make run` seeds two)."
            ),
        )
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help=(
                "Seed although DEBUG is off. The demo creates a superuser with a published password and "
                "e-signatures made without one: never on a database that holds real data."
            ),
        )

    def handle(self, *args, participants, seed, study, not_production=False, **options):
        if not (settings.DEBUG or not_production):
            raise CommandError(
                "seed_demo creates a superuser 'admin' with the published password "
                f"'{DEMO_PASSWORD}' and e-signatures made without a password: it runs only with DEBUG=1 "
                "(`make run` sets it) or with --i-know-this-is-not-production."
            )
        if participants is not None and participants < 1:
            raise CommandError("--participants must be at least 1")
        # A list from the command line (append); call_command(study="X") hands over the string itself.
        codes = [study] if isinstance(study, str) else list(dict.fromkeys(study or [DEFAULT_STUDY]))
        studies = [self._checked(code) for code in codes]  # every study checked before any is seeded
        for found in studies:
            self._seed(found, participants=participants, seed=seed)

    def _checked(self, code: str) -> Study:
        found = Study.objects.filter(code=code).select_related("current_version").first()
        if found is None or found.current_version is None:
            raise CommandError(f"Unknown study {code}: run `manage.py load_protocols` first.")
        foreign = demo_foreign_participants(found).count()
        if foreign:
            raise CommandError(
                f"{code} has {foreign} participants that neither seed_demo nor a demo login enrolled: "
                "the demo never touches a study with real participants. Nothing was changed."
            )
        return found

    def _seed(self, found: Study, *, participants: int | None, seed: int) -> None:
        study = found.code
        if participants is None:
            participants = found.current_version.target_enrollment
        started = time.perf_counter()
        result = demo_seed(study=found, participants=participants, seed=seed)
        if result is None:
            self.stdout.write(
                f"{study} already has {found.screenings.count()} screenings: nothing seeded. "
                "(A fresh demo needs a fresh database, e.g. `make clean`; audit rows are "
                "append-only and screenings are protected, so nothing is deleted here.)"
            )
        else:
            plan = result.plan
            failed = sum(row.outcome == Outcome.INELIGIBLE for row in plan.screenings)
            groups = Counter(row.group for row in plan.participants if row.group)
            by_group = f" ({', '.join(f'{code} {n}' for code, n in groups.items())})" if groups else ""
            exams = sum(len(row.exams) for row in plan.screenings)
            imaging = f", {exams} imaging exams" if exams else ""
            self.stdout.write(
                self.style.SUCCESS(
                    f"{study}: seeded {result.screenings} screenings ({failed} screen failures, "
                    f"{100 * failed / result.screenings:.1f}%){imaging} and "
                    f"{result.participants} participants{by_group} "
                    f"in {time.perf_counter() - started:.1f} s (seed {seed})."
                )
            )
        # The apps built on trial add theirs in order (crf: the CRFs, followup: visits, questionnaires...).
        for stage in hooks.demo_stages:
            started = time.perf_counter()
            added = stage(study=found, seed=seed)
            self.stdout.write(f"{added.line} ({time.perf_counter() - started:.1f} s).")
        self._print_logins(found)

    def _print_logins(self, study: Study) -> None:
        sites = study.sites.filter(active=True).order_by("code")
        logins = demo_logins(sites)
        user_model = get_user_model()
        existing = set(
            user_model.objects.filter(
                **{f"{user_model.USERNAME_FIELD}__in": [login.username for login in logins]}
            ).values_list(user_model.USERNAME_FIELD, flat=True)
        )
        if not existing:
            return
        self.stdout.write(f"\nDemo logins (synthetic demo data only), password for all: {DEMO_PASSWORD}")
        for login in logins:
            if login.username in existing:
                where = "study-wide" if login.where == "*" else f"site {login.where}"
                self.stdout.write(f"  {login.username:<12} {login.role:<24} {where}")
