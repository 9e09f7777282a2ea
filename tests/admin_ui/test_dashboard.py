"""A07 ダッシュボード: per-day and per-terminal checks, valid/invalid share, terminal health, as inline SVG."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_dashboard_charts_count_the_right_results(client, manager, clinic, other_clinic, make_device, make_result):
    front = make_device(clinic, "受付1")
    back = make_device(clinic, "受付2", last_seen_at=timezone.now() - dt.timedelta(days=3))
    make_device(clinic, "新しい端末", last_seen_at=None)
    make_device(clinic, "古い端末", status="retired", retired_at=timezone.now())
    now = timezone.now()
    make_result(front, "資格 太郎", "シカク タロウ", checked_at=now)
    make_result(front, "資格 次郎", "シカク ジロウ", checked_at=now)
    make_result(back, "無効 花子", "ムコウ ハナコ", validity="2", checked_at=now - dt.timedelta(days=2))
    make_result(front, "古い 記録", "フルイ キロク", checked_at=now - dt.timedelta(days=40))  # outside the window
    make_result(make_device(other_clinic, "よその端末"), "他院 患者", "タイン カンジャ")

    client.force_login(manager)
    response = client.get(reverse("console:dashboard"))
    body = response.content.decode()
    context = response.context
    assert response.status_code == 200

    days = context["days"]
    assert len(days) == 30 and days[-1].title == f"{timezone.localdate():%Y年%m月%d日}"
    assert (days[-1].valid, days[-1].invalid) == (2, 0)
    assert (days[-3].valid, days[-3].invalid) == (0, 1)
    assert sum(d.total for d in days) == 3
    assert context["period_counts"] == {"total": 3, "valid": 2, "invalid": 1}
    assert {bar.label: bar.value for bar in context["terminal_bars"]} == {"受付1": 2, "受付2": 1, "新しい端末": 0}
    # A07: the health the device list shows — 正常 / 応答なし (silent past DEVICE_OFFLINE_AFTER_MINUTES) / 廃止.
    assert {row.device.name: row.label for row in context["health"]} == {
        "受付1": "正常",
        "受付2": "応答なし",
        "新しい端末": "応答なし",
    }
    assert context["health_counts"] == {"ok": 1, "silent": 2, "retired": 1}
    assert "正常 1台・応答なし 2台・廃止 1台" in body
    assert "よその端末" not in body and "他院" not in body

    # Four inline SVG charts with accessible names (three drawn again for a phone); no script, no external asset.
    assert body.count("<svg") == 7
    assert "<script" not in body.split("</head>", 1)[1]
    for title in ("日別の資格確認件数", "端末別の資格確認件数", "資格有効・無効の割合", "端末の最終接続からの経過時間"):
        assert f">{title}</title>" in body
    assert "67%" in body  # 2 of 3 valid
    assert "3日前" in body and "接続なし" in body
    assert re.search(r"受付1: 2件", body)

    # Bars link to the filtered result list: the day, the terminal over the period, valid / invalid.
    today = timezone.localdate().isoformat()
    assert f'href="/console/results/?date_from={today}&amp;date_to={today}"' in body
    assert f"/console/results/?device={front.pk}&amp;date_from=" in body
    assert "validity=invalid" in body


def test_period_choice_and_it_sees_no_result_links(client, manager, it_staff, clinic, make_device, make_result):
    device = make_device(clinic, "受付1")
    make_result(device, "資格 太郎", "シカク タロウ", checked_at=timezone.now() - dt.timedelta(days=20))
    client.force_login(manager)
    for days, total in ((7, 0), (30, 1), (90, 1)):
        context = client.get(reverse("console:dashboard"), {"days": days}).context
        assert len(context["days"]) == days and context["period_counts"]["total"] == total
    assert len(client.get(reverse("console:dashboard"), {"days": "1000"}).context["days"]) == 30
    client.force_login(it_staff)
    body = client.get(reverse("console:dashboard")).content.decode()
    assert "/console/results/" not in body  # IT may not open results: no links to them
    assert f"/console/devices/{device.pk}/" in body


def test_dashboard_chart_labels_are_escaped(client, it_staff, clinic, make_device):
    make_device(clinic, '<script>alert("x")</script>')
    client.force_login(it_staff)
    body = client.get(reverse("console:dashboard")).content.decode()
    assert '<script>alert("x")' not in body
    assert "&lt;script&gt;" in body


def test_empty_dashboard_renders(client, manager):
    client.force_login(manager)
    response = client.get(reverse("console:dashboard"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "利用中の端末はありません。" in body
    assert "—" in body  # no share to show


def test_days_are_jst_calendar_days(client, manager, clinic, make_device, make_result):
    device = make_device(clinic, "受付1")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    early = timezone.make_aware(dt.datetime.combine(yesterday, dt.time(0, 10)))  # the previous day in UTC
    late = timezone.make_aware(dt.datetime.combine(yesterday, dt.time(23, 50)))
    make_result(device, "早朝 太郎", "ソウチョウ タロウ", checked_at=early)
    make_result(device, "深夜 花子", "シンヤ ハナコ", validity="2", checked_at=late)
    client.force_login(manager)
    days = client.get(reverse("console:dashboard")).context["days"]
    assert days[-2].title == f"{yesterday:%Y年%m月%d日}"
    assert (days[-2].valid, days[-2].invalid) == (1, 1)
    assert days[-1].total == 0 and days[-3].total == 0


def test_chart_scale_is_round():
    from admin_ui.charts import _nice_ceiling

    assert [_nice_ceiling(v) for v in (0, 1, 3, 7, 12, 20, 48, 101)] == [1, 1, 5, 10, 20, 20, 50, 200]
