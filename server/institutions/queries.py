"""Reads of the institutions app shared by the console and the API."""

from __future__ import annotations

from typing import Any

from server.institutions.models import StaffMembership


def membership_of(user: Any) -> StaffMembership | None:
    """The console user's StaffMembership with its institution, or None (anonymous, inactive, or without one)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    return StaffMembership.objects.select_related("institution").filter(user=user).first()
