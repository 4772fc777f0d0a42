"""Settings, all read from the environment (django-environ).

A missing SECRET_KEY outside DEBUG stops start-up with a clear message: there is no secret in the repository.
"""

import datetime
import json
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    TIME_ZONE=(str, "Asia/Shanghai"),
    LOG_LEVEL=(str, "INFO"),
)

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (DEBUG=1 allows a throwaway development key)."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"  # noqa: S105

ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "trial.admin_site.SpineTrialAdminConfig",  # django.contrib.admin with SpineTrial's header and titles
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "django_celery_beat",
    # Two-factor sign-in (trial/twofactor.py): TOTP apps and recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "trial",
    "crf",
    "followup",
    "reports",
]

# The order is the security: written once, each place with its reason.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",  # HSTS, nosniff, the https redirect: first
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy on every answer, static files' too
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, before sessions and sign-in
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # needs the session; before anything that answers in words
    "django.middleware.common.CommonMiddleware",
    # Before any view (and CSRF): a JSON body nested too deep or holding a lone surrogate is a 400.
    "trial.apis.parsers.JSONBodyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Two-factor sign-in: which device verified the session, then the rule (trial/twofactor.py).
    "django_otp.middleware.OTPMiddleware",
    "trial.twofactor.TwoFactorMiddleware",
    # After the two-factor door (a session that has not given its code is held there first): who may read
    # and write each URL (config/permissions.py).
    "config.permissions.PermissionMatrixMiddleware",
    "trial.audit.AuditContextMiddleware",  # who and why, around every write the view makes
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages: a session ended for inactivity leaves a message for the login page.
    "trial.signin.IdleSessionMiddleware",
    # Domain errors that escape a page view get a friendly page in the user's language (trial/pages.py).
    "trial.pages.DomainErrorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks: it turns a lockout into the answer
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "trial.navigation.menu",
            ],
        },
    },
]

# --- Databases (issue 13: roles, backups, read replica; deploy/README.md) ---------------------------------
# PostgreSQL only: the audit trail lives in its triggers.
# DATABASE_URL: the application's role. In production it owns nothing (deploy/README.md "Database roles"),
# so it cannot switch the audit triggers off nor change an event row. MIGRATION_DATABASE_URL: the tables'
# owner; when set, `manage.py migrate` runs as it and then grants the application's role what it needs
# (trial/management/commands/migrate.py, db_grant.py). Unset (make run, make test): one role does both.
# REPLICA_DATABASE_URL: a streaming replica that reports and exports read from (alias "replica", never
# written to; config/routers.py, reports/replica.py).
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://spinetrial@127.0.0.1:54329/spinetrial")}
if env("REPLICA_DATABASE_URL", default=""):
    DATABASES["replica"] = env.db("REPLICA_DATABASE_URL")
for _alias, _db in DATABASES.items():
    _db["ATOMIC_REQUESTS"] = False
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # Every pgtrigger trigger (the audit trail's) reads the setting pgtrigger.ignore inside an EXCEPTION
    # block; unset, that read fails and each failed sub-transaction slows long transactions down more and more
    # (seeding 56,000 participants: 150 s instead of 30 s). An empty list as the session default ignores
    # nothing.
    _db_options = _db.setdefault("OPTIONS", {})
    _db_options["options"] = f"{_db_options.get('options', '')} -c pgtrigger.ignore={{}}".strip()
    if _alias != "default":
        # The same database seen another way: no test database of its own.
        _db["TEST"] = {"MIRROR": "default"}
