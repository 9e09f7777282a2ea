"""Periodic tasks of the devices app (celery beat, see CELERY_BEAT_SCHEDULE in server/settings/base.py)."""

from __future__ import annotations

from celery import shared_task

from server.common.actor import Actor
from server.devices.actions import do_mark_silent_devices_offline


@shared_task(name="devices.mark_offline")
def mark_offline() -> dict:
    """Mark the active devices silent for DEVICE_OFFLINE_AFTER_MINUTES as offline (S04 heartbeat)."""
    marked = do_mark_silent_devices_offline(actor=Actor.system("devices.mark_offline"))
    return {"marked_offline": [str(device_id) for device_id in marked]}
