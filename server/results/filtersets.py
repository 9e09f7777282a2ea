"""Result search for terminals (S07): scope, the period rule of FEATURES T08 and keyset pagination.

Ordering is (checked_at desc, id desc). Cursors are opaque base64url JSON holding the position and the query,
so a terminal can follow first/previous/next/last without resending the filters.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from server.common import parsing
from server.common.errors import ApiError
from server.common.jst import JST, today_jst
from server.devices.models import Device
from server.results.models import CheckResult

DEFAULT_PAGE_SIZE = 8
MAX_PAGE_SIZE = 100
DEFAULT_PERIOD_DAYS = 30
SCOPES = ("device", "institution")
# The last page holds what the walk forward would leave for it (T08: no row on two pages), which needs the number of
# rows; it is counted up to this many (a few ms). Beyond, the last page is the oldest full page (documented).
LAST_PAGE_ALIGN_LIMIT = 10_000


def first_of_previous_month(today: datetime.date) -> datetime.date:
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class ResultQuery:
    scope: str
    date_from: datetime.date
    date_to: datetime.date
    page_size: int


def _validation(field: str, message: str) -> ApiError:
    return ApiError("validation_error", "入力内容に誤りがあります。", 400, {field: [message]})


def _parse_date(value: str | None, field: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    try:
        return parsing.iso_date(value)
    except ValueError:  # a forged cursor can carry any JSON type
        raise _validation(field, "日付はYYYY-MM-DDの形式で入力してください。") from None


def parse_query(params: dict[str, Any], today: datetime.date | None = None) -> ResultQuery:
    today = today or today_jst()
    scope = params.get("scope") or "device"
    if scope not in SCOPES:
        raise _validation("scope", "scope は device または institution を指定してください。")
    try:
        page_size = parsing.bounded_int(params.get("page_size") or DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    except ValueError:
        raise _validation("page_size", f"page_size は1〜{MAX_PAGE_SIZE}の数値で指定してください。") from None
    earliest = first_of_previous_month(today)
    date_to = _parse_date(params.get("date_to"), "date_to") or today
    given_from = _parse_date(params.get("date_from"), "date_from")
    if given_from is not None and given_from > date_to:
        raise _validation("date_from", "開始日は終了日以前の日付を指定してください。")
    outside = "date_to" if not earliest <= date_to <= today else "date_from" if given_from and given_from < earliest else ""
    if outside:  # checked before any arithmetic on the dates: year 1 or 9999 is simply outside the period
        raise ApiError(
            "period_out_of_range",
            f"検索期間は前月1日（{earliest:%Y年%m月%d日}）から本日までの範囲で指定してください。",
            400,
            {outside: ["検索できる期間の範囲外です。"]},
        )
    date_from = given_from or max(earliest, date_to - datetime.timedelta(days=DEFAULT_PERIOD_DAYS - 1))
    return ResultQuery(scope=scope, date_from=date_from, date_to=date_to, page_size=page_size)


def visible_results(device: Device, query: ResultQuery) -> QuerySet[CheckResult]:
    start = datetime.datetime.combine(query.date_from, datetime.time.min, tzinfo=JST)
    end = datetime.datetime.combine(query.date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=JST)
    qs = CheckResult.objects.filter(institution_id=device.institution_id, checked_at__gte=start, checked_at__lt=end)
    if query.scope == "device":
        qs = qs.filter(device_id=device.pk)
    # Lists never need the encrypted document: leave it (and its decryption) out.
    return qs.select_related("device").defer("document_encrypted")


# --- cursors -----------------------------------------------------------------------------------------------------


def encode_cursor(query: ResultQuery, kind: str, row: CheckResult | None = None) -> str:
    """kind: first | last | after (rows older than row) | before (rows newer than row)."""
    payload: dict[str, Any] = {
        "k": kind,
        "s": query.scope,
        "f": query.date_from.isoformat(),
        "t": query.date_to.isoformat(),
        "n": query.page_size,
    }
    if row is not None:
        payload["at"] = row.checked_at.isoformat()
        payload["id"] = str(row.id)
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class Cursor:
    kind: str
    checked_at: datetime.datetime | None
    id: uuid.UUID | None
    params: dict[str, Any]


def decode_cursor(value: str) -> Cursor:
    try:
        payload = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        kind = payload["k"]
        if kind not in ("first", "last", "after", "before"):
            raise ValueError(kind)
        at = parsing.aware_datetime(payload["at"]) if kind in ("after", "before") else None
        row_id = uuid.UUID(payload["id"]) if at else None
        params = {"scope": payload["s"], "date_from": payload["f"], "date_to": payload["t"], "page_size": payload["n"]}
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, json.JSONDecodeError):
        # A cursor is opaque but not secret: a forged one is any JSON, and only ever a 400.
        raise _validation("cursor", "cursor が正しくありません。") from None
    return Cursor(kind, at, row_id, params)


@dataclass
class Page:
    rows: list[CheckResult]
    first: str | None
    previous: str | None
    next: str | None
    last: str | None


def older_than(qs: QuerySet[CheckResult], at: datetime.datetime, row_id: uuid.UUID) -> QuerySet[CheckResult]:
    """Rows after (at, id) in newest-first order. ``checked_at <= at`` alone is an index range condition, which keeps
    a deep page as cheap as the first (a bare OR would be a filter over every newer row)."""
    return qs.filter(checked_at__lte=at).filter(Q(checked_at__lt=at) | Q(id__lt=row_id))


def newer_than(qs: QuerySet[CheckResult], at: datetime.datetime, row_id: uuid.UUID) -> QuerySet[CheckResult]:
    return qs.filter(checked_at__gte=at).filter(Q(checked_at__gt=at) | Q(id__gt=row_id))


def last_page_size(qs: QuerySet[CheckResult], size: int) -> int:
    """How many rows the last page holds so that it meets the pages walked from the first without overlap: the
    remainder of the count (a full page when it divides). Counted up to LAST_PAGE_ALIGN_LIMIT rows only."""
    counted = qs.order_by().values("id")[: LAST_PAGE_ALIGN_LIMIT + 1].count()
    if counted > LAST_PAGE_ALIGN_LIMIT:
        return size
    return counted % size or size


def paginate(qs: QuerySet[CheckResult], query: ResultQuery, cursor: Cursor | None) -> Page:
    """One page in one query: size + 1 rows in the direction of travel tell whether more lie beyond; the other
    direction follows from the cursor (rows newer than an ``after`` cursor exist: the cursor row was one of them)."""
    size = query.page_size
    newest_first = qs.order_by("-checked_at", "-id")
    oldest_first = qs.order_by("checked_at", "id")
    kind = cursor.kind if cursor else "first"
    if kind == "after":
        rows = list(older_than(newest_first, cursor.checked_at, cursor.id)[: size + 1])
        has_newer, has_older = True, len(rows) > size
        rows = rows[:size]
    elif kind == "before":
        rows = list(newer_than(oldest_first, cursor.checked_at, cursor.id)[: size + 1])
        has_newer, has_older = len(rows) > size, True
        rows = rows[:size]
        rows.reverse()
    elif kind == "last":
        last_size = last_page_size(qs, size)
        rows = list(oldest_first[: last_size + 1])
        has_newer, has_older = len(rows) > last_size, False
        rows = rows[:last_size]
        rows.reverse()
    else:
        rows = list(newest_first[: size + 1])
        has_newer, has_older = False, len(rows) > size
        rows = rows[:size]
    if not rows:
        return Page([], None, None, None, None)
    top, bottom = rows[0], rows[-1]
    return Page(
        rows=rows,
        first=encode_cursor(query, "first"),
        previous=encode_cursor(query, "before", top) if has_newer else None,
        next=encode_cursor(query, "after", bottom) if has_older else None,
        last=encode_cursor(query, "last"),
    )
