"""The one settings module. Everything that differs between machines comes from
the environment, parsed strictly: a bad value stops start-up with a message that
names the variable (all bad variables at once, see `env.seal()` at the end).
"""

import hmac
import os
import secrets
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from environs import Env, EnvValidationError
from marshmallow.validate import Length, OneOf, Range, Regexp

BASE_DIR = Path(__file__).resolve().parent.parent

env = Env(eager=False)
# Non-eager: a bad value reads as None and is reported by env.seal() at the end
# with every other bad value, so the code below falls back (`or ...`) meanwhile.
# Rules that involve several variables; reported together with env's own errors.
problems: dict[str, str] = {}

VAR_DIR = Path(env.path("PORTAL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Local use is the default (healthchecks does the same): a fresh clone runs with
# `manage.py up`. Production sets DEBUG=false and must then give SECRET_KEY.
DEBUG = env.bool("DEBUG", True)
_debug_valid = DEBUG is not None


def _local_secret_key() -> str:
    """Generated once per checkout into var/, so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    try:
        with path.open("x", encoding="utf-8") as handle:  # "x": two processes never both write
            handle.write(secrets.token_urlsafe(50))
    except FileExistsError:
        pass
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env.str("SECRET_KEY", None, validate=Length(min=32))
if not SECRET_KEY and not DEBUG and _debug_valid:
    problems["SECRET_KEY"] = "required when DEBUG is off (at least 32 characters)"
SECRET_KEY = SECRET_KEY or _local_secret_key()

# Where the run command listens, and the default public address.
HOST = env.str("HOST", "127.0.0.1")
PORT = env.int("PORT", 8000, validate=Range(min=1, max=65535)) or 8000
SITE_URL = (
    env.str(
        "SITE_URL",
        f"http://{'127.0.0.1' if HOST in ('0.0.0.0', '::') else HOST}:{PORT}",
        validate=Regexp(
            r"^https?://[^/\s]+$",
            error="must look like https://portal.example.com (scheme and host, no path)",
        ),
    )
    or f"http://127.0.0.1:{PORT}"
)
HTTPS = SITE_URL.startswith("https://")
# A TLS-terminating proxy in front: trust its X-Forwarded-Proto and the client address
# it adds last to X-Forwarded-For (for rate limits and sign-in lockouts).
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", False)
_site_host = SITE_URL.split("://", 1)[1].split(":")[0]
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", sorted({"localhost", "127.0.0.1", "[::1]", _site_host}))
CSRF_TRUSTED_ORIGINS = [SITE_URL]
# A refused form gets a page in the site layout that says what to do.
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

INSTALLED_APPS = [
    "portal",
    "incidents",
    "escalations",
    "notifications",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

# Every field in one box: label, help text, errors and widget together.
FORM_RENDERER = "portal.rendering.PortalFormRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
_database_url = os.environ.get("DATABASE_URL", _DEFAULT_DATABASE_URL)
if not _database_url.startswith(("sqlite://", "postgres://", "postgresql://", "pgsql://")):
    problems["DATABASE_URL"] = (
        "must be a postgres://user:password@host:5432/name or sqlite:///path URL"
    )
    _database_url = _DEFAULT_DATABASE_URL
try:
    _database = dj_database_url.parse(
        _database_url,
        conn_max_age=env.int("DATABASE_CONN_MAX_AGE", 60, validate=Range(min=0)) or 0,
        conn_health_checks=True,
    )
except ValueError as error:
    problems["DATABASE_URL"] = f"cannot be read ({error})"
    _database = dj_database_url.parse(_DEFAULT_DATABASE_URL)
DATABASES = {"default": _database}
if DATABASES["default"].get("ENGINE") == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks instead of failing, and
    # take the write lock at BEGIN so two writers never deadlock on upgrade.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Rate-limit counters (API tokens, status page). In-process by default; several web
# processes need a shared one, e.g. CACHE_URL=redis://127.0.0.1:6379/1.
CACHES = {"default": env.dj_cache_url("CACHE_URL", "locmem://")}

AUTH_USER_MODEL = "portal.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "incidents:list"
LOGOUT_REDIRECT_URL = "login"

# --- Time ----------------------------------------------------------------------------------
# Stored in UTC always; shown in each user's own time zone (a profile setting),
# falling back to this one.
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str(
    "TIME_ZONE",
    "UTC",
    validate=OneOf(
        sorted(zoneinfo.available_timezones() | {"UTC"}), error="unknown time zone {input!r}"
    ),
)
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.path("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it, even before collectstatic
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
MEDIA_ROOT = VAR_DIR / "media"

# --- Email ---------------------------------------------------------------------------------
# EMAIL_PROVIDER: console (default), smtp, or the name of any django-anymail ESP
# with its key in EMAIL_API_KEY. Other ANYMAIL_* variables (webhook secrets,
# sender domains...) pass through to anymail as they are. Django 6.1's MAILERS.
ANYMAIL_PRIMARY_OPTION = {
    "amazon_ses": None,  # boto3 reads the AWS_* variables itself
    "brevo": "api_key",
    "mailersend": "api_token",
    "mailgun": "api_key",
    "mailjet": "api_key",
    "mailtrap": "api_token",
    "mandrill": "api_key",
    "postal": "key",
    "postmark": "server_token",
    "resend": "api_key",
    "scaleway": "secret_key",
    "sendgrid": "api_key",
    "sparkpost": "api_key",
    "unisender_go": "api_key",
}
EMAIL_PROVIDER = (
    env.str(
        "EMAIL_PROVIDER",
        "console",
        validate=OneOf(
            ["console", "smtp", "locmem", *ANYMAIL_PRIMARY_OPTION], error="must be one of {choices}"
        ),
    )
    or "console"
)
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_")
}
_email_options: dict = {}
if EMAIL_PROVIDER == "smtp":
    _email_backend = "django.core.mail.backends.smtp.EmailBackend"
    _email_options = {
        "host": env.str("EMAIL_HOST", "localhost"),
        "port": env.int("EMAIL_PORT", 25, validate=Range(min=1, max=65535)),
        "username": env.str("EMAIL_HOST_USER", ""),
        "password": env.str("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env.bool("EMAIL_USE_TLS", False),
        "use_ssl": env.bool("EMAIL_USE_SSL", False),
        "timeout": env.int("EMAIL_TIMEOUT", 20, validate=Range(min=1)),
    }
    if _email_options["use_tls"] and _email_options["use_ssl"]:
        problems["EMAIL_USE_SSL"] = "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on"
elif EMAIL_PROVIDER in ("console", "locmem"):
    _email_backend = f"django.core.mail.backends.{EMAIL_PROVIDER}.EmailBackend"
else:
    _email_backend = f"anymail.backends.{EMAIL_PROVIDER}.EmailBackend"
    _option = ANYMAIL_PRIMARY_OPTION[EMAIL_PROVIDER]
    _api_key = env.str("EMAIL_API_KEY", None)
    _anymail_name = f"{EMAIL_PROVIDER.upper()}_{(_option or '').upper()}"
    if _option and _api_key:
        _email_options[_option] = _api_key
    elif _option and _anymail_name not in ANYMAIL:
        problems["EMAIL_API_KEY"] = (
            f"required for EMAIL_PROVIDER={EMAIL_PROVIDER} (or set ANYMAIL_{_anymail_name})"
        )
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
# Inbound mail (customer replies) arrives on anymail's webhook for the ESP,
# always behind HTTP basic auth: ANYMAIL_WEBHOOK_SECRET="user:password", or one
# derived from SECRET_KEY (`manage.py inbound_url` prints the URL to give the ESP).
ANYMAIL.setdefault(
    "WEBHOOK_SECRET",
    "inbound:" + hmac.new(SECRET_KEY.encode(), b"anymail-webhook", "sha256").hexdigest()[:32],
)
# The one ESP whose inbound webhook takes customer replies (/anymail/<esp>/inbound/);
# every other ESP's webhook answers 404. Default: EMAIL_PROVIDER when it is an ESP.
INBOUND_ESPS = [
    "amazon_ses",
    "brevo",
    "mailersend",
    "mailgun",
    "mailjet",
    "mailtrap",
    "postal",
    "postmark",
    "resend",
    "sendgrid",
    "sendinblue",
    "sparkpost",
]
INBOUND_EMAIL_ESP = env.str(
    "INBOUND_EMAIL_ESP",
    EMAIL_PROVIDER if EMAIL_PROVIDER in INBOUND_ESPS else "",
    validate=OneOf(["", *INBOUND_ESPS], error="must be empty or one of {choices}"),
)
# Where customers' replies go: the ESP's inbound address (empty: the sender).
EMAIL_REPLY_TO = env.str("EMAIL_REPLY_TO", "")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "Escalation Portal <escalations@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery --------------------------------------------------------------------------------
# With no CELERY_BROKER_URL a laptop needs no server: messages are files under
# var/broker/, passed by portal/broker.py (kombu's filesystem transport made
# atomic: a message appears in queue/ whole or not at all; see README).
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = (
    env.str(
        "CELERY_BROKER_URL",
        "filesystem://",
        validate=Regexp(
            r"^(redis|rediss|amqp|amqps|filesystem|memory)://",
            error="must be a redis://, amqp:// or filesystem:// URL",
        ),
    )
    or "filesystem://"
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "staging", "claimed", "rejected", "processed", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "staging_folder": str(_BROKER_DIR / "staging"),
        "claimed_folder": str(_BROKER_DIR / "claimed"),
        "rejected_folder": str(_BROKER_DIR / "rejected"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
# Acknowledge a task when it starts. The database is the source of truth: a task
# lost with a killed worker is found again by the next outbox drain or sweep. Late
# acknowledgement bought nothing and cost the worker itself: with celery/kombu 5.7
# on Redis, a broker outage during a task made the worker exit for good
# (AttributeError 'NoneType' object has no attribute 'hostname' while restoring
# the unacknowledged message). tests/portal/test_worker_survives_redis_outage.py
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = False
# Publishing happens after commit; if the broker is down, give up fast: the
# beat drain and sweep find the work in the database anyway.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # Django's LOGGING applies in workers too

# --- Escalation engine and notifications -------------------------------------------------------
SLA_SWEEP_INTERVAL = env.float("SLA_SWEEP_INTERVAL", 5.0, validate=Range(min=1, max=3600))
SLA_SWEEP_BATCH = env.int("SLA_SWEEP_BATCH", 500, validate=Range(min=1, max=10000))
SLA_SWEEP_MAX_BATCHES = env.int("SLA_SWEEP_MAX_BATCHES", 200, validate=Range(min=1))
# Workers asked to sweep beside the scheduler when more is due than one batch (a
# storm), on PostgreSQL; 0: the scheduler always sweeps alone.
SLA_SWEEP_HELPERS = env.int("SLA_SWEEP_HELPERS", 2, validate=Range(min=0, max=64))
OUTBOX_DRAIN_INTERVAL = env.float("OUTBOX_DRAIN_INTERVAL", 10.0, validate=Range(min=1))
# Reviews, action items, war-room status updates and vendor cases whose reminder is due.
REMINDER_SWEEP_INTERVAL = env.float(
    "REMINDER_SWEEP_INTERVAL", 30.0, validate=Range(min=1, max=3600)
)
# Imported on-call schedules read their iCal feed again this often (Celery beat).
ICAL_REFRESH_INTERVAL = env.float(
    "ICAL_REFRESH_INTERVAL", 3600.0, validate=Range(min=60, max=7 * 86400)
)
# Whether an iCal feed may be read from a loopback, private or link-local address (a feed
# served inside the company's network); off, an import cannot probe the portal's network.
ICAL_FEED_ALLOW_PRIVATE = env.bool("ICAL_FEED_ALLOW_PRIVATE", False)
# On-call schedules (issue 18): how often coverage gaps of the schedules a P0/P1 route can
# reach are checked (each gap starting within a week is mailed to the team lead once), and
# how often shifts that are starting are looked for (each person hears once per shift).
ONCALL_COVERAGE_SWEEP_INTERVAL = env.float(
    "ONCALL_COVERAGE_SWEEP_INTERVAL", 3600.0, validate=Range(min=1, max=86400)
)
ONCALL_SHIFT_SWEEP_INTERVAL = env.float(
    "ONCALL_SHIFT_SWEEP_INTERVAL", 60.0, validate=Range(min=1, max=3600)
)
# Every send (email included) gives up after NOTIFICATION_TIMEOUT seconds per
# connect or read. A claimed message waits for its worker at most
# NOTIFICATION_CLAIM_LEASE seconds (renewed as the worker goes), so a dead worker's
# claims, urgent pages included, return within seconds; right before each send the
# claim is checked and extended to NOTIFICATION_SEND_LEASE, which must outlast the
# slowest send the timeout allows.
NOTIFICATION_TIMEOUT = env.float("NOTIFICATION_TIMEOUT", 10.0, validate=Range(min=0.1, max=120))
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", 8, validate=Range(min=1, max=50))
# Seconds before a transient failure's first retry (doubling, with jitter, up to an hour).
NOTIFICATION_RETRY_BASE = env.float("NOTIFICATION_RETRY_BASE", 30.0, validate=Range(min=0.1))
NOTIFICATION_CLAIM_LEASE = env.int("NOTIFICATION_CLAIM_LEASE", 10, validate=Range(min=2))
NOTIFICATION_SEND_LEASE = env.int(
    "NOTIFICATION_SEND_LEASE", int(4 * NOTIFICATION_TIMEOUT) + 20, validate=Range(min=5)
)
if NOTIFICATION_SEND_LEASE < 3 * NOTIFICATION_TIMEOUT:
    problems["NOTIFICATION_SEND_LEASE"] = "must be at least 3 x NOTIFICATION_TIMEOUT"
# anymail's HTTP backends wait 30 s by default: bound them like every other send.
ANYMAIL.setdefault("REQUESTS_TIMEOUT", NOTIFICATION_TIMEOUT)
SLACK_WEBHOOK_URL = env.str("SLACK_WEBHOOK_URL", "")
# Seed 001's `slack_oncall` (P1) posts here, `slack_channel` to SLACK_WEBHOOK_URL;
# empty: both go to SLACK_WEBHOOK_URL.
SLACK_ONCALL_WEBHOOK_URL = env.str("SLACK_ONCALL_WEBHOOK_URL", "")
PAGERDUTY_ROUTING_KEY = env.str("PAGERDUTY_ROUTING_KEY", "")
PAGERDUTY_EVENTS_URL = env.str("PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue")
NOTIFICATION_WEBHOOK_URL = env.str("NOTIFICATION_WEBHOOK_URL", "")
WEBHOOK_SIGNING_SECRET = env.str("WEBHOOK_SIGNING_SECRET", "") or SECRET_KEY

# --- Portal --------------------------------------------------------------------------------
INCIDENT_REFERENCE_PREFIX = env.str(
    "INCIDENT_REFERENCE_PREFIX",
    "INC",
    validate=Regexp(r"^[A-Z][A-Z0-9]{1,9}$", error="must be 2-10 capitals or digits, e.g. QIW"),
)
INCIDENTS_PER_PAGE = env.int("INCIDENTS_PER_PAGE", 25, validate=Range(min=5, max=500))
# How long the status-page link in a customer email keeps working.
CUSTOMER_LINK_DAYS = env.int("CUSTOMER_LINK_DAYS", 30, validate=Range(min=1, max=365)) or 30
# How long the public status page (/status/) keeps showing an incident after it resolved.
STATUS_PAGE_RESOLVED_DAYS = env.int("STATUS_PAGE_RESOLVED_DAYS", 3, validate=Range(min=1, max=90))
# Weekly report emails go from this hour on Monday, in each subscriber's time zone.
WEEKLY_REPORT_HOUR = env.int("WEEKLY_REPORT_HOUR", 8, validate=Range(min=0, max=23))
# Incidents a policy simulation replays at most (the newest of the range).
SIMULATION_MAX_INCIDENTS = env.int("SIMULATION_MAX_INCIDENTS", 2000, validate=Range(min=1))

# --- API ----------------------------------------------------------------------------------
# Token first: an anonymous API call answers 401 with `WWW-Authenticate: Token`.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["portal.throttles.TokenUserRateThrottle"],
    # Client addresses for throttles: the one our TLS proxy adds, never one the client sent.
    "NUM_PROXIES": 1 if BEHIND_TLS_PROXY else 0,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "portal.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Escalation portal API",
    "DESCRIPTION": (
        "Incidents, escalations, post-incident reviews, action items, metrics and the "
        "catalogue, with the same permissions and visibility rules as the web pages; "
        "alert ingestion from Alertmanager, Grafana and PagerDuty Events API v2 "
        "compatible senders."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SeverityEnum": "incidents.models.SEVERITY_CHOICES",
        "IncidentStatusEnum": "incidents.models.STATUS_CHOICES",
        "PublicStateEnum": "incidents.models.PUBLIC_STATE_CHOICES",
        "PolicyStatusEnum": "escalations.models.PolicyStatus",
        "ReviewStatusEnum": "escalations.models.ReviewStatus",
        "PreventionConfidenceEnum": "escalations.models.PreventionConfidence",
        "ActionItemStatusEnum": "escalations.models.ActionItemStatus",
        "ActionItemOutcomeEnum": "escalations.api.serializers.ITEM_OUTCOMES",
        "AlertStatusEnum": [("firing", "firing"), ("resolved", "resolved")],
        "EventsV2SeverityEnum": [(v, v) for v in ("critical", "error", "warning", "info")],
    },
}
# Token-authenticated API calls per user (DRF rate: N/second, minute, hour or day; "" = no
# limit); over it, 429 with Retry-After. Tokens older than API_TOKEN_TTL_DAYS answer 401 (0: never).
_RATE = Regexp(
    r"^$|^[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)$",
    error="must look like 600/minute (N per second, minute, hour or day), or be empty for no limit",
)
API_TOKEN_RATE = env.str("API_TOKEN_RATE", "600/minute", validate=_RATE)
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", 0, validate=Range(min=0, max=3650)) or 0
# Customer status page: replies and ratings (each notifies the assignee) per link and per address.
STATUS_PAGE_LINK_RATE = env.str("STATUS_PAGE_LINK_RATE", "10/hour", validate=_RATE)
STATUS_PAGE_ADDRESS_RATE = env.str("STATUS_PAGE_ADDRESS_RATE", "30/hour", validate=_RATE)
# The schema (/api/schema/) and its docs (/api/docs/) need a sign-in unless this is on.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", False)
# Alert webhooks bigger than this answer 413 before they are parsed.
ALERT_MAX_BODY = env.int("ALERT_MAX_BODY", 512 * 1024, validate=Range(min=1024))

# --- Security ------------------------------------------------------------------------------
# Sign-in throttling (web and admin) with django-axes: after LOGIN_FAILURE_LIMIT
# wrong passwords for one username from one address, that pair is refused for
# LOGIN_LOCKOUT_MINUTES (each further try restarts the wait); a success resets the count.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5, validate=Range(min=1, max=1000)) or 5
AXES_COOLOFF_TIME = timedelta(
    minutes=env.int("LOGIN_LOCKOUT_MINUTES", 15, validate=Range(min=1, max=7 * 24 * 60)) or 15
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.views.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "portal.throttles.client_address"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", HTTPS and not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000 if HTTPS and not DEBUG else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
# Preloading commits the whole domain to HTTPS for years: the site owner's call,
# so it stays off unless asked for and Django's reminder about it is silenced.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (Django's own, SECURE_CSP): scripts only from our origin, never
# inline, so injected markup cannot run. Styles may be inline: style="" attributes in
# pages and emails, and Swagger UI sets its own.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # Routine beat ticks and task results every few seconds drown what matters;
    # the sweep and the outbox log their real work themselves.
    "loggers": {
        "celery.beat": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
    },
    "root": {
        "handlers": ["console"],
        "level": env.str(
            "LOG_LEVEL", "INFO", validate=OneOf(["DEBUG", "INFO", "WARNING", "ERROR"])
        ),
    },
}

try:
    env.seal()
except EnvValidationError as error:
    for name, messages in error.error_messages.items():
        problems.setdefault(name, " ".join(map(str, messages)))
if problems:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "Bad environment variable(s): "
        + "; ".join(f"{name}: {message}" for name, message in sorted(problems.items()))
    )
