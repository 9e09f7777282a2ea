"""S05 / T09: the terminal changes the app account's password; wrong current passwords count toward the lockout."""

from __future__ import annotations

import pytest

from server.audit.models import AuditEvent
from server.institutions.models import AppAccount
from tests.server.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PATH = "/api/v1/accounts/password"


def change(terminal, current: str, new: str, account_id: str = "clinic-admin"):
    return terminal.call("POST", PATH, {"account_id": account_id, "current_password": current, "new_password": new})


def test_change_password(terminal, account):
    response = change(terminal, PASSWORD, "New#Pass22")
    assert response.status_code == 200, response.content
    assert response.json()["account_id"] == "clinic-admin"
    account.refresh_from_db()
    assert account.check_password("New#Pass22")
    assert AuditEvent.objects.filter(action="app_account_password_changed").exists()


def test_rule_and_same_password(terminal, account):
    for new in ("weak", PASSWORD):
        response = change(terminal, PASSWORD, new)
        assert response.status_code == 400, response.content
        assert "new_password" in response.json()["error"]["fields"]
    account.refresh_from_db()
    assert account.check_password(PASSWORD)


def test_wrong_current_password_counts_and_locks(terminal, account):
    for _ in range(4):
        assert change(terminal, "Wrong#Pass1", "New#Pass22").json()["error"]["code"] == "invalid_credentials"
    response = change(terminal, "Wrong#Pass1", "New#Pass22")
    assert response.status_code == 423 and response.json()["error"]["code"] == "account_locked"
    assert change(terminal, PASSWORD, "New#Pass22").status_code == 423
    assert AppAccount.objects.get(pk=account.pk).check_password(PASSWORD)


def test_unknown_account_is_invalid_credentials(terminal, account):
    response = change(terminal, PASSWORD, "New#Pass22", account_id="nobody")
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_credentials"


def test_account_of_another_institution_cannot_be_changed(foreign_terminal, account):
    # foreign_terminal's institution has its own clinic-admin; ours is untouched.
    assert change(foreign_terminal, PASSWORD, "New#Pass22").status_code == 200
    assert AppAccount.objects.get(pk=account.pk).check_password(PASSWORD)


def test_needs_a_signed_active_device(api_client, account):
    response = api_client.post(PATH, {}, format="json")
    assert response.status_code == 401 and response.json()["error"]["code"] == "signature_required"
