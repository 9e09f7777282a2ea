"""お知らせ (T04): the unread ones after registration and at every start, all of them from ⚙; read state per device.

The server keeps the read state per device (``POST /api/v1/notices/<id>/read``); the last list is kept here so that
⚙ → お知らせ still lists them offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from terminal_agent.core.api_client import ApiClient, ApiFailure
from terminal_agent.core.formatting import date_time_jp
from terminal_agent.core.store import LocalStore

MSG_NONE = "お知らせはありません。"


@dataclass(frozen=True)
class Notice:
    id: int
    title: str
    body: str
    url: str
    published: str  # 2026年11月27日 09時00分
    read: bool


@dataclass(frozen=True)
class NoticeList:
    notices: list[Notice]
    unread_count: int
    cached: bool = False  # the server could not be reached: the list kept on this tablet


def _notice(item: dict[str, Any]) -> Notice:
    return Notice(
        int(item["id"]),
        str(item.get("title") or ""),
        str(item.get("body") or ""),
        str(item.get("url") or ""),
        date_time_jp(item.get("publish_from")),
        bool(item.get("read")),
    )


class Notices:
    def __init__(self, api: ApiClient, store: LocalStore):
        self.api = api
        self.store = store

    def unread(self) -> list[Notice]:
        """The unread notices, newest first; [] when the server cannot be reached (the list is skipped, T04)."""
        try:
            body = self.api.notices(unread_only=True)
        except ApiFailure as failure:
            if failure.is_network:
                return []
            raise
        return [_notice(item) for item in body.get("notices", [])]

    def all(self) -> NoticeList:
        """Every notice in its window, read and unread (⚙ → お知らせ); the kept list when offline."""
        try:
            body = self.api.notices()
        except ApiFailure as failure:
            kept = self.store.get_setting("notices.all")
            if not failure.is_network or kept is None:
                raise
            return NoticeList([_notice(item) for item in kept], sum(not item.get("read") for item in kept), cached=True)
        items = body.get("notices", [])
        self.store.set_setting("notices.all", items)
        return NoticeList([_notice(item) for item in items], int(body.get("unread_count", 0)))

    def mark_read(self, notice_id: int) -> None:
        self.api.mark_notice_read(notice_id)
