"""Rongxie settings, read from the environment (see .env.example).

With no DATABASE_URL / REDIS_URL the app runs on the embedded default: SQLite and jobs
run in-process. With them set it uses PostgreSQL and Celery workers on Redis.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# "production" turns on HTTPS-only cookies, HSTS and redirects, and requires SECRET_KEY.
RONGXIE_ENV = os.environ.get("RONGXIE_ENV", "development")
PRODUCTION = RONGXIE_ENV == "production"
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("RONGXIE_ENV=production needs SECRET_KEY")
    # Only for the embedded default on a developer's machine.
    SECRET_KEY = "django-insecure-rongxie-local-development-only"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "auditlog",
    "core",
    "accounts",
    "enterprises",
    "banks",
    "loans",
    "screening",
    "visits",
    "dashboards",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.RejectControlCharactersMiddleware",
    # Who, from where and by which token: read by the change history (core/history.py).
    "core.history.HistoryMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
VAR_DIR = Path(os.environ.get("RONGXIE_VAR_DIR", BASE_DIR / "var"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "rongxie.sqlite3",
            # Jobs write progress while pages read it: wait for the lock instead of failing.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The change history of coordination records (docs/history.md): before → after as JSON.
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_REMOTE_ADDR = False

# --- Language and time ----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- Static files (all vendored: intranet deployments have no internet) ---------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if not PRODUCTION
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# --- Uploads --------------------------------------------------------------------------
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_MB", "200")) * 1024 * 1024
# Share of failing rows above which a whole batch is rejected.
IMPORT_MAX_ERROR_RATE = float(os.environ.get("IMPORT_MAX_ERROR_RATE", "0.05"))
# Uploaded files hold enterprise data: they are deleted this many days after upload (the batch,
# its counts and row errors stay). 0 keeps them for ever.
IMPORT_KEEP_UPLOADS_DAYS = int(os.environ.get("IMPORT_KEEP_UPLOADS_DAYS", "90"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # larger uploads stream to a temp file

# --- Visits ---------------------------------------------------------------------------
# A visit that found a financing need or strong intent is due again this many days later.
VISIT_FOLLOW_UP_DAYS = int(os.environ.get("VISIT_FOLLOW_UP_DAYS", "30"))

# --- Celery and jobs ------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL  # embedded default: jobs run in-process
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "fail-stale-jobs": {"task": "core.tasks.fail_stale_jobs", "schedule": 60.0},
    "banks-daily-hand-off": {"task": "banks.tasks.daily_hand_off", "schedule": 24 * 3600.0},
    "loans-daily-maturity-watch": {
        "task": "loans.tasks.daily_maturity_watch",
        "schedule": 24 * 3600.0,
    },
    "purge-idempotency-keys": {
        "task": "core.tasks.purge_idempotency_keys",
        "schedule": 24 * 3600.0,
    },
}
# How long the first answer to a POST with an Idempotency-Key is kept for its retries.
IDEMPOTENCY_KEY_DAYS = int(os.environ.get("IDEMPOTENCY_KEY_DAYS", "7"))
# A running job that has not reported for this long is taken as lost (its worker died).
JOB_STALE_AFTER_SECONDS = int(os.environ.get("JOB_STALE_AFTER_SECONDS", "600"))

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "core.api.permissions.ScopeAllowsAction",  # no right for the action: 403
    ],
    # JSON bodies must be objects without control characters (see core.api.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONObjectParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rongxie 融协 API",
    "DESCRIPTION": "REST API for partner systems: enterprises, lists, loans, statistics.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"; name each enum after its choices class.
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "core.choices.JobStatus",  # jobs and screening runs share it
        "ImportStatusEnum": "enterprises.choices.ImportStatus",
        "RegistrationStatusEnum": "enterprises.choices.RegistrationStatus",
        "ProblemTypeEnum": "visits.choices.ProblemType",
        # loans, approvals, visits (acceptable guarantees) and bank feedback share these two
        "GuaranteeEnum": "loans.choices.Guarantee",
        "ProductEnum": "loans.choices.LoanProduct",
    },
}

# --- Security (RONGXIE_ENV=production) -------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free meta tag instead
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Jobs report their own progress; Celery's per-task lines only add noise in-process.
        "celery.app.trace": {"level": "WARNING"},
        # Django's own console handler would print each line a second time (e.g. the
        # autoreloader's "Watching for file changes"): its records go to the root's only.
        "django": {"level": "INFO"},
    },
}

# --- Loans (defaults for a county without its own loans.LoanRules row) -------------------
LOANS_PARTNER_AFTER_LOANS = 2
LOANS_PARTNER_PRODUCTS = 2
LOANS_MATURITY_WATCH_DAYS = int(os.environ.get("LOANS_MATURITY_WATCH_DAYS", "30"))
