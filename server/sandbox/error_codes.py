"""Every error and notice of the sandbox, in one table (N05).

Codes follow the manual's shape ``E-C-04-02-A-nnnn`` (screen C-04-02, severity A); only ``6002`` (保険証未登録) and its
text are from the manual (P.26), the other numbers are the sandbox's own. Messages are shown verbatim on the terminal.
The national 別紙6-1 list is not public (onshi-data-model.md §11), so a real adapter would replace this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from server.common.errors import ApiError

PREFIX = "E-C-04-02-A-"
NOTICE_PREFIX = "W-C-04-01-A-"  # a warning shown on the result screen C-04-01


@dataclass(frozen=True)
class SandboxMessage:
    code: str
    message: str
    http_status: int = 400


ERRORS: dict[str, SandboxMessage] = {
    # 保険証利用登録 (manual P.26, P.35–36)
    "not_registered": SandboxMessage(
        PREFIX + "6002",
        "マイナンバーカードを保険証として利用するための登録が必要です。"
        "患者ご自身のスマートフォンでマイナポータルへアクセスし、手続きをお願いします。",
    ),
    "registration_processing": SandboxMessage(
        PREFIX + "6003",
        "健康保険証利用登録の処理中です。少し時間を置いてから再度資格確認を行ってください。",
    ),
    "registration_failed": SandboxMessage(
        PREFIX + "6004",
        "健康保険証利用登録に失敗しています。同じマイナンバーカードを使用して、再度健康保険証利用登録を行ってください。",
    ),
    "already_registered": SandboxMessage(
        PREFIX + "6005",
        "このマイナンバーカードは保険証として利用登録済みです。資格確認を行ってください。",
        409,
    ),
    "registration_on_phone": SandboxMessage(
        PREFIX + "6006",
        "スマートフォンでの健康保険証利用登録はできません。マイナポータルから手続きをお願いします。",
    ),
    "terms_not_accepted": SandboxMessage(
        PREFIX + "6007",
        "健康保険証利用登録には利用規約への同意が必要です。",
    ),
    "registration_unknown": SandboxMessage(
        PREFIX + "6008",
        "健康保険証利用登録の申請が見つかりません。",
        404,
    ),
    # The card's user-authentication certificate
    "certificate_expired": SandboxMessage(
        PREFIX + "6101",
        "マイナンバーカードの電子証明書の有効期限が切れています。"
        "住民票がある市区町村の窓口で電子証明書の更新手続きを行ってください。",
    ),
    "certificate_expired_smartphone": SandboxMessage(
        PREFIX + "6102",
        "スマートフォンの電子証明書の有効期限が切れています。マイナポータルから電子証明書の更新を行ってください。",
    ),
    "certificate_revoked": SandboxMessage(
        PREFIX + "6103",
        "マイナンバーカードの電子証明書が失効しています。住民票がある市区町村の窓口にお問い合わせください。",
    ),
    "certificate_untrusted": SandboxMessage(
        PREFIX + "6104",
        "マイナンバーカードの電子証明書を確認できませんでした。正しいマイナンバーカードか確認してください。",
    ),
    "certificate_malformed": SandboxMessage(
        PREFIX + "6105",
        "マイナンバーカードの電子証明書を読み取れませんでした。もう一度カードを読み取ってください。",
    ),
    "certificate_unknown": SandboxMessage(
        PREFIX + "6106",
        "このマイナンバーカードの資格情報が見つかりません。",
    ),
    "holder_mismatch": SandboxMessage(
        PREFIX + "6107",
        "選択した認証方法と読み取ったカードの種類が一致しません。認証方法を選び直してください。",
    ),
    # The challenge and the card's signature
    "signature_invalid": SandboxMessage(
        PREFIX + "6201",
        "本人確認に失敗しました。もう一度カードを読み取ってください。",
    ),
    "challenge_unknown": SandboxMessage(
        PREFIX + "6202",
        "認証情報が確認できませんでした。もう一度資格確認を行ってください。",
    ),
    "challenge_used": SandboxMessage(
        PREFIX + "6203",
        "この認証情報は使用済みです。もう一度資格確認を行ってください。",
    ),
    "challenge_expired": SandboxMessage(
        PREFIX + "6204",
        "認証情報の有効期限が切れました。もう一度資格確認を行ってください。",
    ),
    "challenge_other_device": SandboxMessage(
        PREFIX + "6205",
        "認証情報が確認できませんでした。もう一度資格確認を行ってください。",
    ),
    # The request itself
    "malformed_request": SandboxMessage(
        PREFIX + "6301",
        "資格確認の要求内容に誤りがあります。",
    ),
    "visual_not_attested": SandboxMessage(
        PREFIX + "6302",
        "目視による本人確認が完了していません。券面の顔写真を確認してください。",
    ),
    # The roster
    "qualification_not_found": SandboxMessage(
        PREFIX + "6401",
        "資格情報が登録されていません。保険者へお問い合わせください。",
    ),
}

# Notices: a successful answer that also carries processing_result_code / processing_result_message (manual P.32).
# 医療扶助 and この資格は無効です are not notices: the terminal derives them from the codes of the document.
NOTICES: dict[str, SandboxMessage] = {
    "certificate_expiring": SandboxMessage(
        NOTICE_PREFIX + "1001",
        "マイナンバーカードに記録されている電子証明書の有効期限が残り3カ月を切りました。"
        "住民票がある市区町村から送付される有効期限通知書をご確認いただくか、"
        "住民票がある市区町村の窓口にお問い合わせください。",
        200,
    ),
    "certificate_grace_period": SandboxMessage(
        NOTICE_PREFIX + "1002",
        "マイナンバーカードの電子証明書の有効期限が切れています。当期間は猶予期間であり、"
        "資格情報の確認が可能ですが、お早めに住民票がある市区町村の窓口にお問い合わせください。",
        200,
    ),
}


def api_error(key: str, fields: dict[str, list[str]] | None = None) -> ApiError:
    entry = ERRORS[key]
    return ApiError(entry.code, entry.message, entry.http_status, fields)


def fail(key: str, fields: dict[str, list[str]] | None = None) -> NoReturn:
    """Raise the table's error ``key`` as an ``ApiError``."""
    raise api_error(key, fields)
