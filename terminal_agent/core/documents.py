"""利用規約 / 個人情報の取り扱い / ライセンス (T01, T06) from the server, cached with their version for offline reading.

The server publishes versions (``GET /api/v1/documents/<kind>``, readable before registration). Each answer is kept
in the store's settings, so the documents read offline too; the 利用規約 version the staff accepted is kept, and a
newer published one asks for consent again (T01).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from terminal_agent.core.api_client import ApiClient, ApiFailure
from terminal_agent.core.store import LocalStore

TERMS, PRIVACY, LICENSES = "terms", "privacy", "licenses"
KINDS = (TERMS, PRIVACY, LICENSES)
LABELS = {TERMS: "利用規約", PRIVACY: "個人情報の取り扱い", LICENSES: "ライセンス"}
MSG_UNAVAILABLE = "{label}を取得できませんでした。ネットワーク接続を確認してから、もう一度お試しください。"


@dataclass(frozen=True)
class Document:
    kind: str
    version: str
    title: str
    body: str
    published_at: str = ""
    cached: bool = False  # read from this tablet's copy because the server could not be reached

    @property
    def label(self) -> str:
        return LABELS[self.kind]


class DocumentUnavailable(Exception):
    """Neither the server nor this tablet's copy has the document (first launch without a network)."""

    def __init__(self, kind: str, cause: ApiFailure | None = None):
        self.kind = kind
        self.message = MSG_UNAVAILABLE.format(label=LABELS.get(kind, kind))
        self.cause = cause
        super().__init__(self.message)


class Documents:
    def __init__(self, api: ApiClient, store: LocalStore):
        self.api = api
        self.store = store

    def get(self, kind: str) -> Document:
        """The server's current version (kept here too), or the kept copy when the server cannot be reached."""
        if kind not in KINDS:
            raise ValueError(kind)
        try:
            body = self.api.document(kind)
        except ApiFailure as failure:
            kept = self.cached(kind)
            if kept is None:
                raise DocumentUnavailable(kind, failure) from failure
            return kept
        document = Document(kind, str(body["version"]), str(body["title"]), str(body["body"]), body.get("published_at") or "")
        self.store.set_setting(f"document.{kind}", _fields(document))
        return document

    def cached(self, kind: str) -> Document | None:
        kept = self.store.get_setting(f"document.{kind}")
        return Document(kind, cached=True, **kept) if kept else None

    # --- consent to 利用規約 (T01) ------------------------------------------------------------------------------------
    @property
    def accepted_terms_version(self) -> str | None:
        return self.store.get_setting("terms.accepted_version")

    def accept_terms(self, version: str) -> None:
        self.store.set_setting("terms.accepted_version", version)
        self.store.set_setting("terms.accepted_at", dt.datetime.now(dt.UTC).isoformat())

    def terms_to_accept(self) -> Document | None:
        """The current 利用規約 when it is not the version accepted here (None when accepted or not to be had)."""
        try:
            terms = self.get(TERMS)
        except DocumentUnavailable:
            return None
        return None if terms.version == self.accepted_terms_version else terms


def _fields(document: Document) -> dict[str, Any]:
    return {"version": document.version, "title": document.title, "body": document.body,
            "published_at": document.published_at}
