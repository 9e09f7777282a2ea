"""Reads of the results app, one module for the console (A03) and the API (S07, S10): the filters, the name match,
the terminal search (T08 period rule, scope, keyset pagination with opaque cursors) and the CSV row.

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

from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from contracts import display
from contracts.periods import JST, default_period, first_of_previous_month
from contracts.result_view import MAX_DISEASES, read_result, validity_label
from server.common import parsing
from server.common.errors import ApiError
from server.common.jst import today_jst, within_jst_days
from server.devices.models import Device
from server.results.models import CheckResult
from server.results.sealing import normalize_name, term_tokens

DEFAULT_PAGE_SIZE = 8
MAX_PAGE_SIZE = 100
SCOPES = ("device", "institution")
# The last page holds what the walk forward would leave for it (T08: no row on two pages), which needs the number of
# rows; it is counted up to this many (a few ms). Beyond, the last page is the oldest full page (documented).
LAST_PAGE_ALIGN_LIMIT = 10_000


# --- filters (the console's search, the exports, the audit trail's patient search) ---------------------------------

# How a name search reaches its rows. A fragment found among the newest NAME_PROBE_ROWS rows (one row in some
# hundreds or more often: a family name, a returning patient) is found by walking the time index and testing each
# row's index: a page fills within some ten thousand rows. A rarer one (a name the table statistics have not sampled,
# or nobody's) would make that walk read the whole period, so its rows are taken from the blind index's GIN index
# first — at most NAME_RARE_LIMIT, or else it is walked after all — and the page is ordered from those.
NAME_PROBE_ROWS = 500
NAME_RARE_LIMIT = 2000


def matching_name(results: QuerySet[CheckResult], term: str) -> QuerySet[CheckResult]:
    """Results whose 氏名 or カナ holds ``term`` (any part, any case, spaces ignored, kana-tolerant), found through the
    blind index (the names themselves are encrypted; server/results/sealing.py): a row under each key whose index
    holds the term's tokens under that key. The ordering and slicing are the caller's, as for any filter."""
    if not normalize_name(term):
        return results
    holds = Q()
    for key_id, tokens in term_tokens(term).items():
        holds |= Q(key_id=key_id, name_index__holds=tokens)
    newest = results.order_by("-checked_at", "-id").values("pk")[:NAME_PROBE_ROWS]
    if CheckResult.objects.filter(holds, pk__in=Subquery(newest)).exists():
        return results.filter(holds)  # common enough: the time-ordered walk meets matches soon
    ids = list(results.filter(holds).order_by().values_list("pk", flat=True)[: NAME_RARE_LIMIT + 1])
    if len(ids) > NAME_RARE_LIMIT:
        return results.filter(holds)  # rare among the newest rows, common before them
    return results.filter(pk__in=ids)


@dataclass(frozen=True)
class ResultFilters:
    """What a search narrows by; empty means no bound. ``validity``: ``valid``, ``invalid`` or empty."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    device: str = ""
    validity: str = ""
    name: str = ""

    @classmethod
    def of(cls, data: dict[str, Any]) -> ResultFilters:
        """From a form's cleaned data or an export's stored filters (``q`` is the console's name field)."""
        return cls(
            date_from=data.get("date_from") or None,
            date_to=data.get("date_to") or None,
            device=str(data.get("device") or ""),
            validity=str(data.get("validity") or ""),
            name=str(data.get("q") or data.get("name") or ""),
        )


def filter_results(results: QuerySet[CheckResult], filters: ResultFilters) -> QuerySet[CheckResult]:
    """Apply ``filters`` (period in JST days, terminal, validity, name); ordering is the caller's."""
    results = within_jst_days(results, "checked_at", filters.date_from, filters.date_to)
    if filters.device:
        results = results.filter(device_id=filters.device)
    if filters.validity in ("valid", "invalid"):
        results = results.filter(is_valid=filters.validity == "valid")
    return matching_name(results, filters.name)


def result_ids_for_name(institution_id: int, name: str, limit: int) -> list[str]:
    """Ids of the institution's results whose 氏名 or カナ holds ``name``, newest first (the audit trail's patient
    search: a name is never in the trail itself)."""
    if not normalize_name(name):
        return []
    results = matching_name(CheckResult.objects.filter(institution_id=institution_id), name)
    return [str(pk) for pk in results.order_by("-checked_at").values_list("id", flat=True)[:limit]]


# A03 sortable columns: time, terminal, validity. Not the name: patient names are moving to encrypted columns with
# blind indexes (issue 15), which can be matched but not ordered (docs/console.md).
RESULT_ORDERINGS = {
    "checked_at": ("checked_at", "id"),
    "device": ("device__name", "checked_at", "id"),
    "validity": ("is_valid", "checked_at", "id"),
}


def result_ordering(sort: str) -> list[str]:
    """``-checked_at`` → ``["-checked_at", "-id"]``: every key in the chosen direction, ties broken by time and id."""
    descending = sort.startswith("-")
    fields = RESULT_ORDERINGS.get(sort.lstrip("-"), RESULT_ORDERINGS["checked_at"])
    return [("-" if descending else "") + field for field in fields]


# --- the terminal search (S07, T08) ----------------------------------------------------------------------------------


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
    date_from = given_from or default_period(today, date_to)[0]
    return ResultQuery(scope=scope, date_from=date_from, date_to=date_to, page_size=page_size)


