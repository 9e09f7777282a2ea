"""Developer and demo settings: the embedded default (SQLite, no Redis)."""

import os

from server.settings.base import *  # noqa: F403
from server.settings.base import DATA_DIR, env_bool, logging_config

DEBUG = env_bool("DJANGO_DEBUG", True)
DATA_DIR.mkdir(parents=True, exist_ok=True)

# Serve app static files straight from their folders: no collectstatic needed for the demo.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Readable log lines in a developer's terminal (production and tests keep JSON lines).
LOGGING = logging_config(os.environ.get("LOG_FORMAT", "console"), os.environ.get("LOG_LEVEL", "INFO"))