# Not an alias: `migrate` swaps the default connection's credentials for these while it runs, so data
# migrations and post-migrate handlers that write without .using() run as the owner too.
MIGRATION_DATABASE = env.db("MIGRATION_DATABASE_URL") if env("MIGRATION_DATABASE_URL", default="") else None
DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
# Seconds a report waits for the replica to replay up to the primary's WAL position at the cut before it
# reads from the primary instead (a lagging replica would miss data recorded before the cut).
REPLICA_WAIT_SECONDS = env.float("REPLICA_WAIT_SECONDS", default=30)
# --- end of databases -------------------------------------------------------------------------------------
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Connection pooling (deploy/README.md, "Connection pooling") -------------------------------------------
# DB_POOL_MAX_SIZE > 0 turns on Django's PostgreSQL pool (psycopg_pool): each process keeps up to that many
# connections open and lends them to requests and tasks. Off by default: a sync gunicorn worker or a Celery
# pool process uses one connection at a time, which CONN_MAX_AGE already keeps open. Django refuses a pool
# together with persistent connections, so the pool sets CONN_MAX_AGE to 0 (connections go back to the pool).
# Every alias gets its own pool (the replica's serves the report workers).
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=0)
if DB_POOL_MAX_SIZE > 0:
    for _db in DATABASES.values():
        _db["CONN_MAX_AGE"] = 0
        _db["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": DB_POOL_MAX_SIZE,
            # Seconds a request waits for a free connection before an error: long enough to ride out a burst.
            "timeout": env.float("DB_POOL_TIMEOUT", default=10),
        }

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:63799/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# The periodic schedules live in the database (django-celery-beat), editable in the admin; followup's
# migration 0006 creates the reminder sweep and the outbox dispatch. Exactly one beat may run: the scheduler
# holds a lock in Redis and a second beat stops at start-up (config/beat.py).
CELERY_BEAT_SCHEDULER = "config.beat:SingleBeatScheduler"
CELERY_BEAT_SCHEDULE: dict = {}
BEAT_LOCK_SECONDS = env.int("BEAT_LOCK_SECONDS", default=30)
# /healthz answers 503, and `manage.py worker_watchdog` fails, when the outbox dispatch (every minute) has not
# finished a run for this long once the beat has been up as long (followup/messaging/heartbeats.py). Longer
# than a slow dispatch run takes, shorter than anyone would wait for a reminder.
DISPATCH_STALE_SECONDS = env.int("DISPATCH_STALE_SECONDS", default=300)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Reports and exports built by the worker (reports.Job.file): served only through the permission-checked
# download views, never by the web server directly. Shared by the web and the worker.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Expiring, revocable tokens (django-rest-knox), header "Authorization: Token <key>" as before.
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies nested too deep or holding lone surrogates are a 400; no answer can fail to encode.
    "DEFAULT_PARSER_CLASSES": [
        "trial.apis.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "trial.apis.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # Every list's query read strictly: a bad, blank or unknown parameter is a 400 naming it (trial.filters).
    "DEFAULT_FILTER_BACKENDS": ["trial.apis.filtering.ListQueryBackend"],
    "DEFAULT_PAGINATION_CLASS": "trial.apis.pagination.Pagination",
    # The schema documents every answer, the 4xx ones included (trial/apis/schema.py).
    "DEFAULT_SCHEMA_CLASS": "trial.apis.schema.AutoSchema",
    "EXCEPTION_HANDLER": "trial.errors.api_exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SpineTrial API",
    "DESCRIPTION": "Screening, enrollment and research data for prospective spine-fracture trials.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Hospital intranets have no internet: Swagger UI is served from the sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The page languages and a participant's message language are one set of choices: one enum.
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "trial.i18n.LANGUAGES",
        "VertebraEnum": "trial.levels.LEVELS",
        "AdjudicationCaseStatusEnum": "followup.models.CaseStatus",
        # Several models have a `kind`: without a name, `check --deploy` warns of the collision (issue 13).
        "JobKindEnum": "reports.models.JobKind",
    },
}

# --- Two-factor sign-in (trial/twofactor.py) ----------------------------------------------------------------
# On in production: admins, principal investigators, investigators, data managers, monitors and adjudicators
# (and coordinators where their protocol says so) sign in with a TOTP code. `make run` turns it off so that
# the demo logins work with a password alone; tests/conftest.py turns it off for the suite.
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=True)
# Recovery codes handed out at enrolment and at each renewal (django-otp's static device).
TWO_FACTOR_RECOVERY_CODES = 10
OTP_TOTP_ISSUER = "SpineTrial"  # the name the authenticator app shows beside the code
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's secret key or its QR code

# Protocol files shipped with the code; `load_protocols` reads every *.yaml here.
PROTOCOL_DIR = BASE_DIR / "trial" / "protocols"

# ODI 2.1a: how many of the ten sections may be unanswered and still give a score (domain.md: at most 1).
ODI_MAX_MISSING = env.int("ODI_MAX_MISSING", default=1)

# Patient questionnaire links (ePRO): days a new link stays valid; the service caps it at 60 days.
EPRO_LINK_DAYS = env.int("EPRO_LINK_DAYS", default=14)

# --- Patient links: per-client rate limits (issue 13; followup/views/link_limits.py) -----------------------
# The client is the peer's address, or, when the peer is one of TRUSTED_PROXY_IPS (nginx on this host; the
# same address as gunicorn's forwarded_allow_ips), the last address of X-Forwarded-For, which nginx appends.
TRUSTED_PROXY_IPS = env.list("TRUSTED_PROXY_IPS", default=["127.0.0.1", "::1"])
# Every patient-link request (pages and API): generous, as patients share addresses behind NAT and answering
# one questionnaire takes a few dozen requests.
PATIENT_LINK_RATE = env("PATIENT_LINK_RATE", default="300/10m")
# Tokens that open nothing (altered, or unknown keys): past this, the client gets 429 for every patient link
# until the window ends. A patient opens only the links we sent; a guesser is stopped here.
PATIENT_LINK_FAILURE_RATE = env("PATIENT_LINK_FAILURE_RATE", default="10/h")
# django-ratelimit counts in the default cache (Redis, shared by every worker); tests switch it off in
# tests/conftest.py and on again where they test the limits.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
# --- end of patient-link rate limits -----------------------------------------------------------------------

