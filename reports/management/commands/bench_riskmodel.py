"""manage.py bench_riskmodel: does the risk-model workbench recover the demo's true model? (`make bench`)

The demo draws each participant's new fracture from a logistic model on the workbench's predictors
(followup/demo/rates.py REFRACTURE_TRUTH). At each size (default 560, then 56,000 participants) the study is
seeded up to the size as `manage.py bench` seeds it (trial's demo_seed, then every app's demo stage), then
`manage.py risk_model develop` runs on it in a child process (its time and peak resident memory measured
alone), then `manage.py risk_model validate` of the model it wrote on the same cohort (timed likewise), and
the development result is held against the truth:
- a linear predictor: the true log-odds ratio per unit within the estimated coefficient's 95 % CI;
- a spline predictor: the true linear effect, relative to the curve's reference (the median), within the
  effect curve's 95 % band at interior points of its range (a quarter to three quarters of the way);
- the 1-year event rate among the analysed, against domain.md's 12-20 %.

Throwaway databases only (it writes rows that cannot be deleted). A size below the study's participants is
skipped (after `manage.py bench` grew the study to 56,000, only 56,000 is checked).
"""

import datetime
import gc
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import NormalDist

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from followup.demo.rates import REFRACTURE_TRUTH
from trial import hooks
from trial.demo import demo_seed
from trial.models import Participant, Study

from ...riskmodel.spec import spec_load

SPEC = "trial/protocols/models/NCT06379243-refracture-1y.yaml"
# The sizes held to the truth: at 560 (about 300 analysed, 40 events, some 3 events a parameter) the
# bootstrap's shrinkage pulls every estimate towards none, and the intervals are the shrunk coefficients':
# timed and shown, not held.
HELD_FROM = 10_000
# Twelve predictors each held to its 95 % interval would fail about every other run of a perfect fit
# (1 - 0.95 ** 12 = 0.46): each is shown against its 95 % interval, and held to its Bonferroni interval
# (0.05 / 12, two-sided: z = 2.87), widened from the 95 % one by the ratio of the z values.
Z95 = 1.959964
INTERIOR = (0.25, 0.4, 0.5, 0.6, 0.75)  # where on a spline predictor's range its band is checked
# Runs the command and prints its own peak resident memory (KiB on Linux): the develop alone, not the seeding.
CHILD = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def truth_of(predictor) -> str | None:
    """The truth's name for a spec predictor: the analysis column it is read from (sex: `female`; any of the
    anti-osteoporosis treatments: `anti_osteoporosis`)."""
    if predictor.any_of:
        return "anti_osteoporosis"
    if predictor.source == "sex":
        return "female"
    return predictor.source if predictor.source in REFRACTURE_TRUTH else None


def widened(low: float, high: float, z: float) -> tuple[float, float]:
    """A 95 % interval widened to the normal quantile `z` about its centre."""
    centre, half = (low + high) / 2, (high - low) / 2 * z / Z95
    return centre - half, centre + half


