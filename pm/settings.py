"""Lodestar settings: one module, configured through environment variables.

Production is the default: DEBUG is off, SECRET_KEY is required and cookies are secure.
`DEBUG=1` is the trial mode: a development key, an embedded SQLite database, tasks run
in-process and e-mail printed to the console.
"""

import ipaddress
import re
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Queue

from pm.api.versioning import API_VERSION
from pm.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", False)

SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string, or set DEBUG=1 for trial use."
        )
    # Trial mode only: a fixed development key, announced so nobody runs it in production.
    SECRET_KEY = "lodestar-trial-mode-insecure-development-key-do-not-use-in-production"
    print("Lodestar: DEBUG=1 trial mode with a development SECRET_KEY.", file=sys.stderr)

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI files for /api/docs/, served locally (CSP)
    "django_otp",  # two-factor sign-in (pm.twofactor): authenticator apps and recovery codes
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "pm",
    "backlog",
    "roadmap",
    "feedback",
    "metrics",
    "hooks",
    "imports",
]

MIDDLEWARE = [
    "pm.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "pm.api.versioning.ApiVersionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pm.twofactor.EnrolmentMiddleware",
    "pm.middleware.PrivateCacheMiddleware",
    "pm.permissions.CurrentRequestMiddleware",
    "pm.input_guard.RejectNulMiddleware",
    "pm.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "pm.urls"
WSGI_APPLICATION = "pm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pm.context_processors.navigation",
            ],
            "builtins": ["pm.templatetags.lodestar"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Never prepared statements (Django's default, spelled out): behind PgBouncer in transaction
    # pooling the next execution may run on a server connection that never saw the PREPARE.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
    # Behind PgBouncer in transaction pooling (compose profile "pgbouncer", docs/scaling.md) set
    # DISABLE_SERVER_SIDE_CURSORS=1: QuerySet.iterator() then fetches with plain queries instead
    # of a cursor that lives in one server session across transactions.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = envbool(
        "DISABLE_SERVER_SIDE_CURSORS", False
    )
# An optional read replica (pm/dbrouter.py): web requests read from it, unless they or the same
# browser or API token wrote within REPLICA_PIN_SECONDS, or they are inside a transaction; writes,
# tasks and commands use the primary.
DATABASE_REPLICA_URL = envstr("DATABASE_REPLICA_URL")
REPLICA_PIN_SECONDS = envint("REPLICA_PIN_SECONDS", 10)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(
            DATABASE_REPLICA_URL,
            conn_max_age=envint("DB_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        ),
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        "DISABLE_SERVER_SIDE_CURSORS": DATABASES["default"].get(
            "DISABLE_SERVER_SIDE_CURSORS", False
        ),
        # Tests read a copy of the test database (tests/test_replica.py), never a real replica.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["pm.dbrouter.ReplicaRouter"]
    # Right after the health check: it decides the request's pin before anything reads.
    MIDDLEWARE.insert(1, "pm.dbrouter.ReadYourWritesMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": envstr("CACHE_KEY_PREFIX", "lodestar"),
            # An unreachable Redis answers an error within seconds instead of hanging requests.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in lockout (pm/lockout.py): failures per username+IP, and per IP, within the window.
LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
LOGIN_IP_FAILURE_LIMIT = envint("LOGIN_IP_FAILURE_LIMIT", 100)
LOGIN_LOCKOUT_SECONDS = envint("LOGIN_LOCKOUT_SECONDS", 15 * 60)
# Single sign-on through the company's OpenID Connect provider (pm/sso.py, mozilla-django-oidc):
# on when OIDC_RP_CLIENT_ID is set. Authorization code flow with PKCE (S256) and a nonce; the ID
# token's signature (JWKS), issuer and audience are checked.
OIDC_RP_CLIENT_ID = envstr("OIDC_RP_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = envstr("OIDC_RP_CLIENT_SECRET")
OIDC_OP_ISSUER = envstr("OIDC_OP_ISSUER")
OIDC_OP_AUTHORIZATION_ENDPOINT = envstr("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = envstr("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = envstr("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = envstr("OIDC_OP_JWKS_ENDPOINT")
OIDC_RP_SIGN_ALGO = envstr("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = envstr("OIDC_RP_SCOPES", "openid email profile")
OIDC_TIMEOUT = envint("OIDC_TIMEOUT", 10)
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_AUTHENTICATION_CALLBACK_URL = "sso_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/"
SSO_BUTTON_LABEL = envstr("SSO_BUTTON_LABEL", "Sign in with single sign-on")
# PASSWORD_LOGIN=0: everyone signs in through the identity provider (password sign-in, password
# reset and the admin's own sign-in form are off).
PASSWORD_LOGIN = envbool("PASSWORD_LOGIN", True)
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
if OIDC_RP_CLIENT_ID:
    _missing = [
        name
        for name in (
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not globals()[name]
    ]
    if _missing:
        raise ImproperlyConfigured(
            f"OIDC_RP_CLIENT_ID is set, so single sign-on needs {', '.join(_missing)} too."
        )
    AUTHENTICATION_BACKENDS.append("pm.sso.OIDCBackend")
elif not PASSWORD_LOGIN:
    raise ImproperlyConfigured(
        "PASSWORD_LOGIN=0 leaves no way to sign in: configure single sign-on (OIDC_RP_CLIENT_ID)."
    )

# Two-factor sign-in (pm.twofactor): the name authenticator apps show next to the code.
OTP_TOTP_ISSUER = envstr("OTP_TOTP_ISSUER", "Lodestar")
# Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For is believed (pm/clientip.py).
TRUSTED_PROXIES = envlist("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or CIDR network."
        ) from None
# How long a password-reset link works, and how many reset e-mails an address gets per hour.
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_TIMEOUT", 60 * 60)
PASSWORD_RESET_PER_HOUR = envint("PASSWORD_RESET_PER_HOUR", 3)

# Public ideas portal: per-IP limits per hour.
FEEDBACK_PORTAL_VOTES_PER_HOUR = envint("FEEDBACK_PORTAL_VOTES_PER_HOUR", 20)
FEEDBACK_PORTAL_SUBMISSIONS_PER_HOUR = envint("FEEDBACK_PORTAL_SUBMISSIONS_PER_HOUR", 5)
# The largest workspace export the members page imports (bigger: manage.py import_workspace).
WORKSPACE_IMPORT_MAX_MB = envint("WORKSPACE_IMPORT_MAX_MB", 100)

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
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
WHITENOISE_USE_FINDERS = envbool("WHITENOISE_USE_FINDERS", DEBUG)

# E-mail (Django 6.1 mailers): SMTP when EMAIL_HOST is set, files in EMAIL_FILE_PATH when that is
# set, the console in trial mode (DEBUG=1), and in production nothing (pm.mail).
# Port 465 is implicit TLS (EMAIL_USE_SSL); elsewhere STARTTLS (EMAIL_USE_TLS) unless turned off.
_email_use_ssl = envbool("EMAIL_USE_SSL", envint("EMAIL_PORT", 587) == 465)
_email_use_tls = envbool("EMAIL_USE_TLS", not _email_use_ssl)
if _email_use_ssl and _email_use_tls:
    raise ImproperlyConfigured(
        "EMAIL_USE_TLS=1 and EMAIL_USE_SSL=1 exclude each other: port 465 wants EMAIL_USE_SSL=1 "
        "alone, port 587 EMAIL_USE_TLS=1 (STARTTLS)."
    )
if envstr("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": envstr("EMAIL_HOST"),
                "port": envint("EMAIL_PORT", 587),
                "username": envstr("EMAIL_HOST_USER"),
                "password": envstr("EMAIL_HOST_PASSWORD"),
                "use_tls": _email_use_tls,
                "use_ssl": _email_use_ssl,
                "timeout": envint("EMAIL_TIMEOUT", 20),
            },
        }
    }
elif envstr("EMAIL_FILE_PATH"):
    # One file per batch of messages in that directory: for inspecting mail without a server.
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": envstr("EMAIL_FILE_PATH")},
        }
    }
elif DEBUG:
    # Readable messages with whole links (pm.mail.ConsoleBackend), not raw MIME.
    MAILERS = {"default": {"BACKEND": "pm.mail.ConsoleBackend"}}
else:
    # Production without a mail server: sending fails visibly (invitation status, a banner for
    # admins) instead of printing invitation links, which are bearer tokens, to stdout.
    MAILERS = {"default": {"BACKEND": "pm.mail.UnconfiguredBackend"}}
# How long a digest run's claim holds without renewal; a dead run's digests go out again at the
# next beat tick after that (pm/digests.py).
DIGEST_LEASE_SECONDS = envint("DIGEST_LEASE_SECONDS", 120)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Lodestar <lodestar@localhost>")
# An invitation e-mail the mail server did not take is retried this often, waiting this many
# seconds (doubling each time, at most 10 minutes) before it shows as failed on Members.
INVITATION_EMAIL_RETRIES = envint("INVITATION_EMAIL_RETRIES", 5)
# Seconds a mention or comment e-mail waits, so that a burst of them goes out as one e-mail.
NOTIFICATION_EMAIL_DELAY = envint("NOTIFICATION_EMAIL_DELAY", 120)
INVITATION_EMAIL_RETRY_SECONDS = envint("INVITATION_EMAIL_RETRY_SECONDS", 30)
# The port `make run` serves on in trial mode, so links in console e-mails work.
PORT = envint("PORT", 8000)
# Absolute links in e-mails (invitations, digests). Required in production: a forgotten value must
# not silently send bearer-token links to a placeholder domain.
SITE_URL = envstr("SITE_URL", f"http://127.0.0.1:{PORT}" if DEBUG else "").strip().rstrip("/")
if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", SITE_URL):
    raise ImproperlyConfigured(
        f"SITE_URL={SITE_URL!r} is not set to an http(s) address. Set it to the address users "
        "open, e.g. https://lodestar.yourcompany.com: invitation and digest e-mails link to it."
    )

# Security: strict by default, relaxed only in trial mode.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
if envbool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No inline scripts or styles anywhere: every script and stylesheet is a static file.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}


def _api_rate(name: str, default: str) -> str:
    rate = envstr(name, default)
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(f"{name}={rate!r} is not a rate such as 600/min.")
    return rate


# The REST API (pm/api/): token or session authentication, one error shape, throttling.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pm.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "pm.api.permissions.TokenScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["pm.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "pm.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["pm.api.throttling.ApiRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": _api_rate("API_RATE_TOKEN", "1200/min"),
        "user": _api_rate("API_RATE_USER", "1200/min"),
        "anon": _api_rate("API_RATE_ANON", "60/min"),
    },
    "EXCEPTION_HANDLER": "pm.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "pm.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lodestar API",
    "DESCRIPTION": (
        "Products, stories, sprints, features and ideas (and the other apps' resources) for "
        "engineers and integrations. Authenticate with `Authorization: Token <key>` (or "
        "`Bearer <key>`). Every response carries `API-Version`; what changed between versions, "
        "and how something is retired (`Deprecation` and `Sunset` headers, at least "
        "180 days' notice), is in docs/api-changelog.md."
    ),
    "VERSION": API_VERSION,
    "SERVERS": [{"url": SITE_URL or "/", "description": "This Lodestar"}],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "pm.api.schema.postprocess",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "StoryStatusEnum": "backlog.choices.StoryStatus",
        "FeatureStatusEnum": "backlog.choices.FeatureStatus",
        "IdeaStatusEnum": "backlog.choices.IdeaStatus",
        "IdeaSourceEnum": "backlog.choices.IdeaSource",
        "FeatureKindEnum": "backlog.choices.FeatureKind",
        # Other apps' choice sets whose field names collide (spectacular's check warns).
        "FeedbackStatusEnum": "feedback.choices.FeedbackStatus",
        "InitiativeStatusEnum": "roadmap.choices.InitiativeStatus",
        "PrecisionEnum": "roadmap.choices.Precision",
        "FeedbackSourceEnum": "feedback.choices.Source",
    },
}

# Celery: a Redis broker when REDIS_URL is set; otherwise tasks run eagerly in-process.
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = envstr("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Nothing is ever sent; an in-memory transport keeps kombu from warning about a missing host.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 14 * 60)
CELERY_TASK_ACKS_LATE = False  # per task: the idempotent ones acknowledge late (metrics.tasks)
# A task taken but not acknowledged (acks_late, or waiting for its countdown) goes back to the
# queue after this long: longer than any task may run plus its longest retry countdown, or a
# running task would be handed out twice (tests/test_celery_config.py checks).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 2 * 3600)
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Queues by kind of work, so that a flood of one kind (a big import, the nightly rollups) never
# delays another (an invitation e-mail), and each kind can get its own workers: docker-compose.yml
# runs one worker service per group of queues (-Q), docs/scaling.md says how to split them further.
# A worker started without -Q consumes all of them (a small install, `celery -A pm worker`).
CELERY_TASK_DEFAULT_QUEUE = "celery"  # everything short and interactive: e-mails, purges
CELERY_TASK_QUEUES = [
    Queue(name)
    for name in ("celery", "ingest", "rollups", "digests", "imports", "embeddings", "webhooks")
]
# Every task is named here, also those on the default queue: a task without a route fails
# tests/test_celery_config.py, so each new task's queue is a decision, not an accident.
CELERY_TASK_ROUTES = {
    "pm.tasks.ping": {"queue": "celery"},
    "pm.tasks.send_invitation_email": {"queue": "celery"},
    "pm.tasks.purge_idempotency_keys": {"queue": "celery"},
    "pm.tasks.purge_expired_invitations": {"queue": "celery"},
    "feedback.tasks.send_vote_confirmation": {"queue": "celery"},
    # Digest e-mails: a burst every quarter of an hour, batches of SMTP round trips.
    "pm.tasks.schedule_digests": {"queue": "digests"},
    # Mention and comment e-mails: batched per user, and the daily reminder of unread mentions.
    "pm.tasks.send_notification_emails": {"queue": "digests"},
    "pm.tasks.send_mention_reminders": {"queue": "digests"},
    "pm.tasks.send_digest_batch": {"queue": "digests"},
    # KPI rollups: incremental after each ingestion, the sweep every minute, all of them nightly.
    "metrics.tasks.recalculate_kpi": {"queue": "rollups"},
    "metrics.tasks.recalculate_kpi_full": {"queue": "rollups"},
    "metrics.tasks.recalculate_all_kpis": {"queue": "rollups"},
    "metrics.tasks.sweep_dirty_ranges": {"queue": "rollups"},
    "metrics.tasks.create_kpi_partitions": {"queue": "rollups"},
    # Uploaded files: minutes of parsing and bulk writes each.
    "metrics.tasks.import_points_file": {"queue": "imports"},
    "feedback.tasks.import_feedback_file": {"queue": "imports"},
    "imports.tasks.import_tool_file": {"queue": "imports"},
    # The local embedding model: a saved row's vector, and the nightly re-clustering of themes.
    "feedback.tasks.embed_rows": {"queue": "embeddings"},
    "feedback.tasks.recluster_themes": {"queue": "embeddings"},
    "feedback.tasks.recluster_all_themes": {"queue": "embeddings"},
    # Webhook deliveries (calls out to other people's servers, up to 10 s each) and the
    # minute's sweep of the ones a dead worker left: a slow receiver never holds up the rest.
    "hooks.tasks.deliver_webhook": {"queue": "webhooks"},
    "hooks.tasks.sweep_webhooks": {"queue": "webhooks"},
    # ingest (events pushed by integrations) takes the tasks of that feature as it lands.
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# The local embedding model (feedback.semantic): threads per process (workers run one task at a
# time; more threads help a dedicated embeddings worker), and whether saves queue embeddings.
EMBEDDING_THREADS = envint("EMBEDDING_THREADS", 1)
SEMANTIC_EMBED_ON_WRITE = envbool("SEMANTIC_EMBED_ON_WRITE", True)
CELERY_TIMEZONE = TIME_ZONE
# Webhooks out (hooks/): retries double from the base up to the cap, for the window; an endpoint
# failing without a success for DISABLE_AFTER_DAYS is turned off and its admins are e-mailed.
WEBHOOK_TIMEOUT_SECONDS = envint("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_RETRY_BASE_SECONDS = envint("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_RETRY_MAX_SECONDS = envint("WEBHOOK_RETRY_MAX_SECONDS", 3600)
WEBHOOK_RETRY_WINDOW_SECONDS = envint("WEBHOOK_RETRY_WINDOW_SECONDS", 24 * 3600)
WEBHOOK_DISABLE_AFTER_DAYS = envint("WEBHOOK_DISABLE_AFTER_DAYS", 3)
# How long a claimed delivery is someone's: more than a request can take.
WEBHOOK_LEASE_SECONDS = envint("WEBHOOK_LEASE_SECONDS", 2 * WEBHOOK_TIMEOUT_SECONDS + 30)
WEBHOOK_SWEEP_GRACE_SECONDS = envint("WEBHOOK_SWEEP_GRACE_SECONDS", 60)
# Receivers on private networks (10/8, 192.168/16, …) or this machine are refused unless allowed:
# a webhook URL is a request Lodestar makes on an admin's behalf (SSRF).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = envbool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
WEBHOOK_ALLOW_LOOPBACK = envbool("WEBHOOK_ALLOW_LOOPBACK", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"client_errors_one_line": {"()": "pm.logfilters.ClientErrorsOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    # 403s and other refusals: one warning line each, no traceback (pm/logfilters.py).
    "loggers": {"django.request": {"filters": ["client_errors_one_line"]}},
}
