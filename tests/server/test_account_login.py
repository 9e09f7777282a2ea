"""T13 システムログイン from a registered terminal (S05): ID + password under the lockout; IT unlocks."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from server.audit.models import AuditEvent
from server.institutions.models import AppAccount
from tests.server.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PATH = "/api/v1/accounts/login"


def login(terminal, password: str, account_id: str = "clinic-admin"):
    return terminal.call("POST", PATH, {"account_id": account_id, "password": password})


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_login_answers_the_account_and_institution(terminal, institution, account):
    response = login(terminal, PASSWORD)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["account_id"] == "clinic-admin"
    assert (body["institution_code"], body["institution_name"]) == (institution.code, "しかく整骨院")
    assert "server_time" in body
    event = AuditEvent.objects.get(action="app_account_login")
    assert event.actor_type == "account" and event.actor_id == "clinic-admin"
    assert str(event.device_id) == terminal.device_id and event.institution_id == institution.pk
    assert event.ip_address == "127.0.0.1" and event.request_id is not None
    assert PASSWORD not in str(event.detail)


def test_wrong_password_and_unknown_account_share_one_code(terminal, account):
    assert error_code(login(terminal, "Wrong#Pass1")) == "invalid_credentials"
    assert error_code(login(terminal, PASSWORD, account_id="nobody")) == "invalid_credentials"
    account.refresh_from_db()
    assert account.failed_attempts == 1


def test_five_failures_lock_for_30_minutes_and_say_until_when(terminal, account):
    for _ in range(4):
        assert login(terminal, "Wrong#Pass1").status_code == 401
    response = login(terminal, "Wrong#Pass1")
    assert response.status_code == 423 and error_code(response) == "account_locked"
    account.refresh_from_db()
    remaining = account.locked_until - timezone.now()
    assert datetime.timedelta(minutes=29) < remaining <= datetime.timedelta(minutes=30)
    local = timezone.localtime(account.locked_until, timezone=datetime.timezone(datetime.timedelta(hours=9)))
    assert f"{local:%Y年%m月%d日 %H時%M分}" in response.json()["error"]["message"]
    # Locked: the right password is refused too, and does not reset anything.
    assert login(terminal, PASSWORD).status_code == 423
    event = AuditEvent.objects.get(action="app_account_locked")
    assert str(event.device_id) == terminal.device_id and event.detail == {"failed_attempts": 5}


def test_password_change_failures_and_login_failures_count_together(terminal, account):
    for _ in range(3):
        login(terminal, "Wrong#Pass1")
    for _ in range(2):
        terminal.call(
            "POST",
            "/api/v1/accounts/password",
            {"account_id": "clinic-admin", "current_password": "Wrong#Pass1", "new_password": "New#Pass22"},
        )
    account.refresh_from_db()
    assert account.is_locked()


def test_a_lock_ends_by_itself_after_30_minutes(terminal, account):
    for _ in range(5):
        login(terminal, "Wrong#Pass1")
    AppAccount.objects.filter(pk=account.pk).update(locked_until=timezone.now() - datetime.timedelta(seconds=1))
    assert login(terminal, PASSWORD).status_code == 200
    account.refresh_from_db()
    assert (account.failed_attempts, account.locked_until) == (0, None)


def test_it_unlocks_with_the_command(terminal, institution, account):
    for _ in range(5):
        login(terminal, "Wrong#Pass1")
    out = StringIO()
    call_command("unlock_app_account", institution=institution.code, account_id="clinic-admin", by="it", stdout=out)
    assert "ロックを解除しました" in out.getvalue()
    assert login(terminal, PASSWORD).status_code == 200
    event = AuditEvent.objects.get(action="app_account_unlocked")
    assert (event.actor_type, event.actor_id, event.institution_id) == ("cli", "it", institution.pk)
    assert event.detail["locked_until"]
    with pytest.raises(CommandError):
        call_command("unlock_app_account", institution=institution.code, account_id="nobody")


def test_the_account_of_another_institution_cannot_log_in_here(foreign_terminal, institution, account):
    # The foreign terminal's institution has its own clinic-admin; the home account's id only exists at home.
    AppAccount.objects.filter(pk=account.pk).update(account_id="home-only")
    assert error_code(login(foreign_terminal, PASSWORD, account_id="home-only")) == "invalid_credentials"
    account.refresh_from_db()
    assert account.failed_attempts == 0


def test_login_needs_a_signed_active_device(api_client, account):
    response = api_client.post(PATH, {"account_id": "clinic-admin", "password": PASSWORD}, format="json")
    assert response.status_code == 401 and error_code(response) == "signature_required"


def test_login_validation(terminal, account):
    response = terminal.call("POST", PATH, {"account_id": ""})
    assert response.status_code == 400
    assert {"account_id", "password"} <= set(response.json()["error"]["fields"])
