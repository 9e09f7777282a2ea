"""資格確認結果検索 D-10-W (T08): period rule, scope toggle and cursor paging over GET /api/v1/results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from terminal_agent.core.api_client import ApiClient
from terminal_agent.core.formatting import JST, date_time_jp, validity_label

PAGE_SIZE = 8
DEFAULT_DAYS = 30
MSG_PERIOD = "資格確認結果検索は前月1日から検索日当日までを指定することができます。"
MSG_ORDER = "開始日は終了日以前の日付を指定してください。"
SCOPE_LABEL = "この端末で資格確認した結果のみ対象とする"


class SearchError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def today_jst() -> dt.date:
    return dt.datetime.now(JST).date()


def allowed_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """From the 1st of the previous month to today."""
    first_this_month = today.replace(day=1)
    first_previous = (first_this_month - dt.timedelta(days=1)).replace(day=1)
    return first_previous, today


@dataclass
class SearchCriteria:
    date_from: dt.date
    date_to: dt.date
    this_device_only: bool = True
    page_size: int = PAGE_SIZE

    @classmethod
    def default(cls, today: dt.date | None = None) -> SearchCriteria:
        """The last 30 days, clipped to what the period rule allows."""
        today = today or today_jst()
        earliest, _ = allowed_range(today)
        return cls(max(earliest, today - dt.timedelta(days=DEFAULT_DAYS)), today)

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

    def has(self, which: str) -> bool:
        return bool(self.cursors.get(which))


class ResultSearch:
    """Holds the current criteria and page so that the screen's paging buttons are one call each."""

    def __init__(self, api: ApiClient):
        self.api = api
        self.criteria: SearchCriteria | None = None
        self.page: SearchPage | None = None

    def run(self, criteria: SearchCriteria, today: dt.date | None = None) -> SearchPage:
        criteria.validate(today)
        self.criteria = criteria
        return self._fetch(criteria.params())

    def go(self, which: str) -> SearchPage:
        """``which`` is first, previous, next or last; staying put when that page does not exist."""
        if not (self.criteria and self.page):
            raise SearchError("検索を先に行ってください。")
        cursor = self.page.cursors.get(which)
        if not cursor:
            return self.page
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
