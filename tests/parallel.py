"""make test runs the suite on two pytest-xdist workers (`python -m pytest -p tests.parallel -n 2 --dist
loadgroup`, scripts/test.sh). This plugin keeps the workers out of each other's way:

- Each worker gets its own Redis database and media folder, as pytest-django gives it its own PostgreSQL
  test database (test_<name>_gw<N>). Without this, two workers would consume each other's Celery tasks, share
  rate-limit counters and write export files to the same paths (job 1 of one worker's database over job 1
  of the other's). The module is imported (`-p`) before pytest-django sets Django up, so the settings, the
  cache, the Celery broker and every process a test starts from them see the worker's own values.
- The tests of a module stay together on one worker (their module-scoped fixtures are made once, their
  screenshots are written by one process), and the tests of tests/deploy/ all on one worker: they start
  systemd-like stacks on the ports 8000-8009 the unit files name, and a throwaway cluster of their own.
- But the API fuzz's tests (a minute per role) are spread one by one: kept together they would be the
  run's tail, one worker fuzzing while the other waits. Each worker seeds the fuzz's study once.
- The long groups (the fuzz's roles, tests/deploy/) are handed out first, the rest in the order collected
  (scripts/test.sh passes --no-loadscope-reorder: xdist would otherwise put the biggest modules first and
  the one-test groups, the fuzz's minutes, last, as the run's tail).

Without `-n` (a single test by hand, make bench) it changes nothing.
"""

import os
import re

import pytest

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"… in a worker; absent without -n

if _WORKER:
    # Database 0 stays for runs without xdist; the workers take 1, 2…
    _url = os.environ.get("REDIS_URL", "redis://127.0.0.1:63799/0")
    os.environ["REDIS_URL"] = re.sub(r"/\d+$", "", _url) + f"/{int(_WORKER.removeprefix('gw')) + 1}"
    if _media := os.environ.get("MEDIA_ROOT"):
        os.environ["MEDIA_ROOT"] = os.path.join(_media, _WORKER)

# Folders whose tests share machine-wide resources (fixed ports, clusters): one group for the whole folder.
SHARED_FOLDERS = ("tests/deploy/",)
# Modules whose tests are long and independent: each test a group of its own.
SPREAD_MODULES = ("tests/test_api_fuzz.py",)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the marks into the scheduling groups
def pytest_collection_modifyitems(items):
    if _WORKER:  # every worker collects, and must collect the same order
        items.sort(key=lambda item: not item.nodeid.startswith((*SPREAD_MODULES, *SHARED_FOLDERS)))
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        group = next((folder for folder in SHARED_FOLDERS if path.startswith(folder)), path)
        if path in SPREAD_MODULES:
            group = item.nodeid
        item.add_marker(pytest.mark.xdist_group(group))
