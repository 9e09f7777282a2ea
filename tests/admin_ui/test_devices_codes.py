"""A02 (rest): activation codes issued once and listed by state, revoked; devices renamed. IT only, audited, S11."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

CODE_SHOWN = re.compile(r'data-testid="activation-code"[^>]*>(\d{4} \d{4} \d{4})<')


def issue(client, device_name: str = "") -> tuple[str, str]:
    response = client.post(reverse("console:activation-code-issue"), {"device_name": device_name})
    assert response.status_code == 200
    body = response.content.decode()
    match = CODE_SHOWN.search(body)
    assert match, body
    return match.group(1), body


def test_it_issues_a_code_shown_once_in_groups_of_four(client, it_staff, clinic):
    from server.audit.models import AuditEvent
    from server.devices.actions import hash_activation_code
    from server.devices.models import ActivationCode

    client.force_login(it_staff)
    form = client.get(reverse("console:activation-code-issue"))
    assert form.status_code == 200 and "端末名（任意）" in form.content.decode()

    shown, body = issue(client, "受付3")
    digits = shown.replace(" ", "")
    assert len(digits) == 12
    code = ActivationCode.objects.get(institution=clinic)
    assert code.code_hash == hash_activation_code(digits)  # the shown code is the stored one
    assert code.device_name == "受付3" and code.created_by == "it"
    assert timezone.localtime(code.expires_at).strftime("%Y年%m月%d日 %H時%M分") + "まで" in body
    assert "今回だけ表示されます" in body

    event = AuditEvent.objects.get(action="activation_code_issued")
    assert (event.actor_type, event.actor_id, event.institution_id) == ("staff", "it", clinic.pk)
    assert digits not in str(event.detail) and digits not in str(event.object_ids)

    # The list shows the state but never the code again.
    listing = client.get(reverse("console:activation-codes")).content.decode()
    assert "受付3" in listing and "有効" in listing
    assert digits not in listing and shown not in listing


def test_code_list_shows_each_state_and_only_own_institution(client, it_staff, clinic, other_clinic, make_device):
    from server.common.actor import Actor
    from server.devices.actions import do_issue_activation_code, do_revoke_activation_code

    _, valid = do_issue_activation_code(clinic, "有効のコード", actor=Actor.cli("pytest"))
    _, used = do_issue_activation_code(clinic, "使用のコード", actor=Actor.cli("pytest"))
    used.used_at = timezone.now()
    used.used_by_device = make_device(clinic, "受付9")
    used.save()
    _, expired = do_issue_activation_code(clinic, "期限のコード", ttl=dt.timedelta(seconds=-1), actor=Actor.cli("pytest"))
    _, revoked = do_issue_activation_code(clinic, "無効のコード", actor=Actor.cli("pytest"))
    do_revoke_activation_code(revoked, actor=Actor.cli("pytest"))
    do_issue_activation_code(other_clinic, "よそのコード", actor=Actor.cli("pytest"))

    client.force_login(it_staff)
    response = client.get(reverse("console:activation-codes"))
    body = response.content.decode()
    assert "よそのコード" not in body
    states = {code.device_name: code.state for code in response.context["codes"]}
    assert states == {
        "有効のコード": "valid",
        "使用のコード": "used",
        "期限のコード": "expired",
        "無効のコード": "revoked",
    }
    for label in ("使用済み", "期限切れ", "無効化", "受付9"):
        assert label in body
    # Only the valid code can be revoked.
    assert reverse("console:activation-code-revoke", args=[valid.pk]) in body
    for other in (used, expired, revoked):
        assert reverse("console:activation-code-revoke", args=[other.pk]) not in body


def test_it_revokes_a_valid_code_and_it_is_audited(client, it_staff, clinic):
    from server.audit.models import AuditEvent
    from server.common.actor import Actor
    from server.devices.actions import do_issue_activation_code

    _, code = do_issue_activation_code(clinic, "受付3", actor=Actor.cli("pytest"))
    client.force_login(it_staff)
    url = reverse("console:activation-code-revoke", args=[code.pk])
    assert client.get(url).status_code == 405  # a link cannot revoke
    response = client.post(url, follow=True)
    assert "無効化しました" in response.content.decode()
    code.refresh_from_db()
    assert code.state == "revoked"
    event = AuditEvent.objects.get(action="activation_code_revoked")
    assert (event.actor_type, event.actor_id) == ("staff", "it")
    assert event.object_ids == [f"activation_code:{code.pk}"]
    again = client.post(url, follow=True)
    assert "有効ではないため、無効化できません" in again.content.decode()
    assert AuditEvent.objects.filter(action="activation_code_revoked").count() == 1


def test_manager_can_neither_issue_nor_list_nor_revoke(client, manager, clinic):
    from server.common.actor import Actor
    from server.devices.actions import do_issue_activation_code
    from server.devices.models import ActivationCode

    _, code = do_issue_activation_code(clinic, "受付3", actor=Actor.cli("pytest"))
    client.force_login(manager)
    devices = client.get(reverse("console:devices")).content.decode()
    assert "アクティベーションコードを発行" not in devices and "名前を変更" not in devices
    assert client.get(reverse("console:activation-code-issue")).status_code == 403
    assert client.post(reverse("console:activation-code-issue"), {"device_name": ""}).status_code == 403
    assert client.get(reverse("console:activation-codes")).status_code == 403
    assert client.post(reverse("console:activation-code-revoke", args=[code.pk])).status_code == 403
    assert ActivationCode.objects.count() == 1
    code.refresh_from_db()
    assert code.state == "valid"


def test_it_cannot_revoke_another_institutions_code(client, it_staff, other_clinic):
    from server.common.actor import Actor
    from server.devices.actions import do_issue_activation_code

    _, code = do_issue_activation_code(other_clinic, "よその端末", actor=Actor.cli("pytest"))
    client.force_login(it_staff)
    assert client.post(reverse("console:activation-code-revoke", args=[code.pk])).status_code == 404
    code.refresh_from_db()
    assert code.state == "valid"


def test_issue_rejects_a_too_long_device_name(client, it_staff):
    from server.devices.models import ActivationCode

    client.force_login(it_staff)
    response = client.post(reverse("console:activation-code-issue"), {"device_name": "あ" * 101})
    assert response.status_code == 200
    assert "端末名は100文字以内で入力してください。" in response.content.decode()
    assert ActivationCode.objects.count() == 0


def test_it_renames_a_device(client, it_staff, clinic, make_device):
    from server.audit.models import AuditEvent

    device = make_device(clinic, "受付1")
    client.force_login(it_staff)
    url = reverse("console:device-rename", args=[device.pk])
    assert url in client.get(reverse("console:device-detail", args=[device.pk])).content.decode()
    page = client.get(url)
    assert page.status_code == 200 and 'value="受付1"' in page.content.decode()

    empty = client.post(url, {"name": "  "})
    assert "端末名を入力してください。" in empty.content.decode()
    too_long = client.post(url, {"name": "x" * 101})
    assert "端末名は100文字以内で入力してください。" in too_long.content.decode()
    device.refresh_from_db()
    assert device.name == "受付1"

    response = client.post(url, {"name": " 受付A "}, follow=True)
    assert "端末名を「受付1」から「受付A」に変更しました。" in response.content.decode()
    device.refresh_from_db()
    assert device.name == "受付A"
    event = AuditEvent.objects.get(action="device_renamed")
    assert (event.actor_type, event.actor_id, event.device_id) == ("staff", "it", device.pk)
    assert event.detail == {"from": "受付1", "to": "受付A"}

    # A02: names tell devices apart — another device's name is a field error, nothing changes.
    make_device(clinic, "診察室")
    clash = client.post(url, {"name": "診察室"})
    assert clash.status_code == 200
    assert clash.context["form"].errors["name"] == [
        "この端末名は既に使われています。ほかの端末と区別できる名前を入力してください。"
    ]
    device.refresh_from_db()
    assert device.name == "受付A"


def test_rename_is_it_only_and_isolated(client, manager, it_staff, clinic, other_clinic, make_device):
    own = make_device(clinic, "受付1")
    foreign = make_device(other_clinic, "よその端末")
    client.force_login(manager)
    assert client.post(reverse("console:device-rename", args=[own.pk]), {"name": "x"}).status_code == 403
    client.force_login(it_staff)
    assert client.get(reverse("console:device-rename", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("console:device-rename", args=[foreign.pk]), {"name": "乗っ取り"}).status_code == 404
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert (own.name, foreign.name) == ("受付1", "よその端末")
