"""gunicorn settings for every way the project starts it: `make run`, the systemd unit and a bare
`gunicorn config.wsgi` run from the project root (gunicorn reads ./gunicorn.conf.py by default).

One file, so that no start-up path can forget the masking access log. Values can be overridden from the
environment (/etc/spinetrial/env in production: GUNICORN_WORKERS, GUNICORN_TIMEOUT; GUNICORN_BIND elsewhere)
or on the command line (`make run` passes -b and --workers; each spinetrial-web@N unit passes
--bind 127.0.0.1:800N). In production nginx on the same host terminates TLS and proxies to the instances.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5

# Recycle workers now and then so a slow leak (e.g. large pandas exports) cannot grow forever.
max_requests = 1000
max_requests_jitter = 100

# Only nginx may claim the request came over HTTPS (X-Forwarded-Proto): gunicorn then sets
# wsgi.url_scheme=https, so Django sees secure requests without trusting arbitrary clients. The same
# addresses as Django's TRUSTED_PROXY_IPS (nginx on this host, or the nginx host of a web server of its own).
forwarded_allow_ips = os.environ.get("TRUSTED_PROXY_IPS", "127.0.0.1,::1")

# Logs go to stdout/stderr (the terminal of `make run`, the systemd journal in production). The access log
# and the error log mask patient-link tokens (/p/<token>/, /api/v1/patient/<token>/): a token in a log is a
# live key to a questionnaire. Do not replace the logger on the command line.
accesslog = "-"
logger_class = "config.gunicorn_logging.PatientLinkSafeLogger"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
capture_output = True

proc_name = "spinetrial-web"
