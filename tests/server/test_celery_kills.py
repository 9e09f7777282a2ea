"""Celery that survives kills (issue 15 point 2, S10): a worker SIGKILLed in the middle of an export leaves it
``running`` with its message unacknowledged in Redis; the beat task ``results.recover_stuck_exports`` of another
worker finds it silent and queues it again, and it finishes — within seconds here (short deadlines by environment),
within minutes with the defaults. An export that keeps dying is failed with the reason; one whose message the queue
lost is built anyway. Real worker processes, real Redis, real PostgreSQL."""

from __future__ import annotations

import csv
import datetime
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from server.celery import app
from server.results import tasks
from server.results.exports import MAX_BUILD_ATTEMPTS, do_build_export, do_recover_stuck_exports, export_content
from server.results.models import ResultExport
from tests.conftest import ROOT, _database_url_for
from tests.server import factories

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def worker(tmp_path: Path, name: str, *extra: str, **env: str) -> Iterator[subprocess.Popen]:
    """A Celery worker process (solo pool) on the test database; ``-B`` in ``extra`` embeds beat."""
    process_env = {
        **os.environ,
        "DATABASE_URL": _database_url_for(connection.settings_dict["NAME"]),
        "DJANGO_SETTINGS_MODULE": "server.settings.test",
        **env,
    }
    process_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "server", "worker", "--pool", "solo", "--without-gossip",
         "--without-mingle", "--loglevel", "WARNING", "--hostname", f"{name}-{os.getpid()}@%h", *extra],
        cwd=ROOT, env=process_env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(destination=[f"{name}-{os.getpid()}@{os.uname().nodename}"], timeout=0.5):
            assert process.poll() is None, (tmp_path / f"{name}.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "the worker did not answer within 30 s"
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def export_of(export_id: str) -> ResultExport:
    return ResultExport.objects.get(pk=export_id)


def test_task_options_and_the_visibility_timeout():
    """Late ack and reject-on-worker-lost everywhere; the visibility timeout outlasts the longest task and the
    longest countdown, so that a task still running is never handed out twice."""
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    visibility = conf.broker_transport_options["visibility_timeout"]
    longest_countdown = max(settings.TASK_RETRY_BACKOFF_MAX_SECONDS, settings.SANDBOX_REGISTRATION_DELAY_SECONDS)
    assert visibility > conf.task_time_limit > conf.task_soft_time_limit
    assert visibility > longest_countdown
    for name in ("results.build_export", "results.purge_expired", "results.cleanup_exports"):
        assert app.tasks[name].retry_backoff_max <= settings.TASK_RETRY_BACKOFF_MAX_SECONDS
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"results.recover_stuck_exports", "sandbox.recover_stuck_registrations"} <= schedule
    # The recovery comes long before the broker would hand the message out again.
    assert visibility / 3 > settings.RESULT_EXPORT_STUCK_SECONDS + settings.WORK_RECOVERY_INTERVAL_SECONDS


def test_a_sigkilled_export_is_finished_by_another_worker(terminal, tmp_path):
    items = [factories.batch_item() for _ in range(30)]
    assert terminal.call("POST", "/api/v1/results/batch", {"results": items}).status_code == 200
    app.control.purge()

    # Hold the results table so that the build stops right after claiming the export, then kill its worker.
    lock = psycopg.connect(_database_url_for(connection.settings_dict["NAME"]))
    lock.execute("LOCK TABLE results_checkresult IN ACCESS EXCLUSIVE MODE")
    try:
        with worker(tmp_path, "doomed") as doomed:
            export_id = terminal.call("POST", "/api/v1/results/exports", {"scope": "device"}).json()["export_id"]
            wait_for(lambda: export_of(export_id).status == "running", 30, "the build starting")
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait(timeout=10)
    finally:
        lock.rollback()
        lock.close()
    killed = export_of(export_id)
    assert killed.status == "running" and killed.attempts == 1

    # A message the queue lost (Redis restarted without its data): pending, never delivered.
    lost = ResultExport.objects.create(
        institution_id=killed.institution_id, device_id=killed.device_id, scope="device",
        date_from=killed.date_from, date_to=killed.date_to,
    )
    # An export whose builds keep dying: given up with the reason instead of looping.
    hopeless = ResultExport.objects.create(
        institution_id=killed.institution_id, device_id=killed.device_id, scope="device",
        date_from=killed.date_from, date_to=killed.date_to, status="running", attempts=MAX_BUILD_ATTEMPTS,
        heartbeat_at=timezone.now() - datetime.timedelta(hours=1),
    )

    started = time.monotonic()
    with worker(tmp_path, "rescuer", "-B", "--schedule", str(tmp_path / "beat-schedule"),
                RESULT_EXPORT_STUCK_SECONDS="3", WORK_RECOVERY_INTERVAL_SECONDS="1"):
        for pk in (export_id, lost.pk):
            wait_for(lambda pk=pk: export_of(pk).status in ("done", "failed"), 60, f"export {pk} finishing")
        wait_for(lambda: export_of(hopeless.pk).status == "failed", 30, "the hopeless export failing")
        elapsed = time.monotonic() - started

        rescued = export_of(export_id)
        assert rescued.status == "done", (rescued.status, rescued.error_message)
        assert rescued.attempts == 2 and rescued.rows_total == rescued.rows_done == 30
        rows = list(csv.reader(io.StringIO(export_content(rescued).decode("utf-8-sig"))))
        assert len(rows) == 31 and {r[-1] for r in rows[1:]} == {i["id"] for i in items}
        assert export_of(lost.pk).status == "done" and export_of(lost.pk).rows_total == 30
        failed = export_of(hopeless.pk)
        assert failed.error_message == f"CSVファイルの作成が{MAX_BUILD_ATTEMPTS}回中断されたため、中止しました。もう一度CSV出力を行ってください。"

        # The killed worker's own message, were it handed out again (after the visibility timeout): harmless.
        before = bytes(rescued.content_encrypted)
        assert tasks.build_export.delay(export_id).get(timeout=30) == "done"
        assert bytes(export_of(export_id).content_encrypted) == before
    print(f"killed export finished {elapsed:.1f} s after the rescuing worker started")


def test_a_redelivery_while_another_delivery_builds_is_left_alone(terminal):
    assert terminal.call("POST", "/api/v1/results/batch", {"results": [factories.batch_item()]}).status_code == 200
    export_id = terminal.call("POST", "/api/v1/results/exports", {"scope": "device"}).json()["export_id"]
    ResultExport.objects.filter(pk=export_id).update(
        status="running", attempts=1, claimed_by="task-a", heartbeat_at=timezone.now()
    )
    assert do_build_export(export_id, task_id="task-b") == "busy"  # another delivery is on it
    assert export_of(export_id).attempts == 1
    assert do_build_export(export_id, task_id="task-a") == "done"  # its own retry takes it over
    assert do_recover_stuck_exports() == {"requeued": 0, "failed": 0}  # nothing is stuck
