"""S01/S02: device registration through the API, every error code, nothing created on errors."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from contracts import signing
from server.audit.models import AuditEvent
from server.common.actor import Actor
from server.devices.actions import do_issue_activation_code, do_revoke_activation_code, hash_activation_code
from server.devices.models import ActivationCode, Device
from server.institutions.models import AppAccount
from tests.server.conftest import registration_body

pytestmark = pytest.mark.django_db


def post(client, body):
    return client.post("/api/v1/devices/register", body, format="json")


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "server_time" in body
    return body


def test_happy_path_creates_the_device_and_uses_the_code(api_client, institution, account):
    key = signing.generate_device_key()
    code, obj = do_issue_activation_code(institution, device_name="受付1", actor=Actor.cli("pytest"))
    assert len(code) == 12 and code.isdigit()
    assert obj.code_hash == hash_activation_code(code) and code not in obj.code_hash

    response = post(api_client, registration_body(institution, code, key))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["institution_code"] == institution.code
    assert body["institution_name"] == "しかく整骨院"
    assert "server_time" in body
    device = Device.objects.get(pk=body["device_id"])
    assert device.status == "active"
    assert device.public_key == signing.public_key_b64(key)
    assert (device.name, device.os, device.app_version) == ("受付1", "Windows 11", "0.1.0")
    obj.refresh_from_db()
    assert obj.used_at is not None and obj.used_by_device == device
    event = AuditEvent.objects.get(action="device_registered")
    assert event.device_id == device.pk and event.actor_type == "account" and event.actor_id == "clinic-admin"
    assert "Demo#Pass1" not in str(event.detail)


def _refused(api_client, body, status, code):
    devices_before = Device.objects.count()
    assert_error(post(api_client, body), status, code)
    assert Device.objects.count() == devices_before
    assert not ActivationCode.objects.filter(used_at__isnull=False).exists()


def test_wrong_password_unknown_account_and_unknown_institution_share_one_code(api_client, institution, account):
    key = signing.generate_device_key()
    code, _ = do_issue_activation_code(institution, actor=Actor.cli("pytest"))
    _refused(api_client, registration_body(institution, code, key, password="Wrong#Pass1"), 401, "invalid_credentials")
    _refused(api_client, registration_body(institution, code, key, account_id="nobody"), 401, "invalid_credentials")
    _refused(
        api_client, registration_body(institution, code, key, institution_code="9999999999"), 401, "invalid_credentials"
    )
    account.refresh_from_db()
    assert account.failed_attempts == 1


def test_five_wrong_passwords_lock_the_account_for_30_minutes(api_client, institution, account):
    key = signing.generate_device_key()
    code, _ = do_issue_activation_code(institution, actor=Actor.cli("pytest"))
    wrong = registration_body(institution, code, key, password="Wrong#Pass1")
    for _ in range(4):
        assert_error(post(api_client, wrong), 401, "invalid_credentials")
    body = assert_error(post(api_client, wrong), 423, "account_locked")
    account.refresh_from_db()
    assert account.failed_attempts == 5
    remaining = account.locked_until - timezone.now()
    assert datetime.timedelta(minutes=29) < remaining <= datetime.timedelta(minutes=30)
    local = timezone.localtime(account.locked_until, timezone=datetime.timezone(datetime.timedelta(hours=9)))
    assert f"{local:%Y年%m月%d日 %H時%M分}" in body["error"]["message"]
    # Locked: even the right password is refused, and nothing is created.
    _refused(api_client, registration_body(institution, code, key), 423, "account_locked")
    assert AuditEvent.objects.filter(action="app_account_locked").count() == 1
    # After the lock the right password works again and clears the counter.
    AppAccount.objects.filter(pk=account.pk).update(locked_until=timezone.now() - datetime.timedelta(seconds=1))
    assert post(api_client, registration_body(institution, code, key)).status_code == 201
    account.refresh_from_db()
    assert (account.failed_attempts, account.locked_until) == (0, None)


def test_activation_code_errors(api_client, institution, other_institution, account):
    key = signing.generate_device_key()
    _refused(api_client, registration_body(institution, "000000000000", key), 400, "activation_code_invalid")
    foreign, _ = do_issue_activation_code(other_institution, actor=Actor.cli("pytest"))
    _refused(api_client, registration_body(institution, foreign, key), 400, "activation_code_invalid")
    expired, _ = do_issue_activation_code(institution, ttl=datetime.timedelta(seconds=-1), actor=Actor.cli("pytest"))
    _refused(api_client, registration_body(institution, expired, key), 410, "activation_code_expired")
    revoked, obj = do_issue_activation_code(institution, actor=Actor.cli("pytest"))
    do_revoke_activation_code(obj, actor=Actor.cli("manager"))
    _refused(api_client, registration_body(institution, revoked, key), 410, "activation_code_revoked")

    used, _ = do_issue_activation_code(institution, actor=Actor.cli("pytest"))
    assert post(api_client, registration_body(institution, used, key)).status_code == 201
    before = Device.objects.count()
    assert_error(
        post(api_client, registration_body(institution, used, signing.generate_device_key())),
        409,
        "activation_code_used",
    )
    assert Device.objects.count() == before


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"institution_code": "12345"}, "institution_code"),
        ({"activation_code": "12345"}, "activation_code"),
        ({"public_key": "AAAA"}, "public_key"),
        ({"public_key": "not base64!"}, "public_key"),
        ({"public_key": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "public_key"),  # the identity: small order
        ({"account_id": ""}, "account_id"),
    ],
)
def test_validation_errors_name_the_field(api_client, institution, account, override, field):
    code, _ = do_issue_activation_code(institution, actor=Actor.cli("pytest"))
    body = assert_error(
        post(api_client, registration_body(institution, code, signing.generate_device_key(), **override)),
        400,
        "validation_error",
    )
    assert field in body["error"]["fields"]
    assert Device.objects.count() == 0


def test_missing_body_is_a_validation_error(api_client, db):
    body = assert_error(post(api_client, {}), 400, "validation_error")
    assert {"institution_code", "account_id", "password", "activation_code", "public_key"} <= set(
        body["error"]["fields"]
    )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_registrations_with_one_code_only_one_wins(institution, account):
    code, _ = do_issue_activation_code(institution, actor=Actor.cli("pytest"))
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def attempt():
        try:
            barrier.wait()
            response = post(APIClient(), registration_body(institution, code, signing.generate_device_key()))
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    assert Device.objects.count() == 1