def search_results(institution_id: int, query: ResultQuery, device_id: Any = None) -> QuerySet[CheckResult]:
    """The results a search covers: the institution's in the query's JST days; with scope ``device`` only
    ``device_id``'s (the calling terminal, or the one an export was asked for)."""
    filters = ResultFilters(date_from=query.date_from, date_to=query.date_to)
    results = filter_results(CheckResult.objects.filter(institution_id=institution_id), filters)
    if query.scope == "device" and device_id is not None:
        results = results.filter(device_id=device_id)
    return results


def visible_results(device: Device, query: ResultQuery) -> QuerySet[CheckResult]:
    """A terminal's search. Lists never need the encrypted document: it (and its decryption) is left out."""
    return search_results(device.institution_id, query, device.pk).select_related("device").defer("document_encrypted")


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


# --- the CSV row (the console's and the background exports, S10) -------------------------------------------------

# Stable: a レセコン import keyed on these names keeps working; new columns are only ever added at the end.
EXPORT_COLUMNS: list[tuple[str, str]] = [
    ("資格確認日時", "checked_at"),
    ("端末", "device"),
    ("資格確認結果", "validity"),
    ("資格有効性", "validity_detail"),
    ("本人確認の方法", "identity_verification"),
    ("照会番号", "reference_number"),
    ("保険者番号", "insurer_number"),
    ("保険者名", "insurer_name"),
    ("記号", "symbol"),
    ("番号", "number"),
    ("枝番", "branch"),
    ("氏名", "name"),
    ("フリガナ", "name_kana"),
    ("生年月日", "birthdate"),
    ("性別", "sex"),
    ("本人・家族の別", "personal_family"),
    ("被保険者氏名", "insured_name"),
    ("区分", "category"),
    ("負担割合", "ratio"),
    ("有効開始日", "valid_from"),
    ("有効終了日", "valid_until"),
    ("資格取得年月日", "qualified_on"),
    ("高齢受給者証 負担割合", "elderly_ratio"),
    ("限度額適用認定証 適用区分", "limit_class"),
    ("限度額適用認定証 有効期間", "limit_period"),
    ("特定疾病療養受療証1 疾病", "disease1"),
    ("特定疾病療養受療証1 自己負担限度額", "disease1_self_pay"),
    ("特定疾病療養受療証2 疾病", "disease2"),
    ("特定疾病療養受療証2 自己負担限度額", "disease2_self_pay"),
    ("特定疾病療養受療証3 疾病", "disease3"),
    ("特定疾病療養受療証3 自己負担限度額", "disease3_self_pay"),
    ("受信日時", "received_at"),
    ("結果ID", "id"),
]
EXPORT_HEADER = [label for label, _ in EXPORT_COLUMNS]


def _excel_datetime(value: datetime.datetime) -> str:
    """``2026/11/24 12:34:56`` in JST: a form Excel reads as a date and time."""
    return timezone.localtime(value, JST).strftime("%Y/%m/%d %H:%M:%S")


def _excel_date(value: datetime.date | None) -> str:
    """``1952/01/01``: a form Excel and レセコン imports read as a date."""
    return "" if value is None else value.strftime("%Y/%m/%d")


def _period(start: datetime.date | None, end: datetime.date | None) -> str:
    if not start and not end:
        return ""
    return f"{_excel_date(start)}〜{_excel_date(end)}"


def export_row(result: CheckResult) -> list[Any]:
    """One CSV row under ``EXPORT_HEADER``: the whole qualification record of the (decrypted) result document as the
    shared presenter reads it (contracts.result_view), dates for spreadsheets. Needs ``device``. 特定疾病 only where
    the patient consented (the document has them only then)."""
    record = read_result(result.document or {})
    elderly, limit = record.elderly, record.limit
    values: dict[str, Any] = {
        "checked_at": _excel_datetime(result.checked_at),
        "device": result.device.name,
        "validity": validity_label(result.is_valid),
        "validity_detail": record.validity or display.VALIDITY.get(result.qualification_validity, ""),
        "identity_verification": display.IDENTITY_VERIFICATION.get(result.identity_verification, result.identity_verification),
        "reference_number": record.reference_number,
        "insurer_number": record.insurer_number,
        "insurer_name": record.insurer_name,
        "symbol": record.symbol,
        "number": record.number,
        "branch": record.branch,
        "name": record.name,
        "name_kana": record.name_kana,
        "birthdate": _excel_date(record.birthdate),
        "sex": record.sex,
        "personal_family": record.personal_family,
        "insured_name": record.insured_name,
        "category": record.category,
        "ratio": record.ratio,
        "valid_from": _excel_date(record.valid_from),
        "valid_until": _excel_date(record.valid_until),
        "qualified_on": _excel_date(record.qualified_on),
        "elderly_ratio": elderly.ratio if elderly else "",
        "limit_class": limit.application_class if limit else "",
        "limit_period": _period(limit.valid_from, limit.valid_until) if limit else "",
        "received_at": _excel_datetime(result.received_at),
        "id": result.pk,
    }
    for index in range(MAX_DISEASES):
        disease = record.diseases[index] if index < len(record.diseases) else None
        values[f"disease{index + 1}"] = disease.disease if disease else ""
        values[f"disease{index + 1}_self_pay"] = "" if disease is None or disease.self_pay is None else disease.self_pay
    return [values[key] for _, key in EXPORT_COLUMNS]
