"""Background work of the results app (S10): retention purge, CSV exports and their cleanup.

Every task is idempotent (safe to run twice, safe to redeliver), acknowledged late (a worker dying mid-task leaves it
on the queue) and retried with exponential backoff when the database is briefly unavailable.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from server.common.actor import Actor
from server.results.actions import do_purge_expired_results
from server.results.exports import do_build_export, do_cleanup_exports, do_fail_export, do_recover_stuck_exports

logger = logging.getLogger(__name__)

RETRYABLE = (OperationalError, InterfaceError)
TASK_OPTIONS = {
    "acks_late": True,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 5,
    "retry_backoff_max": settings.TASK_RETRY_BACKOFF_MAX_SECONDS,  # below the broker's visibility timeout
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(name="results.purge_expired", **TASK_OPTIONS)
def purge_expired() -> int:
    """Delete results older than RESULT_RETENTION_MONTHS (default 13)."""
    deleted = do_purge_expired_results(actor=Actor.system("results.purge_expired"))
    logger.info("retention purge deleted %d results", deleted)
    return deleted


@shared_task(name="results.build_export", bind=True, **TASK_OPTIONS)
def build_export(self, export_id: str) -> str:
    try:
        return do_build_export(export_id, task_id=self.request.id or "")
    except RETRYABLE:
        if self.request.retries >= self.max_retries:
            do_fail_export(export_id)
        raise
    except SoftTimeLimitExceeded:
        do_fail_export(export_id, "時間内にCSVファイルを作成できませんでした。期間を絞ってから出力してください。")
        return "failed"
    except Exception:
        # Not transient: retrying would fail the same way. The terminal sees "failed" and may ask again.
        logger.exception("result export %s failed", export_id)
        do_fail_export(export_id)
        return "failed"


@shared_task(name="results.cleanup_exports", **TASK_OPTIONS)
def cleanup_exports() -> int:
    return do_cleanup_exports()


@shared_task(name="results.recover_stuck_exports", **TASK_OPTIONS)
def recover_stuck_exports() -> dict[str, int]:
    """Beat: queue again (or fail with the reason) exports whose build stopped (issue 15 point 2)."""
    return do_recover_stuck_exports()
