"""S03: the in-process cache of device rows never lets a retired or deregistered device through.

Every signed call reads the device's version token from Redis with its nonce; every write to a device replaces the
token (server.devices.authentication.device_changed). Another worker process is played by writing the row and
replacing the token only, as its device_changed() does, while this process's cached row stays in memory.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import caches
from django.utils import timezone

from server.audit.models import AuditEvent
from server.common.actor import Actor
from server.devices import authentication
from server.devices.actions import do_mark_silent_devices_offline, do_retire_device
from server.devices.models import Device
from tests.server.test_device_auth import error_code

pytestmark = pytest.mark.django_db
ME = "/api/v1/devices/me"


def _token(device_id) -> bytes | None:
    backend = caches["default"]
    key = backend.make_and_validate_key(authentication._version_key(Device(pk=device_id).pk))
    return backend._cache.get_client(key).get(key)


def _warm(terminal) -> None:
    for _ in range(2):  # the first call reads the row for the key, the second caches it against the token
        assert terminal.call("GET", ME).status_code == 200
    assert Device.objects.get(pk=terminal.device_id).pk in authentication._devices


def test_a_warm_call_reads_no_database_row(terminal, django_assert_num_queries):
    _warm(terminal)
    with django_assert_num_queries(0):
        assert terminal.call("GET", ME).status_code == 200


def test_retire_refuses_the_next_call_at_once(terminal):
    _warm(terminal)
    do_retire_device(Device.objects.get(pk=terminal.device_id), "紛失", actor=Actor.cli("manager"))
    assert error_code(terminal.call("GET", ME), 403) == "device_retired"
    assert error_code(terminal.call("POST", "/api/v1/devices/me/heartbeat", {}), 403) == "device_retired"


def test_deregister_refuses_the_next_call_at_once(terminal):
    _warm(terminal)
    assert terminal.call("POST", "/api/v1/devices/me/deregister").status_code == 200
    assert error_code(terminal.call("GET", ME), 403) == "device_deregistered"


def test_retirement_in_another_worker_is_seen_through_the_token(terminal):
    _warm(terminal)
    device_id = Device.objects.get(pk=terminal.device_id).pk
    Device.objects.filter(pk=device_id).update(status=Device.STATUS_RETIRED)
    # Without the token replaced the cached row would still be used: the token is what carries the news.
    assert terminal.call("GET", ME).status_code == 200
    authentication._bump_version(device_id)  # what device_changed() does in the other process
    assert device_id in authentication._devices
    assert error_code(terminal.call("GET", ME), 403) == "device_retired"


def test_retire_replaces_the_token_inside_the_transaction_and_again_on_commit(
    terminal, django_capture_on_commit_callbacks
):
    _warm(terminal)
    before = _token(terminal.device_id)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        do_retire_device(Device.objects.get(pk=terminal.device_id), "紛失", actor=Actor.cli("manager"))
    in_transaction = _token(terminal.device_id)
    assert in_transaction not in (None, before)
    for callback in callbacks:
        callback()
    assert _token(terminal.device_id) not in (None, in_transaction)


def test_a_lost_token_means_a_fresh_read(terminal):
    _warm(terminal)
    device_id = Device.objects.get(pk=terminal.device_id).pk
    Device.objects.filter(pk=device_id).update(status=Device.STATUS_RETIRED)
    backend = caches["default"]
    key = backend.make_and_validate_key(authentication._version_key(device_id))
    backend._cache.get_client(key, write=True).delete(key)  # evicted or Redis restarted empty
    assert error_code(terminal.call("GET", ME), 403) == "device_retired"


def test_marked_offline_comes_back_online_once(terminal, settings):
    _warm(terminal)
    device = Device.objects.get(pk=terminal.device_id)
    settings.DEVICE_OFFLINE_AFTER_MINUTES = 0
    assert do_mark_silent_devices_offline(actor=Actor.cli("pytest")) == [device.pk]
    assert terminal.call("GET", ME).status_code == 200
    assert terminal.call("GET", ME).status_code == 200
    assert Device.objects.get(pk=device.pk).offline_since is None
    assert AuditEvent.objects.filter(action="device_online", device_id=device.pk).count() == 1


def test_a_changed_name_is_served_after_a_rename(terminal):
    from server.devices.actions import do_rename_device

    _warm(terminal)
    do_rename_device(Device.objects.get(pk=terminal.device_id), "受付2", actor=Actor.cli("manager"))
    assert terminal.call("GET", ME).json()["device_name"] == "受付2"


def test_the_claim_survives_a_killed_connection_and_a_flushed_script_cache(terminal):
    backend = caches["default"]
    assert terminal.call("GET", ME).status_code == 200
    connection = authentication._CLAIM._connection(backend)
    connection.send_command("CLIENT", "ID")
    client_id = connection.read_response()
    admin = backend._cache.get_client(write=True)
    admin.client_kill_filter(_id=client_id)  # as a Redis restart or an idle timeout would
    assert terminal.call("GET", ME).status_code == 200
    admin.script_flush()  # a restarted Redis has no scripts
    assert terminal.call("GET", ME).status_code == 200
    first = terminal.call("GET", ME, nonce="same-nonce")
    assert first.status_code == 200
    assert error_code(terminal.call("GET", ME, nonce="same-nonce"), 401) == "replayed_request"


def _nonce_keys(terminal) -> list[bytes]:
    backend = caches["default"]
    return backend._cache.get_client(write=True).keys(backend.make_key(f"nonce:{terminal.device_id}:*"))


def test_a_refused_call_leaves_its_nonce_free_and_the_genuine_call_passes(terminal):
    """The nonce is claimed while the signature is verified (the round trips overlap); a refused call gives it back."""
    from contracts import signing

    forged_key = signing.generate_device_key()
    refused = terminal.call("GET", ME, nonce="contested-nonce", key=forged_key)
    assert error_code(refused, 401) == "bad_signature"
    stale = terminal.call("GET", ME, nonce="stale-nonce", created=timezone.now() - datetime.timedelta(hours=1))
    assert error_code(stale, 401) == "clock_skew"
    assert _nonce_keys(terminal) == []
    assert terminal.call("GET", ME, nonce="contested-nonce").status_code == 200
    assert len(_nonce_keys(terminal)) == 1
    assert error_code(terminal.call("GET", ME, nonce="contested-nonce"), 401) == "replayed_request"


def test_an_answer_left_unread_does_not_put_the_next_call_out_of_step(terminal):
    backend = caches["default"]
    assert terminal.call("GET", ME).status_code == 200
    keys = [backend.make_key("nonce:unread"), backend.make_key(authentication._version_key(terminal.device_id))]
    authentication._CLAIM.send(backend, keys, [60, "t"])  # as if the request had died between send and read
    first = terminal.call("GET", ME, nonce="after-unread")
    assert first.status_code == 200
    assert error_code(terminal.call("GET", ME, nonce="after-unread"), 401) == "replayed_request"


def test_without_redis_a_signed_call_answers_503_and_nothing_is_done(terminal, settings):
    """The nonce cannot be claimed: the call is refused as a passing outage (coded, Retry-After), never a 500."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # fmt: skip
    events_before = AuditEvent.objects.count()
    response = terminal.call("POST", "/api/v1/devices/me/heartbeat", {"app_version": "9.9.9"})
    assert error_code(response, 503) == "service_unavailable"
    assert response["Retry-After"] == "30"
    assert "一時的" in response.json()["error"]["message"]
    assert Device.objects.get(pk=terminal.device_id).app_version != "9.9.9"
    assert AuditEvent.objects.count() == events_before
