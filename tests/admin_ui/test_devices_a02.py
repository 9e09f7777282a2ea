"""A02 (issue 14 point 4): devices you can tell apart — the code's name wins, names are unique, a refused call never
moves 最終接続日時, a device page with history and result count, sorting and paging, bulk retire / revoke, health."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from contracts import signing
from server.audit.models import AuditEvent
from server.common.actor import Actor
from server.devices.actions import do_issue_activation_code, do_retire_device
from server.devices.models import ActivationCode, Device
from server.institutions.actions import do_create_app_account
from tests.server.conftest import PASSWORD as ACCOUNT_PASSWORD
from tests.server.conftest import Terminal, registration_body

pytestmark = pytest.mark.django_db
NAME_TAKEN = "この端末名は既に使われています。ほかの端末と区別できる名前を入力してください。"


@pytest.fixture
def account(clinic):
    return do_create_app_account(clinic, "clinic-admin", ACCOUNT_PASSWORD, actor=Actor.cli("pytest"))


def register_as(clinic, host_name: str, *, preset: str | None = None) -> Terminal:
    """A terminal registering with its host name as the proposed name, with a code issued with ``preset``."""
    key = signing.generate_device_key()
    code, _ = do_issue_activation_code(clinic, device_name=preset, actor=Actor.cli("pytest"))
    client = APIClient()
    response = client.post(
        "/api/v1/devices/register", registration_body(clinic, code, key, device_name=host_name), format="json"
    )
    assert response.status_code == 201, response.content
    return Terminal(client, key, response.json()["device_id"])


def test_the_name_set_with_the_code_wins_and_names_stay_unique(clinic, account):
    named = register_as(clinic, "vm", preset="受付1")
    assert Device.objects.get(pk=named.device_id).name == "受付1"
    first, second = register_as(clinic, "vm"), register_as(clinic, "vm")
    names = {Device.objects.get(pk=t.device_id).name for t in (first, second)}
    assert names == {"vm", "vm (2)"}  # never refused over a name, never two alike


def test_a_preset_name_already_in_use_is_a_field_error(client, it_staff, clinic, make_device):
    make_device(clinic, "受付1")
    client.force_login(it_staff)
    response = client.post(reverse("console:activation-code-issue"), {"device_name": "受付1"})
    assert response.status_code == 200
    assert response.context["form"].errors["device_name"] == [NAME_TAKEN]
    assert not ActivationCode.objects.exists()
    # A valid code's preset name is reserved too, and the command line says so as well.
    do_issue_activation_code(clinic, device_name="受付2", actor=Actor.cli("pytest"))
    response = client.post(reverse("console:activation-code-issue"), {"device_name": "受付2"})
    assert response.context["form"].errors["device_name"] == [NAME_TAKEN]
    with pytest.raises(CommandError, match="既に使われています"):
        call_command("issue_activation_code", "--institution", clinic.code, "--device-name", "受付2")


def test_a_refused_call_never_updates_last_seen(clinic, account):
    terminal = register_as(clinic, "vm", preset="受付1")
    device = Device.objects.get(pk=terminal.device_id)
    do_retire_device(device, "紛失", actor=Actor.cli("pytest"))
    long_ago = timezone.now() - dt.timedelta(days=3)
    Device.objects.filter(pk=device.pk).update(last_seen_at=long_ago)
    for method, path in (("POST", "/api/v1/devices/me/heartbeat"), ("GET", "/api/v1/notices")):
        response = terminal.call(method, path, {} if method == "POST" else None)
        assert response.status_code == 403 and response.json()["error"]["code"] == "device_retired"
    device.refresh_from_db()
    assert device.last_seen_at == long_ago


def test_device_page_shows_history_and_result_count(client, it_staff, manager, clinic, account, make_result):
    terminal = register_as(clinic, "vm", preset="受付1")
    assert terminal.call("POST", "/api/v1/devices/me/heartbeat", {"app_version": "1.0.4", "reader_name": "SONY RC-S300"}).status_code == 200
    device = Device.objects.get(pk=terminal.device_id)
    make_result(device, "資格 太郎", "シカク タロウ")
    make_result(device, "資格 花子", "シカク ハナコ")
    do_retire_device(device, "故障のため交換", actor=Actor.cli("it"))

    client.force_login(it_staff)
    response = client.get(reverse("console:device-detail", args=[device.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="device-result-count">2件<' in body  # a number only: IT sees no patient data
    assert "資格 太郎" not in body
    actions = [row["event"].action for row in response.context["history"]]
    assert actions == ["device_retired", "device_updated", "device_registered"]
    registered = {d.label: d.value for d in response.context["history"][-1]["details"]}
    assert registered["端末名"] == "受付1" and registered["カードリーダー"] == "Virtual PCD 00 00"  # the reader from the start
    for text in ("端末の登録", "端末情報の更新", "アプリバージョン", "0.1.0 → 1.0.4", "SONY RC-S300", "故障のため交換", "廃止"):
        assert text in body, text
    client.force_login(manager)
    assert client.get(reverse("console:device-detail", args=[device.pk])).status_code == 200


def test_sorting_paging_and_health(client, manager, clinic, make_device, settings, monkeypatch):
    now = timezone.now()
    make_device(clinic, "受付1", last_seen_at=now - dt.timedelta(minutes=1))
    make_device(clinic, "受付2", last_seen_at=now - dt.timedelta(minutes=settings.DEVICE_OFFLINE_AFTER_MINUTES + 5))
    make_device(clinic, "診察室", last_seen_at=None)
    make_device(clinic, "旧受付", status="retired", retired_at=now, retired_by="it", retired_reason="故障")
    client.force_login(manager)
    response = client.get(reverse("console:devices"), {"sort": "-last_seen_at"})
    rows = response.context["rows"]
    assert [r["device"].name for r in rows] == ["旧受付", "受付1", "受付2", "診察室"]  # never seen: last
    health = {r["device"].name: r["health_label"] for r in rows}
    assert health == {"受付1": "正常", "受付2": "応答なし", "診察室": "応答なし", "旧受付": "廃止"}
    names = [r["device"].name for r in client.get(reverse("console:devices"), {"sort": "name"}).context["rows"]]
    assert names == sorted(names)
    body = client.get(reverse("console:devices"), {"sort": "-name"}).content.decode()
    assert 'aria-sort="descending"' in body
    assert client.get(reverse("console:devices"), {"sort": "password"}).status_code == 200  # unknown: the default

    from admin_ui import views

    monkeypatch.setattr(views, "DEVICES_PER_PAGE", 3)
    second = client.get(reverse("console:devices"), {"sort": "name", "page": 2})
    assert [r["device"].name for r in second.context["rows"]] == names[3:]


def test_bulk_retire_with_one_confirmation(client, it_staff, clinic, make_device):
    a, b, c = make_device(clinic, "受付1"), make_device(clinic, "受付2"), make_device(clinic, "受付3")
    client.force_login(it_staff)
    confirm = client.post(reverse("console:devices-retire"), {"device": [str(a.pk), str(b.pk)]})
    assert confirm.status_code == 200
    assert [d.name for d in confirm.context["devices"]] == ["受付1", "受付2"]
    assert Device.objects.filter(status="active").count() == 3  # nothing yet: the confirmation first
    missing = client.post(reverse("console:devices-retire"), {"device": [str(a.pk), str(b.pk)], "step": "retire"})
    assert missing.context["form"].errors["reason"] == ["廃止の理由を入力してください。"]
    done = client.post(
        reverse("console:devices-retire"),
        {"device": [str(a.pk), str(b.pk), "not-a-uuid"], "step": "retire", "reason": "入れ替え", "confirm": "on"},
        follow=True,
    )
    assert "2台の端末（「受付1」「受付2」）を廃止しました。" in done.content.decode()
    assert set(Device.objects.filter(status="retired").values_list("name", flat=True)) == {"受付1", "受付2"}
    assert AuditEvent.objects.filter(action="device_retired", actor_id="it").count() == 2
    c.refresh_from_db()
    assert c.status == "active"


def test_bulk_revoke_of_codes(client, it_staff, clinic, other_clinic):
    _, first = do_issue_activation_code(clinic, actor=Actor.cli("pytest"))
    _, second = do_issue_activation_code(clinic, actor=Actor.cli("pytest"))
    _, foreign = do_issue_activation_code(other_clinic, actor=Actor.cli("pytest"))
    client.force_login(it_staff)
    response = client.post(
        reverse("console:activation-codes-revoke"), {"code": [first.pk, second.pk, foreign.pk]}, follow=True
    )
    assert "2件のアクティベーションコードを無効化しました。" in response.content.decode()
    assert {c.pk for c in ActivationCode.objects.filter(revoked_at__isnull=False)} == {first.pk, second.pk}
    assert AuditEvent.objects.filter(action="activation_code_revoked").count() == 2
