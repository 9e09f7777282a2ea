"""The audit trail in Japanese (A06, S09): action and actor names, and an event's details as labelled key/value pairs
— for the console's pages, the device history and the one audit CSV (server.audit.queries).

The trail stores details as JSON with English keys (server.audit); here they become what a clinic manager reads:
「理由: 紛失のため」, 「アプリバージョン: 1.0.2 → 1.0.3」, times in JST, yes/no, role and document names.
Keys without a label are shown as they are, so nothing recorded is ever hidden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from contracts.result_view import VALIDITY_FILTERS
from server.institutions.models import StaffMembership
from server.notices.models import Document

ACTOR_TYPE_LABELS = {
    "staff": "コンソール利用者",
    "account": "アプリアカウント",
    "device": "端末",
    "cli": "コマンド",
    "system": "システム",
}
OBJECT_TYPE_LABELS = {"result": "資格確認結果", "device": "端末", "account": "アプリアカウント"}  # A06 filter
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
    "received": "受信件数",
    "stored": "保存件数",
    "duplicate": "重複件数",
    "duplicates": "重複件数",
    "rejected": "拒否件数",
    "deleted": "削除件数",
    "cutoff": "削除の基準日時",
    "left": "残り件数",
    "exports": "CSV出力件数",
    "key_id": "鍵ID",
    "actor_type": "操作者の種類",
    "object_type": "対象の種類",
    "object_id": "対象ID",
    "print": "印刷用の表示",
}
VALUE_LABELS = {
    "validity": VALIDITY_FILTERS,
    "scope": {"device": "この端末", "institution": "医療機関のすべての端末", "all": "全医療機関"},
    "kind": dict(Document.KIND_CHOICES),
    "roles": dict(StaffMembership.ROLE_CHOICES),
    "role": dict(StaffMembership.ROLE_CHOICES),
    "encoding": {"utf-8": "UTF-8（BOM付き）", "cp932": "Shift_JIS"},
    "actor_type": ACTOR_TYPE_LABELS,
    "object_type": OBJECT_TYPE_LABELS,
}
COUNT_KEYS = ("rows", "total", "count", "received", "stored", "duplicate", "duplicates", "rejected", "deleted", "left")


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
    if isinstance(value, int) and key in COUNT_KEYS:
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


AUDIT_ACTION_LABELS = {
    "console_login": "コンソールへのログイン",
    "console_login_failed": "コンソールへのログイン失敗",
    "console_results_listed": "資格確認結果の一覧表示",
    "console_result_viewed": "資格確認結果の詳細表示",
    "console_results_exported": "資格確認結果のCSV出力",
    "console_audit_exported": "監査ログのCSV出力",
    "activation_code_issued": "アクティベーションコードの発行",
    "activation_code_revoked": "アクティベーションコードの無効化",
    "device_registered": "端末の登録",
    "device_registration_refused": "端末の登録拒否",
    "device_deregistered": "端末の登録解除",
    "device_retired": "端末の廃止",
    "device_renamed": "端末名の変更",
    "app_account_created": "アプリアカウントの作成",
    "app_account_password_set": "アプリアカウントのパスワード再設定",
    "app_account_password_changed": "アプリアカウントのパスワード変更",
    "app_account_unlocked": "アプリアカウントのロック解除",
    "app_account_locked": "アプリアカウントのロック",
    "app_account_login_failed": "アプリアカウントのログイン失敗",
    "app_account_login": "アプリアカウントのログイン",
    "device_registration_rate_limited": "端末の登録試行の制限",
    "device_updated": "端末情報の更新",
    "device_online": "端末の接続再開",
    "device_offline": "端末の接続途絶",
    "results_synced": "資格確認結果の送信（端末）",
    "results_searched": "資格確認結果の検索（端末）",
    "result_viewed": "資格確認結果の詳細表示（端末）",
    "results_export_requested": "資格確認結果のCSV出力の依頼",
    "results_exported": "資格確認結果のCSV出力（バックグラウンド）",
    "results_purged": "保存期間を過ぎた資格確認結果の削除",
    "results_reencrypted": "資格確認結果の再暗号化",
    "notice_published": "お知らせの公開",
    "notice_ended": "お知らせの掲載終了",
    "document_published": "規約・文書の公開",
    "app_release_published": "アプリの新バージョンの公開",
    "institution_created": "医療機関の作成",
    "staff_user_created": "コンソール利用者の作成",
    "staff_user_roles_changed": "コンソール利用者の役割の変更",
    "staff_user_deactivated": "コンソール利用者の無効化",
    "staff_user_activated": "コンソール利用者の有効化",
    "staff_user_password_reset": "コンソール利用者のパスワード再設定",
    "staff_totp_enabled": "2段階認証の設定",
    "staff_totp_removed": "2段階認証の解除・リセット",
    "console_otp_verified": "確認コードによるログイン",
    "console_otp_failed": "確認コードの誤り",
}


def audit_action_label(action: str) -> str:
    """The Japanese name of an audit action; an action without one is shown by its code."""
    return AUDIT_ACTION_LABELS.get(action, action)


def actor_type_label(actor_type: str) -> str:
    return ACTOR_TYPE_LABELS.get(actor_type, actor_type)
