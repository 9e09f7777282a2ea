"""Asynchronous work of the sandbox (N04)."""

from __future__ import annotations

from celery import shared_task

from server.sandbox.actions import do_complete_registration


@shared_task(name="sandbox.complete_registration", acks_late=True)
def complete_registration(request_id: str) -> str | None:
    """Finish one 保険証利用登録; returns its final status (idempotent when redelivered)."""
    request = do_complete_registration(request_id)
    return request.status if request else None