def recovery(result: dict, spec) -> list[dict]:
    """Each predictor's check against the truth, from a development result (reports/riskmodel/README.md):
    `within95` its 95 % interval, `within` its Bonferroni interval over the predictors checked."""
    checked = [p for p in spec.predictors if truth_of(p) is not None]
    z = NormalDist().inv_cdf(1 - 0.05 / (2 * len(checked))) if checked else Z95
    rows = []
    coefficients = {row["term"]: row for row in result["coefficients"]}
    effects = {curve["predictor"]: curve for curve in result["effects"]}
    for predictor in checked:
        name = truth_of(predictor)
        truth = REFRACTURE_TRUTH[name]
        row = {"predictor": predictor.code, "truth": name, "true_log_or": truth, "true_or": math.exp(truth)}
        if predictor.transform == "rcs":
            curve = effects[predictor.code]
            x, reference = curve["x"], curve["reference"]
            indices = [round(share * (len(x) - 1)) for share in INTERIOR]
            points = [
                {
                    "x": x[i],
                    "true": truth * (x[i] - reference),
                    "low": curve["low"][i],
                    "high": curve["high"][i],
                }
                for i in indices
            ]
            for point in points:
                low, high = widened(point["low"], point["high"], z)
                point["within95"] = point["low"] <= point["true"] <= point["high"]
                point["within"] = low <= point["true"] <= high
            row |= {
                "kind": "spline",
                "points": points,
                "within95": all(point["within95"] for point in points),
                "within": all(point["within"] for point in points),
            }
        else:
            found = coefficients[predictor.code]
            low, high = widened(found["low"], found["high"], z)
            row |= {
                "kind": "linear",
                "estimate": found["estimate"],
                "low": found["low"],
                "high": found["high"],
                "or": found["ratio"],
                "or_low": found["ratio_low"],
                "or_high": found["ratio_high"],
                "within95": found["low"] <= truth <= found["high"],
                "within": low <= truth <= high,
            }
        rows.append(row)
    return rows


