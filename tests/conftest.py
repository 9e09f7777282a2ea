"""Fixtures shared by every part of the suite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The terminal fixtures (clinic, terminal, check, ui, stub_window), shared by tests/terminal and tests/e2e.
pytest_plugins = ["tests.terminal.fixtures"]


def _database_url_for(name: str) -> str:
    parts = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(parts._replace(path=f"/{name}"))


@pytest.fixture
def celery_worker_process(transactional_db) -> Iterator[subprocess.Popen]:
    """A real Celery worker process on the test database and the Redis broker (S10).

    Tests that use it must commit their data (``transactional_db``) so that the worker sees it. The queue is purged
    first so that a task left over from an earlier run cannot be mistaken for this test's.
    """
    from django.db import connection

    from server.celery import app

    app.control.purge()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for(connection.settings_dict["NAME"]),
        "DJANGO_SETTINGS_MODULE": "server.settings.test",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "server", "worker", "--pool", "solo", "--concurrency", "1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING",
         "--hostname", f"test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise RuntimeError(f"the Celery worker exited: {worker.stdout.read() if worker.stdout else ''}")
            if app.control.ping(timeout=0.5):
                break
        else:
            raise RuntimeError("the Celery worker did not answer a ping within 30 s (is Redis up?)")
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
