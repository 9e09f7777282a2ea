"""Who does something (S09): one ``Actor`` value, built once where the work starts — the view, the command or the task —
and passed to every ``do_*`` action and audit event.

``kind`` is one of the audit trail's actor types; ``id`` names the actor within its kind (a console user name, an app
account id, a device id, a command's name); ``ip``, ``user_agent`` and ``request_id`` tie the event to the HTTP request
that caused it; ``device_id`` is the terminal the actor acted through (an app account signs in on a terminal).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

SYSTEM = "system"
DEVICE = "device"
ACCOUNT = "account"
STAFF = "staff"
CLI = "cli"
KINDS = (SYSTEM, DEVICE, ACCOUNT, STAFF, CLI)


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str = ""
    ip: str | None = None
    user_agent: str = ""
    request_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")
        object.__setattr__(self, "id", str(self.id)[:150])

    @classmethod
    def of_request(cls, request: Any, kind: str, actor_id: Any = "", *, device_id: Any = None) -> Actor:
        """The actor of an HTTP request (Django's or DRF's). The address is REMOTE_ADDR only: X-Forwarded-For is
        whatever the client says unless a trusted proxy sets it (gunicorn's forwarded_allow_ips passes it through)."""
        meta = request.META
        return cls(
            kind,
            str(actor_id),
            ip=meta.get("REMOTE_ADDR") or None,
            user_agent=meta.get("HTTP_USER_AGENT", "")[:300],
            request_id=getattr(request, "id", None),
            device_id=uuid.UUID(str(device_id)) if device_id else None,
        )

    @classmethod
    def staff(cls, request: Any) -> Actor:
        """A signed-in console user."""
        return cls.of_request(request, STAFF, request.user.get_username())

    @classmethod
    def device(cls, request: Any, device_id: Any) -> Actor:
        """A registered terminal, by its signed call."""
        return cls.of_request(request, DEVICE, device_id, device_id=device_id)

    @classmethod
    def cli(cls, name: str) -> Actor:
        """A management command, named by its ``--by`` user or its own name."""
        return cls(CLI, name)

    @classmethod
    def system(cls, name: str = "") -> Actor:
        """The server itself: a periodic task, a migration of data."""
        return cls(SYSTEM, name)

    def as_account(self, account_id: str) -> Actor:
        """The same request acting as an app account (T13 login, T09 password change, S02 registration)."""
        return replace(self, kind=ACCOUNT, id=account_id[:150])
