"""A03 CSV export of the result search: the same filters, streamed with a BOM, audited with the exported ids."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.admin_ui.conftest import csv_rows

pytestmark = pytest.mark.django_db


def test_export_follows_the_search_and_is_audited_with_ids(
    client, manager, clinic, other_clinic, make_device, make_result
):
    from server.audit.models import AuditEvent

    front = make_device(clinic, "受付1")
    back = make_device(clinic, "受付2")
    valid = make_result(front, "資格 太郎", "シカク タロウ", checked_at=timezone.now() - dt.timedelta(hours=1))
    invalid = make_result(back, "無効 花子", "ムコウ ハナコ", validity="2")
    make_result(front, "古い 記録", "フルイ キロク", checked_at=timezone.now() - dt.timedelta(days=60))
    make_result(make_device(other_clinic, "よその端末"), "他院 患者", "タイン カンジャ")
    client.force_login(manager)

    listing = client.get(reverse("console:results")).content.decode()
    assert "CSV出力" in listing and reverse("console:results-export") in listing

    response = client.get(reverse("console:results-export"))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]  # patient data
    rows = csv_rows(response)
    assert rows[0] == [
        "資格確認日時",
        "氏名",
        "カナ",
        "端末",
        "資格確認結果",
        "保険者番号",
        "本人確認の方法",
        "受信日時",
        "結果ID",
    ]
    assert [row[1] for row in rows[1:]] == ["無効 花子", "資格 太郎"]  # newest first, last 30 days, own clinic
    assert rows[1][3:5] == ["受付2", "資格無効"]
    assert rows[2][0] == timezone.localtime(valid.checked_at).strftime("%Y/%m/%d %H:%M:%S")
    assert rows[2][4:7] == ["資格有効", "12345678", "マイナンバーカード (暗証番号)"]

    exported = AuditEvent.objects.get(action="console_results_exported")
    assert (exported.actor_type, exported.actor_id, exported.institution_id) == ("staff", "manager", clinic.pk)
    assert exported.object_ids == [str(invalid.pk), str(valid.pk)]
    assert exported.detail["rows"] == 2

    filtered = csv_rows(client.get(reverse("console:results-export"), {"validity": "valid", "q": "しかく"}))
    assert [row[1] for row in filtered[1:]] == ["資格 太郎"]
    last = AuditEvent.objects.filter(action="console_results_exported").order_by("-id").first()
    assert last.object_ids == [str(valid.pk)]
    assert last.detail["name_searched"] is True
    assert "しかく" not in str(last.detail)  # the searched name is patient data


def test_export_with_bad_filters_goes_back_with_errors(client, manager, clinic, make_device):
    from server.audit.models import AuditEvent

    client.force_login(manager)
    params = {"date_from": "2026-02-10", "date_to": "2026-02-01"}
    response = client.get(reverse("console:results-export"), params, follow=True)
    body = response.content.decode()
    assert "検索条件に誤りがあるため、CSVを出力できません。" in body
    assert "終了日は開始日以降の日付を指定してください。" in body
    assert not AuditEvent.objects.filter(action="console_results_exported").exists()


def test_export_refuses_foreign_terminal_and_needs_a_membership(
    client, manager, make_staff, clinic, other_clinic, make_device
):
    foreign = make_device(other_clinic, "よその端末")
    client.force_login(manager)
    assert client.get(reverse("console:results-export"), {"device": str(foreign.pk)}).status_code == 302
    client.logout()
    assert client.get(reverse("console:results-export")).status_code == 302
    client.force_login(make_staff("outsider", clinic, role=None))
    assert client.get(reverse("console:results-export")).status_code == 403


def test_export_has_a_ceiling(client, manager, clinic, make_device, make_result, monkeypatch):
    from admin_ui import views

    monkeypatch.setattr(views, "MAX_EXPORT_ROWS", 2)  # the ceiling itself, not the export path, is made small
    device = make_device(clinic, "受付1")
    for i in range(3):
        make_result(device, f"患者{i}", "カンジャ")
    client.force_login(manager)
    response = client.get(reverse("console:results-export"), follow=True)
    assert "出力できるのは2件までです。" in response.content.decode()
