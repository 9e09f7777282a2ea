"""バージョン更新 (T14): is a newer version published, and is this one still supported?

Asked at every start (``GET /api/v1/app-release/latest``). The last answer is kept: a terminal below the minimum
supported version stays blocked offline too, until it is updated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from terminal_agent.core.api_client import ApiClient, ApiFailure
from terminal_agent.core.registration import installed_version
from terminal_agent.core.store import LocalStore

TITLE = "バージョン更新"
MSG_AVAILABLE = "アプリの最新バージョンがあります。ストアページへ移動し、最新バージョンをインストールしてください。"
MSG_REQUIRED = (
    "このバージョンのアプリはご利用いただけません。ストアページへ移動し、最新バージョンをインストールしてください。"
    "最新バージョンをインストールするまで、資格確認は行えません。"
)
STORE_BUTTON = "ストアページへ移動する"


@dataclass(frozen=True)
class ReleaseInfo:
    current: str
    latest: str | None
    store_url: str
    notes: str
    update_available: bool
    update_required: bool
    cached: bool = False

    @property
    def message(self) -> str:
        return MSG_REQUIRED if self.update_required else MSG_AVAILABLE


class Releases:
    def __init__(self, api: ApiClient, store: LocalStore, current: str = ""):
        self.api = api
        self.store = store
        self._current = current

    @property
    def current(self) -> str:
        """The version running (the package metadata unless given), read on first use."""
        return self._current or installed_version()

    def check(self) -> ReleaseInfo:
        """The server's answer for this version, kept; the kept one (if for this version) when offline."""
        try:
            body = self.api.latest_release(self.current)
        except ApiFailure as failure:
            kept = self.kept()
            if kept is None or not failure.is_network:
                raise
            return replace(kept, cached=True)
        info = ReleaseInfo(
            self.current,
            body.get("latest_version"),
            body.get("store_url") or "",
            body.get("notes") or "",
            bool(body.get("update_available")),
            bool(body.get("update_required")),
        )
        self.store.set_setting("release.last", {**info.__dict__, "cached": False})
        return info

    def kept(self) -> ReleaseInfo | None:
        """The last answer, if it was given for the version running now (an update starts afresh)."""
        kept = self.store.get_setting("release.last")
        if not kept or kept.get("current") != self.current:
            return None
        return ReleaseInfo(**kept)

    @property
    def update_required(self) -> bool:
        kept = self.kept()
        return bool(kept and kept.update_required)
