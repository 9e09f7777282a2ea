"""資格確認 flows (T15–T19) as plain state machines, and the service that performs one check.

A flow walks through the manual's steps for its method::

    目視 (T16)     READ → READ_DONE → RESULT
    暗証番号 (T17) CONFIRM → PIN_ENTRY → READ → READ_DONE → RESULT
    iPhone (T18)   CONFIRM → READ → READ_DONE → RESULT
    Android (T19)  CONFIRM → PIN_ENTRY → READ → READ_DONE → RESULT

``read()`` does the work: a fresh sandbox challenge, the card proof through ``JpkiCard`` on the selected reader, the
qualification query, schema validation, the encrypted outbox with a terminal-made UUID, then a sync attempt.
The PIN lives only in the flow object until the card has it; it is never logged, stored or sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from terminal_agent.core.api_client import ApiClient, ApiFailure
from terminal_agent.core.readers import ReaderProvider
from terminal_agent.core.store import LocalStore

if TYPE_CHECKING:  # the card protocol is imported by the first check, not at start-up
    from terminal_agent.card.jpki import JpkiCard
    from terminal_agent.card.readers import CardConnection

log = logging.getLogger(__name__)


class Method(StrEnum):
    VISUAL = "visual"
    PIN = "pin"
    IPHONE = "iphone"
    ANDROID = "android"


class Step(StrEnum):
    CONFIRM = "confirm"
    PIN_ENTRY = "pin_entry"
    READ = "read"
    READ_DONE = "read_done"
    RESULT = "result"
    FAILED = "failed"


METHOD_LABELS = {
    Method.VISUAL: "マイナンバーカード (目視)",
    Method.PIN: "マイナンバーカード (暗証番号)",
    Method.IPHONE: "iPhone",
    Method.ANDROID: "Android",
}
STEPS = {
    Method.VISUAL: [Step.READ, Step.READ_DONE, Step.RESULT],
    Method.PIN: [Step.CONFIRM, Step.PIN_ENTRY, Step.READ, Step.READ_DONE, Step.RESULT],
    Method.IPHONE: [Step.CONFIRM, Step.READ, Step.READ_DONE, Step.RESULT],
    Method.ANDROID: [Step.CONFIRM, Step.PIN_ENTRY, Step.READ, Step.READ_DONE, Step.RESULT],
}
CONFIRM_TEXT = {
    Method.PIN: "患者に実物のマイナンバーカードに搭載されている利用者証明用電子証明書の暗証番号(数字4桁)を入力してもらいます。",
    Method.IPHONE: "患者にiPhoneのマイナンバーカードの表示と、生体認証の実施をお願いしてください。",
    Method.ANDROID: "患者に4桁の暗証番号(スマホ用電子証明書)を入力してもらいます。",
}
PIN_TITLE = {Method.PIN: "暗証番号の入力", Method.ANDROID: "暗証番号の入力"}
PIN_TEXT = {
    Method.PIN: "利用者証明用電子証明書の暗証番号(数字4桁)を入力し、次へをクリックしてください。",
    Method.ANDROID: "4桁の暗証番号(スマホ用電子証明書)を入力し、次へをクリックしてください。",
}
SWITCH_TO_VISUAL_TEXT = (
    "目視確認に切り替える場合は、←(戻る)で認証方法選択画面に戻り、⚙(歯車) > セキュリティ設定 の"
    "目視確認で本人認証をオンにしてください。"
)
READ_TEXT = {
    Method.VISUAL: "カードリーダーに実物のマイナンバーカードをセットし、読み取り開始をクリックしてください。",
    Method.PIN: "カードリーダーにマイナンバーカードをセットし、読み取り開始をクリックしてください。",
    Method.IPHONE: "患者のiPhone上部をカードリーダーの中央に近づけてもらい、読み取り開始をクリックしてください。",
    Method.ANDROID: "患者のスマートフォンのNFC読み取り位置をカードリーダーの中央に近づけてもらい、読み取り開始をクリックしてください。",
}
READ_DONE_TEXT = "マイナンバーカードの読み取りが完了しました。"
VISUAL_TEXT = "実物のマイナンバーカードの券面写真により本人であることを目視確認してください。"
CONSENT_LABEL = "特定疾病療養受療証情報を表示"
CONSENT_CONFIRM_TEXT = "特定疾病療養受療証情報はプライバシーに関わる情報のため、患者の同意を得てから表示してください。"

MSG_PIN_FORMAT = "暗証番号は数字4桁で入力してください。"
MSG_PIN_WRONG = "暗証番号が正しくありません。残り回数は{tries}回です。3回誤るとロックがかかります。"
MSG_PIN_LOCKED = (
    "暗証番号を3回誤ったため、不正利用防止のロックがかかりました。ロックを解除したい場合は、"
    "住民票のある市町村窓口でパスワード初期化を申請する必要があります。"
)
MSG_WRONG_TOKEN = "選択した認証方法と読み取ったカードの種類が一致しません。認証方法を選び直してください。"
MSG_BAD_DOCUMENT = "資格確認結果の形式が正しくありません。管理者にお問い合わせください。"
MSG_CARD_ERROR = "マイナンバーカードの読み取りに失敗しました。カードをセットし直して、もう一度お試しください。"
QUERY_ANSWER_PREFIX = "E-C-04-02-A-"  # the coded answers of the qualification query: dialog C-04-02-A
INSURANCE_UNREGISTERED_CODE = QUERY_ANSWER_PREFIX + "6002"
INSURANCE_UNREGISTERED_TITLE = "保険証未登録"
REGISTRATION_PROCESSING_CODE = "E-C-04-02-A-6003"
REGISTRATION_FAILED_CODE = "E-C-04-02-A-6004"
REGISTRATION_TITLE = "健康保険証利用登録"
MSG_OFFLINE_CHECK = (
    "サーバーに接続できないため、資格確認を行えません。ネットワーク接続を確認してから、もう一度お試しください。"
)
# The methods that read the plastic card: an unregistered one may be registered here (T27); a phone may not (T20).
PHYSICAL = frozenset({"visual", "pin"})

# The card a method expects, as JpkiCard.token_kind() names it.
EXPECTED_TOKEN = {Method.VISUAL: "card", Method.PIN: "card", Method.IPHONE: "iphone", Method.ANDROID: "android"}


class FailureKind(StrEnum):
    """Why a check stopped; it picks the screen's dialog. The values are the strings screens and tests compare with
    (a StrEnum: ``FailureKind.PIN_WRONG == "pin_wrong"``)."""

    PIN_FORMAT = "pin_format"
    PIN_WRONG = "pin_wrong"
    PIN_LOCKED = "pin_locked"
    CARD = "card"
    WRONG_TOKEN = "wrong_token"
    OFFLINE = "offline"  # nothing was read: the server is out of reach (T30)
    NETWORK = "network"
    SERVICE = "service"
    UPDATE_REQUIRED = "update_required"  # below the minimum supported version (T14)
    INSURANCE_UNREGISTERED = "insurance_unregistered"  # a phone's card not registered for insurance use (T20)
    REGISTRATION_REQUIRED = "registration_required"  # the plastic card: 健康保険証利用登録 offered (T27)
    REGISTRATION_PROCESSING = "registration_processing"
    REGISTRATION_FAILED = "registration_failed"
    INVALID_DOCUMENT = "invalid_document"


# Failures after which the same patient may simply try again (the flow goes back to the PIN, or stays at the read).
RETRYABLE = frozenset(
    {FailureKind.PIN_WRONG, FailureKind.CARD, FailureKind.NETWORK, FailureKind.OFFLINE, FailureKind.WRONG_TOKEN}
)


@dataclass
class CheckFailure(Exception):
    """Why a check did not complete: ``kind`` picks the dialog; ``message`` is the manual-style Japanese text."""

    kind: FailureKind
    message: str
    code: str = ""
    title: str = ""
    tries_left: int | None = None
    request_id: str = ""  # the server call's X-Request-Id, for support (ApiFailure.request_id)

    def __post_init__(self) -> None:
        self.kind = FailureKind(self.kind)  # a plain string is accepted; an unknown kind is an error here

    def __str__(self) -> str:
        return f"{self.kind}: {self.code}"


@dataclass
class CheckOutcome:
    result_id: str
    checked_at: str
    document: dict[str, Any]
    synced: bool


def card_failure(exc: Exception) -> CheckFailure:
    """Map the card layer's typed errors (``terminal_agent.card.errors``) to a screen message."""
    from terminal_agent.card import errors as card_errors

    if isinstance(exc, card_errors.PinLocked):
        return CheckFailure(FailureKind.PIN_LOCKED, MSG_PIN_LOCKED, exc.code, tries_left=0)
    if isinstance(exc, card_errors.WrongPin):
        return CheckFailure(FailureKind.PIN_WRONG, MSG_PIN_WRONG.format(tries=exc.tries_left), exc.code, tries_left=exc.tries_left)
    if isinstance(exc, card_errors.InvalidPinFormat):
        return CheckFailure(FailureKind.PIN_WRONG, MSG_PIN_FORMAT, exc.code)
    if isinstance(exc, card_errors.CardError):
        return CheckFailure(FailureKind.CARD, exc.message, exc.code)
    # A transport error that the card layer did not wrap (e.g. the virtual card pulled out mid-read).
    return CheckFailure(FailureKind.CARD, MSG_CARD_ERROR, "card_error")


