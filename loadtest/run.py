"""The load test: seed, start gunicorn as the project does, run locust, check every acknowledged write.

    python -m loadtest.run [--seconds 300] [--users 50] [--patients 10] [--workers 4] [--output FILE]

Against the database and Redis of the environment (DATABASE_URL, REDIS_URL: `make bench` sets throwaway
ones). gunicorn is started with the project's gunicorn.conf.py (its masking logger, forwarded_allow_ips),
on a free loopback port, with the bench's floor endpoint on. The locust process stands in for nginx: it
sends each patient's address in X-Forwarded-For, as nginx appends it. Exit status 1 when a request failed
or an acknowledged write was lost or overwritten. Throwaway databases only: it adds screenings and
participants, which cannot be deleted.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FLOOR = "/api/v1/bench/floor/"
START_SECONDS = 60  # gunicorn's start on a loaded machine; it takes a few seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    """Whether a worker answered at all (/healthz may say 503 while no beat runs: still an answer)."""
    try:
        with urllib.request.urlopen(url, timeout=START_SECONDS):  # noqa: S310 -- our loopback server
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _wait_for(port: int, workers: int, server: subprocess.Popen, log: Path) -> None:
    """Until the workers answer: the master listens before its workers have imported Django, and the first
    requests would otherwise time the start-up, not the load."""
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + START_SECONDS
    while not _answers(url):
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not answer within {START_SECONDS} s")
        time.sleep(0.5)
    with ThreadPoolExecutor(max_workers=workers * 2) as pool:  # each worker's first requests, warming it
        list(pool.map(_answers, [url] * workers * 4))


def idle_floor(port: int, token: str, requests: int = 50) -> dict:
    """The floor on the idle server, one request at a time, before the load: what a request costs when it
    does not wait for a worker (the floor under load adds the queue)."""
    from .check import percentile

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{FLOOR}", headers={"Authorization": f"Token {token}"}
    )
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=START_SECONDS) as answer:  # noqa: S310
            answer.read()
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    return {
        "requests": requests,
        "p50_ms": round(percentile(times, 0.50), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "errors": 0,
        "statuses": {"200": requests},
    }


def run(
    *,
    seconds: int,
    users: int,
    patients: int = 10,
    workers: int = 4,
    study: str = "NCT06379243",
    database_url: str | None = None,
    demo_participants: int = 560,
) -> dict:
    """One load run; its summary (check.check's, with the run's parameters and the server's log checked)."""
    from .check import check
    from .plan import plan_build

    plan = plan_build(study_code=study, users=users, patients=patients, demo_participants=demo_participants)
    with tempfile.TemporaryDirectory(prefix="spinetrial-load-") as tmp:
        work = Path(tmp)
        plan_path, out_path, log_path = work / "plan.json", work / "writes.jsonl", work / "gunicorn.log"
        plan_path.write_text(json.dumps(plan), encoding="utf-8")
        plan_path.chmod(0o600)  # it holds live link tokens until the run ends
        port = free_port()
        env = {
            **os.environ,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(workers),
            "BENCH_FLOOR_ENDPOINT": "1",
            **({"DATABASE_URL": database_url} if database_url else {}),
        }
        with log_path.open("w") as log:
            server = subprocess.Popen(  # noqa: S603 -- our own gunicorn
                [str(BIN / "gunicorn"), "config.wsgi", "-c", "gunicorn.conf.py"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_for(port, workers, server, log_path)
            idle = idle_floor(port, plan["coordinators"][0]["token"])
            total = users + len(plan["patients"]) + 1  # + the guesser
            locust = subprocess.run(  # noqa: S603 -- our own locust
                [
                    str(BIN / "locust"),
                    *("-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless", "--only-summary"),
                    *("-u", str(total), "-r", str(max(total // 5, 1)), "-t", f"{seconds}s"),
                    *("--host", f"http://127.0.0.1:{port}", "--stop-timeout", "15", "--loglevel", "WARNING"),
                ],
                cwd=ROOT,
                env={**os.environ, "LOADTEST_PLAN": str(plan_path), "LOADTEST_OUT": str(out_path)},
                capture_output=True,
                text=True,
                timeout=seconds + 180,
            )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
        plan_path.unlink()
        summary = check(out_path)
        server_log = log_path.read_text(encoding="utf-8", errors="replace")
    secrets_in_log = [p["link"] for p in plan["patients"] if p["token"].partition(".")[0] in server_log]
    if secrets_in_log:
        summary["problems"].append(f"patient-link tokens in the server's log (links {secrets_in_log[:5]})")
    summary["server_errors_logged"] = server_log.count("Internal Server Error")
    summary["latency"]["floor, idle server"] = idle
    return {
        "seconds": seconds,
        "coordinators": users,
        "patients": len(plan["patients"]),
        "workers": workers,
        "seeded": plan["seeded"],
        "locust_exit": locust.returncode,
        "locust_stderr_tail": locust.stderr[-2000:],
        **summary,
    }


def table(summary: dict) -> str:
    lines = [
        f"load: {summary['coordinators']} coordinators, {summary['patients']} patients and a guesser for "
        f"{summary['seconds']} s against gunicorn ({summary['workers']} workers) and PostgreSQL",
        f"\n {'operation':<20} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}  statuses",
    ]
    for name, row in summary["latency"].items():
        statuses = ", ".join(f"{code}: {n}" for code, n in row["statuses"].items())
        lines.append(
            f" {name:<20} {row['requests']:>9} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} "
            f"{row['errors']:>7}  {statuses}"
        )
    acknowledged = ", ".join(f"{kind} {n}" for kind, n in summary["acknowledged"].items())
    lines += [
        f"\n acknowledged writes: {acknowledged}; stale form saves refused (409): "
        f"{summary['form_conflicts']}; committed without an acknowledgement: "
        f"{summary['committed_unacknowledged']}",
        f" errors: {summary['errors']}; lost or overwritten writes: {len(summary['problems'])}",
        *(f"   {problem}" for problem in summary["problems"][:20]),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("LOAD_SECONDS", 300)))
    parser.add_argument("--users", type=int, default=int(os.environ.get("LOAD_USERS", 50)))
    parser.add_argument("--patients", type=int, default=10)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("LOAD_WORKERS", 4)))
    parser.add_argument("--study", default="NCT06379243")
    parser.add_argument("--output", type=Path, default=ROOT / "var" / "loadtest.json")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    summary = run(
        seconds=args.seconds,
        users=args.users,
        patients=args.patients,
        workers=args.workers,
        study=args.study,
    )
    print(table(summary))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.output}")
    return 1 if summary["errors"] or summary["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
