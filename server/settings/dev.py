"""Developer and demo settings: the embedded default (SQLite, no Redis)."""

from server.settings.base import *  # noqa: F403
from server.settings.base import DATA_DIR, env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
DATA_DIR.mkdir(parents=True, exist_ok=True)
