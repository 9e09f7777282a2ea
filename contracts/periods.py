"""The period rule of 資格確認結果検索 (T08, S07), shared by the terminal (D-10-W) and the server's search API.

A search may cover the 1st of the previous month up to today (Japan time); without a period it covers the last 30 days
(「初期表示では、30日前までの資格確認結果を検索します」), clipped to that window. Days are JST days: a day's results are
those checked from its 00:00 JST up to the next day's. No Django here.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
DEFAULT_DAYS = 30
MSG_PERIOD = "資格確認結果検索は前月1日から検索日当日までを指定することができます。"
MSG_ORDER = "開始日は終了日以前の日付を指定してください。"


def today_jst(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(JST).date()


def first_of_previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def search_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The days a search may cover: from the 1st of the previous month to today."""
    return first_of_previous_month(today), today


def default_period(today: dt.date, date_to: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last 30 days up to ``date_to`` (today by default), clipped to the search window."""
    date_to = date_to or today
    earliest, _ = search_window(today)
    return max(earliest, date_to - dt.timedelta(days=DEFAULT_DAYS)), date_to


def jst_day_start(day: dt.date) -> dt.datetime:
    """00:00 of ``day`` in Japan time."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=JST)


def jst_day_bounds(date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) instants of the JST days ``date_from`` … ``date_to``; None for an open side."""
    start = jst_day_start(date_from) if date_from else None
    end = jst_day_start(date_to + dt.timedelta(days=1)) if date_to else None
    return start, end
