"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py config.wsgi`.

Values can be overridden from /etc/spinetrial/env (GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_TIMEOUT).
nginx on the same host terminates TLS and proxies to GUNICORN_BIND.
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

# Only nginx on this host may claim the request came over HTTPS (X-Forwarded-Proto): gunicorn then sets
# wsgi.url_scheme=https, so Django sees secure requests without trusting arbitrary clients.
forwarded_allow_ips = "127.0.0.1"

# Logs go to stdout/stderr, i.e. the systemd journal. The access log names the path without the query and
# masks patient-link tokens (/p/<token>/, /api/v1/patient/<token>/).
accesslog = "-"
logger_class = "config.gunicorn_logging.PatientLinkSafeLogger"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
capture_output = True

proc_name = "spinetrial-web"
