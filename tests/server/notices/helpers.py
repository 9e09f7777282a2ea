"""Small helpers of the notices tests; signed calls come from tests/server/conftest.py (Terminal.call)."""

from __future__ import annotations

import datetime

from django.utils import timezone


def ago(**delta: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


def ahead(**delta: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(**delta)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    return response.json()


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "server_time"}, body
    return body["error"]
