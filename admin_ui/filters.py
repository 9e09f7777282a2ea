"""The console searches as queries: results (A03: period in JST days, terminal, validity, name or kana) and the
audit trail (A06); newest first."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Replace
from django.utils import timezone

_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}


def normalize_search_term(term: str) -> str:
    """Reception staff type names any way: half-width kana, hiragana, with or without the space between names.

    NFKC makes half-width katakana full-width, hiragana becomes katakana (names_kana are katakana), spaces go.
    """
    term = unicodedata.normalize("NFKC", term).translate(_HIRAGANA_TO_KATAKANA)
    return "".join(term.split())


def _without_spaces(field: str):
    return Replace(Replace(F(field), Value(" "), Value("")), Value("\u3000"), Value(""))


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# A03 sortable columns: time, terminal, validity. Not the name: patient names are moving to encrypted columns with
# blind indexes (issue 15), which can be matched but not ordered (docs/console.md).
RESULT_ORDERINGS = {
    "checked_at": ("checked_at", "id"),
    "device": ("device__name", "checked_at", "id"),
    "validity": ("is_valid", "checked_at", "id"),
}


def result_ordering(sort: str) -> list[str]:
    """``-checked_at`` → ``["-checked_at", "-id"]``: every key in the chosen direction, ties broken by time and id."""
    descending = sort.startswith("-")
    fields = RESULT_ORDERINGS.get(sort.lstrip("-"), RESULT_ORDERINGS["checked_at"])
    return [("-" if descending else "") + field for field in fields]


def filter_results(results: QuerySet, filters: dict[str, Any], sort: str = "-checked_at") -> QuerySet:
    """Apply the cleaned ``ResultSearchForm`` data; empty filters do not narrow the search. ``sort``: a key of
    RESULT_ORDERINGS, ``-`` for descending."""
    if filters.get("date_from"):
        results = results.filter(checked_at__gte=_start_of(filters["date_from"]))
    if filters.get("date_to"):
        results = results.filter(checked_at__lt=_start_of(filters["date_to"] + dt.timedelta(days=1)))
    if filters.get("device"):
        results = results.filter(device_id=filters["device"])
    if filters.get("validity"):
        results = results.filter(is_valid=filters["validity"] == "valid")
    term = normalize_search_term(filters.get("q") or "")
    if term:
        results = results.annotate(
            compact_name=_without_spaces("name"), compact_kana=_without_spaces("name_kana")
        ).filter(Q(compact_name__icontains=term) | Q(compact_kana__icontains=term))
    return results.order_by(*result_ordering(sort))


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
