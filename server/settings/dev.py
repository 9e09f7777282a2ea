"""Developer and demo settings: the embedded default (SQLite, no Redis)."""

from server.settings.base import *  # noqa: F403
from server.settings.base import DATA_DIR, env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
DATA_DIR.mkdir(parents=True, exist_ok=True)

# Serve app static files straight from their folders: no collectstatic needed for the demo.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
