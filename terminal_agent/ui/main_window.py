"""The main window: a stack of screens and the navigation between them. Every core call goes through the gateway."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

from PySide6.QtWidgets import QInputDialog, QMainWindow, QMessageBox, QStackedWidget

from terminal_agent.card.errors import CardError
from terminal_agent.core.api_client import ApiFailure
from terminal_agent.core.app import RegistrationFailed
from terminal_agent.core.check_flow import (
    CONFIRM_TEXT,
    METHOD_LABELS,
    CheckFailure,
    CheckFlow,
    FailureKind,
    Method,
    Step,
)
from terminal_agent.core.passcode import MSG_WRONG, PasscodeError
from terminal_agent.core.search import SearchCriteria, SearchError
from terminal_agent.ui.c_04_01_w import ResultScreen
from terminal_agent.ui.card_read import CardReadScreen
from terminal_agent.ui.d_10_w import ResultSearchScreen
from terminal_agent.ui.gateway import CoreCalls, CoreGateway
from terminal_agent.ui.initial_registration import InitialRegistrationScreen
from terminal_agent.ui.method_select import MethodSelectScreen
from terminal_agent.ui.passcode_login import PasscodeLoginScreen
from terminal_agent.ui.passcode_setup import PasscodeSetupScreen
from terminal_agent.ui.pin_entry import PinEntryScreen
from terminal_agent.ui.security_settings import PasscodeVerifyScreen, SecuritySettingsScreen
from terminal_agent.ui.terms import TermsScreen
from terminal_agent.ui.widgets import APP_TITLE, CLOSE, OK, OK_CANCEL, Screen, StatusBoard, message_box

log = logging.getLogger(__name__)

MSG_REGISTERED = "初期登録が完了しました。"
MSG_PASSCODE_SET = "パスコードを登録しました。"


def exclude_from_capture(window: QMainWindow) -> bool:
    """T26: keep patient data out of screenshots and screen recordings where the OS allows it.

    Windows 10 2004+ honours WDA_EXCLUDEFROMCAPTURE; other systems have no such switch (stated in the docs).
    The app's own ``QWidget.grab()`` still works: it renders the widgets, it does not capture the screen.
    """
    if sys.platform != "win32":
        return False
    import ctypes

    wda_exclude_from_capture = 0x11
    return bool(ctypes.windll.user32.SetWindowDisplayAffinity(int(window.winId()), wda_exclude_from_capture))


S = TypeVar("S", bound=Screen)


class ScreenSlot(Generic[S]):
    """A screen of the main window, made the first time it is used, then kept: only the start screen is built before
    the window is first painted (issue 12, start-up). ``@slot.wire`` marks the method that connects its signals::

        notices = ScreenSlot(NoticesScreen)

        @notices.wire
        def _wire_notices(self, screen: NoticesScreen) -> None:
            screen.back_requested.connect(self._back_to_methods)
    """

    def __init__(self, factory: Callable[[], S]) -> None:
        self.factory = factory
        self.wiring: Callable[[Any, S], None] | None = None
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def wire(self, method: Callable[[Any, S], None]) -> Callable[[Any, S], None]:
        self.wiring = method
        return method

    @overload
    def __get__(self, window: None, owner: type) -> ScreenSlot[S]: ...

    @overload
    def __get__(self, window: MainWindow, owner: type) -> S: ...

    def __get__(self, window: MainWindow | None, owner: type) -> ScreenSlot[S] | S:
        if window is None:
            return self
        screen = self.factory()
        window.__dict__[self.name] = screen  # from now on found before this descriptor
        window.add_screen(screen)
        if self.wiring is not None:
            self.wiring(window, screen)
        return screen


class MainWindow(QMainWindow):
    terms = ScreenSlot(TermsScreen)
    registration = ScreenSlot(InitialRegistrationScreen)
    passcode_setup = ScreenSlot(PasscodeSetupScreen)
    login = ScreenSlot(PasscodeLoginScreen)
    methods = ScreenSlot(MethodSelectScreen)
    pin_entry = ScreenSlot(PinEntryScreen)
    card_read = ScreenSlot(CardReadScreen)
    result = ScreenSlot(ResultScreen)
    search = ScreenSlot(ResultSearchScreen)
    passcode_verify = ScreenSlot(PasscodeVerifyScreen)
    security = ScreenSlot(SecuritySettingsScreen)

    def __init__(self, core: CoreCalls):
        super().__init__()
        self.core = core
        self.gateway = CoreGateway(core, self)
        self.active_dialog: QMessageBox | None = None
        self.flow: CheckFlow | None = None
        self.result_return: Screen | None = None
        self.setWindowTitle(APP_TITLE)
        self.resize(1280, 800)  # a landscape Windows tablet; 800×1280 portrait works too
        self.status = StatusBoard(self)  # the status strip of every screen (T30): status.set_online / set_pending

        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.show_start()  # builds the start screen only; the others are made when first used (ScreenSlot)

    # --- each screen's signals, connected when the screen is made ---------------------------------------------------
    @terms.wire
    def _wire_terms(self, screen: TermsScreen) -> None:
        screen.accepted.connect(self._terms_accepted)

    @registration.wire
    def _wire_registration(self, screen: InitialRegistrationScreen) -> None:
        screen.submitted.connect(self._register)
        self.gateway.busy.connect(screen.set_busy)

    @passcode_setup.wire
    def _wire_passcode_setup(self, screen: PasscodeSetupScreen) -> None:
        screen.chosen.connect(self._passcode_chosen)

    @login.wire
    def _wire_login(self, screen: PasscodeLoginScreen) -> None:
        screen.entered_code.connect(self._login)

    @methods.wire
    def _wire_methods(self, screen: MethodSelectScreen) -> None:
        screen.method_chosen.connect(self._method_chosen)
        screen.menu_requested.connect(self._menu)

    @pin_entry.wire
    def _wire_pin_entry(self, screen: PinEntryScreen) -> None:
        screen.pin_entered.connect(self._pin_entered)
        screen.back_requested.connect(self._back_to_methods)

    @card_read.wire
    def _wire_card_read(self, screen: CardReadScreen) -> None:
        screen.back_requested.connect(self._read_back)
        screen.start_requested.connect(self._read)
        screen.next_requested.connect(self._read_next)

    @result.wire
    def _wire_result(self, screen: ResultScreen) -> None:
        screen.closed.connect(self._result_closed)

    @search.wire
    def _wire_search(self, screen: ResultSearchScreen) -> None:
        screen.back_requested.connect(lambda: self.go(self.security))
        screen.search_requested.connect(self._search)
        screen.page_requested.connect(self._search_page)
        screen.row_opened.connect(self._open_search_row)

    @passcode_verify.wire
    def _wire_passcode_verify(self, screen: PasscodeVerifyScreen) -> None:
        screen.entered_code.connect(self._verify_for_security)
        screen.back_requested.connect(self._back_to_methods)

    @security.wire
    def _wire_security(self, screen: SecuritySettingsScreen) -> None:
        screen.back_requested.connect(self._back_to_methods)
        screen.chosen.connect(self._security_item)
        screen.visual_toggled.connect(self._visual_toggled)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        exclude_from_capture(self)

    # --- navigation ---------------------------------------------------------------------------------------------
    def add_screen(self, screen: Screen) -> Screen:
        """Put a screen in the stack, its status strip following ``self.status``."""
        self.stack.addWidget(screen)
        self.status.attach(screen.status_strip)
        return screen

    def screens(self) -> list[Screen]:
        """Every screen of the window, made now where not made yet (tests, the screen gallery)."""
        slots = [v for cls in type(self).__mro__ for v in vars(cls).values() if isinstance(v, ScreenSlot)]
        return [getattr(self, slot.name) for slot in slots]

    def current_screen(self) -> Screen:
        return self.stack.currentWidget()  # type: ignore[return-value]

    def go(self, screen: Screen) -> None:
        self.stack.setCurrentWidget(screen)
        self.setWindowTitle(f"{APP_TITLE} - {screen.title}")
        screen.entered()

    def dialog(
        self,
        title: str,
        text: str,
        buttons: list | None = None,
        on_finished: Any = None,
        *,
        kind: str = "info",
        request_id: str = "",
    ) -> QMessageBox:
        """A dialog of ``kind`` info / success / question / warning / error (its icon; never info for an error);
        ``request_id`` of a failed server call is shown for support."""
        return message_box(
            self, title, text, buttons=buttons or OK, on_finished=on_finished, kind=kind, request_id=request_id
        )

    def show_start(self) -> None:
        start = self.core.start_screen()
        if start == "terms":
            self.go(self.terms)
        elif start == "passcode_setup":
            self.go(self.passcode_setup)
        else:
            self.go(self.login)

    def _back_to_methods(self) -> None:
        self.flow = None
        self.methods.set_methods(self.core.method_choices())
        self.go(self.methods)

    def _deregistered(self, message: str) -> None:
        self.dialog("エラー", message, on_finished=lambda _b: self.show_start(), kind="error")

    # --- T01 – T03, T14 ----------------------------------------------------------------------------------------------
    def _terms_accepted(self) -> None:
        self.gateway.run(self.core.accept_terms, on_done=lambda _r: self.go(self.registration))

    def _register(self, form: Any) -> None:
        errors = self.core.validate_registration(form)
        if errors:
            self.registration.show_errors(errors)
            return
        self.registration.show_errors({})
        self.gateway.run(
            self.core.register, form, on_done=self._registered, on_error=self._registration_failed
        )

    def _registered(self, _registration: Any) -> None:
        self.dialog("初期登録", MSG_REGISTERED, on_finished=lambda _b: self.go(self.passcode_setup), kind="success")

    def _registration_failed(self, error: Exception) -> None:
        if isinstance(error, RegistrationFailed):
            self.registration.show_errors(error.fields, error.message)
            self.dialog("エラー", error.message, kind="error", request_id=error.request_id)
        else:
            log.error("registration failed: %s", type(error).__name__)
            self.dialog("エラー", "登録できませんでした。もう一度お試しください。", kind="error")

    def _passcode_chosen(self, first: str, confirmation: str) -> None:
        def failed(error: Exception) -> None:
            self.passcode_setup.show_problem(error.message if isinstance(error, PasscodeError) else str(error))

        def done(_r: Any) -> None:
            self.dialog("パスコードの登録", MSG_PASSCODE_SET, on_finished=lambda _b: self._back_to_methods(), kind="success")

        self.gateway.run(self.core.set_passcode, first, confirmation, on_done=done, on_error=failed)

    def _login(self, code: str) -> None:
        def done(ok: bool) -> None:
            if ok:
                self._back_to_methods()
            else:
                self.login.show_problem(MSG_WRONG)

        self.gateway.run(self.core.login, code, on_done=done)

    # --- T15 – T19 -------------------------------------------------------------------------------------------------
    def _method_chosen(self, method_value: str, consent: bool) -> None:
        try:
            self.flow = self.core.start_check(Method(method_value), consent_specific_diseases=consent)
        except RegistrationFailed as error:
            self._deregistered(error.message)
            return
        flow = self.flow
        if flow.step is Step.CONFIRM:
            def answered(label: str) -> None:
                if label == "OK" and self.flow is flow:
                    flow.confirm()
                    self._show_step()
                else:
                    self.flow = None

            self.dialog(METHOD_LABELS[flow.method], CONFIRM_TEXT[flow.method], OK_CANCEL, answered, kind="question")
        else:
            self._show_step()

    def _show_step(self, problem: str = "") -> None:
        flow = self.flow
        if flow is None:
            return
        if flow.step is Step.PIN_ENTRY:
            self.go(self.pin_entry)
            self.pin_entry.prepare(flow.method, problem)
        elif flow.step is Step.READ:
            self.go(self.card_read)
            self.card_read.prepare(flow.method)

    def _pin_entered(self, pin: str) -> None:
        if self.flow is None:
            return
        try:
            self.flow.enter_pin(pin)
        except CheckFailure as failure:
            self.pin_entry.prepare(self.flow.method, failure.message)
            return
        self._show_step()

    def _read_back(self) -> None:
        if self.flow is not None and self.flow.back() is not None:
            self._show_step()
        else:
            self._back_to_methods()

    def _read(self) -> None:
        flow = self.flow
        if flow is None:
            return
        self.gateway.run(flow.read, on_done=lambda _o: self.card_read.read_done(), on_error=self._read_failed)

    def _read_failed(self, error: Exception) -> None:
        flow = self.flow
        self.card_read.read_failed()
        if not isinstance(error, CheckFailure):
            log.error("card read failed: %s", type(error).__name__)
            error = CheckFailure(FailureKind.CARD, "マイナンバーカードの読み取りに失敗しました。もう一度お試しください。")
        if error.kind is FailureKind.INSURANCE_UNREGISTERED:
            text = f"{error.message}\n\nエラーコード:\n{error.code}"
            self.dialog(
                error.title, text, CLOSE, lambda _b: self._back_to_methods(), kind="error", request_id=error.request_id
            )
        elif error.kind is FailureKind.PIN_LOCKED:
            self.dialog("暗証番号ロック", error.message, on_finished=lambda _b: self._back_to_methods(), kind="error")
        elif error.kind is FailureKind.SERVICE and error.code in ("device_retired", "device_deregistered", "unknown_device"):
            self._deregistered(error.message)
        elif flow is not None and flow.step is Step.PIN_ENTRY:
            self.dialog("エラー", error.message, on_finished=lambda _b: self._show_step(error.message), kind="error",
                        request_id=error.request_id)
        elif flow is not None and flow.step is Step.FAILED:
            self.dialog("エラー", error.message, on_finished=lambda _b: self._back_to_methods(), kind="error",
                        request_id=error.request_id)
        else:
            self.dialog("エラー", error.message, kind="error", request_id=error.request_id)

    def _read_next(self) -> None:
        flow = self.flow
        if flow is None or flow.outcome is None:
            return
        flow.next()
        self.result_return = self.methods
        self.result.show_document(flow.outcome.document, from_check=True)
        self.go(self.result)

    def _result_closed(self) -> None:
        # T25: the result is gone from the method screen; only a new read or D-10-W shows it again.
        self.result.document = None
        if self.result_return is self.search:
            self.go(self.search)
        else:
            self._back_to_methods()

    # --- ⚙ menu ------------------------------------------------------------------------------------------------------
    def _menu(self, key: str) -> None:
        if key == "security":
            self.go(self.passcode_verify)  # T06: セキュリティ設定 asks for the passcode first
        elif key == "reader":
            self._choose_reader()
        elif key == "terms":
            self.dialog("利用規約", self.terms.text.toPlainText())
        else:
            self.dialog("メニュー", "この機能は準備中です。")

    def _verify_for_security(self, code: str) -> None:
        def done(ok: bool) -> None:
            if ok:
                self.security.show_state(self.core.visual_check_enabled)
                self.go(self.security)
            else:
                self.passcode_verify.show_problem(MSG_WRONG)

        self.gateway.run(self.core.verify_passcode, code, on_done=done)

    def _visual_toggled(self, enabled: bool) -> None:
        self.core.set_visual_check(enabled)  # T11; the method screen follows on return
        self.methods.set_methods(self.core.method_choices())

    def _security_item(self, key: str) -> None:
        if key == "search":
            self.open_search()
        elif key == "deregister":
            self._deregister()
        else:
            self.dialog("セキュリティ設定", "この機能は準備中です。")

    def _deregister(self) -> None:
        """T12: confirmation with 登録解除 / キャンセル, then the 未登録 state (T01–T03 again)."""

        def done(_r: Any) -> None:
            self.dialog(
                "デバイス登録解除", "デバイスの登録を解除しました。", on_finished=lambda _b: self.show_start(), kind="success"
            )

        def failed(error: Exception) -> None:
            message = error.message if isinstance(error, ApiFailure) else "登録解除できませんでした。"
            self.dialog("エラー", message, kind="error")

        def answered(label: str) -> None:
            if label == "登録解除":
                self.gateway.run(self.core.deregister, on_done=done, on_error=failed)

        self.dialog(
            "デバイス登録解除",
            "この端末のデバイス登録を解除します。登録を解除すると、この端末では資格確認できなくなります。",
            [
                ("登録解除", QMessageBox.ButtonRole.AcceptRole, "danger"),
                ("キャンセル", QMessageBox.ButtonRole.RejectRole),
            ],
            answered,
            kind="warning",
        )

    def _choose_reader(self) -> None:
        def chosen(names: list[str]) -> None:
            if not names:
                self.dialog(
                    "カードリーダー選択",
                    "カードリーダーが見つかりません。カードリーダーの接続を確認してください。",
                    kind="warning",
                )
                return
            current = self.core.selected_reader
            index = names.index(current) if current in names else 0
            name, ok = QInputDialog.getItem(self, "カードリーダー選択", "使用するカードリーダー", names, index, False)
            if ok:
                self.core.select_reader(name)
                self.dialog("カードリーダー選択", "カードリーダーが選択されました。", kind="success")

        def failed(error: Exception) -> None:
            message = error.message if isinstance(error, CardError) else "カードリーダーを確認できませんでした。"
            self.dialog("カードリーダー選択", message, kind="error")

        self.gateway.run(self.core.list_readers, on_done=chosen, on_error=failed)

    # --- T08 --------------------------------------------------------------------------------------------------------
    def open_search(self) -> None:
        criteria = self.search.reset()
        self.go(self.search)
        self._search(criteria)

    def _search_failed(self, error: Exception) -> None:
        if isinstance(error, SearchError):
            self.search.show_problem(error.message)
        elif isinstance(error, ApiFailure):
            if error.means_deregistered:
                self._deregistered(error.message)
            else:
                self.search.show_problem(error.message)
        else:
            self.search.show_problem("検索できませんでした。")

    def _search(self, criteria: SearchCriteria) -> None:
        self.gateway.run(self.core.search_results, criteria, on_done=self.search.show_page, on_error=self._search_failed)

    def _search_page(self, which: str) -> None:
        self.gateway.run(self.core.search_page, which, on_done=self.search.show_page, on_error=self._search_failed)

    def _open_search_row(self, result_id: str) -> None:
        def done(document: dict) -> None:
            self.result_return = self.search
            self.result.show_document(document)
            self.go(self.result)

        self.gateway.run(self.core.result_document, result_id, on_done=done, on_error=self._search_failed)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.gateway.wait_idle(5000)
        super().closeEvent(event)