# The load test of `make bench` (loadtest/run.py) turns this on for its own gunicorn: a bare authenticated DRF
# endpoint, /api/v1/bench/floor/, the latency floor its table compares with (config/bench_floor.py).
BENCH_FLOOR_ENDPOINT = env.bool("BENCH_FLOOR_ENDPOINT", default=False)

# Reminders (followup/messaging): the address the patient links in messages start with, and the quiet hours
# (site wall clock; may span midnight) during which a due message is held until they end.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")


def _quiet_hours(text: str) -> tuple[datetime.time, datetime.time]:
    start, _, end = text.partition("-")
    return datetime.time.fromisoformat(start.strip()), datetime.time.fromisoformat(end.strip())


QUIET_HOURS = _quiet_hours(env("QUIET_HOURS", default="21:00-08:00"))
# Outgoing e-mail (followup.messaging.channels): SMTP in production; with DEBUG (make run) the console, with
# patient-link tokens masked because make run keeps the worker's stdout in var/log.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default=(
        "followup.messaging.channels.ConsoleEmailBackend"
        if DEBUG
        else "django.core.mail.backends.smtp.EmailBackend"
    ),
)
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
# Passwords are read as they stand: django-environ takes a leading "$" for a reference to another variable.
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="spinetrial@localhost")
# Seconds an SMTP connection waits for the server; a timeout after DATA leaves the outcome unknown.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10)

# Outgoing SMS: "console" (stdout, tokens masked) or "http" (a gateway). Nothing leaves the machine unless
# SMS_BACKEND=http and a URL are set: hospital intranets reach only what they are told to.
SMS_BACKEND = env("SMS_BACKEND", default="console")
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_USER = env("SMS_GATEWAY_USER", default="")
SMS_GATEWAY_PASSWORD = os.environ.get("SMS_GATEWAY_PASSWORD", "")
# The JSON body posted to the gateway: {to}, {body}, {client_id} (the outbox key) filled in its strings.
SMS_GATEWAY_BODY = env(
    "SMS_GATEWAY_BODY", default='{"to": "{to}", "text": "{body}", "client_message_id": "{client_id}"}'
)
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=10)
if SMS_BACKEND not in ("console", "http"):
    raise ImproperlyConfigured(f"SMS_BACKEND must be console or http, not {SMS_BACKEND!r}.")
if SMS_BACKEND == "http" and not SMS_GATEWAY_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_GATEWAY_URL, an http:// or https:// URL.")
try:
    json.loads(SMS_GATEWAY_BODY)
except ValueError:
    raise ImproperlyConfigured('SMS_GATEWAY_BODY must be JSON, e.g. {"to": "{to}", ...}.') from None

# Error reports: identifying data cleansed like a password, patient-link tokens masked (trial/privacy.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "trial.privacy.IdentityReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "trial.privacy.PrivateExceptionReporter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"mask_tokens": {"()": "config.log_filters.MaskPatientLinkTokens"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_tokens"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL")},
    # The loggers that name request paths mask patient-link tokens before any handler sees the record.
    # django.server (runserver's request lines) does not propagate in Django's defaults: it gets the console
    # here, or redefining it would leave it with no handler at all and runserver would log no request.
    "loggers": {
        "django.request": {"filters": ["mask_tokens"]},
        "django.server": {"handlers": ["console"], "filters": ["mask_tokens"], "propagate": False},
    },
}

# Audit trail: every tracked model records inserts, updates and deletes; event tables are append-only.
PGHISTORY_APPEND_ONLY = True
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")  # reads write nothing to attribute

# --- E-signatures (21 CFR 11.200(a)(1), crf/services/signing_session.py) ---------------------------------
# The first signing of a session takes the user ID and the password, later ones the password. An API token
# holds its signing session this long after its last signing, never past the token's expiry; the pages' is
# the Django session.
SIGNING_TOKEN_SESSION_SECONDS = env.int("SIGNING_TOKEN_SESSION_SECONDS", default=30 * 60)

# --- Sign-in protection, sessions, API tokens, passwords, headers and cookies (issue 13) --------------------
# Lockout (django-axes) guards every authenticate() call: the login page, the admin login and the API token
# endpoint. Its backend comes first and refuses a locked-out client before the password is even checked.
INSTALLED_APPS += ["axes", "knox", "csp"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("SIGNIN_LOCKOUT_MINUTES", default=15))
# Username and IP together: by username alone anyone could lock an investigator out from anywhere (a denial
# of service on the people who must sign CRFs); by IP alone one guesser would lock out a whole ward behind
# the hospital's NAT. The combination stops a guesser at their own address and nobody else.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a typo now and then does not add up over weeks
AXES_HTTP_RESPONSE_CODE = 429
# Behind nginx every request comes from 127.0.0.1: the client is trial.signin.client_network
# (TRUSTED_PROXY_IPS, above; an IPv6 client by its /64), as for the patient links' limits.
AXES_CLIENT_IP_CALLABLE = "trial.signin.client_network"
# A friendly page in the user's language, or JSON with a message under /api/ (never axes' bare text).
AXES_LOCKOUT_CALLABLE = "trial.signin.lockout_response"

