"""Display filters of the console: dates in JST the way the manual writes them."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def jst_datetime(value: dt.datetime | None) -> str:
    """``2025年03月24日 12時00分`` in the server's zone (Asia/Tokyo); empty for None."""
    if not value:
        return ""
    return timezone.localtime(value).strftime("%Y年%m月%d日 %H時%M分")


@register.filter
def jp_date(value: dt.date | str | None) -> str:
    """``2025年03月24日`` from a date or an ISO date string; anything unparsable is shown as is."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%Y年%m月%d日")


@register.filter
def jst_datetime_seconds(value: dt.datetime | None) -> str:
    """``2025年03月24日 12時00分05秒``: the audit trail needs the seconds."""
    if not value:
        return ""
    return timezone.localtime(value).strftime("%Y年%m月%d日 %H時%M分%S秒")
