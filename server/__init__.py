"""The clinic server: a Django project with one app per domain (see spec/ARCHITECTURE.md)."""

from server.celery import app as celery_app

__all__ = ["celery_app"]
