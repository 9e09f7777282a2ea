"""Japan Standard Time helpers: screens, period rules and messages are in JST whatever the server's zone."""

from __future__ import annotations

import datetime

from django.utils import timezone

from contracts.periods import JST
from contracts.result_view import date_time_jp


def now_jst() -> datetime.datetime:
    return timezone.now().astimezone(JST)


def today_jst() -> datetime.date:
    return now_jst().date()


def format_jst(moment: datetime.datetime) -> str:
    """`YYYY年MM月DD日 HH時MM分`, the manual's format."""
    return date_time_jp(moment)
