"""Background CSV export of a result search (S10): request → build in a Celery task → download for a limited time.

The file holds patient data, so it is stored encrypted (export id as associated data) and handed out only with a
signed, expiring token to the same institution. Building is idempotent: a finished export is never rebuilt, and a
retried or redelivered task starts the file over from scratch.
"""

from __future__ import annotations

import datetime
import io
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from server.audit.actions import record_event
from server.common.actor import Actor
from server.common.csvfile import ENCODINGS, EncodingReport, csv_lines
from server.common.jst import JST
from server.common.tasks import queue_after_commit
from server.results import crypto
from server.results.models import CheckResult, ResultExport
from server.results.queries import (
    EXPORT_HEADER,
    ResultFilters,
    ResultQuery,
    export_row,
    filter_results,
    older_than,
    search_results,
)

logger = logging.getLogger(__name__)

CHUNK = 1000
# Above this the file is refused (settings.RESULT_EXPORT_MAX_ROWS): a narrower period makes several smaller files.
DEFAULT_MAX_ROWS = 200_000
TOKEN_SALT = "results.export.download"
# The columns of every result CSV (console and background exports), in this order, documented in docs/console.md.
def do_request_export(
    institution: Any,
    query: ResultQuery,
    *,
    device: Any = None,
    actor: Actor,
    filters: dict[str, str] | None = None,
    encoding: str = "utf-8",
) -> ResultExport:
    """Record the export and queue its build once the row is committed (the worker must see it).

    ``filters``: the console's terminal (``device``) and ``validity`` on top of the period; ``encoding``: ``utf-8``
    (with a BOM) or ``cp932`` (Shift_JIS)."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown CSV encoding {encoding!r}")
    filters = {k: str(v) for k, v in (filters or {}).items() if k in ("device", "validity") and v}
    export = ResultExport.objects.create(
        filters=filters,
        encoding=encoding,
        heartbeat_at=timezone.now(),
        institution=institution,
        device=device,
        requested_by_type=actor.kind,
        requested_by_id=actor.id,
        scope=query.scope,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    record_event(
        "results_export_requested",
        actor,
        institution=institution,
        device=device,
        objects=[str(export.pk)],
        detail={
            "scope": query.scope,
            "date_from": str(query.date_from),
            "date_to": str(query.date_to),
            **filters,
            "encoding": encoding,
        },
    )
    queue_after_commit("results.build_export", str(export.pk))
    return export


def _stuck_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.RESULT_EXPORT_STUCK_SECONDS)


def export_queryset(export: ResultExport) -> QuerySet[CheckResult]:
    """The results of an export: its search (period, scope) and the console's terminal and validity filters."""
    query = ResultQuery(scope=export.scope, date_from=export.date_from, date_to=export.date_to, page_size=1)
    return filter_results(search_results(export.institution_id, query, export.device_id), ResultFilters.of(export.filters or {}))


def _rows(export: ResultExport, qs: QuerySet[CheckResult], ids: list[str]):
    """CSV rows newest first, read in keyset chunks; progress is saved after every chunk."""
    position: tuple[datetime.datetime, uuid.UUID] | None = None
    done = 0
    while True:
        chunk_qs = qs.select_related("device").order_by("-checked_at", "-id")
        if position is not None:
            chunk_qs = older_than(chunk_qs, *position)
        chunk = list(
            chunk_qs.only(
                "id", "checked_at", "received_at", "is_valid", "qualification_validity",
                "identity_verification", "document_encrypted", "key_id", "device__name",
            )[:CHUNK]
        )
        if not chunk:
            return
        for result in chunk:
            ids.append(str(result.pk))
            yield export_row(result)
        done += len(chunk)
        ResultExport.objects.filter(pk=export.pk).update(rows_done=done, heartbeat_at=timezone.now())
        position = (chunk[-1].checked_at, chunk[-1].id)


BUSY = "busy"


