"""The console searches as queries: results (A03: period in JST days, terminal, validity, name or kana) and the
audit trail (A06); newest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filter_audit_events(events: QuerySet, filters: dict[str, Any]) -> QuerySet:
    """Apply the cleaned ``AuditSearchForm`` data: period in JST days, actor ID by prefix, terminal, action, and the
    object an event concerns (a result, a device, an app account; the object ids are GIN-indexed)."""
    if filters.get("date_from"):
        events = events.filter(occurred_at__gte=_start_of(filters["date_from"]))
    if filters.get("date_to"):
        events = events.filter(occurred_at__lt=_start_of(filters["date_to"] + dt.timedelta(days=1)))
    actor = (filters.get("actor") or "").strip()
    if actor:
        events = events.filter(actor_id__istartswith=actor)
    if filters.get("device"):
        events = events.filter(device_id=filters["device"])
    if filters.get("action"):
        events = events.filter(action=filters["action"])
    kind, object_id = filters.get("object_type"), filters.get("object_id")
    if kind and object_id:
        about = Q(object_ids__contains=[object_id])
        if kind == "device":
            about |= Q(device_id=object_id)
        events = events.filter(about)
    return events.order_by("-occurred_at", "-id")
