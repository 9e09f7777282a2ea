"""S03/S04: every terminal call is signed; replay, tampering, skew, unknown, retired and deregistered devices."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from contracts import signing
from server.audit.models import AuditEvent
from server.common.actor import Actor
from server.devices.actions import do_mark_silent_devices_offline, do_rename_device, do_retire_device
from server.devices.models import Device

pytestmark = pytest.mark.django_db
ME_PATH = "/api/v1/devices/me"


def error_code(response, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["message"] and "server_time" in body
    return body["error"]["code"]


def test_me_answers_the_signed_device(terminal, institution):
    response = terminal.call("GET", "/api/v1/devices/me")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["device_id"] == terminal.device_id
    assert (body["device_name"], body["status"]) == ("受付1", "active")
    assert (body["institution_code"], body["institution_name"]) == (institution.code, institution.name)
    assert "server_time" in body
    assert Device.objects.get(pk=terminal.device_id).last_seen_at is not None


def test_unsigned_call_is_refused(terminal, api_client):
    assert error_code(api_client.get("/api/v1/devices/me"), 401) == "signature_required"


def test_replayed_request_is_refused(terminal):
    nonce = signing.new_nonce()
    assert terminal.call("GET", "/api/v1/devices/me", nonce=nonce).status_code == 200
    assert error_code(terminal.call("GET", "/api/v1/devices/me", nonce=nonce), 401) == "replayed_request"


def test_the_exact_same_headers_sent_twice_are_a_replay(terminal):
    headers = signing.sign_request(
        "GET", "http://testserver/api/v1/devices/me", {}, b"", terminal.key, terminal.device_id
    )
    assert terminal.call("GET", "/api/v1/devices/me", headers=headers).status_code == 200
    assert error_code(terminal.call("GET", "/api/v1/devices/me", headers=headers), 401) == "replayed_request"


def test_tampered_body_is_refused(terminal):
    item = {"results": [{"id": "x"}]}
    response = terminal.call("POST", "/api/v1/results/batch", item, sent_body=b'{"results": [{"id": "y"}]}')
    assert error_code(response, 401) == "bad_content_digest"


def test_tampered_query_is_a_bad_signature(terminal):
    headers = signing.sign_request(
        "GET", "http://testserver/api/v1/results?scope=device", {}, b"", terminal.key, terminal.device_id
    )
    response = terminal.client.get("/api/v1/results?scope=institution", headers=headers)
    assert error_code(response, 401) == "bad_signature"


def test_wrong_key_is_a_bad_signature(terminal):
    response = terminal.call("GET", "/api/v1/devices/me", key=signing.generate_device_key())
    assert error_code(response, 401) == "bad_signature"


@pytest.mark.parametrize("seconds", [-301, 301])
def test_clock_skew_is_refused(terminal, seconds):
    created = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    assert error_code(terminal.call("GET", "/api/v1/devices/me", created=created), 401) == "clock_skew"


def test_small_skew_is_accepted(terminal):
    created = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=240)
    assert terminal.call("GET", "/api/v1/devices/me", created=created).status_code == 200


def test_unknown_device(terminal, api_client):
    key = signing.generate_device_key()
    headers = signing.sign_request(
        "GET", "http://testserver/api/v1/devices/me", {}, b"", key, "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    )
    assert error_code(api_client.get("/api/v1/devices/me", headers=headers), 401) == "unknown_device"
    headers = signing.sign_request("GET", "http://testserver/api/v1/devices/me", {}, b"", key, "not-a-uuid")
    assert error_code(api_client.get("/api/v1/devices/me", headers=headers), 401) == "unknown_device"


def test_retired_device_gets_403_device_retired(terminal):
    do_retire_device(Device.objects.get(pk=terminal.device_id), "紛失", actor=Actor.cli("manager"))
    assert error_code(terminal.call("GET", "/api/v1/devices/me"), 403) == "device_retired"
    assert error_code(terminal.call("POST", "/api/v1/results/batch", {"results": []}), 403) == "device_retired"
    device = Device.objects.get(pk=terminal.device_id)
    assert (device.status, device.retired_by, device.retired_reason) == ("retired", "manager", "紛失")
    assert AuditEvent.objects.filter(action="device_retired", device_id=device.pk).exists()


def test_retire_command(terminal):
    call_command("retire_device", terminal.device_id, "--by", "it", "--reason", "故障")
    assert error_code(terminal.call("GET", "/api/v1/devices/me"), 403) == "device_retired"


def test_deregistration_by_the_terminal(terminal):
    response = terminal.call("POST", "/api/v1/devices/me/deregister")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "deregistered"
    assert Device.objects.filter(pk=terminal.device_id, status="deregistered").exists()  # kept, never deleted
    assert error_code(terminal.call("GET", "/api/v1/devices/me"), 403) == "device_deregistered"
    assert AuditEvent.objects.filter(action="device_deregistered", device_id=terminal.device_id).exists()


def test_httpx_auth_against_the_live_server(live_server, terminal):
    """The terminal's way: httpx with DeviceSignatureAuth over real HTTP."""
    import httpx

    auth = signing.DeviceSignatureAuth(terminal.key, terminal.device_id)
    with httpx.Client(base_url=live_server.url, auth=auth, timeout=10) as client:
        me = client.get("/api/v1/devices/me")
        assert me.status_code == 200, me.text
        assert me.json()["device_id"] == terminal.device_id
        search = client.get("/api/v1/results", params={"scope": "institution", "page_size": 3})
        assert search.status_code == 200, search.text


