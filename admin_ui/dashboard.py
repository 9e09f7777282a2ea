"""The A07 dashboard's figures: checks per JST day and per terminal, the valid/invalid share, terminal health.

Aggregation happens in PostgreSQL (one grouped query per chart), never by loading results into Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from admin_ui.charts import Bar, DayCount, daily_checks_chart, horizontal_bar_chart, share_chart
from server.devices.models import Device
from server.results.models import CheckResult

PERIODS = (7, 30, 90)  # A07: the period choice of the charts, in JST days ending today
DEFAULT_PERIOD = 30
HEALTH_SCALE_HOURS = 7 * 24  # the health bars run from "just now" to a week; older ones fill the bar
NARROW_CHART_WIDTH = 360  # the viewBox of the charts drawn for a phone: about the width they get there


@dataclass(frozen=True)
class DeviceHealth:
    device: Any
    state: str  # Device.HEALTH_OK | HEALTH_SILENT (retired devices are not listed)
    label: str
    since: str


def _ago(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "1分以内"
    if minutes < 60:
        return f"{minutes}分前"
    if minutes < 48 * 60:
        return f"{minutes // 60}時間前"
    return f"{minutes // (24 * 60)}日前"


def device_health(devices: list[Any], now: dt.datetime) -> list[DeviceHealth]:
    """Devices in service with their health (正常 / 応答なし, as on the device list), the longest silent first."""
    rows = [
        DeviceHealth(
            device,
            device.health(now),
            device.HEALTH_LABELS[device.health(now)],
            _ago(now - device.last_seen_at) if device.last_seen_at else "接続なし",
        )
        for device in devices
    ]
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(rows, key=lambda row: (row.device.last_seen_at or never, row.device.name))


def parse_period(value: str | None) -> int:
    try:
        days = int(value or DEFAULT_PERIOD)
    except ValueError:
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def _results_url(**params: Any) -> str:
    return reverse("console:results") + "?" + urlencode(params)


def dashboard_context(institution: Any, days: int = DEFAULT_PERIOD, *, links: bool = True) -> dict[str, Any]:
    """Figures of the last ``days`` JST days. ``links``: bars and stats lead to the filtered result list (only for
    users who may open it)."""
    now = timezone.now()
    today = timezone.localdate(now)
    first_day = today - dt.timedelta(days=days - 1)
    start = timezone.make_aware(dt.datetime.combine(first_day, dt.time.min))
    results = CheckResult.objects.filter(institution=institution, checked_at__gte=start)

    per_day = {
        row["day"]: row
        for row in results.annotate(day=TruncDate("checked_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(valid=Count("id", filter=Q(is_valid=True)), invalid=Count("id", filter=Q(is_valid=False)))
    }
    day_counts = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        row = per_day.get(day, {})
        href = _results_url(date_from=day.isoformat(), date_to=day.isoformat()) if links else ""
        day_counts.append(
            DayCount(f"{day.month}/{day.day}", f"{day:%Y年%m月%d日}", row.get("valid", 0), row.get("invalid", 0), href)
        )
    valid_total = sum(d.valid for d in day_counts)
    invalid_total = sum(d.invalid for d in day_counts)
    period = {"date_from": first_day.isoformat(), "date_to": today.isoformat()}

    devices = list(Device.objects.filter(institution=institution).order_by("name", "registered_at"))
    per_device = {row["device_id"]: row["total"] for row in results.values("device_id").annotate(total=Count("id"))}
    # Active terminals always appear (a terminal with no checks is worth seeing); others only if they checked.
    terminal_bars = [
        Bar(
            d.name,
            per_device.get(d.pk, 0),
            f"{per_device.get(d.pk, 0)}件",
            href=_results_url(device=d.pk, **period) if links else "",
        )
        for d in devices
        if d.status == Device.STATUS_ACTIVE or per_device.get(d.pk)
    ]
    terminal_bars.sort(key=lambda bar: -bar.value)

    health = device_health([d for d in devices if d.status == Device.STATUS_ACTIVE], now)
    tones = {Device.HEALTH_OK: "valid", Device.HEALTH_SILENT: "warn"}
    health_bars = [
        Bar(
            row.device.name,
            HEALTH_SCALE_HOURS
            if row.device.last_seen_at is None
            else (now - row.device.last_seen_at).total_seconds() / 3600,
            row.since,
            tones[row.state],
            href=reverse("console:device-detail", args=[row.device.pk]),
        )
        for row in health
    ]
    health_counts = {
        "ok": sum(1 for row in health if row.state == Device.HEALTH_OK),
        "silent": sum(1 for row in health if row.state == Device.HEALTH_SILENT),
        "retired": sum(1 for d in devices if d.status != Device.STATUS_ACTIVE),
    }

    start_of_today = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    today_counts = results.filter(checked_at__gte=start_of_today).aggregate(
        total=Count("id"), valid=Count("id", filter=Q(is_valid=True)), invalid=Count("id", filter=Q(is_valid=False))
    )
    charts: dict[str, SafeString] = {
        "daily": daily_checks_chart(day_counts),
        "daily_narrow": daily_checks_chart(day_counts, width=NARROW_CHART_WIDTH, key="chart-daily-narrow"),
        "terminals": horizontal_bar_chart(
            terminal_bars, title="端末別の資格確認件数", css_class="chart-terminals", width=440
        ),
        "terminals_narrow": horizontal_bar_chart(
            terminal_bars,
            title="端末別の資格確認件数",
            css_class="chart-terminals",
            width=NARROW_CHART_WIDTH,
            key="chart-terminals-narrow",
        ),
        "share": share_chart(
            valid_total,
            invalid_total,
            valid_href=_results_url(validity="valid", **period) if links else "",
            invalid_href=_results_url(validity="invalid", **period) if links else "",
        ),
        "health": horizontal_bar_chart(
            health_bars, title="端末の最終接続からの経過時間", css_class="chart-health", maximum=HEALTH_SCALE_HOURS
        ),
        "health_narrow": horizontal_bar_chart(
            health_bars,
            title="端末の最終接続からの経過時間",
            css_class="chart-health",
            maximum=HEALTH_SCALE_HOURS,
            width=NARROW_CHART_WIDTH,
            key="chart-health-narrow",
        ),
    }
    return {
        "today": today,
        "first_day": first_day,
        "today_counts": today_counts,
        "active_devices": len(health),
        "all_devices": len(devices),
        "stale_devices": health_counts["silent"],
        "health_counts": health_counts,
        "period_query": urlencode(period),
        "periods": PERIODS,
        "offline_minutes": settings.DEVICE_OFFLINE_AFTER_MINUTES,
        "period_counts": {"total": valid_total + invalid_total, "valid": valid_total, "invalid": invalid_total},
        "valid_share": round(valid_total * 100 / (valid_total + invalid_total))
        if valid_total + invalid_total
        else None,
        "days": day_counts,
        "terminal_bars": terminal_bars,
        "health": health,
        "charts": charts,
        "chart_days": days,
    }
