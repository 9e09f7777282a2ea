"""N04 with a real Celery worker: the task goes through Redis and the worker writes to the PostgreSQL test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from server.sandbox import query as q
from server.sandbox.models import InsuredPerson, RegistrationRequest

from .conftest import card_query

ROOT = Path(__file__).resolve().parents[3]


def _database_url() -> str:
    db = django_settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker():
    env = dict(os.environ, DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="server.settings.test")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "server", "worker", "--pool", "solo", "-l", "warning",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_completes_the_registration(demo_cards, worker, settings):
    settings.SANDBOX_REGISTRATION_DELAY_SECONDS = 0
    InsuredPerson.objects.filter(name="未登録 花子").update(registration="not_registered")
    request = q.request_registration(card_query(demo_cards["未登録 花子"], "pin"), terms_accepted=True)
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        request.refresh_from_db()
        if request.status != RegistrationRequest.Status.PROCESSING:
            break
        assert worker.poll() is None, worker.stdout.read().decode(errors="replace")
        time.sleep(0.2)
    assert request.status == RegistrationRequest.Status.COMPLETED
    assert InsuredPerson.objects.get(name="未登録 花子").registration == "registered"


@pytest.mark.django_db(transaction=True)
def test_a_registration_whose_task_was_lost_is_completed_by_the_recovery(demo_cards, settings, tmp_path):
    """Issue 15 point 2: the queue lost the completion task (a killed worker, a restarted Redis); the beat task
    sandbox.recover_stuck_registrations queues it again and the registration leaves 処理中."""
    from server.celery import app

    InsuredPerson.objects.filter(name="未登録 花子").update(registration="not_registered")
    request = q.request_registration(card_query(demo_cards["未登録 花子"], "pin"), terms_accepted=True)
    app.control.purge()  # the message is gone
    RegistrationRequest.objects.filter(pk=request.pk).update(requested_at=request.requested_at - timedelta(hours=1))
    env = dict(os.environ, DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="server.settings.test",
               WORK_RECOVERY_INTERVAL_SECONDS="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "server", "worker", "--pool", "solo", "-l", "warning", "-B",
         "--schedule", str(tmp_path / "beat-schedule"), "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            request.refresh_from_db()
            if request.status != RegistrationRequest.Status.PROCESSING:
                break
            assert process.poll() is None, process.stdout.read().decode(errors="replace")
            time.sleep(0.2)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    assert request.status == RegistrationRequest.Status.COMPLETED
