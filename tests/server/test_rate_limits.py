"""S01: activation-code guessing is bounded per client IP and per institution (counters in Redis)."""

from __future__ import annotations

import secrets
import threading

import pytest
import redis
from django.core.cache import cache
from rest_framework.test import APIClient

from contracts import signing
from server.audit.models import AuditEvent
from server.common.actor import Actor
from server.devices import ratelimit
from server.devices.actions import do_issue_activation_code
from server.devices.models import Device
from tests.server.conftest import registration_body

pytestmark = pytest.mark.django_db


def fresh_ip() -> str:
    # Counters live in Redis for two hours; a new address per test keeps runs independent.
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


@pytest.fixture
def limits(settings, institution):
    settings.REGISTRATION_ATTEMPTS_PER_IP_PER_HOUR = 3
    settings.REGISTRATION_ATTEMPTS_PER_INSTITUTION_PER_HOUR = 5
    ratelimit.reset("register-institution", institution.code)
    yield settings
    ratelimit.reset("register-institution", institution.code)


def guess(client: APIClient, institution) -> object:
    body = registration_body(institution, f"{secrets.randbelow(10**12):012d}", signing.generate_device_key())
    return client.post("/api/v1/devices/register", body, format="json")


def test_per_ip_limit_answers_429_with_retry_after(limits, institution, account):
    address = fresh_ip()
    client = APIClient(REMOTE_ADDR=address)
    for _ in range(3):
        assert guess(client, institution).json()["error"]["code"] == "activation_code_invalid"
    response = guess(client, institution)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited" and response.json()["error"]["message"]
    assert 0 < int(response["Retry-After"]) <= 3600
    # Even a right code is refused now, and nothing is created.
    code, _ = do_issue_activation_code(institution, actor=Actor.cli("pytest"))
    body = registration_body(institution, code, signing.generate_device_key())
    assert client.post("/api/v1/devices/register", body, format="json").status_code == 429
    assert Device.objects.count() == 0
    # Another address is not affected by this one's count.
    assert APIClient(REMOTE_ADDR=fresh_ip()).post("/api/v1/devices/register", body, format="json").status_code == 201
    # The first refusal of the window is audited once, with the address; later ones are not.
    events = AuditEvent.objects.filter(action="device_registration_rate_limited")
    assert events.count() == 1 and events.get().detail["scope"] == "register-ip"
    assert events.get().ip_address == address


def test_per_institution_limit_holds_across_addresses(limits, institution, account):
    for _ in range(5):
        assert guess(APIClient(REMOTE_ADDR=fresh_ip()), institution).status_code == 400
    response = guess(APIClient(REMOTE_ADDR=fresh_ip()), institution)
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limited"
    event = AuditEvent.objects.get(action="device_registration_rate_limited")
    assert event.detail["scope"] == "register-institution" and event.institution_id == institution.pk


def test_concurrent_attempts_are_counted_exactly(settings, institution):
    """INCR is atomic: 40 racing attempts on a limit of 25 let exactly 25 through."""
    key = f"race-{secrets.token_hex(4)}"
    results: list[ratelimit.Hit] = []
    lock = threading.Lock()

    def attempt() -> None:
        hit = ratelimit.hit("test", key, 25)
        with lock:
            results.append(hit)

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(h.count for h in results) == list(range(1, 41))
    assert sum(not h.exceeded for h in results) == 25
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    ratelimit.reset("test", key)


def test_windows_are_separate_keys_that_expire(settings):
    key = f"window-{secrets.token_hex(4)}"
    first = ratelimit.hit("test", key, 1, window_seconds=60, now=1_000_040.0)  # window 16667 ends at 1_000_080
    assert (first.count, first.retry_after) == (1, 40)
    assert ratelimit.hit("test", key, 1, window_seconds=60, now=1_000_050.0).exceeded
    assert ratelimit.hit("test", key, 1, window_seconds=60, now=1_000_090.0).count == 1  # next window
    raw_key = cache.make_key(f"ratelimit:test:{key}:{1_000_040 // 60}")
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(raw_key)
    assert 0 < ttl <= 120
