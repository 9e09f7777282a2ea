"""record_event: the only way audit events are written."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from server.audit.models import AuditEvent
from server.common.actor import Actor


def record_event(
    action: str,
    actor: Actor,
    *,
    institution: Any = None,
    device: Any = None,
    objects: Iterable[Any] = (),
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. Never put a password, PIN or patient data in ``detail``.

    ``device`` is the terminal concerned; without one, the terminal the actor acted through. ``institution`` defaults
    to the device's.
    """
    if institution is None and device is not None:
        institution = device.institution
    return AuditEvent.objects.create(
        action=action,
        actor_type=actor.kind,
        actor_id=actor.id,
        institution=institution,
        device_id=device.pk if device is not None else actor.device_id,
        object_ids=[str(o) for o in objects],
        detail=detail or {},
        request_id=actor.request_id,
        ip_address=actor.ip,
        user_agent=actor.user_agent,
    )
