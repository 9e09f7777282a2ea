"""Settings shared by every environment. Everything that differs between machines comes from the environment.

DATABASE_URL selects the database (default: an embedded SQLite file); REDIS_URL selects Redis as Celery broker and
cache (default: no broker, tasks run eagerly, local-memory cache).
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from server.ops.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("MYNA_DATA_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


# Secrets may also come as files (docker-compose's keys volume, systemd credentials, Kubernetes secrets):
# NAME_FILE=/path sets NAME from the file's content, unless NAME itself is set. See server/ops/init_secrets.py.
SECRET_FILE_VARIABLES = ("DJANGO_SECRET_KEY", "RESULT_ENCRYPTION_KEYS", "ACTIVATION_CODE_PEPPER")
for _name in SECRET_FILE_VARIABLES:
    if os.environ.get(f"{_name}_FILE") and _name not in os.environ:
        os.environ[_name] = Path(os.environ[f"{_name}_FILE"]).read_text().strip()

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "server.institutions",
    "server.devices",
    "server.results",
    "server.audit",
    "server.sandbox",
    "server.notices",
    "server.demo",
    "server.ops",
    "admin_ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "server.common.middleware.RequestIdMiddleware",
    "server.ops.middleware.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "server.urls"
WSGI_APPLICATION = "server.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'myna.sqlite3'}"), conn_max_age=60
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # Embedded default: no broker service. Tasks run in-process; the nonce cache lives in this process's memory.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "myna"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
# Work survives a killed worker (issue 15 point 2). A task is acknowledged only when it has finished (acks_late), and
# a pool child that dies mid-task gives its message back at once (reject_on_worker_lost). A worker killed as a whole
# (SIGKILL, OOM, power) cannot give anything back: Redis keeps its unacknowledged message and hands it out again after
# the visibility timeout, which must outlast the longest task and the longest countdown (a retry's backoff), or a
# task still running would be delivered twice. The beat tasks ``*.recover_stuck_*`` requeue or fail stuck work long
# before that (every WORK_RECOVERY_INTERVAL_SECONDS; an export without progress for RESULT_EXPORT_STUCK_SECONDS).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Tokyo"
TASK_TIME_LIMIT_SECONDS = int(os.environ.get("TASK_TIME_LIMIT_SECONDS", "600"))  # the longest task: an export
TASK_RETRY_BACKOFF_MAX_SECONDS = 600
CELERY_TASK_SOFT_TIME_LIMIT = TASK_TIME_LIMIT_SECONDS
CELERY_TASK_TIME_LIMIT = TASK_TIME_LIMIT_SECONDS + 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": max(CELERY_TASK_TIME_LIMIT, TASK_RETRY_BACKOFF_MAX_SECONDS) + 300
}
# Redis lost mid-task: cancel what runs (its message comes back) instead of finishing it unacknowledged twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
WORK_RECOVERY_INTERVAL_SECONDS = float(os.environ.get("WORK_RECOVERY_INTERVAL_SECONDS", "60"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# collectstatic target; the Docker image keeps it in the image (/app/static), not in the data volume.
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", DATA_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "/console/login/"
LOGIN_REDIRECT_URL = "/console/"

# Console sessions (A01): a shared reception PC. A session ends after this many idle minutes (every request renews
# it) and when the browser closes (no persistent cookie). Only console users have sessions; terminals sign requests.
CONSOLE_IDLE_TIMEOUT_MINUTES = int(os.environ.get("CONSOLE_IDLE_TIMEOUT_MINUTES", "15"))
SESSION_COOKIE_AGE = CONSOLE_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("CONSOLE_SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # no script reads it: forms carry the token
CSRF_FAILURE_VIEW = "admin_ui.errors.csrf_failure"
# Two-factor sign-in (A01, django-otp TOTP): users who enrolled a device always give a code; with this set, every
# console user must enrol one at the next sign-in.
CONSOLE_REQUIRE_TOTP = env_bool("CONSOLE_REQUIRE_TOTP", False)
OTP_TOTP_ISSUER = "マイナ資格確認 管理コンソール"

# Content-Security-Policy (django-csp): no inline script and no inline style anywhere, nothing from another origin
# (a clinic LAN may have no internet). The API's Swagger page is exempt (server/urls.py): it loads its own assets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["server.common.negotiation.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "EXCEPTION_HANDLER": "server.common.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "マイナ資格確認 clinic server API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "server.common.schema.complete_error_responses",
    ],
}

# Device authentication (S03): RFC 9421 signatures, clock window and nonce lifetime in seconds.
DEVICE_SIGNATURE_CLOCK_SKEW = int(os.environ.get("DEVICE_SIGNATURE_CLOCK_SKEW", "300"))
ACTIVATION_CODE_TTL_HOURS = int(os.environ.get("ACTIVATION_CODE_TTL_HOURS", "24"))
# Keyed hash of activation codes; separate from SECRET_KEY so that rotating one does not void the other.
ACTIVATION_CODE_PEPPER = os.environ.get("ACTIVATION_CODE_PEPPER", SECRET_KEY)
# Activation-code guessing (S01): registration attempts per client IP and per institution code, per hour (Redis).
REGISTRATION_ATTEMPTS_PER_IP_PER_HOUR = int(os.environ.get("REGISTRATION_ATTEMPTS_PER_IP_PER_HOUR", "20"))
REGISTRATION_ATTEMPTS_PER_INSTITUTION_PER_HOUR = int(
    os.environ.get("REGISTRATION_ATTEMPTS_PER_INSTITUTION_PER_HOUR", "30")
)
# Heartbeat (S04): a device silent for this long is marked offline by the devices.mark_offline beat task.
DEVICE_OFFLINE_AFTER_MINUTES = int(os.environ.get("DEVICE_OFFLINE_AFTER_MINUTES", "15"))
DEVICE_HEARTBEAT_INTERVAL_SECONDS = int(os.environ.get("DEVICE_HEARTBEAT_INTERVAL_SECONDS", "60"))

# Results at rest (S06): AES-GCM keys as "key_id:base64-of-32-bytes,..." and the id new rows are written with.
# Without them (embedded/dev mode) one key is derived from SECRET_KEY; production.py refuses to start without them.
RESULT_ENCRYPTION_KEYS_FROM_ENV = bool(os.environ.get("RESULT_ENCRYPTION_KEYS"))
if RESULT_ENCRYPTION_KEYS_FROM_ENV:
    RESULT_ENCRYPTION_KEYS = dict(
        item.strip().split(":", 1) for item in os.environ["RESULT_ENCRYPTION_KEYS"].split(",") if item.strip()
    )
    RESULT_ENCRYPTION_KEY_ID = os.environ.get("RESULT_ENCRYPTION_KEY_ID") or next(iter(RESULT_ENCRYPTION_KEYS))
else:
    RESULT_ENCRYPTION_KEYS = {
        "dev": base64.b64encode(hashlib.sha256(b"myna-result-key\0" + SECRET_KEY.encode()).digest()).decode()
    }
    RESULT_ENCRYPTION_KEY_ID = "dev"
# Retention purge (S10): results older than this many months are deleted by the beat task.
RESULT_RETENTION_MONTHS = int(os.environ.get("RESULT_RETENTION_MONTHS", "13"))
# Background CSV exports (S10): how long a finished export can be downloaded.
RESULT_EXPORT_TTL_MINUTES = int(os.environ.get("RESULT_EXPORT_TTL_MINUTES", "60"))
# A build saves its progress after every 1,000 rows (well under a second each): a pending or running export without a
# sign of life for this long has lost its worker or its message, and is queued again (issue 15 point 2).
RESULT_EXPORT_STUCK_SECONDS = int(os.environ.get("RESULT_EXPORT_STUCK_SECONDS", "120"))

# Celery beat (S10). One entry per periodic task; other apps add theirs next to these.
CELERY_BEAT_SCHEDULE = {
    "results-purge-expired": {"task": "results.purge_expired", "schedule": crontab(hour=3, minute=30)},
    "results-exports-cleanup": {"task": "results.cleanup_exports", "schedule": crontab(minute=15)},
}

CELERY_BEAT_SCHEDULE["devices-mark-offline"] = {"task": "devices.mark_offline", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["results-recover-stuck-exports"] = {
    "task": "results.recover_stuck_exports",
    "schedule": WORK_RECOVERY_INTERVAL_SECONDS,
}
CELERY_BEAT_SCHEDULE["sandbox-recover-stuck-registrations"] = {
    "task": "sandbox.recover_stuck_registrations",
    "schedule": WORK_RECOVERY_INTERVAL_SECONDS,
}

# Sandbox (stand-in for オンライン資格確認等システム): where the test JPKI CA keeps its files.
SANDBOX_CA_DIR = Path(os.environ.get("SANDBOX_CA_DIR", DATA_DIR / "sandbox-ca"))
# How long a sandbox 保険証利用登録 stays 処理中 before the Celery task completes it (N04).
SANDBOX_REGISTRATION_DELAY_SECONDS = int(os.environ.get("SANDBOX_REGISTRATION_DELAY_SECONDS", "5"))

# Structured logs (server/ops/logs.py): JSON lines on stderr; LOG_FORMAT=console for a developer's terminal.
LOGGING = logging_config(os.environ.get("LOG_FORMAT", "json"), os.environ.get("LOG_LEVEL", "INFO"))
# Celery workers log through LOGGING too (same JSON lines, with task id and name) instead of their own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
