"""Settings of bench/auth.py's server: production's, plus DRF's TokenAuthentication (rest_framework.authtoken) and one
more URL — the heartbeat behind a token (bench/_token_urls.py). Nothing of this reaches the product."""

from server.settings.production import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework.authtoken"]  # noqa: F405
ROOT_URLCONF = "bench._token_urls"
