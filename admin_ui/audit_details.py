"""A06: an audit event's details as labelled Japanese key/value pairs (the page, the CSV and the device history).

The trail stores details as JSON with English keys (server.audit); here they become what a clinic manager reads:
「理由: 紛失のため」, 「アプリバージョン: 1.0.2 → 1.0.3」, times in JST, yes/no, role and document names.
Keys without a label are shown as they are, so nothing recorded is ever hidden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from server.institutions.models import StaffMembership
from server.notices.models import Document

DETAIL_LABELS = {
    "reason": "理由",
    "reasons": "理由",
    "from": "変更前",
    "to": "変更後",
    "app_version": "アプリバージョン",
    "reader_name": "カードリーダー",
    "os": "OS",
    "device_name": "端末名",
    "device": "端末",
    "expires_at": "有効期限",
    "scope": "範囲",
    "date_from": "開始日",
    "date_to": "終了日",
    "rows": "件数",
    "page": "ページ",
    "total": "該当件数",
    "validity": "資格確認結果",
    "name_searched": "氏名・カナで検索",
    "patient_searched": "患者名で検索",
    "title": "タイトル",
    "kind": "種類",
    "version": "バージョン",
    "store_url": "ストアページURL",
    "minimum_supported": "更新必須",
    "publish_from": "公開開始",
    "publish_until": "公開終了",
    "published_at": "公開日時",
    "roles": "役割",
    "role": "役割",
    "failed_attempts": "連続失敗回数",
    "locked_until": "ロック期限",
    "last_seen_at": "最終接続日時",
    "code": "エラーコード",
    "institution_code": "機関コード",
    "limit_per_hour": "1時間あたりの上限",
    "export": "出力ID",
    "actor": "操作者ID",
    "action": "操作",
    "sort": "並び順",
    "format": "形式",
    "encoding": "文字コード",
    "object": "対象",
    "count": "件数",
    "stored": "保存件数",
    "duplicates": "重複件数",
    "deleted": "削除件数",
    "key_id": "鍵ID",
}
VALUE_LABELS = {
    "validity": {"valid": "資格有効", "invalid": "資格無効"},
    "scope": {"device": "この端末", "institution": "医療機関のすべての端末", "all": "全医療機関"},
    "kind": dict(Document.KIND_CHOICES),
    "roles": dict(StaffMembership.ROLE_CHOICES),
    "role": dict(StaffMembership.ROLE_CHOICES),
    "encoding": {"utf-8": "UTF-8（BOM付き）", "cp932": "Shift_JIS"},
}


@dataclass(frozen=True)
class Detail:
    label: str
    value: str


def _datetime(text: str) -> str | None:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return timezone.localtime(value).strftime("%Y年%m月%d日 %H時%M分")


def _date(text: str) -> str | None:
    try:
        return dt.date.fromisoformat(text).strftime("%Y年%m月%d日") if len(text) == 10 else None
    except ValueError:
        return None


def format_value(key: str, value: Any, device_names: dict[str, str] | None = None) -> str:
    """One detail value as text; ``device_names`` turns device ids into names."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, list):
        return "、".join(format_value(key, item, device_names) for item in value) or "—"
    if isinstance(value, dict):
        if set(value) == {"from", "to"}:
            return f"{format_value(key, value['from'], device_names)} → {format_value(key, value['to'], device_names)}"
        return "、".join(f"{DETAIL_LABELS.get(k, k)}: {format_value(k, v, device_names)}" for k, v in value.items())
    text = str(value)
    if key in VALUE_LABELS:
        return VALUE_LABELS[key].get(text, text)
    if key == "device" and device_names:
        return device_names.get(text, text)
    if isinstance(value, str):
        return _date(text) or _datetime(text) or text
    if isinstance(value, int) and key in ("rows", "total", "count", "stored", "duplicates", "deleted"):
        return f"{value:,}件"
    return text


def describe(detail: dict[str, Any] | None, device_names: dict[str, str] | None = None) -> list[Detail]:
    """The event's detail as labelled pairs, in the order of DETAIL_LABELS (PostgreSQL's jsonb keeps no order of its
    own: 「変更前」 must still come before 「変更後」), unknown keys last."""
    order = {key: index for index, key in enumerate(DETAIL_LABELS)}
    items = sorted((detail or {}).items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    return [Detail(DETAIL_LABELS.get(k, k), format_value(k, v, device_names)) for k, v in items]


def describe_text(detail: dict[str, Any] | None, device_names: dict[str, str] | None = None) -> str:
    """``理由: 紛失のため / 端末名: 受付1`` for a CSV cell."""
    return " / ".join(f"{row.label}: {row.value}" for row in describe(detail, device_names))
