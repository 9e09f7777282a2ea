"""Reads of the audit trail (S09, A06), one module for the console's pages and the audit API: the filters (period,
actor, terminal, the object an event concerns, patient name, action), the API's cursors and the one audit CSV.

A patient name is never in the trail itself: it is matched against the institution's results (氏名 or カナ, as the
result search matches them) and the events are those that name one of those result ids among their objects.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from contracts.periods import JST
from server.audit.labels import actor_type_label, audit_action_label, describe_text
from server.audit.models import AuditEvent
from server.common import parsing
from server.common.errors import ApiError
from server.common.jst import within_jst_days
from server.devices.models import Device
from server.results.queries import result_ids_for_name

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Results matched by a patient name, newest first; a name common enough to exceed this should be narrowed.
MAX_PATIENT_RESULTS = 2000
ACTOR_TYPES = [choice for choice, _ in AuditEvent.ACTOR_CHOICES]


def _invalid(field: str, message: str) -> ApiError:
    return ApiError("validation_error", "入力内容に誤りがあります。", 400, {field: [message]})


@dataclass(frozen=True)
class AuditQuery:
    """What a search of the trail narrows by; empty means no bound.

    ``actor`` is matched exactly (any case) by the API, by its beginning in the console (``actor_prefix``);
    ``device``: events of the terminal or about it (retired, renamed); ``about``: events naming that object id
    (a result, a device, an app account); ``patient``: events naming one of the results of that 氏名 or カナ."""

    actor_type: str = ""
    actor: str = ""
    actor_prefix: bool = False
    device: str = ""
    about: str = ""
    patient: str = ""
    action: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    page_size: int = DEFAULT_PAGE_SIZE

    def as_detail(self) -> dict[str, Any]:
        """The filters for the trail of this query itself: whether a patient was searched, never the name."""
        return {
            "actor_type": self.actor_type or None,
            "actor": self.actor or None,
            "device": self.device or None,
            "action": self.action or None,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "patient_searched": bool(self.patient),
        }


def _date(params: Any, field: str) -> datetime.date | None:
    value = (params.get(field) or "").strip()
    if not value:
        return None
    try:
        return parsing.clamp_date(parsing.iso_date(value))
    except ValueError:
        raise _invalid(field, "日付はYYYY-MM-DDの形式で入力してください。") from None


def _text(params: Any, field: str, max_length: int) -> str:
    try:
        return parsing.plain_text(params.get(field), max_length)
    except ValueError:
        raise _invalid(field, "使用できない文字が含まれています。") from None


def parse_audit_query(params: Any) -> AuditQuery:
    """The API's query parameters (docs/contracts.md); every bad value is a 400 naming its field."""
    actor_type = _text(params, "actor_type", 16)
    if actor_type and actor_type not in ACTOR_TYPES:
        raise _invalid("actor_type", "actor_type は " + " / ".join(ACTOR_TYPES) + " のいずれかを指定してください。")
    device = _text(params, "device", 64)
    if device:
        try:
            device = str(uuid.UUID(device))
        except ValueError:
            raise _invalid("device", "端末IDが正しくありません。") from None
    try:
        page_size = parsing.bounded_int(params.get("page_size") or DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    except ValueError:
        raise _invalid("page_size", f"page_size は1〜{MAX_PAGE_SIZE}の数値で指定してください。") from None
    date_from, date_to = _date(params, "date_from"), _date(params, "date_to")
    if date_from and date_to and date_from > date_to:
        raise _invalid("date_from", "開始日は終了日以前の日付を指定してください。")
    return AuditQuery(
        actor_type=actor_type,
        actor=_text(params, "actor", 150),
        device=device,
        patient=_text(params, "patient", 100),
        action=_text(params, "action", 64),
        date_from=date_from,
        date_to=date_to,
        page_size=page_size,
    )


def console_query(data: dict[str, Any]) -> AuditQuery:
    """The console's search form (cleaned data): actor by prefix, terminal, action, the object an event concerns."""
    return AuditQuery(
        actor=(data.get("actor") or "").strip(),
        actor_prefix=True,
        device=str(data.get("device") or ""),
        about=str(data.get("object_id") or "") if data.get("object_type") else "",
        action=data.get("action") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )


def naming(object_ids: list[str]) -> Q:
    """Events whose objects include one of ``object_ids``. PostgreSQL answers from the GIN index on ``object_ids``
    (jsonb ``?|``); the embedded SQLite has no JSON containment, so there the JSON text is searched."""
    if connection.features.supports_json_field_contains:
        return Q(object_ids__has_any_keys=object_ids)
    condition = Q(pk__in=[])
    for object_id in object_ids:
        condition |= Q(object_ids__icontains=f'"{object_id}"')
    return condition


def audit_events(institution_id: int, query: AuditQuery) -> QuerySet[AuditEvent]:
    """The institution's events that match ``query``, newest first."""
    events = AuditEvent.objects.filter(institution_id=institution_id)
    if query.actor_type:
        events = events.filter(actor_type=query.actor_type)
    if query.actor:
        lookup = "actor_id__istartswith" if query.actor_prefix else "actor_id__iexact"
        events = events.filter(**{lookup: query.actor})
    if query.device:
        # The terminal as the actor, or as the object of an IT action (retire, rename).
        events = events.filter(Q(device_id=query.device) | naming([query.device]))
    if query.about:
        about = naming([query.about])
        if _is_uuid(query.about):
            about |= Q(device_id=query.about)
        events = events.filter(about)
    if query.action:
        events = events.filter(action=query.action)
    events = within_jst_days(events, "occurred_at", query.date_from, query.date_to)
    if query.patient:
        ids = result_ids_for_name(institution_id, query.patient, MAX_PATIENT_RESULTS)
        events = events.filter(naming(ids)) if ids else events.none()
    return events.order_by("-occurred_at", "-id")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def encode_cursor(event: AuditEvent) -> str:
    raw = json.dumps({"at": event.occurred_at.isoformat(), "id": event.pk}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def after_cursor(events: QuerySet[AuditEvent], cursor: str) -> QuerySet[AuditEvent]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = parsing.aware_datetime(payload["at"])
        event_id = parsing.bounded_int(payload["id"], 1, 2**63 - 1)
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError):
        raise _invalid("cursor", "cursor が正しくありません。") from None
    return events.filter(occurred_at__lte=at).filter(Q(occurred_at__lt=at) | Q(id__lt=event_id))


# --- the one audit CSV (the console's 監査ログ and GET /api/v1/audit/events.csv) -------------------------------------

AUDIT_CSV_HEADER = [
    "日時",
    "操作",
    "操作コード",
    "操作者の種類",
    "操作者ID",
    "端末",
    "端末ID",
    "対象",
    "詳細",
    "IPアドレス",
    "リクエストID",
]


def device_names(institution_id: int) -> dict[str, str]:
    """The institution's terminals by id (as text), for the event rows."""
    return {str(pk): name for pk, name in Device.objects.filter(institution_id=institution_id).values_list("pk", "name")}


def bounded(events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    """``events`` up to the newest one now: the events written while a CSV streams (its own among them) stay out."""
    last = events.order_by("-id").values_list("id", flat=True).first() or 0
    return events.filter(id__lte=last)


def audit_csv_rows(events: QuerySet[AuditEvent], names: dict[str, str]) -> Iterator[list[Any]]:
    """The rows under AUDIT_CSV_HEADER, read in chunks; times in JST as spreadsheets read them."""
    for event in events.iterator(chunk_size=1000):
        device_id = str(event.device_id) if event.device_id else ""
        yield [
            timezone.localtime(event.occurred_at, JST).strftime("%Y/%m/%d %H:%M:%S"),
            audit_action_label(event.action),
            event.action,
            actor_type_label(event.actor_type),
            event.actor_id,
            names.get(device_id, "") if device_id else "",
            device_id,
            " ".join(str(o) for o in event.object_ids),
            describe_text(event.detail, names),
            event.ip_address or "",
            event.request_id or "",
        ]
