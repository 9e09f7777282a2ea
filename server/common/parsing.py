"""Parsers of client text shared by the hand-written query and batch readers (issue 15 point 3: no 500 from input).

Each raises ``ValueError`` for anything it does not accept, so that its caller words one field error. Beyond the
syntax they refuse what would fail later, out of the caller's sight: dates and times so near the ends of Python's
range that a day's arithmetic or a change of offset overflows, and NUL characters (PostgreSQL refuses them in text).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

# Far beyond any real check or search, far inside what date arithmetic and PostgreSQL can hold.
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2999, 12, 31)


def iso_date(value: Any) -> datetime.date:
    """``YYYY-MM-DD`` (any year: the caller bounds it, see ``clamp_date``)."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    return datetime.date.fromisoformat(value)


def clamp_date(value: datetime.date) -> datetime.date:
    """A filter's date brought within 1900–2999: "up to 9999-12-31" means "up to any day", and the day after stays
    computable."""
    return min(max(value, EARLIEST), LATEST)


def aware_datetime(value: Any) -> datetime.datetime:
    """ISO 8601 with an offset (``Z`` or ``±HH:MM``), between 1900 and 2999 in UTC."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    parsed = parse_datetime(value)  # ValueError for well-formed impossible values (minute 60, 30 February)
    if parsed is None or parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("not an ISO 8601 time with an offset")
    if not EARLIEST.year <= parsed.year <= LATEST.year:
        raise ValueError("time out of range")  # before the change of offset, which would overflow at year 1 or 9999
    return parsed


def bounded_int(value: Any, low: int, high: int) -> int:
    """An integer in ``low..high`` from text or a JSON number (a cursor's); never a float that is not whole."""
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise ValueError("not an integer")
    try:
        number = int(value)
    except (TypeError, OverflowError) as exc:  # None, lists, Infinity
        raise ValueError("not an integer") from exc
    if not low <= number <= high:
        raise ValueError("out of range")
    return number


def plain_text(value: Any, max_length: int | None = None) -> str:
    """Text without NUL, stripped (and cut to ``max_length``); ``""`` for a missing value."""
    if value is None:
        return ""
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not plain text")
    value = value.strip()
    return value[:max_length] if max_length is not None else value
