"""Test settings: real PostgreSQL and Redis. Missing either is an error, never a silent fallback."""

import os

from django.core.exceptions import ImproperlyConfigured

from server.settings.base import *  # noqa: F403

if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    raise ImproperlyConfigured("Tests run on PostgreSQL: set DATABASE_URL=postgres://... (make test does)")
if not os.environ.get("REDIS_URL"):
    raise ImproperlyConfigured("Tests run with Redis: set REDIS_URL=redis://... (make test does)")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast in tests; production uses PBKDF2
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Many tests register terminals from 127.0.0.1 against one Redis; the rate-limit tests set small limits themselves.
REGISTRATION_ATTEMPTS_PER_IP_PER_HOUR = 100_000
REGISTRATION_ATTEMPTS_PER_INSTITUTION_PER_HOUR = 100_000
