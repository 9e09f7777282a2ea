"""Typed card errors. Each carries a stable `code` and a Japanese `message` for the UI.

No error ever holds a PIN: errors are built from status words and counters only.
"""

from __future__ import annotations


class CardError(Exception):
    """Base class: `code` is stable for programs, `message` is shown to staff/patients."""

    code = "card_error"
    default_message = "カードの読み取りでエラーが発生しました。もう一度お試しください。"
    retryable = True

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class NoService(CardError):
    code = "no_service"
    default_message = (
        "カードリーダーのサービス(PC/SC)が起動していません。"
        "端末を再起動するか、システム管理者にお問い合わせください。"
    )


class NoReader(CardError):
    code = "no_reader"
    default_message = "カードリーダーが見つかりません。カードリーダーの接続を確認し、カードリーダーを選択してください。"


class ReaderRemoved(CardError):
    code = "reader_removed"
    default_message = "カードリーダーが取り外されました。カードリーダーを接続し直してから、もう一度お試しください。"


class NoCard(CardError):
    code = "no_card"
    default_message = "カードが置かれていません。カードリーダーにマイナンバーカードをセットしてください。"


class CardRemoved(CardError):
    code = "card_removed"
    default_message = (
        "読み取り中にカードが離れました。読み取りが終わるまでカードを動かさずに、もう一度お試しください。"
    )


class CardTimeout(CardError):
    code = "card_timeout"
    default_message = "カードからの応答がありません。カードを置き直して、もう一度お試しください。"


class NotMyNumberCard(CardError):
    code = "not_my_number_card"
    default_message = "マイナンバーカードではないカードが置かれています。マイナンバーカードをセットしてください。"


class CardDataError(CardError):
    """The card answered 90 00 but the data is not what a JPKI card sends (broken DER, wrong length...)."""

    code = "card_data_error"
    default_message = "カードの情報を正しく読み取れませんでした。カードを置き直して、もう一度お試しください。"


class UnexpectedStatus(CardError):
    code = "unexpected_status"

    def __init__(self, sw: int, message: str | None = None) -> None:
        self.sw = sw
        super().__init__(message or f"カードの読み取りでエラーが発生しました(SW={sw:04X})。もう一度お試しください。")


class InvalidPinFormat(CardError):
    code = "invalid_pin_format"
    default_message = "暗証番号は数字4桁で入力してください。"


class PinRequired(CardError):
    """Signing or reading was refused because the PIN was not verified (SW 69 82)."""

    code = "pin_required"
    default_message = "暗証番号の入力が必要です。暗証番号を入力してから、もう一度お試しください。"


class BiometricRequired(CardError):
    code = "biometric_required"
    default_message = (
        "iPhoneでの本人確認(Face ID / Touch ID)が完了していません。"
        "iPhoneで認証してから、もう一度カードリーダーに近づけてください。"
    )


class WrongPin(CardError):
    code = "wrong_pin"

    def __init__(self, tries_left: int) -> None:
        self.tries_left = tries_left
        super().__init__(
            f"暗証番号が正しくありません。残り回数は{tries_left}回です。"
            "3回誤るとロックがかかり、住民票のある市町村窓口での手続きが必要になります。"
        )


class PinLocked(CardError):
    code = "pin_locked"
    retryable = False
    default_message = (
        "暗証番号を3回誤ったため、ロックがかかっています。"
        "ロックを解除するには、住民票のある市町村窓口でパスワード初期化を申請してください。"
    )
