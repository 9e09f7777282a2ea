"""Asynchronous work of the sandbox (N04)."""

from __future__ import annotations

from celery import shared_task

from server.sandbox.actions import do_complete_registration, do_recover_stuck_registrations


@shared_task(name="sandbox.complete_registration", acks_late=True)
def complete_registration(request_id: str) -> str | None:
    """Finish one 保険証利用登録; returns its final status (idempotent when redelivered)."""
    request = do_complete_registration(request_id)
    return request.status if request else None


@shared_task(name="sandbox.recover_stuck_registrations", acks_late=True)
def recover_stuck_registrations() -> int:
    """Beat: queue again the completion of registrations whose task was lost (issue 15 point 2)."""
    return do_recover_stuck_registrations()