def api_failure(failure: ApiFailure, method: Method | None = None) -> CheckFailure:
    physical = method is not None and method.value in PHYSICAL
    if failure.code == INSURANCE_UNREGISTERED_CODE:
        kind = FailureKind.REGISTRATION_REQUIRED if physical else FailureKind.INSURANCE_UNREGISTERED
        return CheckFailure(
            kind, failure.message, failure.code, INSURANCE_UNREGISTERED_TITLE, request_id=failure.request_id
        )
    if failure.code == REGISTRATION_PROCESSING_CODE:
        return CheckFailure(
            FailureKind.REGISTRATION_PROCESSING, failure.message, failure.code, REGISTRATION_TITLE, request_id=failure.request_id
        )
    if failure.code == REGISTRATION_FAILED_CODE:
        kind = FailureKind.REGISTRATION_FAILED if physical else FailureKind.SERVICE
        return CheckFailure(kind, failure.message, failure.code, REGISTRATION_TITLE, request_id=failure.request_id)
    kind = FailureKind.NETWORK if failure.is_network else FailureKind.SERVICE
    return CheckFailure(kind, failure.message, failure.code, request_id=failure.request_id)


@dataclass
class CardProof:
    """What the card gave for one fresh challenge: the body of a qualification query or a registration."""

    challenge_b64: str
    certificate: bytes
    signature: bytes | None

    def body(self, method: Method) -> dict[str, Any]:
        body: dict[str, Any] = {
            "challenge": self.challenge_b64,
            "identity_verification": method.value,
            "certificate": base64.b64encode(self.certificate).decode(),
            "signature": base64.b64encode(self.signature).decode() if self.signature is not None else None,
        }
        if method is Method.VISUAL:
            body["visual_attested"] = True
        return body