def test_oversized_body_is_413_not_500(terminal, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = terminal.call("POST", "/api/v1/results/batch", {"results": [{"pad": "x" * 2000}]})
    assert error_code(response, 413) == "payload_too_large"


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_let_exactly_one_through(terminal):
    import threading

    from django.db import connection
    from rest_framework.test import APIClient

    headers = signing.sign_request(
        "GET", "http://testserver/api/v1/devices/me", {}, b"", terminal.key, terminal.device_id
    )
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def send():
        try:
            client = APIClient()
            barrier.wait()
            statuses.append(client.get("/api/v1/devices/me", headers=headers).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 401, 401, 401, 401, 401]


def test_a_refused_call_leaves_its_nonce_free_and_the_genuine_call_passes(terminal):
    """The nonce is claimed only once the signature, the clock and the digest have passed."""
    refused = terminal.call("GET", ME_PATH, nonce="contested-nonce", key=signing.generate_device_key())
    assert error_code(refused, 401) == "bad_signature"
    stale = terminal.call("GET", ME_PATH, nonce="stale-nonce", created=timezone.now() - datetime.timedelta(hours=1))
    assert error_code(stale, 401) == "clock_skew"
    assert terminal.call("GET", ME_PATH, nonce="contested-nonce").status_code == 200
    assert error_code(terminal.call("GET", ME_PATH, nonce="contested-nonce"), 401) == "replayed_request"
    assert terminal.call("GET", ME_PATH, nonce="stale-nonce").status_code == 200


def test_a_rename_and_an_offline_mark_are_seen_by_the_next_call(terminal, settings):
    device = Device.objects.get(pk=terminal.device_id)
    do_rename_device(device, "受付2", actor=Actor.cli("manager"))
    assert terminal.call("GET", ME_PATH).json()["device_name"] == "受付2"
    settings.DEVICE_OFFLINE_AFTER_MINUTES = 0
    assert do_mark_silent_devices_offline(actor=Actor.cli("pytest")) == [device.pk]
    assert terminal.call("GET", ME_PATH).status_code == 200
    assert terminal.call("GET", ME_PATH).status_code == 200
    assert Device.objects.get(pk=device.pk).offline_since is None
    assert AuditEvent.objects.filter(action="device_online", device_id=device.pk).count() == 1


def test_without_redis_a_signed_call_answers_503_and_nothing_is_done(terminal, settings):
    """The nonce cannot be claimed: the call is refused as a passing outage (coded, Retry-After), never a 500."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # fmt: skip
    events_before = AuditEvent.objects.count()
    response = terminal.call("POST", "/api/v1/devices/me/heartbeat", {"app_version": "9.9.9"})
    assert error_code(response, 503) == "service_unavailable"
    assert response["Retry-After"] == "30"
    assert Device.objects.get(pk=terminal.device_id).app_version != "9.9.9"
    assert AuditEvent.objects.count() == events_before
