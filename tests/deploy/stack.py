"""The production stack of deploy/ started from its own files for one test: the systemd units (tests/deploy/
units.py), an environment file made from deploy/env.example, and nginx with the shipped site config."""

import contextlib
import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

from .units import ROOT, Unit, unit_read

HOST = "spinetrial.hospital.example"  # env.example's ALLOWED_HOSTS: requests name it, as nginx forwards them
START_SECONDS = 90  # an upper bound on a loaded two-core machine; a process starts in a few seconds


def env_file_write(path: Path, overrides: dict[str, str]) -> Path:
    """deploy/env.example with `overrides` set (a commented-out line of the same key is set in place),
    everything else as shipped: the test reads the example the way production reads its copy."""
    lines, done = [], set()
    for line in (ROOT / "deploy" / "env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?([A-Za-z_][A-Za-z0-9_]*)=", line)
        if match and match.group(1) in overrides and match.group(1) not in done:
            line = f"{match.group(1)}={overrides[match.group(1)]}"
            done.add(match.group(1))
        lines.append(line)
    lines += [f"{key}={value}" for key, value in overrides.items() if key not in done]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def free_web_instances(count: int) -> list[str]:
    """Instances of spinetrial-web@.service (it listens on 127.0.0.1:800%i) whose port is free now."""
    free = []
    for digit in "0123456789":
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", int(f"800{digit}"))) != 0:
                free.append(digit)
    assert len(free) >= count, "ports 8000-8009 are taken: no room for the web instances"
    return free[:count]


class Service:
    """A unit's process, started as the unit says, its output (the journal) in a file."""

    def __init__(self, unit: Unit, directory: Path):
        self.unit = unit
        self.log = directory / f"{unit.name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Service":
        self.process = self.unit.start(log=self.log)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_until(self, condition, *, what: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not condition():
            assert self.process.poll() is None, f"{self.unit.name} exited:\n{self.output()[-4000:]}"
            assert time.monotonic() < deadline, f"{self.unit.name}: no {what}:\n{self.output()[-4000:]}"
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM to the main process, then, as KillMode=mixed, SIGKILL to what is left of the group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def web_unit(instance: str, env_file: Path) -> Unit:
    return unit_read("spinetrial-web@.service", instance=instance, env_file=env_file)


def web_port(unit: Unit) -> int:
    (address,) = re.findall(r"--bind (\S+)", unit.value("Service", "ExecStart"))
    return int(address.rpartition(":")[2])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def get(port: int, path: str, *, tls: ssl.SSLContext | None = None, headers: dict | None = None):
    """(status, headers, body) of a GET as nginx forwards it (the public host name, over HTTPS)."""
    if tls is None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    else:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=tls)
    try:
        connection.request("GET", path, headers={"Host": HOST, **(headers or {})})
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read()  # headers: get_all() shows one sent twice
    finally:
        connection.close()


def direct_get(port: int, path: str):
    """A GET straight to a gunicorn instance, with nginx's header (gunicorn trusts it from loopback)."""
    return get(port, path, headers={"X-Forwarded-Proto": "https"})


# --- nginx ---------------------------------------------------------------------------------------------


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(  # noqa: S603 -- openssl with fixed arguments
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def nginx_site_variant(
    directory: Path, *, upstream_ports: list[int], http_port: int, https_port: int
) -> Path:
    """deploy/nginx/spinetrial.conf with only what a test on loopback must change: its ports (the
    upstream's 8000 and 8001 to the instances started, 80 and 443 to free ones, no IPv6 listener), the
    certificate (a throwaway self-signed one), the log files and the install prefix. Each change must find
    its target, so that a reworded shipped file fails here rather than being tested in part."""
    cert, key = self_signed_certificate(directory)
    text = (ROOT / "deploy" / "nginx" / "spinetrial.conf").read_text(encoding="utf-8")
    changes = [
        (r"server 127\.0\.0\.1:8000\b", f"server 127.0.0.1:{upstream_ports[0]}"),
        (r"server 127\.0\.0\.1:8001\b", f"server 127.0.0.1:{upstream_ports[1]}"),
        (r"\n\s*listen \[::\]:\d+[^;]*;", ""),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl"),
        (r"ssl_certificate\s+/\S+;", f"ssl_certificate {cert};"),
        (r"ssl_certificate_key\s+/\S+;", f"ssl_certificate_key {key};"),
        (r"access_log\s+/var/log/nginx/\S+;", f"access_log {directory / 'access.log'};"),
        # every error_log of the site, each keeping its level (the patient links' logs only crit)
        (r"error_log\s+/var/log/nginx/[^\s;]+", f"error_log {directory / 'error.log'}"),
        (r"/opt/spinetrial", str(ROOT)),
    ]
    for pattern, replacement in changes:
        text, found = re.subn(pattern, lambda _m, r=replacement: r, text)
        assert found, f"deploy/nginx/spinetrial.conf: nothing matches {pattern!r}"
    site = directory / "spinetrial.conf"
    site.write_text(text, encoding="utf-8")
    # The distribution's nginx.conf, reduced to what the site needs, with every path in the test's directory.
    main = directory / "nginx.conf"
    main.write_text(
        f"""daemon off;
worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"};
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {directory / "other-access.log"};
    include {site};
}}
""",
        encoding="utf-8",
    )
    return main


def tls_client(directory: Path) -> ssl.SSLContext:
    """A client that trusts the throwaway certificate only (its name is the public host, not 127.0.0.1)."""
    context = ssl.create_default_context(cafile=str(directory / "fullchain.pem"))
    context.check_hostname = False
    return context
