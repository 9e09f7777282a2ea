"""S04 heartbeat: POST /api/v1/devices/me/heartbeat, GET /api/v1/ping, and the devices.mark_offline beat task
run by a real Celery worker process on the test database."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from server.audit.models import AuditEvent
from server.common.actor import Actor
from server.devices.actions import do_mark_silent_devices_offline, do_retire_device
from server.devices.models import Device
from server.devices.tasks import mark_offline
from tests.server.conftest import register

PATH = "/api/v1/devices/me/heartbeat"


def _backdate(device_id: str, minutes: int) -> None:
    Device.objects.filter(pk=device_id).update(last_seen_at=timezone.now() - datetime.timedelta(minutes=minutes))


@pytest.mark.django_db
def test_heartbeat_updates_last_seen_version_and_reader(terminal):
    _backdate(terminal.device_id, 10)
    before = timezone.now()
    response = terminal.call("POST", PATH, {"app_version": "0.2.0", "reader_name": "SONY RC-S300"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["device_id"] == terminal.device_id and body["status"] == "active"
    assert body["heartbeat_interval_seconds"] == settings.DEVICE_HEARTBEAT_INTERVAL_SECONDS
    server_time = datetime.datetime.fromisoformat(body["server_time"])
    assert abs((server_time - before).total_seconds()) < 10
    device = Device.objects.get(pk=terminal.device_id)
    assert device.last_seen_at >= before
    assert (device.app_version, device.reader_name) == ("0.2.0", "SONY RC-S300")
    assert device.is_online
    event = AuditEvent.objects.get(action="device_updated")
    assert event.detail["app_version"] == {"from": "0.1.0", "to": "0.2.0"}
    assert event.device_id == device.pk and event.actor_type == "device" and event.ip_address == "127.0.0.1"


@pytest.mark.django_db
def test_heartbeat_without_changes_is_not_audited_and_an_empty_body_is_fine(terminal):
    for body in (None, {}, {"app_version": "0.1.0"}):
        assert terminal.call("POST", PATH, body).status_code == 200
    assert not AuditEvent.objects.filter(action="device_updated").exists()


@pytest.mark.django_db
def test_heartbeat_validation_and_signature(terminal, api_client):
    response = terminal.call("POST", PATH, {"app_version": "x" * 41})
    assert response.status_code == 400 and "app_version" in response.json()["error"]["fields"]
    response = api_client.post(PATH, {}, format="json")
    assert response.status_code == 401 and response.json()["error"]["code"] == "signature_required"


@pytest.mark.django_db
def test_retired_device_heartbeat_is_refused(terminal):
    do_retire_device(Device.objects.get(pk=terminal.device_id), "紛失", actor=Actor.cli("it"))
    response = terminal.call("POST", PATH, {})
    assert response.status_code == 403 and response.json()["error"]["code"] == "device_retired"


@pytest.mark.django_db
def test_ping_is_unsigned_and_trivial(api_client):
    response = api_client.get("/api/v1/ping")
    assert response.status_code == 200
    assert response.json()["ok"] is True and "server_time" in response.json()


@pytest.mark.django_db
def test_mark_offline_respects_the_configured_silence(settings, institution, account):
    settings.DEVICE_OFFLINE_AFTER_MINUTES = 5
    quiet = register(APIClient(), institution, "受付1")
    recent = register(APIClient(), institution, "受付2")
    retired = register(APIClient(), institution, "受付3")
    _backdate(quiet.device_id, 6)
    _backdate(recent.device_id, 4)
    _backdate(retired.device_id, 60)
    do_retire_device(Device.objects.get(pk=retired.device_id), "廃棄", actor=Actor.cli("it"))

    assert [str(pk) for pk in do_mark_silent_devices_offline(actor=Actor.cli("pytest"))] == [quiet.device_id]
    assert do_mark_silent_devices_offline(actor=Actor.cli("pytest")) == []  # already offline: not marked twice
    device = Device.objects.get(pk=quiet.device_id)
    assert device.offline_since == device.last_seen_at and not device.is_online
    assert Device.objects.get(pk=retired.device_id).status == "retired"  # status untouched, still retired
    assert Device.objects.get(pk=recent.device_id).is_online
    assert AuditEvent.objects.filter(action="device_offline", device_id=quiet.device_id).count() == 1

    # Any signed call brings it back online.
    assert quiet.call("GET", "/api/v1/devices/me").status_code == 200
    device.refresh_from_db()
    assert device.offline_since is None and device.is_online
    assert AuditEvent.objects.filter(action="device_online", device_id=quiet.device_id).exists()


def test_beat_schedule_runs_mark_offline_every_minute():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "devices.mark_offline"]
    assert len(entries) == 1 and entries[0]["schedule"] == 60.0
    assert settings.DEVICE_OFFLINE_AFTER_MINUTES == 15  # the default


@pytest.fixture
def worker_with_2_minutes_silence(monkeypatch, request):
    monkeypatch.setenv("DEVICE_OFFLINE_AFTER_MINUTES", "2")
    return request.getfixturevalue("celery_worker_process")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_marks_silent_devices_offline(worker_with_2_minutes_silence, institution, account):
    quiet = register(APIClient(), institution, "受付1")
    alive = register(APIClient(), institution, "受付2")
    _backdate(quiet.device_id, 3)
    _backdate(alive.device_id, 1)
    answer = mark_offline.delay().get(timeout=30)
    assert answer == {"marked_offline": [quiet.device_id]}
    assert Device.objects.get(pk=quiet.device_id).offline_since is not None
    assert Device.objects.get(pk=alive.device_id).is_online
    # The heartbeat brings it back.
    assert quiet.call("POST", PATH, {"reader_name": "Virtual PCD 00 00"}).status_code == 200
    assert Device.objects.get(pk=quiet.device_id).is_online
