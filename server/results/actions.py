"""Writes of the results app: storing synced batches (S06), idempotent on the terminal-made id."""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from contracts.display import is_valid_qualification
from contracts.result_schema import result_errors
from server.audit.actions import record_event
from server.devices.models import Device
from server.results.models import CheckResult

MAX_BATCH = 500

STORED = "stored"
DUPLICATE = "duplicate"
REJECTED = "rejected"


@dataclass
class ItemOutcome:
    id: str
    status: str
    error: dict[str, str] | None = field(default=None)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.error:
            body["error"] = self.error
        return body


def _rejected(item_id: str, code: str, message: str) -> ItemOutcome:
    return ItemOutcome(item_id, REJECTED, {"code": code, "message": message})


def content_hash(checked_at: datetime.datetime, document: dict[str, Any]) -> str:
    """sha-256 over canonical JSON of the item, with checked_at normalised to UTC so equal instants hash equally."""
    canonical = json.dumps(
        {"checked_at": checked_at.astimezone(datetime.UTC).isoformat(), "result": document},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _parse_item(raw: Any) -> tuple[CheckResult | None, ItemOutcome | None, str]:
    """A CheckResult ready to insert, or the rejection outcome for this item."""
    item_id = str(raw.get("id", "")) if isinstance(raw, dict) else ""
    if not isinstance(raw, dict):
        return None, _rejected(item_id, "invalid_item", "結果の形式が正しくありません。"), item_id
    try:
        result_id = uuid.UUID(item_id)
    except ValueError:
        return None, _rejected(item_id, "invalid_id", "結果IDはUUIDで指定してください。"), item_id
    checked_at = parse_datetime(raw["checked_at"]) if isinstance(raw.get("checked_at"), str) else None
    if checked_at is None or timezone.is_naive(checked_at):
        return (
            None,
            _rejected(item_id, "invalid_checked_at", "資格確認日時はタイムゾーン付きのISO 8601で指定してください。"),
            item_id,
        )
    document = raw.get("result")
    errors = result_errors(document)
    if errors:
        # Schema paths only, never the values: the document holds patient data.
        paths = sorted({e.split(":", 1)[0] for e in errors})[:5]
        message = "資格確認結果の形式が正しくありません。（" + ", ".join(paths) + "）"
        return None, _rejected(item_id, "schema_violation", message), item_id
    qualification = document.get("result_of_qualification_confirmation") or {}
    validity = document["qualification_validity"]
    row = CheckResult(
        id=result_id,
        checked_at=checked_at,
        name=qualification.get("name") or "",
        name_kana=qualification.get("name_kana") or "",
        is_valid=is_valid_qualification(validity),
        qualification_validity=validity,
        insurer_number=qualification.get("insurer_number") or "",
        identity_verification=document.get("identity_verification") or "",
        document=document,
        content_hash=content_hash(checked_at, document),
    )
    return row, None, str(result_id)


def _existing_outcome(row: CheckResult, existing: CheckResult | None, device: Device) -> ItemOutcome:
    if existing is not None and existing.device_id == device.pk and existing.content_hash == row.content_hash:
        return ItemOutcome(str(row.id), DUPLICATE)
    return _rejected(str(row.id), "conflict", "同じIDで内容の異なる結果が既に登録されています。")


def do_store_results(device: Device, items: list[Any], *, request: Any = None) -> list[ItemOutcome]:
    """Store a batch; each item is stored, duplicate (same id and content) or rejected. Nothing is ever overwritten.

    Each insert runs in its own savepoint, so a concurrent sync of the same id loses on the primary key and is then
    compared by content hash instead of failing the batch.
    """
    now = timezone.now()
    parsed = [_parse_item(raw) for raw in items]
    candidate_ids = [row.id for row, _, _ in parsed if row is not None]
    known = {r.id: r for r in CheckResult.objects.filter(id__in=candidate_ids).only("id", "device_id", "content_hash")}
    outcomes: list[ItemOutcome] = []
    stored_ids: list[str] = []
    seen_in_batch: dict[uuid.UUID, CheckResult] = {}
    for row, rejection, _ in parsed:
        if row is None:
            outcomes.append(rejection)
            continue
        existing = known.get(row.id) or seen_in_batch.get(row.id)
        if existing is not None:
            outcomes.append(_existing_outcome(row, existing, device))
            continue
        row.institution_id = device.institution_id
        row.device = device
        row.received_at = now
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            outcomes.append(_existing_outcome(row, CheckResult.objects.filter(id=row.id).first(), device))
            continue
        seen_in_batch[row.id] = row
        stored_ids.append(str(row.id))
        outcomes.append(ItemOutcome(str(row.id), STORED))
    record_event(
        "results_synced",
        request=request,
        device=device,
        objects=stored_ids,
        detail={
            "received": len(items),
            "stored": len(stored_ids),
            "duplicate": sum(o.status == DUPLICATE for o in outcomes),
            "rejected": sum(o.status == REJECTED for o in outcomes),
        },
    )
    return outcomes
