"""Writes of the results app: storing synced batches (S06), idempotent on the terminal-made id."""

from __future__ import annotations

import calendar
import datetime
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from contracts.display import is_valid_qualification
from contracts.result_schema import result_errors
from server.audit.actions import record_event
from server.common import parsing
from server.common.actor import Actor
from server.common.jst import JST
from server.devices.models import Device
from server.institutions.models import Institution
from server.ops.metrics import count_sync_batch
from server.results import crypto
from server.results.models import CheckResult, ResultExport

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
    try:
        checked_at = parsing.aware_datetime(raw.get("checked_at"))
    except ValueError:  # not text, no offset, or impossible (minute 60, 30 February, year 1)
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
    validity = document["qualification_validity"]
    row = CheckResult(
        id=result_id,
        checked_at=checked_at,
        is_valid=is_valid_qualification(validity),
        qualification_validity=validity,
        identity_verification=document.get("identity_verification") or "",
        document=document,
        content_hash=content_hash(checked_at, document),
    )
    return row, None, str(result_id)


def _existing_outcome(row: CheckResult, existing: CheckResult | None, device: Device) -> ItemOutcome:
    if existing is not None and existing.device_id == device.pk and existing.content_hash == row.content_hash:
        return ItemOutcome(str(row.id), DUPLICATE)
    return _rejected(str(row.id), "conflict", "同じIDで内容の異なる結果が既に登録されています。")


def _insert_new(rows: list[CheckResult]) -> set[uuid.UUID]:
    """INSERT ... ON CONFLICT (id) DO NOTHING in one statement; the ids actually inserted.

    The primary key decides, not a read-then-write: a concurrent sync of the same id simply is not returned here.
    """
    if not rows:
        return set()
    fields = [f for f in CheckResult._meta.concrete_fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list[Any] = []
    for row in rows:
        params.extend(f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(CheckResult._meta.db_table)} ({columns}) "
        f"VALUES {', '.join([row_sql] * len(rows))} ON CONFLICT (id) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {r[0] if isinstance(r[0], uuid.UUID) else uuid.UUID(str(r[0])) for r in cursor.fetchall()}


def do_store_results(device: Device, items: list[Any], *, actor: Actor) -> list[ItemOutcome]:
    """Store a batch; each item is stored, duplicate (same id and content) or rejected. Nothing is ever overwritten.

    New rows go in with one multi-row INSERT ... ON CONFLICT DO NOTHING, so a retry or a concurrent sync of the same
    id loses on the primary key and is then compared by content hash instead of failing the batch.
    """
    now = timezone.now()
    parsed = [_parse_item(raw) for raw in items]
    candidates: dict[uuid.UUID, CheckResult] = {}
    for row, _, _ in parsed:
        if row is not None and row.id not in candidates:
            row.institution_id = device.institution_id
            row.device = device
            row.received_at = now
            row.seal()
            candidates[row.id] = row
    with transaction.atomic():
        inserted = _insert_new(list(candidates.values()))
    missing = [pk for pk in candidates if pk not in inserted]
    known = {r.id: r for r in CheckResult.objects.filter(id__in=missing).only("id", "device_id", "content_hash")}
    outcomes: list[ItemOutcome] = []
    stored_ids: list[str] = []
    reported: set[uuid.UUID] = set()
    for row, rejection, _ in parsed:
        if row is None:
            outcomes.append(rejection)
        elif row.id in inserted and row.id not in reported:
            reported.add(row.id)
            stored_ids.append(str(row.id))
            outcomes.append(ItemOutcome(str(row.id), STORED))
        elif row.id in inserted:
            # The same id twice in one batch: compare with the copy stored a moment ago.
            outcomes.append(_existing_outcome(row, candidates[row.id], device))
        else:
            outcomes.append(_existing_outcome(row, known.get(row.id), device))
    counts = {
        "stored": len(stored_ids),
        "duplicate": sum(o.status == DUPLICATE for o in outcomes),
        "rejected": sum(o.status == REJECTED for o in outcomes),
    }
    count_sync_batch(counts)
    record_event(
        "results_synced",
        actor,
        device=device,
        objects=stored_ids,
        detail={
            "received": len(items),
            **counts,
        },
    )
    return outcomes


# --- key rotation (S06) --------------------------------------------------------------------------------------------


def do_reencrypt_results(to_key_id: str, *, batch_size: int = 1000, after: uuid.UUID | None = None) -> tuple[int, uuid.UUID | None]:
    """Re-encrypt one batch of rows not yet under ``to_key_id``, in id order after ``after``: the document, the
    summary and the blind index (its tokens are keyed by the row's key too), in one update per batch.

    Returns (rows changed, last id seen or None when done). Each batch commits on its own, and a row already under
    the new key is never touched again, so an interrupted run simply resumes where it left off.
    """
    crypto.encrypt_document({}, "probe", to_key_id)  # fail before touching anything when the key is missing
    qs = CheckResult.objects.exclude(key_id=to_key_id).order_by("id")
    if after is not None:
        qs = qs.filter(id__gt=after)
    with transaction.atomic():
        rows = list(qs.select_for_update(skip_locked=True).only("id", "key_id", "document_encrypted")[:batch_size])
        for row in rows:
            row.seal(to_key_id)  # decrypts the document under its old key, seals all three under the new one
        CheckResult.objects.bulk_update(rows, ["key_id", "document_encrypted", "summary_encrypted", "name_index"])
    return len(rows), (rows[-1].id if rows else None)


def do_reencrypt_exports(to_key_id: str) -> int:
    """Export files still on the server (they live an hour at most) move to the new key too."""
    changed = 0
    pending = ResultExport.objects.exclude(key_id=to_key_id).exclude(content_encrypted=None)
    for export in pending.only("id", "key_id", "content_encrypted").iterator():
        context = f"export:{export.pk}"
        content = crypto.decrypt_bytes(export.content_encrypted, context, export.key_id)
        key_id, blob = crypto.encrypt_bytes(content, context, to_key_id)
        changed += ResultExport.objects.filter(pk=export.pk, key_id=export.key_id).update(
            key_id=key_id, content_encrypted=blob
        )
    return changed


# --- retention (S10) -----------------------------------------------------------------------------------------------


def retention_cutoff(now: datetime.datetime | None = None, months: int | None = None) -> datetime.datetime:
    """The first instant that is kept: the same day and time ``months`` months ago (end-of-month clamped)."""
    months = settings.RESULT_RETENTION_MONTHS if months is None else months
    now = (now or timezone.now()).astimezone(JST)
    month_index = now.year * 12 + (now.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


def do_purge_expired_results(
    *, actor: Actor, now: datetime.datetime | None = None, batch_size: int = 5000
) -> int:
    """Delete results checked before the retention cutoff, institution by institution (on the search index) and in
    batches, each its own transaction. Idempotent."""
    cutoff = retention_cutoff(now)
    table = connection.ops.quote_name(CheckResult._meta.db_table)
    # Rows another transaction holds (a concurrent purge) are skipped, not waited for; SQLite has no row locks.
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    total = 0
    for institution_id in Institution.objects.order_by("pk").values_list("pk", flat=True):
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE institution_id = %s "
                    f"AND checked_at < %s ORDER BY checked_at LIMIT %s{lock})",
                    [institution_id, cutoff, batch_size],
                )
                deleted = cursor.rowcount
            total += deleted
            if deleted < batch_size:
                break
    if total:
        # Counts and the cutoff only: a purge can remove millions of rows.
        record_event("results_purged", actor, detail={"deleted": total, "cutoff": cutoff.isoformat()})
    return total
