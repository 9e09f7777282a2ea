"""S09: every registration, login, lockout, unlock, password change, retirement, deregistration and code issue is
audited with actor, institution, device, IP, request id and UTC time; the trail is append-only (also in SQL)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, transaction
from django.test import RequestFactory
from rest_framework.test import APIClient

from contracts import signing
from server.audit.models import AppendOnlyError, AuditEvent
from server.common.actor import STAFF, Actor
from server.devices.actions import do_issue_activation_code, do_retire_device
from server.devices.models import Device
from server.institutions.actions import do_unlock_app_account
from tests.server.conftest import PASSWORD, Terminal, registration_body

pytestmark = pytest.mark.django_db


def staff_request(address: str = "192.0.2.10"):
    """A console request as the middleware leaves it: a request id, the client address, a logged-in user."""
    request = RequestFactory().post("/console/", REMOTE_ADDR=address, HTTP_USER_AGENT="console-test")
    request.id = uuid.uuid4()
    request.user = AnonymousUser()
    return request


def staff_actor(request, username: str = "it") -> Actor:
    return Actor.of_request(request, STAFF, username)


def only(action: str) -> AuditEvent:
    events = list(AuditEvent.objects.filter(action=action))
    assert len(events) == 1, (action, events)
    return events[0]


def assert_utc_recent(event: AuditEvent) -> None:
    assert event.occurred_at.utcoffset() == datetime.timedelta(0)
    assert abs(datetime.datetime.now(datetime.UTC) - event.occurred_at) < datetime.timedelta(minutes=1)


def test_terminal_side_events_carry_actor_institution_device_ip_request_id(institution, account):
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    key = signing.generate_device_key()
    code, code_row = do_issue_activation_code(institution, actor=staff_actor(staff_request()))
    response = client.post("/api/v1/devices/register", registration_body(institution, code, key), format="json")
    assert response.status_code == 201
    device_id = response.json()["device_id"]
    registered = only("device_registered")
    assert str(registered.request_id) == response["X-Request-Id"]
    terminal = Terminal(client, key, device_id)
    ok = terminal.call("POST", "/api/v1/accounts/login", {"account_id": "clinic-admin", "password": PASSWORD})
    assert ok.status_code == 200
    for _ in range(5):
        terminal.call("POST", "/api/v1/accounts/login", {"account_id": "clinic-admin", "password": "Wrong#Pass1"})
    do_unlock_app_account(account, actor=staff_actor(staff_request()))
    changed = terminal.call(
        "POST",
        "/api/v1/accounts/password",
        {"account_id": "clinic-admin", "current_password": PASSWORD, "new_password": "Next#Pass22"},
    )
    assert changed.status_code == 200
    assert terminal.call("POST", "/api/v1/devices/me/deregister").status_code == 200

    expectations = {
        # action: (actor type, actor id, device expected, IP)
        "activation_code_issued": ("staff", "it", None, "192.0.2.10"),
        "device_registered": ("account", "clinic-admin", device_id, "198.51.100.7"),
        "app_account_login": ("account", "clinic-admin", device_id, "198.51.100.7"),
        "app_account_locked": ("account", "clinic-admin", device_id, "198.51.100.7"),
        "app_account_unlocked": ("staff", "it", None, "192.0.2.10"),
        "app_account_password_changed": ("account", "clinic-admin", device_id, "198.51.100.7"),
        "device_deregistered": ("device", device_id, device_id, "198.51.100.7"),
    }
    for action, (actor_type, actor_id, device, address) in expectations.items():
        event = only(action)
        assert (event.actor_type, event.actor_id) == (actor_type, actor_id), action
        assert event.institution_id == institution.pk, action
        assert (str(event.device_id) if event.device_id else None) == device, action
        assert event.ip_address == address, action
        assert event.request_id is not None, action
        assert_utc_recent(event)
    assert AuditEvent.objects.filter(action="app_account_login_failed").count() == 4
    assert only("activation_code_issued").object_ids == [f"activation_code:{code_row.pk}"]
    # No secret in any event.
    for event in AuditEvent.objects.all():
        text = f"{event.detail} {event.object_ids} {event.actor_id}"
        assert PASSWORD not in text and "Next#Pass22" not in text and code not in text


def test_retirement_by_it_is_audited_with_who_why_and_where(terminal, institution):
    device = Device.objects.get(pk=terminal.device_id)
    request = staff_request("192.0.2.44")
    do_retire_device(device, "紛失のため", actor=staff_actor(request))
    event = only("device_retired")
    assert (event.actor_type, event.actor_id, event.detail) == ("staff", "it", {"reason": "紛失のため"})
    assert (event.institution_id, str(event.device_id)) == (institution.pk, terminal.device_id)
    assert (event.ip_address, event.request_id) == ("192.0.2.44", request.id)
    assert_utc_recent(event)
    device.refresh_from_db()
    assert (device.status, device.retired_by, device.retired_reason) == ("retired", "it", "紛失のため")


def test_the_trail_is_append_only_in_python_and_in_sql(institution):
    event = AuditEvent.objects.filter(institution=institution).first()
    assert event is not None  # institution_created
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()