def do_build_export(export_id: str, task_id: str = "") -> str:
    """Build the CSV of one export; returns its final status. Idempotent under redelivery: a done, failed or unknown
    export is left alone, and one that another delivery is building (its heartbeat fresh) too (``"busy"``); a running
    export whose build went silent (a killed worker) is started over from scratch."""
    with transaction.atomic():
        export = ResultExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status in (ResultExport.DONE, ResultExport.FAILED):
            return export.status if export else "missing"
        now = timezone.now()
        alive = export.heartbeat_at is not None and export.heartbeat_at > now - _stuck_after()
        if export.status == ResultExport.RUNNING and alive and (not task_id or export.claimed_by != task_id):
            return BUSY
        export.status = ResultExport.RUNNING
        export.attempts += 1
        export.started_at = export.heartbeat_at = now
        export.claimed_by = task_id
        export.rows_done = 0
        export.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "claimed_by", "rows_done"])
    qs = export_queryset(export)
    total = qs.count()
    ResultExport.objects.filter(pk=export.pk).update(rows_total=total)
    max_rows = getattr(settings, "RESULT_EXPORT_MAX_ROWS", DEFAULT_MAX_ROWS)
    if total > max_rows:
        do_fail_export(
            export.pk, f"出力できるのは{max_rows:,}件までです（該当{total:,}件）。期間を絞ってから出力してください。"
        )
        return ResultExport.FAILED
    ids: list[str] = []
    buffer = io.BytesIO()
    report = EncodingReport(export.encoding)
    for line in csv_lines(EXPORT_HEADER, _rows(export, qs, ids), encoding=export.encoding, report=report):
        buffer.write(line)
    key_id, blob = crypto.encrypt_bytes(buffer.getvalue(), f"export:{export.pk}")
    now = timezone.now()
    ResultExport.objects.filter(pk=export.pk).update(
        status=ResultExport.DONE,
        rows_total=len(ids),
        rows_done=len(ids),
        key_id=key_id,
        content_encrypted=blob,
        result_ids=ids,
        finished_at=now,
        expires_at=now + datetime.timedelta(minutes=settings.RESULT_EXPORT_TTL_MINUTES),
        error_message="",
        unencodable={"total": report.total, "cells": [p.describe() for p in report.problems]},
    )
    return ResultExport.DONE


def do_fail_export(export_id: str, message: str = "CSVファイルの作成に失敗しました。") -> None:
    ResultExport.objects.filter(pk=export_id).exclude(status=ResultExport.DONE).update(
        status=ResultExport.FAILED, error_message=message, finished_at=timezone.now()
    )


# Builds an export may take before it is given up (a build that kills its worker every time must not loop forever).
MAX_BUILD_ATTEMPTS = 3
MSG_INTERRUPTED = "CSVファイルの作成が{attempts}回中断されたため、中止しました。もう一度CSV出力を行ってください。"


def do_recover_stuck_exports(now: datetime.datetime | None = None) -> dict[str, int]:
    """Exports whose work stopped: pending or running without a sign of life for RESULT_EXPORT_STUCK_SECONDS — the
    worker was killed mid-build, or the queue lost the message (Redis restarted without its data). Each is queued
    again (a redelivered original finds it claimed or done), or after MAX_BUILD_ATTEMPTS builds failed with the
    reason. Idempotent; rows another recovery holds are skipped."""
    now = now or timezone.now()
    cutoff = now - _stuck_after()
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at=None)
    counts = {"requeued": 0, "failed": 0}
    with transaction.atomic():
        stuck = ResultExport.objects.filter(silent, status__in=[ResultExport.PENDING, ResultExport.RUNNING])
        for export in stuck.select_for_update(skip_locked=True).only("id", "status", "attempts"):
            if export.attempts >= MAX_BUILD_ATTEMPTS:
                ResultExport.objects.filter(pk=export.pk).update(
                    status=ResultExport.FAILED,
                    error_message=MSG_INTERRUPTED.format(attempts=export.attempts),
                    finished_at=now,
                )
                counts["failed"] += 1
                logger.warning("result export %s failed after %d interrupted builds", export.pk, export.attempts)
                continue
            ResultExport.objects.filter(pk=export.pk).update(status=ResultExport.PENDING, heartbeat_at=now)
            queue_after_commit("results.build_export", str(export.pk))
            counts["requeued"] += 1
            logger.warning("result export %s was %s without progress: queued again", export.pk, export.status)
    return counts


def download_token(export: ResultExport) -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT, sep=".").sign(str(export.pk))


def token_is_valid(export: ResultExport, token: str) -> bool:
    max_age = datetime.timedelta(minutes=settings.RESULT_EXPORT_TTL_MINUTES)
    try:
        value = signing.TimestampSigner(salt=TOKEN_SALT, sep=".").unsign(token, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return False
    return value == str(export.pk) and not export.is_expired()


def export_filename(export: ResultExport) -> str:
    """資格確認結果_202611280700.csv (…_SJIS.csv in Shift_JIS): one name wherever the file is downloaded."""
    suffix = "_SJIS" if export.encoding == "cp932" else ""
    return f"資格確認結果_{export.created_at.astimezone(JST):%Y%m%d%H%M}{suffix}.csv"


def export_content(export: ResultExport) -> bytes:
    return crypto.decrypt_bytes(export.content_encrypted, f"export:{export.pk}", export.key_id)


def do_record_download(export: ResultExport, *, actor: Actor) -> None:
    """Which results left the server, to whom (S09)."""
    record_event(
        "results_exported",
        actor,
        institution=export.institution,
        objects=export.result_ids,
        detail={"export": str(export.pk), "rows": len(export.result_ids), "scope": export.scope},
    )


def do_cleanup_exports(now: datetime.datetime | None = None) -> int:
    """Delete expired exports and failed ones older than a day (the files hold patient data). Idempotent."""
    now = now or timezone.now()
    deleted, _ = ResultExport.objects.filter(
        Q(expires_at__lte=now) | Q(status=ResultExport.FAILED, created_at__lt=now - datetime.timedelta(days=1))
    ).delete()
    return deleted
