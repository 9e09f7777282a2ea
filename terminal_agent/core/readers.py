"""Where the card connection comes from: PC/SC readers through pyscard, or an in-process virtual card.

Both give the terminal core an object with ``transmit(apdu) -> (data, sw1, sw2)``, the shape ``JpkiCard`` wants.
"""

from __future__ import annotations

from typing import Any, Protocol

MSG_NO_READER = "カードリーダーが見つかりません。カードリーダーの接続を確認してください。"
MSG_NO_CARD = "マイナンバーカードを読み取れませんでした。カードリーダーにマイナンバーカードをセットしてから、読み取り開始をクリックしてください。"
MSG_NO_SERVICE = "カードリーダーを利用できません。スマートカードサービスが起動しているか確認してください。"


class CardAccessError(Exception):
    """No reader, no card, no PC/SC service: a Japanese message for the screen."""

    def __init__(self, message: str, code: str = "card_unavailable"):
        super().__init__(message)
        self.message = message
        self.code = code


class ReaderProvider(Protocol):
    def list_readers(self) -> list[str]: ...

    def connect(self, reader_name: str | None) -> Any: ...


class PcscReaderProvider:
    """The real readers through pyscard (C01)."""

    def list_readers(self) -> list[str]:
        try:
            from smartcard.System import readers
        except ImportError as exc:
            raise CardAccessError(MSG_NO_SERVICE, "pcsc_missing") from exc
        try:
            return [str(r) for r in readers()]
        except Exception as exc:  # EstablishContextException when pcscd is not running
            raise CardAccessError(MSG_NO_SERVICE, "pcsc_unavailable") from exc

    def connect(self, reader_name: str | None) -> Any:
        from smartcard.System import readers

        try:
            available = readers()
        except Exception as exc:
            raise CardAccessError(MSG_NO_SERVICE, "pcsc_unavailable") from exc
        if not available:
            raise CardAccessError(MSG_NO_READER, "no_reader")
        chosen = next((r for r in available if str(r) == reader_name), None) if reader_name else available[0]
        if chosen is None:
            raise CardAccessError(MSG_NO_READER, "reader_gone")
        connection = chosen.createConnection()
        try:
            connection.connect()
        except Exception as exc:  # NoCardException, CardConnectionException
            raise CardAccessError(MSG_NO_CARD, "no_card") from exc
        return connection


class InProcessReaderProvider:
    """One virtual reader holding one card object (anything with ``transmit``), for tests and the demo."""

    READER_NAME = "Virtual My Number Reader (in-process)"

    def __init__(self, card: Any, reader_name: str = READER_NAME, *, simulate_biometric: bool = True):
        self.card = card
        self.reader_name = reader_name
        # The iPhone asks its owner for Face ID before it signs; the virtual phone "approves" when it is read.
        self.simulate_biometric = simulate_biometric

    def list_readers(self) -> list[str]:
        return [self.reader_name]

    def connect(self, reader_name: str | None) -> Any:
        if self.card is None:
            raise CardAccessError(MSG_NO_CARD, "no_card")
        if self.simulate_biometric and getattr(self.card, "profile", "") == "iphone":
            self.card.approve_biometric()
        return self.card
