"""資格確認結果検索 D-10-W (T08): period rule, scope toggle and cursor paging over GET /api/v1/results.

Offline (T30), the search of この端末で資格確認した結果のみ runs on the results this tablet keeps (its outbox, delivered
results included until they leave the search window); all terminals' results are only on the server, so that search
says why it cannot run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contracts.display import is_valid_qualification
from contracts.periods import MSG_ORDER, MSG_PERIOD, default_period, jst_day_start, today_jst
from contracts.periods import search_window as allowed_range
from terminal_agent.core.api_client import ApiClient, ApiFailure
from terminal_agent.core.formatting import date_time_jp, validity_label
from terminal_agent.core.store import LocalStore

PAGE_SIZE = 8
SCOPE_LABEL = "この端末で資格確認した結果のみ対象とする"
MSG_OFFLINE_ALL = (
    "サーバーに接続できないため、すべての端末の資格確認結果は検索できません。"
    "「この端末で資格確認した結果のみ対象とする」にチェックを付けると、この端末の資格確認結果を検索できます。"
)
MSG_OFFLINE_LOCAL = "サーバーに接続できないため、この端末に保存されている資格確認結果を表示しています。"
MSG_SEARCH_FIRST = "検索を先に行ってください。"


class SearchError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def window_start_utc(today: dt.date | None = None) -> str:
    """The first instant any search may ask for, as the outbox writes times (ISO 8601, UTC): older delivered
    results may leave the tablet."""
    earliest, _ = allowed_range(today or today_jst())
    return jst_day_start(earliest).astimezone(dt.UTC).isoformat(timespec="seconds")


@dataclass
class SearchCriteria:
    date_from: dt.date
    date_to: dt.date
    this_device_only: bool = True
    page_size: int = PAGE_SIZE

    @classmethod
    def default(cls, today: dt.date | None = None) -> SearchCriteria:
        """The last 30 days, clipped to what the period rule allows (contracts.periods)."""
        return cls(*default_period(today or today_jst()))

    def validate(self, today: dt.date | None = None) -> None:
        earliest, latest = allowed_range(today or today_jst())
        if self.date_from > self.date_to:
            raise SearchError(MSG_ORDER)
        if self.date_from < earliest or self.date_to > latest:
            raise SearchError(MSG_PERIOD)

    def params(self) -> dict[str, Any]:
        return {
            "scope": "device" if self.this_device_only else "institution",
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "page_size": self.page_size,
        }


@dataclass
class SearchRow:
    id: str
    checked_at: str  # 2025年03月24日 12時00分
    name: str
    validity: str  # 資格有効 / 資格無効
    device_name: str


@dataclass
class SearchPage:
    rows: list[SearchRow]
    cursors: dict[str, str | None] = field(default_factory=dict)  # first / previous / next / last
    local: bool = False  # from this tablet's own results, the server being out of reach (T30)

    def has(self, which: str) -> bool:
        return bool(self.cursors.get(which))

    def enabled(self, which: str) -> bool:
        """T08: only the buttons that would show another page: first and previous need a newer page, next and last
        an older one (the server always hands out first and last cursors)."""
        return self.has({"first": "previous", "last": "next"}.get(which, which))


class ResultSearch:
    """Holds the current criteria and page so that the screen's paging buttons are one call each."""

    def __init__(self, api: ApiClient, store: LocalStore | None = None, is_offline: Callable[[], bool] | None = None):
        self.api = api
        self.store = store
        self.is_offline = is_offline or (lambda: False)
        self.criteria: SearchCriteria | None = None
        self.page: SearchPage | None = None
        self._local_ids: list[str] = []  # the local search's result ids, newest first, fixed when it ran

    def run(self, criteria: SearchCriteria, today: dt.date | None = None) -> SearchPage:
        criteria.validate(today)
        if self.is_offline():
            return self._offline(criteria)
        try:
            page = self._fetch(criteria.params())
        except ApiFailure as failure:
            if not failure.is_network:
                raise
            return self._offline(criteria)
        self.criteria = criteria
        return page

    def go(self, which: str) -> SearchPage:
        """``which`` is first, previous, next or last; staying put when that page does not exist."""
        if not (self.criteria and self.page):
            raise SearchError(MSG_SEARCH_FIRST)
        cursor = self.page.cursors.get(which)
        if not cursor or not self.page.enabled(which):
            return self.page
        if self.page.local:
            return self._local_page(int(cursor))
        return self._fetch({"cursor": cursor})  # the cursor carries scope, period and page size

    def _fetch(self, params: dict[str, Any]) -> SearchPage:
        body = self.api.search_results(params)
        rows = [
            SearchRow(
                id=str(item["id"]),
                checked_at=date_time_jp(item.get("checked_at")),
                name=item.get("name") or "",
                validity=validity_label(bool(item.get("is_valid"))),
                device_name=item.get("device_name") or "",
            )
            for item in body.get("results", [])
        ]
        cursors = {k: body.get(k) for k in ("first", "previous", "next", "last")}
        self.page = SearchPage(rows, cursors)
        return self.page

    # --- offline: this tablet's own results (T30) ----------------------------------------------------------------------
    def _offline(self, criteria: SearchCriteria) -> SearchPage:
        if not criteria.this_device_only or self.store is None:
            raise SearchError(MSG_OFFLINE_ALL)
        start = jst_day_start(criteria.date_from)
        end = jst_day_start(criteria.date_to + dt.timedelta(days=1))
        held = [
            (dt.datetime.fromisoformat(checked_at), result_id)
            for result_id, checked_at in self.store.result_index()
        ]
        held = [(at, result_id) for at, result_id in held if start <= at < end]
        held.sort(reverse=True)  # newest first, then id: the server's order
        self._local_ids = [result_id for _, result_id in held]
        self.criteria = criteria
        return self._local_page(0)

    def _local_page(self, offset: int) -> SearchPage:
        size = self.criteria.page_size if self.criteria else PAGE_SIZE
        total = len(self._local_ids)
        last = max(0, (total - 1) // size * size)
        offset = max(0, min(offset, last))
        rows = []
        for result_id in self._local_ids[offset : offset + size]:
            item = self.store.result(result_id) if self.store else None
            if item is None:
                continue  # purged meanwhile
            qualification = item.document.get("result_of_qualification_confirmation") or {}
            rows.append(
                SearchRow(
                    id=item.id,
                    checked_at=date_time_jp(item.checked_at),
                    name=qualification.get("name") or "",
                    validity=validity_label(is_valid_qualification(item.document.get("qualification_validity"))),
                    device_name="",
                )
            )
        cursors = {
            "first": "0" if total else None,
            "previous": str(offset - size) if offset > 0 else None,
            "next": str(offset + size) if offset + size < total else None,
            "last": str(last) if total else None,
        }
        self.page = SearchPage(rows, cursors, local=True)
        return self.page

    def local_document(self, result_id: str) -> dict[str, Any] | None:
        item = self.store.result(result_id) if self.store else None
        return item.document if item else None