def _timed(command: list[str], what: str) -> tuple[float, float]:
    """Run a CHILD command: its wall time (s) and its peak resident memory (MiB)."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (our own)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise CommandError(f"{what} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, int(done.stdout.strip().splitlines()[-1]) / 1024


class Command(BaseCommand):
    help = "Develop the shipped re-fracture model on the demo at each size and check it recovers the truth."

    def add_arguments(self, parser):
        parser.add_argument(
            "--sizes", default="560,56000", help="participants, ascending (default 560,56000)"
        )
        parser.add_argument("--study", default="NCT06379243")
        parser.add_argument("--spec", default=SPEC, type=Path)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--bootstrap", type=int, default=200)
        parser.add_argument("--imputations", type=int, default=5)
        parser.add_argument(
            "--output", type=Path, default=None, help="JSON (default var/bench-riskmodel.json)"
        )

    def handle(self, *args, sizes, study, spec, seed, bootstrap, imputations, output, **options):
        targets = sorted({int(size) for size in sizes.split(",") if size.strip()})
        found = Study.objects.select_related("current_version").filter(code=study).first()
        if found is None or found.current_version is None:
            raise CommandError(f"Unknown study {study}: run `manage.py load_protocols` first.")
        model_spec = spec_load(spec.read_bytes(), study=found)
        output = output or Path(settings.BASE_DIR) / "var" / "bench-riskmodel.json"
        runs = []
        for i, size in enumerate(targets):
            enrolled = Participant.objects.filter(site__study=found).count()
            if enrolled > size:
                self.stdout.write(f"size {size}: skipped, the study already has {enrolled:,} participants")
                continue
            if enrolled < size:
                self._seed(found, size - enrolled, seed + i, add=enrolled > 0)
            runs.append(self._develop(found, size, model_spec, spec, bootstrap, imputations))
        output.parent.mkdir(parents=True, exist_ok=True)
        generated = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        output.write_text(
            json.dumps({"generated_at": generated, "study": study, "runs": runs}, indent=2) + "\n",
            encoding="utf-8",
        )
        self.stdout.write(f"written {output}")
        if len(runs) > 1:
            first, last = runs[0], runs[-1]
            self.stdout.write(
                f"{last['size']:,} / {first['size']:,}: develop x{last['seconds'] / first['seconds']:.1f}, "
                f"validate x{last['validate_seconds'] / first['validate_seconds']:.1f}"
            )
        held = [run for run in runs if run["size"] >= HELD_FROM]
        if any(not row["within"] for run in held for row in run["recovery"]):
            raise CommandError("a true effect lies outside the workbench's interval (see above)")

    def _seed(self, study: Study, participants: int, seed: int, *, add: bool) -> None:
        started = time.perf_counter()
        demo_seed(study=study, participants=participants, seed=seed, add=add)
        gc.collect()
        for stage in hooks.demo_stages:  # crf: forms; followup: visits, MRIs, adjudication...
            stage(study=study, seed=seed)
        with connection.cursor() as cursor:  # the steady state autovacuum would reach after a bulk load
            cursor.execute("VACUUM ANALYZE")
        self.stdout.write(f"seeded {participants:,} participants in {time.perf_counter() - started:.0f} s")

    def _develop(self, study, size, model_spec, spec, bootstrap, imputations) -> dict:
        out = Path(tempfile.mkdtemp(prefix=f"riskmodel-{size}-"))
        command = [
            *(sys.executable, "-c", CHILD, sys.executable, "manage.py", "risk_model", "develop"),
            *("--study", study.code, "--spec", str(spec), "--out", str(out)),
            *("--bootstrap", str(bootstrap), "--imputations", str(imputations)),
        ]
        seconds, peak_mib = _timed(command, f"risk_model develop at {size}")
        result = json.loads((out / "performance.json").read_text(encoding="utf-8"))
        # The developed model validated on the same cohort (a later cut's validation reads the same rows
        # through the same code): its MICE, metrics with their intervals, recalibrations and PDF.
        checked = out / "validation"
        command = [
            *(sys.executable, "-c", CHILD, sys.executable, "manage.py", "risk_model", "validate"),
            *("--model", str(out / "model.json"), "--spec", str(spec), "--study", study.code),
            *("--out", str(checked)),
        ]
        validate_seconds, validate_mib = _timed(command, f"risk_model validate at {size}")
        validation = json.loads((checked / "validation.json").read_text(encoding="utf-8"))
        flow = result["flow"]
        rate = flow["events"] / flow["analysed"] if flow["analysed"] else None
        run = {
            "size": size,
            "seconds": round(seconds, 1),
            "peak_mib": round(peak_mib, 1),
            "bootstrap": result["reproducibility"]["bootstrap"],
            "imputations": result["reproducibility"]["imputations"],
            "missing": {row["predictor"]: row["missing"] for row in result["missing"] if row["missing"]},
            "validate_seconds": round(validate_seconds, 1),
            "validate_peak_mib": round(validate_mib, 1),
            "validate_c": validation["performance"]["c"],
            "out": str(out),
            "flow": flow,
            "event_rate": rate,
            "c_apparent": result["apparent"]["c"],
            "shrinkage": result["internal"].get("shrinkage"),
            "recovery": recovery(result, model_spec),
        }
        self._print(run)
        return run

    def _print(self, run: dict) -> None:
        flow, rate = run["flow"], 100 * (run["event_rate"] or 0)
        self.stdout.write(
            f"\nsize {run['size']:,}: develop {run['seconds']} s, peak {run['peak_mib']} MiB; "
            f"{flow['analysed']:,} analysed, {flow['events']:,} events ({rate:.1f} %); "
            f"{run['bootstrap']} resamples, {run['imputations']} imputations, missing {run['missing']}"
        )
        self.stdout.write(
            f" validate {run['validate_seconds']} s, peak {run['validate_peak_mib']} MiB, "
            f"C {run['validate_c'][0]:.3f}"
        )
        self.stdout.write(f" shrinkage {run['shrinkage']}, C {run['c_apparent']:.3f} (apparent)")
        self.stdout.write(f" {'predictor':<22} {'true OR':>8}  {'estimate (95 % CI)':<28} in 95 % held")
        for row in run["recovery"]:
            if row["kind"] == "linear":
                shown = f"{row['or']:.3f} ({row['or_low']:.3f}-{row['or_high']:.3f})"
            else:
                shown = "spline: " + " ".join("y" if p["within95"] else "N" for p in row["points"])
            in95, held = ("yes" if row[key] else "NO" for key in ("within95", "within"))
            self.stdout.write(f" {row['predictor']:<22} {row['true_or']:>8.3f}  {shown:<28} {in95:<6} {held}")