class CheckService:
    """Performs one qualification check end to end; blocking (the UI gateway runs it off the UI thread)."""

    def __init__(
        self,
        store: LocalStore,
        api: ApiClient,
        readers: ReaderProvider,
        *,
        after_store: Callable[[], bool] | None = None,
        on_deregistered: Callable[[], None] | None = None,
        is_offline: Callable[[], bool] | None = None,
    ):
        self.store = store
        self.api = api
        self.readers = readers
        self.after_store = after_store
        self.on_deregistered = on_deregistered
        self.is_offline = is_offline or (lambda: False)

    def failure_of(self, failure: ApiFailure, method: Method | None = None) -> CheckFailure:
        """The screen's failure for a server answer; a retired or deregistered device is forgotten first (S03)."""
        if failure.means_deregistered and self.on_deregistered is not None:
            self.on_deregistered()  # S03: back to the 未登録 state
        return api_failure(failure, method)

    def _challenge(self) -> str:
        """A fresh sandbox challenge, asked before the card is touched: offline, nothing is read (T30)."""
        if self.is_offline():
            raise CheckFailure(FailureKind.OFFLINE, MSG_OFFLINE_CHECK, "offline")
        try:
            return self.api.new_challenge()["challenge"]
        except ApiFailure as failure:
            if failure.is_network:
                raise CheckFailure(FailureKind.OFFLINE, MSG_OFFLINE_CHECK, failure.code) from failure
            raise self.failure_of(failure) from failure

    def prove(self, method: Method, pin: str | None) -> CardProof:
        """Challenge first, then the card on the selected reader: select, kind of card, certificate and signature."""
        challenge_b64 = self._challenge()
        reader = self.store.get_setting("reader.selected")
        try:
            connection = self.readers.connect(reader)
        except Exception as exc:
            raise card_failure(exc) from exc
        try:
            return self._prove(connection, method, pin, challenge_b64)
        finally:
            try:
                connection.disconnect()
            except Exception:  # the card or reader may already be gone
                log.debug("disconnect failed", exc_info=True)

    def _prove(self, connection: CardConnection, method: Method, pin: str | None, challenge_b64: str) -> CardProof:
        card = _jpki_card(connection)
        try:
            card.select_ap()
            kind = card.token_kind()
        except Exception as exc:
            raise card_failure(exc) from exc
        if kind != EXPECTED_TOKEN[method]:
            raise CheckFailure(FailureKind.WRONG_TOKEN, MSG_WRONG_TOKEN, "wrong_token")
        try:
            if method is Method.VISUAL:
                certificate, signature = card.read_auth_certificate(), None
            else:
                certificate, signature = card.prove(base64.b64decode(challenge_b64), pin=pin if method in PIN_TEXT else None)
        except Exception as exc:
            raise card_failure(exc) from exc
        return CardProof(challenge_b64, certificate, signature)

    def perform(self, method: Method, *, pin: str | None, consent_specific_diseases: bool) -> CheckOutcome:
        proof = self.prove(method, pin)
        body = {**proof.body(method), "consent_specific_diseases": consent_specific_diseases}
        try:
            document = self.api.query_qualification(body)["result"]
        except ApiFailure as failure:
            raise self.failure_of(failure, method) from failure
        except (KeyError, TypeError) as exc:
            raise CheckFailure(FailureKind.INVALID_DOCUMENT, MSG_BAD_DOCUMENT, "invalid_document") from exc
        from contracts.result_schema import result_errors  # jsonschema: loaded by the first check, not at start-up

        if result_errors(document):
            log.warning("sandbox answered a document that breaks the schema")
            raise CheckFailure(FailureKind.INVALID_DOCUMENT, MSG_BAD_DOCUMENT, "schema_violation")

        result_id = str(uuid.uuid4())
        checked_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.store.add_to_outbox(result_id, checked_at, document)
        synced = False
        if self.after_store is not None:
            try:
                synced = self.after_store()
            except Exception:  # delivery is retried by the relay; the check itself succeeded
                log.exception("sync after check failed")
        return CheckOutcome(result_id, checked_at, document, synced)


