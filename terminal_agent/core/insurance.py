"""健康保険証利用登録 (T27, manual P.35–36): a plastic card not registered for insurance use, registered here.

After a 目視 or 暗証番号 read answers 6002, the staff choose 健康保険証利用登録する; the patient reads and accepts the
利用規約 (同意する); the card is read again the same way (a fresh challenge; the PIN again for 暗証番号); the sandbox
registers it asynchronously. The flow waits a few seconds for the outcome::

    CHOICE → TERMS → [PIN_ENTRY →] READ → DONE (completed) | PROCESSING (still 処理中) | FAILED (失敗)

``資格確認する`` after DONE starts a new check with the same method. 処理中: wait, then check again. 失敗: register
again with the same card (``restart()``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from terminal_agent.core.api_client import ApiFailure
from terminal_agent.core.check_flow import (
    MSG_PIN_FORMAT,
    PHYSICAL,
    REGISTRATION_PROCESSING_CODE,
    CheckFailure,
    CheckService,
    Method,
)

log = logging.getLogger(__name__)

TITLE = "健康保険証利用登録"
CHOICE_TEXT = (
    "このマイナンバーカードは、健康保険証として利用するための登録がされていません。"
    "健康保険証として利用するための登録が必要です。健康保険証利用登録を行うか選択してください。"
)
REGISTER_BUTTON = "健康保険証利用登録する"
SKIP_BUTTON = "登録しない"
AGREE_BUTTON = "同意する"
MSG_COMPLETED = "マイナンバーカードの健康保険証利用登録が完了しました。資格確認するをクリックして、資格確認を行ってください。"
CHECK_BUTTON = "資格確認する"
# The sandbox's own texts for 6003 and 6004 are the manual's (P.35); these are the fallbacks when none came.
MSG_PROCESSING = "健康保険証利用登録の処理中です。少し時間を置いてから再度資格確認を行ってください。"
MSG_FAILED = "健康保険証利用登録に失敗しています。同じマイナンバーカードを使用して、再度健康保険証利用登録を行ってください。"
WAIT_SECONDS = 15.0
POLL_SECONDS = 0.5


class RegStep(StrEnum):
    CHOICE = "choice"
    TERMS = "terms"
    PIN_ENTRY = "pin_entry"
    READ = "read"
    DONE = "done"
    PROCESSING = "processing"
    FAILED = "failed"


@dataclass(frozen=True)
class RegistrationTerms:
    version: str
    title: str
    body: str


@dataclass(frozen=True)
class RegistrationOutcome:
    status: str  # completed | processing | failed
    registration_id: str
    message: str


class InsuranceRegistration:
    def __init__(
        self,
        method: Method,
        service: CheckService,
        *,
        wait: float = WAIT_SECONDS,
        poll: float = POLL_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if method.value not in PHYSICAL:
            raise ValueError("健康保険証利用登録 is for the plastic card (目視 or 暗証番号)")
        self.method = method
        self.service = service
        self.wait = wait
        self.poll = poll
        self.sleep = sleep
        self.step = RegStep.CHOICE
        self.terms: RegistrationTerms | None = None
        self.outcome: RegistrationOutcome | None = None
        self._pin: str | None = None

    @property
    def needs_pin(self) -> bool:
        return self.method is Method.PIN

    def _expect(self, *steps: RegStep) -> None:
        if self.step not in steps:
            raise RuntimeError(f"step {self.step} cannot do this")

    def choose(self) -> RegistrationTerms:
        """健康保険証利用登録する: the 利用規約 to show (blocking: asks the sandbox)."""
        self._expect(RegStep.CHOICE, RegStep.TERMS)
        try:
            body = self.service.api.registration_terms()
        except ApiFailure as failure:
            raise self.service.failure_of(failure, self.method) from failure
        self.terms = RegistrationTerms(str(body["version"]), str(body["title"]), str(body["body"]))
        self.step = RegStep.TERMS
        return self.terms

    def accept_terms(self) -> RegStep:
        """同意する."""
        self._expect(RegStep.TERMS)
        self.step = RegStep.PIN_ENTRY if self.needs_pin else RegStep.READ
        return self.step

    def enter_pin(self, pin: str) -> RegStep:
        self._expect(RegStep.PIN_ENTRY)
        if not (len(pin) == 4 and pin.isascii() and pin.isdigit()):
            raise CheckFailure("pin_format", MSG_PIN_FORMAT, "pin_format")
        self._pin = pin
        self.step = RegStep.READ
        return self.step

    def read(self) -> RegistrationOutcome:
        """読み取り開始: the card proves a fresh challenge, the sandbox starts the registration, the flow waits."""
        self._expect(RegStep.READ)
        try:
            proof = self.service.prove(self.method, self._pin)
        except CheckFailure as failure:
            if failure.kind == "pin_wrong" and self.needs_pin:
                self.step = RegStep.PIN_ENTRY
            elif failure.kind == "pin_locked":
                self.step = RegStep.FAILED
            raise
        finally:
            self._pin = None
        try:
            answer = self.service.api.request_registration({**proof.body(self.method), "terms_accepted": True})
        except ApiFailure as failure:
            if failure.code == REGISTRATION_PROCESSING_CODE:  # registered a moment ago and still 処理中
                return self._finish("processing", "", failure.message)
            raise self.service.failure_of(failure, self.method) from failure
        registration_id = str(answer["registration_id"])
        status = str(answer.get("status", "processing"))
        deadline = time.monotonic() + self.wait
        while status == "processing" and time.monotonic() < deadline:
            self.sleep(self.poll)
            try:
                status = str(self.service.api.registration(registration_id).get("status", "processing"))
            except ApiFailure as failure:
                if not failure.is_network:
                    raise self.service.failure_of(failure, self.method) from failure
                log.info("registration poll failed: %s", failure.code)
        return self._finish(status, registration_id)

    def _finish(self, status: str, registration_id: str, message: str = "") -> RegistrationOutcome:
        if status == "completed":
            self.step, text = RegStep.DONE, MSG_COMPLETED
        elif status == "failed":
            self.step, text = RegStep.FAILED, MSG_FAILED
        else:
            self.step, text = RegStep.PROCESSING, message or MSG_PROCESSING
        self.outcome = RegistrationOutcome(status, registration_id, text)
        return self.outcome

    def restart(self) -> None:
        """失敗: register again with the same card, from the choice."""
        self.step, self.outcome, self._pin = RegStep.CHOICE, None, None

    def back(self) -> RegStep | None:
        """←: one step back, or None when the flow is left for 認証方法選択."""
        order = [RegStep.CHOICE, RegStep.TERMS] + ([RegStep.PIN_ENTRY] if self.needs_pin else []) + [RegStep.READ]
        if self.step not in order or order.index(self.step) == 0:
            return None
        self.step = order[order.index(self.step) - 1]
        self._pin = None
        return self.step

