"""A04 アプリアカウント: list, create with the T09 rule (Japanese field errors), reset, unlock. IT only, audited, S11."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.admin_ui.conftest import ACCOUNT_PASSWORD

pytestmark = pytest.mark.django_db

RULE = "パスワードは8〜20文字で、英大文字・英小文字・数字・記号"


def test_account_list_shows_lock_and_failures_of_own_institution(client, it_staff, clinic, other_clinic, make_account):
    locked_until = timezone.now() + dt.timedelta(minutes=20)
    make_account(clinic, "clinic-admin")
    make_account(clinic, "reception", failed_attempts=5, locked_until=locked_until)
    make_account(other_clinic, "other-admin")
    client.force_login(it_staff)
    response = client.get(reverse("console:accounts"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "clinic-admin" in body and "reception" in body
    assert "other-admin" not in body
    for column in ("ID", "ロック期限", "連続失敗回数"):
        assert column in body
    assert "ロック中" in body and "5回" in body
    assert timezone.localtime(locked_until).strftime("%Y年%m月%d日 %H時%M分") in body
    assert ACCOUNT_PASSWORD not in body and "pbkdf2" not in body


def test_it_creates_an_account_and_it_is_audited(client, it_staff, clinic):
    from server.audit.models import AuditEvent
    from server.institutions.models import AppAccount

    client.force_login(it_staff)
    assert client.get(reverse("console:account-create")).status_code == 200
    response = client.post(
        reverse("console:account-create"),
        {"account_id": "tablet-2", "password": "New#Pass22", "password_confirm": "New#Pass22"},
        follow=True,
    )
    assert "アプリアカウント「tablet-2」を作成しました。" in response.content.decode()
    account = AppAccount.objects.get(institution=clinic, account_id="tablet-2")
    assert account.check_password("New#Pass22")
    event = AuditEvent.objects.get(action="app_account_created")
    assert (event.actor_type, event.actor_id, event.institution_id, event.object_ids) == (
        "staff",
        "it",
        clinic.pk,
        ["tablet-2"],
    )
    assert "New#Pass22" not in str(event.detail)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"account_id": "", "password": "New#Pass22", "password_confirm": "New#Pass22"}, "account_id", "IDを入力"),
        (
            {"account_id": "受付", "password": "New#Pass22", "password_confirm": "New#Pass22"},
            "account_id",
            "半角英数字",
        ),
        (
            {"account_id": "a" * 65, "password": "New#Pass22", "password_confirm": "New#Pass22"},
            "account_id",
            "1〜64文字",
        ),
        ({"account_id": "t", "password": "", "password_confirm": ""}, "password", "パスワードを入力してください。"),
        ({"account_id": "t", "password": "Short#1", "password_confirm": "Short#1"}, "password", RULE),
        ({"account_id": "t", "password": "nouppercase#1", "password_confirm": "nouppercase#1"}, "password", RULE),
        ({"account_id": "t", "password": "NoSymbol123", "password_confirm": "NoSymbol123"}, "password", RULE),
        ({"account_id": "t", "password": "NoDigits#Ab", "password_confirm": "NoDigits#Ab"}, "password", RULE),
        ({"account_id": "t", "password": "Zenkaku#1２３", "password_confirm": "Zenkaku#1２３"}, "password", RULE),
        ({"account_id": "t", "password": "Space #Pass1", "password_confirm": "Space #Pass1"}, "password", RULE),
        ({"account_id": "t", "password": "A#1a" * 6, "password_confirm": "A#1a" * 6}, "password", RULE),
        (
            {"account_id": "t", "password": "New#Pass22", "password_confirm": "New#Pass23"},
            "password_confirm",
            "一致しません",
        ),
    ],
)
def test_create_reports_field_errors_in_japanese(client, it_staff, clinic, data, field, message):
    from server.institutions.models import AppAccount

    client.force_login(it_staff)
    response = client.post(reverse("console:account-create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert message in response.content.decode()
    assert not AppAccount.objects.filter(institution=clinic).exists()


def test_create_refuses_a_duplicate_id_but_allows_it_in_another_institution(
    client, it_staff, clinic, other_clinic, make_account
):
    from server.institutions.models import AppAccount

    make_account(clinic, "clinic-admin")
    make_account(other_clinic, "tablet-2")
    client.force_login(it_staff)
    data = {"account_id": "clinic-admin", "password": "New#Pass22", "password_confirm": "New#Pass22"}
    response = client.post(reverse("console:account-create"), data)
    assert "このIDは既に使われています。" in response.content.decode()
    data["account_id"] = "tablet-2"
    client.post(reverse("console:account-create"), data)
    assert AppAccount.objects.filter(account_id="tablet-2").count() == 2


def test_it_resets_a_password_which_also_unlocks(client, it_staff, clinic, make_account):
    from server.audit.models import AuditEvent

    account = make_account(
        clinic, "clinic-admin", failed_attempts=5, locked_until=timezone.now() + dt.timedelta(minutes=9)
    )
    client.force_login(it_staff)
    url = reverse("console:account-password", args=[account.pk])
    page = client.get(url)
    assert page.status_code == 200 and "clinic-admin" in page.content.decode()
    bad = client.post(url, {"password": "weak", "password_confirm": "weak"})
    assert RULE in bad.content.decode()
    account.refresh_from_db()
    assert account.check_password(ACCOUNT_PASSWORD)

    response = client.post(url, {"password": "Reset#Pass9", "password_confirm": "Reset#Pass9"}, follow=True)
    assert "パスワードを再設定しました" in response.content.decode()
    account.refresh_from_db()
    assert account.check_password("Reset#Pass9")
    assert (account.failed_attempts, account.locked_until) == (0, None)
    event = AuditEvent.objects.get(action="app_account_password_set")
    assert (event.actor_type, event.actor_id, event.object_ids) == ("staff", "it", ["clinic-admin"])


def test_it_unlocks_a_locked_account(client, it_staff, clinic, make_account):
    from server.audit.models import AuditEvent

    account = make_account(
        clinic, "clinic-admin", failed_attempts=5, locked_until=timezone.now() + dt.timedelta(minutes=9)
    )
    client.force_login(it_staff)
    url = reverse("console:account-unlock", args=[account.pk])
    assert url in client.get(reverse("console:accounts")).content.decode()
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "アプリアカウント「clinic-admin」のロックを解除しました。" in response.content.decode()
    account.refresh_from_db()
    assert (account.failed_attempts, account.locked_until) == (0, None)
    event = AuditEvent.objects.get(action="app_account_unlocked")
    assert (event.actor_type, event.actor_id, event.institution_id) == ("staff", "it", clinic.pk)
    # Nothing to unlock any more: no second event.
    again = client.post(url, follow=True)
    assert "ロックされていません" in again.content.decode()
    assert AuditEvent.objects.filter(action="app_account_unlocked").count() == 1


def test_accounts_are_it_only(client, manager, clinic, make_account):
    account = make_account(
        clinic, "clinic-admin", failed_attempts=5, locked_until=timezone.now() + dt.timedelta(minutes=9)
    )
    client.force_login(manager)
    assert "アプリアカウント" not in client.get(reverse("console:dashboard")).content.decode()
    for url in (
        reverse("console:accounts"),
        reverse("console:account-create"),
        reverse("console:account-password", args=[account.pk]),
    ):
        assert client.get(url).status_code == 403
    data = {"account_id": "x", "password": "New#Pass22", "password_confirm": "New#Pass22"}
    assert client.post(reverse("console:account-create"), data).status_code == 403
    assert client.post(reverse("console:account-unlock", args=[account.pk])).status_code == 403
    account.refresh_from_db()
    assert account.failed_attempts == 5


def test_accounts_of_another_institution_are_not_found(client, it_staff, other_clinic, make_account):
    foreign = make_account(
        other_clinic, "other-admin", failed_attempts=5, locked_until=timezone.now() + dt.timedelta(minutes=9)
    )
    client.force_login(it_staff)
    assert client.get(reverse("console:account-password", args=[foreign.pk])).status_code == 404
    data = {"password": "Evil#Pass99", "password_confirm": "Evil#Pass99"}
    assert client.post(reverse("console:account-password", args=[foreign.pk]), data).status_code == 404
    assert client.post(reverse("console:account-unlock", args=[foreign.pk])).status_code == 404
    foreign.refresh_from_db()
    assert foreign.failed_attempts == 5 and foreign.check_password(ACCOUNT_PASSWORD)