def _jpki_card(connection: CardConnection) -> JpkiCard:
    from terminal_agent.card.jpki import JpkiCard  # cryptography.x509: loaded by the first check, not at start-up

    return JpkiCard(connection)


class CheckFlow:
    """One patient's check through the screens; ``service.perform`` is called by ``read()``."""

    def __init__(self, method: Method, service: CheckService, *, consent_specific_diseases: bool = False):
        self.method = method
        self.service = service
        self.consent = consent_specific_diseases
        self.steps = STEPS[method]
        self.step = self.steps[0]
        self._pin: str | None = None
        self.outcome: CheckOutcome | None = None

    @property
    def needs_pin(self) -> bool:
        return Step.PIN_ENTRY in self.steps

    def _advance(self, expected: Step) -> Step:
        if self.step is not expected:
            raise RuntimeError(f"step {self.step} cannot do this (expected {expected})")
        self.step = self.steps[self.steps.index(expected) + 1]
        return self.step

    def confirm(self) -> Step:
        """The confirmation dialog's OK."""
        return self._advance(Step.CONFIRM)

    def enter_pin(self, pin: str) -> Step:
        """次へ on 暗証番号の入力; raises ``CheckFailure`` for a malformed PIN."""
        if not (len(pin) == 4 and pin.isascii() and pin.isdigit()):
            raise CheckFailure(FailureKind.PIN_FORMAT, MSG_PIN_FORMAT, "pin_format")
        self._pin = pin
        return self._advance(Step.PIN_ENTRY)

    def read(self) -> CheckOutcome:
        """読み取り開始. On a wrong PIN the flow returns to PIN entry so the patient can try again."""
        if self.step is not Step.READ:
            raise RuntimeError(f"step {self.step} cannot read")
        try:
            self.outcome = self.service.perform(self.method, pin=self._pin, consent_specific_diseases=self.consent)
        except CheckFailure as failure:
            retryable = failure.kind in RETRYABLE
            if retryable and self.needs_pin:
                self.step = Step.PIN_ENTRY  # the PIN was dropped: the patient enters it again
            elif not retryable:
                self.step = Step.FAILED
            raise
        finally:
            self._pin = None  # never keep the PIN beyond one attempt
        self.step = Step.READ_DONE
        return self.outcome

    def next(self) -> Step:
        """次へ on 読み取り完了."""
        return self._advance(Step.READ_DONE)

    def back(self) -> Step | None:
        """←: the previous step, or None when the flow returns to 認証方法選択."""
        index = self.steps.index(self.step) if self.step in self.steps else 0
        if index == 0 or self.step in (Step.READ_DONE, Step.RESULT):
            return None
        self.step = self.steps[index - 1]
        self._pin = None
        return self.step
