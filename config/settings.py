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
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "django_celery_beat",
    "trial",
    "crf",
    "followup",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before any view (and CSRF): a JSON body nested too deep or holding a lone surrogate is a 400.
    "trial.apis.parsers.JSONBodyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "trial.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Domain errors that escape a page view get a friendly page in the user's language (trial/pages.py).
    "trial.pages.DomainErrorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

# PostgreSQL only: the audit trail lives in its triggers.
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://spinetrial@127.0.0.1:54329/spinetrial")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# Every pgtrigger trigger (the audit trail's) reads the setting pgtrigger.ignore inside an EXCEPTION block;
# unset, that read fails and each failed sub-transaction slows long transactions down more and more
# (seeding 56,000 participants: 150 s instead of 30 s). An empty list as the session default ignores nothing.
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
_db_options["options"] = f"{_db_options.get('options', '')} -c pgtrigger.ignore={{}}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

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
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
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
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "trial.apis.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
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
    },
}

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
