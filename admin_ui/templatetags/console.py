"""Display filters of the console: dates in JST the way the manual writes them (contracts.result_view)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from contracts.display import IDENTITY_VERIFICATION
from contracts.result_view import date_time_jp, seireki

register = template.Library()


@register.filter
def jst_datetime(value: dt.datetime | None) -> str:
    """``2025年03月24日 12時00分`` in Japan time; empty for None."""
    return date_time_jp(value)


@register.filter
def jp_date(value: dt.date | str | None) -> str:
    """``2025年03月24日`` from a date or an ISO date string; anything unparsable is shown as is."""
    try:
        return seireki(value)
    except ValueError:
        return str(value)


@register.filter
def jst_datetime_seconds(value: dt.datetime | None) -> str:
    """``2025年03月24日 12時00分05秒``: the audit trail needs the seconds."""
    if not value:
        return ""
    return timezone.localtime(value).strftime("%Y年%m月%d日 %H時%M分%S秒")


@register.filter
def identity_verification_label(code: str | None) -> str:
    """``pin`` → マイナンバーカード (暗証番号)."""
    return IDENTITY_VERIFICATION.get(code or "", code or "")
