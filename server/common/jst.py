"""Japan Standard Time helpers: screens, period rules and messages are in JST whatever the server's zone."""

from __future__ import annotations

import datetime
from typing import TypeVar

from django.db.models import QuerySet
from django.utils import timezone

from contracts.periods import JST, jst_day_bounds
from contracts.result_view import date_time_jp

Rows = TypeVar("Rows", bound=QuerySet)


def now_jst() -> datetime.datetime:
    return timezone.now().astimezone(JST)


def today_jst() -> datetime.date:
    return now_jst().date()


def format_jst(moment: datetime.datetime) -> str:
    """`YYYY年MM月DD日 HH時MM分`, the manual's format."""
    return date_time_jp(moment)


def within_jst_days(rows: Rows, field: str, date_from: datetime.date | None, date_to: datetime.date | None) -> Rows:
    """``rows`` whose ``field`` (an instant) falls on the JST days ``date_from`` … ``date_to``; an open side is open.
    The period filter of both the result search and the audit trail."""
    start, end = jst_day_bounds(date_from, date_to)
    if start is not None:
        rows = rows.filter(**{f"{field}__gte": start})
    if end is not None:
        rows = rows.filter(**{f"{field}__lt": end})
    return rows
