"""S10: Celery tasks of the results app on a real worker process — retention purge and the background CSV export
(create → poll → download, expiring signed link) — plus their beat entries and task options."""

from __future__ import annotations

import csv
import datetime
import io
import time

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from server.audit.models import AuditEvent
from server.common.actor import Actor
from server.common.jst import JST, today_jst
from server.institutions.actions import do_create_staff_user
from server.results import tasks
from server.results.actions import retention_cutoff
from server.results.exports import do_build_export
from server.results.models import CheckResult, ResultExport
from server.results.queries import first_of_previous_month
from tests.server import factories


def days_ago(days: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)


def wait_until_done(call, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = call()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"the export did not finish in {timeout} s: {body}")


def read_csv(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# --- beat, options ---------------------------------------------------------------------------------------------------


def test_beat_schedule_and_task_options():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["results-purge-expired"]["task"] == "results.purge_expired"
    assert schedule["results-exports-cleanup"]["task"] == "results.cleanup_exports"
    from server.celery import app

    for name in ("results.purge_expired", "results.build_export", "results.cleanup_exports"):
        task = app.tasks[name]
        assert task.acks_late is True
        assert task.max_retries and task.retry_backoff
    assert settings.RESULT_RETENTION_MONTHS == 13


def test_retention_cutoff_is_calendar_months_back():
    at = datetime.datetime(2026, 3, 31, 10, 0, tzinfo=JST)
    assert retention_cutoff(at, 13) == datetime.datetime(2025, 2, 28, 10, 0, tzinfo=JST)
    assert retention_cutoff(datetime.datetime(2026, 1, 15, tzinfo=JST), 1) == datetime.datetime(
        2025, 12, 15, tzinfo=JST
    )


# --- purge on the real worker ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_retention_purge_on_a_real_worker(celery_worker_process, terminal):
    old = terminal.push([factories.batch_item(checked_at=days_ago(31 * 13 + 5)) for _ in range(3)])
    kept = terminal.push([factories.batch_item(checked_at=days_ago(30 * 12)), factories.batch_item()])
    assert tasks.purge_expired.delay().get(timeout=30) == 3
    assert set(map(str, CheckResult.objects.values_list("id", flat=True))) == {i["id"] for i in kept}
    event = AuditEvent.objects.filter(action="results_purged").latest("id")
    assert event.detail["deleted"] == 3 and event.object_ids == []
    # Idempotent: a second run (or a redelivery) finds nothing more.
    assert tasks.purge_expired.delay().get(timeout=30) == 0
    assert not CheckResult.objects.filter(id__in=[i["id"] for i in old]).exists()


# --- export through the API on the real worker ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_export_create_poll_download_on_a_real_worker(celery_worker_process, terminal, second_terminal):
    mine = terminal.push(
        [factories.batch_item(checked_at=days_ago(i / 24 + 0.01), name=f"出力 {i:02d}") for i in range(12)]
    )
    second_terminal.push([factories.batch_item(checked_at=days_ago(0.5))])
    terminal.push([factories.batch_item(checked_at=days_ago(31 * 3))])  # outside the period: not exported
    response = terminal.call("POST", "/api/v1/results/exports", {"scope": "device"})
    assert response.status_code == 202, response.content
    created = response.json()
    assert created["status"] in ("pending", "running", "done")
    export_id = created["export_id"]

    def poll():
        r = terminal.call("GET", f"/api/v1/results/exports/{export_id}")
        assert r.status_code == 200, r.content
        return r.json()

    body = wait_until_done(poll)
    assert body["status"] == "done", body
    assert body["progress"] == 100 and body["rows_total"] == body["rows_done"] == 12
    assert body["expires_at"] and body["download_url"].startswith(
        f"/api/v1/results/exports/{export_id}/download?token="
    )
    path, query = body["download_url"].split("?", 1)
    download = terminal.call("GET", path, params={"token": query.split("=", 1)[1]})
    assert download.status_code == 200, download.content
    assert download["Content-Type"].startswith("text/csv")
    rows = read_csv(download.content)
    assert rows[0][:3] == ["資格確認日時", "端末", "資格確認結果"]  # the full record (A03, docs/console.md)
    name = rows[0].index("氏名")
    assert [r[name] for r in rows[1:]] == [f"出力 {i:02d}" for i in range(12)]
    assert [r[-1] for r in rows[1:]] == [i["id"] for i in mine]
    event = AuditEvent.objects.filter(action="results_exported").latest("id")
    assert event.object_ids == [i["id"] for i in mine] and str(event.device_id) == terminal.device_id
    # The stored file is encrypted.
    export = ResultExport.objects.get(pk=export_id)
    assert "出力 00".encode() not in bytes(export.content_encrypted)


@pytest.mark.django_db(transaction=True)
def test_console_export_of_the_institution_on_a_real_worker(
    celery_worker_process, terminal, second_terminal, institution
):
    terminal.push([factories.batch_item(checked_at=days_ago(200))])
    second_terminal.push([factories.batch_item(checked_at=days_ago(1))])
    do_create_staff_user(institution, "manager", "Demo#Pass1", "manager", actor=Actor.cli("pytest"))
    console = APIClient()
    assert console.login(username="manager", password="Demo#Pass1")
    today = today_jst()
    response = console.post(
        "/api/v1/console/results/exports",
        {"date_from": (today - datetime.timedelta(days=365)).isoformat(), "date_to": today.isoformat()},
        format="json",
    )
    assert response.status_code == 202, response.content
    export_id = response.json()["export_id"]
    body = wait_until_done(lambda: console.get(f"/api/v1/console/results/exports/{export_id}").json())
    assert body["status"] == "done" and body["rows_total"] == 2
    download = console.get(body["download_url"])
    assert download.status_code == 200
    assert len(read_csv(download.content)) == 3
    event = AuditEvent.objects.filter(action="results_exported").latest("id")
    assert event.actor_type == "staff" and event.actor_id == "manager" and len(event.object_ids) == 2


# --- export rules (no worker needed: the build is called as the worker would) ----------------------------------------


@pytest.fixture
def finished_export(terminal):
    terminal.push([factories.batch_item(checked_at=days_ago(0.1))])
    response = terminal.call("POST", "/api/v1/results/exports", {"scope": "institution"})
    assert response.status_code == 202, response.content
    export_id = response.json()["export_id"]
    assert do_build_export(export_id) == "done"
    body = terminal.call("GET", f"/api/v1/results/exports/{export_id}").json()
    path, query = body["download_url"].split("?", 1)
    return export_id, path, query.split("=", 1)[1]


@pytest.mark.django_db
def test_not_ready_expired_bad_token_and_other_institution(terminal, foreign_terminal):
    today = today_jst()
    too_early = first_of_previous_month(today) - datetime.timedelta(days=1)
    bad = terminal.call("POST", "/api/v1/results/exports", {"date_from": too_early.isoformat()})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "period_out_of_range"
    for body in ({"date_from": 5}, {"scope": "everyone"}, {"date_to": "2026/01/01"}, [1, 2]):
        wrong = terminal.call("POST", "/api/v1/results/exports", body)
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "validation_error", wrong.content
    pending = terminal.call("POST", "/api/v1/results/exports", {}).json()
    early = terminal.call("GET", f"/api/v1/results/exports/{pending['export_id']}/download", params={"token": "x"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "export_not_ready"


@pytest.mark.django_db
def test_download_link_rules(terminal, foreign_terminal, finished_export):
    export_id, path, token = finished_export
    assert terminal.call("GET", path, params={"token": token}).status_code == 200
    forged = terminal.call("GET", path, params={"token": token[:-2] + "xx"})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "export_link_invalid"
    other = foreign_terminal.call("GET", path, params={"token": token})
    assert other.status_code == 404
    assert foreign_terminal.call("GET", f"/api/v1/results/exports/{export_id}").status_code == 404
    ResultExport.objects.filter(pk=export_id).update(expires_at=datetime.datetime.now(datetime.UTC))
    expired = terminal.call("GET", path, params={"token": token})
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "export_expired"
    assert terminal.call("GET", f"/api/v1/results/exports/{export_id}").json()["download_url"] is None
    # The cleanup task removes expired files.
    assert tasks.cleanup_exports() >= 1
    assert not ResultExport.objects.filter(pk=export_id).exists()


@pytest.mark.django_db
def test_building_is_idempotent(terminal, finished_export):
    export_id, _, _ = finished_export
    export = ResultExport.objects.get(pk=export_id)
    before = bytes(export.content_encrypted)
    assert do_build_export(export_id) == "done"  # a redelivered task leaves a finished export alone
    assert bytes(ResultExport.objects.get(pk=export_id).content_encrypted) == before
    # A task that died mid-build (running, silent past RESULT_EXPORT_STUCK_SECONDS) is started over from scratch.
    ResultExport.objects.filter(pk=export_id).update(
        status=ResultExport.RUNNING, rows_done=999, heartbeat_at=days_ago(1)
    )
    assert do_build_export(export_id) == "done"
    export = ResultExport.objects.get(pk=export_id)
    assert export.rows_done == export.rows_total == 1 and export.attempts == 2
    assert do_build_export("00000000-0000-4000-8000-000000000000") == "missing"


@pytest.mark.django_db
def test_a_build_that_cannot_succeed_is_marked_failed(terminal, settings):
    response = terminal.call("POST", "/api/v1/results/exports", {})
    export_id = response.json()["export_id"]
    settings.RESULT_ENCRYPTION_KEY_ID = "missing-key"  # a configuration error, not a transient one
    assert tasks.build_export.apply(args=[export_id]).get() == "failed"
    body = terminal.call("GET", f"/api/v1/results/exports/{export_id}").json()
    assert body["status"] == "failed" and body["error_message"]


@pytest.mark.django_db
def test_too_large_an_export_fails_with_a_clear_message(terminal, settings):
    terminal.push([factories.batch_item(checked_at=days_ago(0.1)) for _ in range(3)])
    settings.RESULT_EXPORT_MAX_ROWS = 2
    export_id = terminal.call("POST", "/api/v1/results/exports", {}).json()["export_id"]
    assert do_build_export(export_id) == "failed"
    body = terminal.call("GET", f"/api/v1/results/exports/{export_id}").json()
    assert body["status"] == "failed" and body["rows_total"] == 3 and body["download_url"] is None
    assert "2件まで" in body["error_message"]
