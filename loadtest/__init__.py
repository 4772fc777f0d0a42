"""The load test of `make bench` (not `make test`): locust against gunicorn and PostgreSQL on loopback.

plan.py seeds what the load needs (coordinators with API tokens, forms to edit, patient links) and writes the
plan the locust process reads; locustfile.py is the load (coordinators screening, enrolling and saving
forms; patients answering through their links; a guesser bursting wrong tokens; the bare DRF floor);
check.py compares every acknowledged write with the database and the audit trail; run.py puts them
together (`python -m loadtest.run --seconds 300 --users 50`; `make bench` runs it).
"""
