"""record_event: the only way audit events are written."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from server.audit.models import AuditEvent

logger = logging.getLogger(__name__)


def _client_ip(request: Any) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client says unless a trusted proxy sets it,
    # and gunicorn behind nginx can pass the real address through forwarded_allow_ips.
    meta = getattr(request, "META", {})
    return meta.get("REMOTE_ADDR") or None


def record_event(
    action: str,
    *,
    request: Any = None,
    institution: Any = None,
    device: Any = None,
    actor_type: str = "system",
    actor_id: str = "",
    objects: Iterable[Any] = (),
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. Never put a password, PIN or patient data in ``detail``."""
    ip_address = user_agent = request_id = None
    if request is not None:
        from server.devices.models import Device  # here: devices imports this module

        request_device = getattr(request, "auth", None)
        if device is None and isinstance(request_device, Device):
            device = request_device
        if device is not None and actor_type == "system":
            actor_type, actor_id = "device", actor_id or str(device.pk)
        user = getattr(request, "user", None)
        if actor_type == "system" and getattr(user, "is_authenticated", False) and getattr(user, "username", ""):
            actor_type, actor_id = "staff", user.username
        ip_address = _client_ip(request)
        user_agent = getattr(request, "META", {}).get("HTTP_USER_AGENT", "")[:300]
        request_id = getattr(request, "id", None)
    if institution is None and device is not None:
        institution = device.institution
    return AuditEvent.objects.create(
        action=action,
        actor_type=actor_type,
        actor_id=str(actor_id)[:150],
        institution=institution,
        device=device,
        object_ids=[str(o) for o in objects],
        detail=detail or {},
        request_id=request_id,
        ip_address=ip_address,
        user_agent=user_agent or "",
    )
