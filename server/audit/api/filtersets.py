"""Queries of the audit trail for the console / IT (S09): actor, device, patient name, action, period.

A patient name is never in the trail itself: it is matched against the institution's results (氏名 or カナ) and the
events are those that name one of those result ids among their objects.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Replace

from server.audit.models import AuditEvent
from server.common import parsing
from server.common.errors import ApiError
from server.common.jst import JST

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Results matched by a patient name, newest first; a name common enough to exceed this should be narrowed.
MAX_PATIENT_RESULTS = 2000
ACTOR_TYPES = [choice for choice, _ in AuditEvent.ACTOR_CHOICES]


def _invalid(field: str, message: str) -> ApiError:
    return ApiError("validation_error", "入力内容に誤りがあります。", 400, {field: [message]})


@dataclass(frozen=True)
class AuditQuery:
    actor_type: str = ""
    actor: str = ""
    device: str = ""
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


def _without_spaces(field: str) -> Replace:
    return Replace(Replace(F(field), Value(" "), Value("")), Value("\u3000"), Value(""))


def result_ids_for_patient(institution_id: int, patient: str) -> list[str]:
    from server.results.models import CheckResult

    # Spaces do not matter: 「ケンサクイチロウ」 finds 「ケンサク イチロウ」.
    needle = patient.replace(" ", "").replace("\u3000", "")
    if not needle:
        return []
    ids = (
        CheckResult.objects.filter(institution_id=institution_id)
        .annotate(compact_name=_without_spaces("name"), compact_kana=_without_spaces("name_kana"))
        .filter(Q(compact_name__icontains=needle) | Q(compact_kana__icontains=needle))
        .order_by("-checked_at")
        .values_list("id", flat=True)[:MAX_PATIENT_RESULTS]
    )
    return [str(pk) for pk in ids]


def audit_events(institution_id: int, query: AuditQuery) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(institution_id=institution_id)
    if query.actor_type:
        events = events.filter(actor_type=query.actor_type)
    if query.actor:
        events = events.filter(actor_id__iexact=query.actor)
    if query.device:
        # The terminal as the actor, or as the object of an IT action (retire, rename).
        events = events.filter(Q(device_id=query.device) | Q(object_ids__contains=[query.device]))
    if query.action:
        events = events.filter(action=query.action)
    if query.date_from:
        events = events.filter(occurred_at__gte=datetime.datetime.combine(query.date_from, datetime.time.min, JST))
    if query.date_to:
        end = datetime.datetime.combine(query.date_to + datetime.timedelta(days=1), datetime.time.min, JST)
        events = events.filter(occurred_at__lt=end)
    if query.patient:
        ids = result_ids_for_patient(institution_id, query.patient)
        events = events.filter(object_ids__has_any_keys=ids) if ids else events.none()
    return events.order_by("-occurred_at", "-id")


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
