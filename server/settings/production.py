"""Production settings: PostgreSQL, Redis, HTTPS. `manage.py check --deploy` passes with these."""

import os

from django.core.exceptions import ImproperlyConfigured

from server.settings.base import *  # noqa: F403

DEBUG = False
if "DJANGO_SECRET_KEY" not in os.environ:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)  # noqa: F405
# Probes and the Prometheus scrape talk plain HTTP to gunicorn directly (nginx keeps these paths internal).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True  # with SESSION_COOKIE_HTTPONLY and CSRF_COOKIE_HTTPONLY from base.py (A01)
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Results are encrypted at rest (S06): production never uses the key derived from SECRET_KEY.
if not RESULT_ENCRYPTION_KEYS_FROM_ENV:  # noqa: F405
    raise ImproperlyConfigured("RESULT_ENCRYPTION_KEYS must be set in production (key_id:base64-of-32-bytes)")