# Sessions end after SESSION_IDLE_MINUTES without a request (trial.signin.IdleSessionMiddleware); the cookie
# and the stored session live at most a working day, and end when the browser closes (shared ward computers).
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
# Days the sign-in log (django-axes: who signed in or failed, from where) is kept; the daily prune
# (trial/services/housekeeping.py) deletes older rows, and expired sessions and API tokens.
SIGNIN_LOG_DAYS = env.int("SIGNIN_LOG_DAYS", default=365)
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)

# API tokens (django-rest-knox): stored as SHA-512 digests, each with its own expiry; logout ends one,
# logout-all every token of the user, and the admin can delete any (revocation).
REST_KNOX = {
    "TOKEN_TTL": datetime.timedelta(hours=env.int("API_TOKEN_HOURS", default=10)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,  # a token's life is fixed when it is issued
}

# Passwords (NIST SP 800-63B): at least 12 characters, not a common or all-digit password, not close to the
# user's name; no composition rules and no forced periodic change (800-63B 5.1.1.2 advises against both).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# HTTPS in production (DEBUG off). nginx terminates TLS and sets X-Forwarded-Proto; gunicorn listens on
# loopback only, so no client can send that header past nginx.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The health checks of systemd and of the smoke test call gunicorn on loopback over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# The preload token does nothing until the domain is submitted to the browsers' list (an intranet name never
# is); it is sent so that `check --deploy` stays silent. Set 0 to leave it out.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True  # no script reads it: forms carry the token, and the pages' scripts read the form
# Content-Security-Policy (django-csp): scripts only from our own static files (no template has an inline
# script). Styles also allow inline style attributes: the progress bars' widths are server-computed numbers
# in style="width: N%" (no author text), and the 500 page is self-contained.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Permission matrix (issue 13): who reads and writes at every URL, config/permissions.py -------------
# Enforced before any view runs: by a middleware for the pages and the admin (once the session's user is
# known), and by DRF's default permission class for the API (once the token is known); the schema and docs
# follow it too (signed-in users). Off, the API only asks for a signed-in user (as before the matrix) and the
# pages for their own checks: an escape hatch only, every test runs with it on, as production does.
PERMISSION_MATRIX_ENFORCED = env.bool("PERMISSION_MATRIX_ENFORCED", default=True)
REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] = ["config.api_permissions.MatrixPermission"]
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = ["config.api_permissions.MatrixPermission"]

# --- Request bodies as strict as the schema (issue 16, bodies) -------------------------------------------
# The API reads JSON only. Form and multipart bodies carry every value as text, so a schema cannot say what
# they accept ("0" was a boolean, "" a null, a list one value): a client generated from the schema sends
# JSON (openapi-python-client, offered three media types, sent the last: multipart with a dict's repr),
# the pages post their forms to their own views, and nothing uploads a file through the API. Any other
# media type is a 415. The test client's default follows (it sent multipart).
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["trial.apis.parsers.JSONParser"]
REST_FRAMEWORK["TEST_REQUEST_DEFAULT_FORMAT"] = "json"
# An export's dataset is only the default for REDCap and ODM (reports/apis.py, EXPORT_REQUEST): that one-value
# set gets its own name beside DatasetEnum (named too: two sets for one field name were a warning).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["DatasetEnum"] = ["analysis", "long"]
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["DefaultDatasetEnum"] = ["analysis"]
# A report job's file (the accuracy report: reports/stard/apis.py) beside an export's formats, both `format`.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["ReportFormatEnum"] = ["pdf", "json"]
# --- API answers (issue 16, fuzz): OpenAPI links of the main flow in the schema (trial/apis/schema.py) ------
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",  # drf-spectacular's default, kept
    "trial.apis.schema.main_flow_links",
]

# --- Imaging exams (issue 14, trial/imaging.py) ------------------------------------------------------------
# The HMAC key of the DICOM UIDs kept as hashes. Empty: derived from SECRET_KEY. Set it (and keep it) where
# SECRET_KEY may be rotated: a new key gives new hashes, and a study registered before would no longer be
# recognised as registered.
IMAGING_UID_KEY = env("IMAGING_UID_KEY", default="")
# --- end of imaging exams -----------------------------------------------------------------------------------
