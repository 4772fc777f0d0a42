"""Start a process as a systemd unit file says: its ExecStart, WorkingDirectory, Environment= and
EnvironmentFile=, read from the files in deploy/systemd with systemd's rules, without systemd.

The rules kept (systemd.unit(5), systemd.exec(5), systemd.service(5)): a line ending in a backslash goes on
on the next; `#` and `;` start comment lines; specifiers (%i, %H, %%) are resolved in every value; the
process gets a clean environment (systemd's PATH, no variable of the caller), then each Environment= in
order, then each EnvironmentFile= in order, which override Environment= whatever their order; in ExecStart
`${NAME}` is the variable's value as one word, `$NAME` alone its whitespace-separated words, `$$` a `$`.
What is not reproduced: User=/Group= (the test runs as whoever runs it) and the sandboxing options
(ProtectSystem= and the like), which need systemd itself; tests/deploy/test_smoke.py runs
`systemd-analyze verify` on the same files for systemd's own reading of them.
"""

import re
import shlex
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT_DIR = ROOT / "deploy" / "systemd"
PREFIX = "/opt/spinetrial"  # the install directory the units name
ENV_FILE = "/etc/spinetrial/env"  # the environment file they read
# The PATH systemd gives the services of the system manager.
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"


@dataclass
class Unit:
    """One unit file, read for one instance (a template's %i), with the install prefix and the
    environment file moved to where the test puts them."""

    name: str  # the instance's name, e.g. spinetrial-worker@reports.service
    settings: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # section -> key -> values

    def values(self, section: str, key: str) -> list[str]:
        return self.settings.get(section, {}).get(key, [])

    def value(self, section: str, key: str) -> str:
        (value,) = self.values(section, key)
        return value

    def environment(self) -> dict[str, str]:
        """The process's environment, as systemd builds it (see the module's docstring)."""
        env = {"PATH": SYSTEMD_PATH}
        for line in self.values("Service", "Environment"):
            for assignment in shlex.split(line):
                key, _, value = assignment.partition("=")
                env[key] = value
        for path in self.values("Service", "EnvironmentFile"):
            optional = path.startswith("-")
            path = Path(path.removeprefix("-"))
            if optional and not path.exists():
                continue
            env.update(environment_file(path))
        return env

    def command(self, env: dict[str, str], *, key: str = "ExecStart") -> list[str]:
        """ExecStart's (or another Exec*= setting's) argv, its variables expanded from `env`."""
        line = self.value("Service", key)
        prefixes = re.match(r"^[-+!:@]*", line).group()
        assert "@" not in prefixes, "ExecStart with @ (a separate argv[0]) is not read here"
        words = shlex.split(line[len(prefixes) :])
        if ":" in prefixes:  # no variable expansion
            return words
        argv = []
        for word in words:
            alone = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
            if alone:
                argv.extend(env.get(alone.group(1), "").split())
                continue
            argv.append(
                re.sub(
                    r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                    lambda m: "$" if m.group() == "$$" else env.get(m.group(1), ""),
                    word,
                )
            )
        return argv

    def start(self, *, log: Path) -> subprocess.Popen:
        """Run ExecStart in WorkingDirectory with the unit's environment, in a session of its own (so its
        whole process group can be stopped as KillMode=mixed would), its output (the journal) in `log`."""
        env = self.environment()
        with log.open("ab") as out:
            return subprocess.Popen(  # noqa: S603 -- the project's own unit
                self.command(env),
                cwd=self.value("Service", "WorkingDirectory"),
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )


def unit_read(template: str, *, instance: str = "", root: Path = ROOT, env_file: Path | None = None) -> Unit:
    """deploy/systemd/`template` read for `instance` (for a template unit, name@.service), with
    /opt/spinetrial read as `root` and /etc/spinetrial/env as `env_file`."""
    text = (UNIT_DIR / template).read_text(encoding="utf-8")
    text = text.replace(PREFIX, str(root))
    if env_file is not None:
        text = text.replace(ENV_FILE, str(env_file))
    name = template.replace("@.", f"@{instance}.") if instance else template
    unit = Unit(name=name)
    section = ""
    for line in _logical_lines(text):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
            continue
        key, sep, value = stripped.partition("=")
        assert sep, f"{template}: not a setting: {line!r}"
        unit.settings.setdefault(section, {}).setdefault(key.strip(), []).append(
            _specifiers(value.strip(), instance=instance)
        )
    return unit


def environment_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd reads an EnvironmentFile: comments and blank lines skipped, a value
    wholly in quotes unquoted, any other value taken as written (quotes inside it kept), a backslash
    keeping the next character, trailing blanks dropped."""
    env = {}
    for line in _logical_lines(path.read_text(encoding="utf-8")):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        key, sep, value = stripped.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()), f"{path}: bad line {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = re.sub(r'\\(["\\`$])', r"\1", value)
        else:
            value = re.sub(r"\\(.)", r"\1", value)
        env[key.strip()] = value
    return env


def _logical_lines(text: str) -> list[str]:
    return text.replace("\\\n", " ").splitlines()


def _specifiers(value: str, *, instance: str) -> str:
    known = {"i": instance, "I": instance, "H": socket.gethostname(), "%": "%"}

    def one(match: re.Match) -> str:
        letter = match.group(1)
        assert letter in known, f"specifier %{letter} is not read here"
        return known[letter]

    return re.sub(r"%(.)", one, value)
