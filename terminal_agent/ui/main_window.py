"""The main window: a stack of screens and the navigation between them. Every core call goes through the gateway."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox, QStackedWidget

from terminal_agent.card.errors import CardError
from terminal_agent.core.account import MSG_LOCK_NOTE, MSG_LOGOUT_CONFIRM, MSG_PASSWORD_CHANGED, AccountFailure
from terminal_agent.core.api_client import ApiFailure
from terminal_agent.core.app import RegistrationFailed, StartupPlan, TerminalStatus
from terminal_agent.core.check_flow import (
    CONFIRM_TEXT,
    METHOD_LABELS,
    QUERY_ANSWER_PREFIX,
    CheckFailure,
    CheckFlow,
    FailureKind,
    Method,
    Step,
)
from terminal_agent.core.documents import LABELS as DOCUMENT_LABELS
from terminal_agent.core.documents import DocumentUnavailable
from terminal_agent.core.insurance import CHECK_BUTTON, REGISTER_BUTTON, InsuranceRegistration, RegStep
from terminal_agent.core.insurance import TITLE as INSURANCE_TITLE
from terminal_agent.core.passcode import MSG_WRONG, PasscodeError
from terminal_agent.core.search import SearchCriteria, SearchError
from terminal_agent.ui import screen_ids
from terminal_agent.ui.account import AccountPasswordScreen, SystemLoginScreen
from terminal_agent.ui.c_04_01_w import ResultScreen
from terminal_agent.ui.card_read import CardReadScreen
from terminal_agent.ui.d_10_w import ResultSearchScreen
from terminal_agent.ui.documents import DocumentScreen, InsuranceTermsScreen
from terminal_agent.ui.gateway import CoreCalls, CoreGateway
from terminal_agent.ui.initial_registration import InitialRegistrationScreen
from terminal_agent.ui.insurance_registration import InsuranceChoiceScreen
from terminal_agent.ui.method_select import MethodSelectScreen
from terminal_agent.ui.notices import NoticeListScreen, NoticeScreen
from terminal_agent.ui.passcode_change import PasscodeChangeScreen
from terminal_agent.ui.passcode_login import PasscodeLoginScreen
from terminal_agent.ui.passcode_setup import PasscodeSetupScreen
from terminal_agent.ui.pin_entry import PinEntryScreen
from terminal_agent.ui.reader_select import MSG_SELECTED, ReaderSelectScreen
from terminal_agent.ui.security_settings import PasscodeVerifyScreen, SecuritySettingsScreen
from terminal_agent.ui.terms import TermsScreen
from terminal_agent.ui.version_update import VersionUpdateScreen
from terminal_agent.ui.widgets import APP_TITLE, CLOSE, OK, OK_CANCEL, Screen, StatusBoard, message_box

log = logging.getLogger(__name__)

MSG_REGISTERED = "初期登録が完了しました。"
MSG_PASSCODE_SET = "パスコードを登録しました。"
MSG_PASSCODE_CHANGED = "ログインパスコードの設定が完了しました。"
MSG_STORE_FAILED = "ストアページを開けませんでした。Microsoft Storeで「マイナ資格確認アプリ」を検索してください。"
MSG_UNEXPECTED = "処理を完了できませんでした。もう一度お試しください。"
ERROR_CODE_TEXT = "{message}\n\nエラーコード:\n{code}"
MENU_DOCUMENTS = {"terms": "terms", "privacy": "privacy", "license": "licenses"}


class _Relay(QObject):
    """Brings reports of the core's threads (status, reader list) to the UI thread."""

    status = Signal(object)  # TerminalStatus
    readers = Signal(object)  # list[str]


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
    system_login = ScreenSlot(SystemLoginScreen)
    version_update = ScreenSlot(VersionUpdateScreen)
    notice_list = ScreenSlot(NoticeListScreen)
    notice = ScreenSlot(NoticeScreen)
    methods = ScreenSlot(MethodSelectScreen)
    pin_entry = ScreenSlot(PinEntryScreen)
    card_read = ScreenSlot(CardReadScreen)
    result = ScreenSlot(ResultScreen)
    insurance_choice = ScreenSlot(InsuranceChoiceScreen)
    insurance_terms = ScreenSlot(InsuranceTermsScreen)
    search = ScreenSlot(ResultSearchScreen)
    passcode_verify = ScreenSlot(PasscodeVerifyScreen)
    security = ScreenSlot(SecuritySettingsScreen)
    account_password = ScreenSlot(AccountPasswordScreen)
    passcode_change = ScreenSlot(PasscodeChangeScreen)
    document_view = ScreenSlot(DocumentScreen)
    reader_select = ScreenSlot(ReaderSelectScreen)

    def __init__(self, core: CoreCalls):
        super().__init__()
        self.core = core
        self.gateway = CoreGateway(core, self)
        self.active_dialog: QMessageBox | None = None
        self.flow: CheckFlow | None = None
        self.insurance: InsuranceRegistration | None = None  # T27 between the choice and its outcome
        self.consent = False  # the check's 特定疾病 consent, for the check run again after 健康保険証利用登録
        self.plan: StartupPlan | None = None  # T14: what is left to show between login and 認証方法選択
        self.reader_watch: Any = None
        self.result_return: Screen | None = None
        self.setWindowTitle(APP_TITLE)
        self.resize(1280, 800)  # a landscape Windows tablet; 800×1280 portrait works too
        self.status = StatusBoard(self)  # the status strip of every screen (T30): status.set_online / set_pending
        self.relay = _Relay(self)
        self.relay.status.connect(self._show_status)
        self.relay.readers.connect(self._readers_changed)
        core.add_status_listener(self.relay.status.emit)  # from the core's threads, queued to this one
        self._show_status(core.status())

        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.show_start()  # builds the start screen only; the others are made when first used (ScreenSlot)

    # --- each screen's signals, connected when the screen is made ---------------------------------------------------
    @terms.wire
    def _wire_terms(self, screen: TermsScreen) -> None:
        screen.accepted.connect(self._terms_accepted)
        screen.reload_requested.connect(lambda: self._load_terms(renewed=False))

    @system_login.wire
    def _wire_system_login(self, screen: SystemLoginScreen) -> None:
        screen.submitted.connect(self._system_login)
        self.gateway.busy.connect(screen.set_busy)

    @version_update.wire
    def _wire_version_update(self, screen: VersionUpdateScreen) -> None:
        screen.closed.connect(self._next_startup_step)
        screen.store_failed.connect(
            lambda: self.dialog("バージョン更新", MSG_STORE_FAILED, kind="error", screen_id=screen_ids.STORE_ERROR)
        )

    @notice_list.wire
    def _wire_notice_list(self, screen: NoticeListScreen) -> None:
        screen.closed.connect(self._notice_list_closed)
        screen.notice_opened.connect(self._open_notice)

    @notice.wire
    def _wire_notice(self, screen: NoticeScreen) -> None:
        screen.closed.connect(lambda: self.go(self.notice_list))

    @insurance_choice.wire
    def _wire_insurance_choice(self, screen: InsuranceChoiceScreen) -> None:
        screen.register_chosen.connect(self._insurance_register)
        screen.skipped.connect(self._insurance_skipped)

    @insurance_terms.wire
    def _wire_insurance_terms(self, screen: InsuranceTermsScreen) -> None:
        screen.agreed.connect(self._insurance_agreed)
        screen.back_requested.connect(self._insurance_back)

    @account_password.wire
    def _wire_account_password(self, screen: AccountPasswordScreen) -> None:
        screen.back_requested.connect(lambda: self.go(self.security))
        screen.submitted.connect(self._change_account_password)
        self.gateway.busy.connect(screen.set_busy)

    @passcode_change.wire
    def _wire_passcode_change(self, screen: PasscodeChangeScreen) -> None:
        screen.back_requested.connect(lambda: self.go(self.security))
        screen.current_entered.connect(self._passcode_change_current)
        screen.chosen.connect(self._passcode_change_chosen)

    @document_view.wire
    def _wire_document_view(self, screen: DocumentScreen) -> None:
        screen.back_requested.connect(self._back_to_methods)

    @reader_select.wire
    def _wire_reader_select(self, screen: ReaderSelectScreen) -> None:
        screen.back_requested.connect(self._leave_reader_select)
        screen.reader_chosen.connect(self._reader_chosen)

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
        screen.back_requested.connect(self._pin_back)

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
        screen.set_offline(self.status.online is False)
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
        screen_id: str = "",
    ) -> QMessageBox:
        """A dialog of ``kind`` info / success / question / warning / error (its icon; never info for an error);
        ``request_id`` of a failed server call is shown for support; ``screen_id`` is its 画面番号 (T29)."""
        return message_box(
            self, title, text, buttons=buttons or OK, on_finished=on_finished, kind=kind, request_id=request_id,
            screen_id=screen_id,
        )

    def show_start(self) -> None:
        self.plan, self.flow, self.insurance = None, None, None
        start = self.core.start_screen()
        if start == "terms":
            self.go(self.terms)
            self._load_terms(renewed=False)
        elif start == "passcode_setup":
            self.go(self.passcode_setup)
        elif start == "system_login":
            self.system_login.prepare(self.core.account_id)
            self.go(self.system_login)
        else:
            self.go(self.login)

    def _back_to_methods(self) -> None:
        self.flow = None
        self.insurance = None
        self.methods.set_methods(self.core.method_choices())
        self.go(self.methods)

    def _deregistered(self, message: str) -> None:
        self.dialog(
            "エラー", message, on_finished=lambda _b: self.show_start(), kind="error", screen_id=screen_ids.NOT_REGISTERED
        )

    # --- the status strip (T30) -----------------------------------------------------------------------------------------
    def _show_status(self, status: TerminalStatus) -> None:
        self.status.set_online(status.online)
        self.status.set_pending(status.pending)
        if "search" in self.__dict__:  # only when the screen exists: no screen is made for this
            self.search.set_offline(status.online is False)

    # --- T01 利用規約, T14 start, T04 お知らせ ------------------------------------------------------------------------
    def _load_terms(self, *, renewed: bool) -> None:
        self.terms.loading(renewed=renewed)

        def failed(error: Exception) -> None:
            message = error.message if isinstance(error, DocumentUnavailable | ApiFailure) else MSG_UNEXPECTED
            self.terms.show_unavailable(message)

        self.gateway.run(
            self.core.document, "terms", on_done=lambda d: self.terms.show_document(d, renewed=renewed), on_error=failed
        )

    def _terms_accepted(self, version: str) -> None:
        if self.core.is_registered():  # a newer 利用規約 at start (T01): on with the start
            self.gateway.run(self.core.accept_terms, version, on_done=lambda _r: self._next_startup_step())
        else:
            self.gateway.run(self.core.accept_terms, version, on_done=lambda _r: self.go(self.registration))

    def _start_session(self) -> None:
        """After login, システムログイン or 初期登録: 利用規約 again?, バージョン更新?, unread お知らせ?, then 認証方法選択."""

        def failed(error: Exception) -> None:
            log.warning("start-up checks failed: %s", type(error).__name__)
            self._back_to_methods()

        self.gateway.run(self.core.startup, on_done=self._run_plan, on_error=failed)

    def _run_plan(self, plan: StartupPlan) -> None:
        self.plan = plan
        self._next_startup_step()

    def _next_startup_step(self) -> None:
        plan = self.plan
        if plan is None:
            self._back_to_methods()
        elif plan.terms is not None:
            self.plan = StartupPlan(None, plan.release, plan.notices)
            self.terms.show_document(plan.terms, renewed=True)
            self.go(self.terms)
        elif plan.release is not None:
            self.plan = StartupPlan(None, None, plan.notices)
            self.version_update.show_release(plan.release)
            self.go(self.version_update)
        elif plan.notices:
            self.plan = StartupPlan(None, None, [])
            self.notice_list.show_unread(plan.notices)
            self.go(self.notice_list)
        else:
            self.plan = None
            self._back_to_methods()

    def _notice_list_closed(self) -> None:
        if self.notice_list.startup:
            self._next_startup_step()
        else:
            self._back_to_methods()

    def _open_notice(self, notice: Any) -> None:
        """A title opens its page; it counts as read on this device from now on (T04)."""
        self.notice.show_notice(notice)
        self.go(self.notice)
        if not notice.read:
            self.notice_list.mark_read(notice.id)
            self.gateway.run(
                self.core.mark_notice_read, notice.id,
                on_error=lambda e: log.info("notice read mark not sent: %s", type(e).__name__),
            )

    def _open_all_notices(self) -> None:
        self.notice_list.show_all([])
        self.go(self.notice_list)

        def failed(error: Exception) -> None:
            self.notice_list.show_problem(error.message if isinstance(error, ApiFailure) else MSG_UNEXPECTED)

        self.gateway.run(
            self.core.all_notices, on_done=lambda n: self.notice_list.show_all(n.notices, cached=n.cached),
            on_error=failed,
        )

    # --- T13 システムログイン ----------------------------------------------------------------------------------------
    def _system_login(self, account_id: str, password: str) -> None:
        def failed(error: Exception) -> None:
            if not isinstance(error, AccountFailure):
                self.dialog("エラー", MSG_UNEXPECTED, kind="error", screen_id=screen_ids.UNEXPECTED)
                return
            self.system_login.show_errors(error.fields, error.message if not error.fields else "")
            if error.locked or error.code not in ("validation_error", "invalid_credentials"):
                text = f"{error.message}\n{MSG_LOCK_NOTE}" if error.locked else error.message
                self.dialog("システムログイン", text, kind="error", screen_id=screen_ids.LOGIN_ERROR)

        self.gateway.run(
            self.core.system_login, account_id, password, on_done=lambda _s: self._start_session(), on_error=failed
        )

    # --- T01 – T03, T14 ----------------------------------------------------------------------------------------------
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
        self.dialog(
            "初期登録", MSG_REGISTERED, on_finished=lambda _b: self.go(self.passcode_setup), kind="success",
            screen_id=screen_ids.REGISTERED,
        )

    def _registration_failed(self, error: Exception) -> None:
        if isinstance(error, RegistrationFailed):
            self.registration.show_errors(error.fields, error.message)
            self.dialog(
                "エラー", error.message, kind="error", request_id=error.request_id,
                screen_id=screen_ids.REGISTRATION_ERROR,
            )
        else:
            log.error("registration failed: %s", type(error).__name__)
            self.dialog(
                "エラー", "登録できませんでした。もう一度お試しください。", kind="error",
                screen_id=screen_ids.REGISTRATION_ERROR,
            )

    def _passcode_chosen(self, first: str, confirmation: str) -> None:
        def failed(error: Exception) -> None:
            self.passcode_setup.show_problem(error.message if isinstance(error, PasscodeError) else str(error))

        def done(_r: Any) -> None:
            self.dialog(
                "パスコードの登録", MSG_PASSCODE_SET, on_finished=lambda _b: self._start_session(), kind="success",
                screen_id=screen_ids.PASSCODE_SET,
            )

        self.gateway.run(self.core.set_passcode, first, confirmation, on_done=done, on_error=failed)

    def _login(self, code: str) -> None:
        def done(ok: bool) -> None:
            if ok:
                self._start_session()
            else:
                self.login.show_problem(MSG_WRONG)

        self.gateway.run(self.core.login, code, on_done=done)

    # --- T15 – T19 -------------------------------------------------------------------------------------------------
    def _method_chosen(self, method_value: str, consent: bool) -> None:
        self.insurance = None
        self.consent = consent
        try:
            self.flow = self.core.start_check(Method(method_value), consent_specific_diseases=consent)
        except RegistrationFailed as error:
            self._deregistered(error.message)
            return
        except CheckFailure as refused:  # offline or below the minimum version: before anything is read (T14, T30)
            self.dialog(
                refused.title or "資格確認", refused.message, kind="error", screen_id=screen_ids.CHECK_REFUSED
            )
            return
        flow = self.flow
        if flow.step is Step.CONFIRM:
            def answered(label: str) -> None:
                if label == "OK" and self.flow is flow:
                    flow.confirm()
                    self._show_step()
                else:
                    self.flow = None

            self.dialog(
                METHOD_LABELS[flow.method], CONFIRM_TEXT[flow.method], OK_CANCEL, answered, kind="question",
                screen_id=screen_ids.METHOD_CONFIRM,
            )
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
        if self.insurance is not None:
            self._insurance_pin(pin)
            return
        if self.flow is None:
            return
        try:
            self.flow.enter_pin(pin)
        except CheckFailure as failure:
            self.pin_entry.prepare(self.flow.method, failure.message)
            return
        self._show_step()

    def _pin_back(self) -> None:
        if self.insurance is not None:
            self._insurance_back()
        else:
            self._back_to_methods()

    def _read_back(self) -> None:
        if self.insurance is not None:
            self._insurance_back()
        elif self.flow is not None and self.flow.back() is not None:
            self._show_step()
        else:
            self._back_to_methods()

    def _read(self) -> None:
        if self.insurance is not None:
            self._insurance_read()
            return
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
        read_error = {"kind": "error", "request_id": error.request_id, "screen_id": screen_ids.READ_ERROR}
        if error.kind in (FailureKind.INSURANCE_UNREGISTERED, FailureKind.REGISTRATION_PROCESSING):  # T20; T27 処理中
            text = ERROR_CODE_TEXT.format(message=error.message, code=error.code)
            # 処理中 asks to wait, not to act: a warning; 保険証未登録 (6002) stops the check: an error
            kind = "warning" if error.kind is FailureKind.REGISTRATION_PROCESSING else "error"
            self.dialog(
                error.title, text, CLOSE, lambda _b: self._back_to_methods(), kind=kind, request_id=error.request_id,
                screen_id=screen_ids.QUERY_ALERT,
            )
        elif error.kind is FailureKind.REGISTRATION_REQUIRED and flow is not None:  # T27: a plastic card, not registered
            self._start_insurance(flow.method)
        elif error.kind is FailureKind.REGISTRATION_FAILED and flow is not None:  # T27 失敗: register again, same card
            method = flow.method

            def answered(label: str) -> None:
                if label == REGISTER_BUTTON:
                    self._start_insurance(method)
                else:
                    self._back_to_methods()

            self.dialog(
                error.title, ERROR_CODE_TEXT.format(message=error.message, code=error.code),
                [(REGISTER_BUTTON, QMessageBox.ButtonRole.AcceptRole), ("閉じる", QMessageBox.ButtonRole.RejectRole)],
                answered, kind="error", request_id=error.request_id, screen_id=screen_ids.QUERY_ALERT,
            )
        elif error.kind is FailureKind.PIN_LOCKED:
            self.dialog(
                "暗証番号ロック", error.message, on_finished=lambda _b: self._back_to_methods(), kind="error",
                screen_id=screen_ids.PIN_LOCKED,
            )
        elif error.kind is FailureKind.SERVICE and error.code in ("device_retired", "device_deregistered", "unknown_device"):
            self._deregistered(error.message)
        elif error.kind is FailureKind.SERVICE and error.code.startswith(QUERY_ANSWER_PREFIX):  # e.g. 証明書の失効
            self.dialog(
                "エラー", ERROR_CODE_TEXT.format(message=error.message, code=error.code), CLOSE,
                lambda _b: self._back_to_methods(), kind="error", request_id=error.request_id,
                screen_id=screen_ids.QUERY_ALERT,
            )
        elif flow is not None and flow.step is Step.PIN_ENTRY:
            self.dialog("エラー", error.message, on_finished=lambda _b: self._show_step(error.message), **read_error)
        elif flow is not None and flow.step is Step.FAILED:
            self.dialog("エラー", error.message, on_finished=lambda _b: self._back_to_methods(), **read_error)
        else:
            self.dialog("エラー", error.message, **read_error)

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
            self._open_reader_select()
        elif key == "notices":
            self._open_all_notices()
        elif key in MENU_DOCUMENTS:
            self._open_document(MENU_DOCUMENTS[key])

    def _open_document(self, kind: str) -> None:
        """T06: 利用規約 / 個人情報の取り扱い / ライセンス as a scrollable page (offline: this tablet's copy)."""
        screen = self.document_view
        screen.loading(kind, DOCUMENT_LABELS[kind])
        self.go(screen)

        def failed(error: Exception) -> None:
            screen.show_problem(error.message if isinstance(error, DocumentUnavailable | ApiFailure) else MSG_UNEXPECTED)

        self.gateway.run(self.core.document, kind, on_done=screen.show_document, on_error=failed)
        if kind == "licenses":
            self.gateway.run(self.core.versions, on_done=screen.show_versions)

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
        elif key == "account_password":
            self.account_password.prepare(self.core.account_id)
            self.go(self.account_password)
        elif key == "passcode":
            self.go(self.passcode_change)
        elif key == "logout":
            self._logout()

    # --- T09 アカウントパスワード設定, T10 ログインパスコード設定, T13 ログアウト ----------------------------------
    def _change_account_password(self, current: str, new: str, again: str, account_id: str) -> None:
        screen = self.account_password

        def done(_r: Any) -> None:
            screen.clear()
            self.dialog(
                "アカウントパスワード設定", MSG_PASSWORD_CHANGED, on_finished=lambda _b: self.go(self.security),
                kind="success", screen_id=screen_ids.PASSWORD_CHANGED,
            )

        def failed(error: Exception) -> None:
            if not isinstance(error, AccountFailure):
                self.dialog("エラー", MSG_UNEXPECTED, kind="error", screen_id=screen_ids.UNEXPECTED)
                return
            screen.show_errors(error.fields, "" if error.fields else error.message)
            if not error.fields:  # locked, offline, ...: said in a dialog too
                self.dialog("アカウントパスワード設定", error.message, kind="error", screen_id=screen_ids.PASSWORD_ERROR)

        self.gateway.run(
            self.core.change_account_password, current, new, again, account_id, on_done=done, on_error=failed
        )

    def _passcode_change_current(self, code: str) -> None:
        def done(ok: bool) -> None:
            if ok:
                self.passcode_change.current_accepted()
            else:
                self.passcode_change.restart(MSG_WRONG)

        self.gateway.run(self.core.verify_passcode, code, on_done=done)

    def _passcode_change_chosen(self, current: str, new: str, again: str) -> None:
        def done(_r: Any) -> None:
            self.dialog(
                "ログインパスコード設定", MSG_PASSCODE_CHANGED, on_finished=lambda _b: self.go(self.security),
                kind="success", screen_id=screen_ids.PASSCODE_CHANGED,
            )

        def failed(error: Exception) -> None:
            self.passcode_change.restart(error.message if isinstance(error, PasscodeError) else MSG_UNEXPECTED)

        self.gateway.run(self.core.change_passcode, current, new, again, on_done=done, on_error=failed)

    def _logout(self) -> None:
        """T13: ログアウトする / キャンセル; then システムログイン (ID + password), also at the next start."""

        def answered(label: str) -> None:
            if label == "ログアウトする":
                self.core.logout()
                self.system_login.prepare(self.core.account_id)
                self.go(self.system_login)

        self.dialog(
            "ログアウト", MSG_LOGOUT_CONFIRM,
            [("ログアウトする", QMessageBox.ButtonRole.AcceptRole), ("キャンセル", QMessageBox.ButtonRole.RejectRole)],
            answered, kind="question", screen_id=screen_ids.LOGOUT_CONFIRM,
        )

    def _deregister(self) -> None:
        """T12: confirmation with 登録解除 / キャンセル, then the 未登録 state (T01–T03 again)."""

        def done(_r: Any) -> None:
            self.dialog(
                "デバイス登録解除", "デバイスの登録を解除しました。", on_finished=lambda _b: self.show_start(),
                kind="success", screen_id=screen_ids.DEREGISTERED,
            )

        def failed(error: Exception) -> None:
            message = error.message if isinstance(error, ApiFailure) else "登録解除できませんでした。"
            self.dialog("エラー", message, kind="error", screen_id=screen_ids.DEREGISTER_ERROR)

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
            screen_id=screen_ids.DEREGISTER_CONFIRM,
        )

    # --- T05 カードリーダー選択 -----------------------------------------------------------------------------------
    def _open_reader_select(self) -> None:
        """The readers present now, kept up to date by the card layer's monitor while the screen is open."""
        screen = self.reader_select
        screen.show_readers([], self.core.selected_reader)
        self.go(screen)

        def watching(watch: Any) -> None:
            if self.current_screen() is screen:
                self.reader_watch = watch
            else:
                watch.stop()  # left before the watch was up

        def failed(error: Exception) -> None:
            message = error.message if isinstance(error, CardError) else "カードリーダーを確認できませんでした。"
            self.dialog("カードリーダー選択", message, kind="error", screen_id=screen_ids.READER_ERROR)

        self.gateway.run(self.core.watch_readers, self.relay.readers.emit, on_done=watching, on_error=failed)

    def _readers_changed(self, names: list[str]) -> None:
        if "reader_select" in self.__dict__:
            self.reader_select.show_readers(names, self.core.selected_reader)

    def _reader_chosen(self, name: str) -> None:
        self.core.select_reader(name)
        self.reader_select.show_readers(self.reader_select.names, name)
        self.dialog("カードリーダー選択", MSG_SELECTED, kind="success", screen_id=screen_ids.READER_SELECTED)

    def _leave_reader_select(self) -> None:
        watch, self.reader_watch = self.reader_watch, None
        if watch is not None:
            watch.stop()
        self._back_to_methods()

    # --- T27 健康保険証利用登録 -------------------------------------------------------------------------------------
    def _start_insurance(self, method: Method) -> None:
        self.flow = None
        self.insurance = self.core.start_insurance_registration(method)
        self.go(self.insurance_choice)

    def _insurance_skipped(self) -> None:
        self._back_to_methods()

    def _insurance_register(self) -> None:
        registration = self.insurance
        if registration is None:
            return
        if registration.step is not RegStep.CHOICE:
            registration.restart()
        self.insurance_choice.set_busy(True)

        def done(terms: Any) -> None:
            self.insurance_choice.set_busy(False)
            self.insurance_terms.show_terms(terms.title, terms.body)
            self.go(self.insurance_terms)

        def failed(error: Exception) -> None:
            self.insurance_choice.set_busy(False)
            self._insurance_failed(error)

        self.gateway.run(registration.choose, on_done=done, on_error=failed)

    def _insurance_agreed(self) -> None:
        if self.insurance is not None:
            self.insurance.accept_terms()
            self._insurance_show_step()

    def _insurance_show_step(self, problem: str = "") -> None:
        registration = self.insurance
        if registration is None:
            return
        if registration.step is RegStep.PIN_ENTRY:
            self.go(self.pin_entry)
            self.pin_entry.prepare(registration.method, problem)
        elif registration.step is RegStep.READ:
            self.go(self.card_read)
            self.card_read.prepare(registration.method)
        elif registration.step is RegStep.TERMS:
            self.go(self.insurance_terms)
        else:
            self.go(self.insurance_choice)

    def _insurance_back(self) -> None:
        if self.insurance is None or self.insurance.back() is None:
            self._back_to_methods()
        else:
            self._insurance_show_step()

    def _insurance_pin(self, pin: str) -> None:
        try:
            self.insurance.enter_pin(pin)  # type: ignore[union-attr]
        except CheckFailure as failure:
            self._insurance_show_step(failure.message)
            return
        self._insurance_show_step()

    def _insurance_read(self) -> None:
        registration = self.insurance
        if registration is not None:
            self.gateway.run(registration.read, on_done=self._insurance_done, on_error=self._insurance_read_failed)

    def _insurance_done(self, outcome: Any) -> None:
        """完了 → 資格確認する runs the check again; 処理中 → wait, then check again; 失敗 → register again."""
        registration = self.insurance
        self.card_read.read_failed()  # back to its resting state: the outcome is told in the dialog
        method = registration.method if registration is not None else Method.VISUAL
        if outcome.status == "completed":
            self.dialog(
                INSURANCE_TITLE, outcome.message, [(CHECK_BUTTON, QMessageBox.ButtonRole.AcceptRole)],
                lambda _b: self._method_chosen(method.value, self.consent), kind="success",
                screen_id=screen_ids.INSURANCE_COMPLETED,
            )
        elif outcome.status == "failed":
            def answered(label: str) -> None:
                if label == REGISTER_BUTTON and self.insurance is not None:
                    self.insurance.restart()
                    self.go(self.insurance_choice)
                else:
                    self._back_to_methods()

            self.dialog(
                INSURANCE_TITLE, outcome.message,
                [(REGISTER_BUTTON, QMessageBox.ButtonRole.AcceptRole), ("閉じる", QMessageBox.ButtonRole.RejectRole)],
                answered, kind="error", screen_id=screen_ids.INSURANCE_FAILED,
            )
        else:
            self.dialog(
                INSURANCE_TITLE, outcome.message, CLOSE, lambda _b: self._back_to_methods(), kind="warning",
                screen_id=screen_ids.INSURANCE_PROCESSING,
            )

    def _insurance_read_failed(self, error: Exception) -> None:
        self.card_read.read_failed()
        registration = self.insurance
        if not isinstance(error, CheckFailure):
            self._insurance_failed(error)
        elif error.kind is FailureKind.PIN_LOCKED:
            self.dialog(
                "暗証番号ロック", error.message, on_finished=lambda _b: self._back_to_methods(), kind="error",
                screen_id=screen_ids.PIN_LOCKED,
            )
        elif registration is not None and registration.step is RegStep.PIN_ENTRY:
            self.dialog(
                "エラー", error.message, on_finished=lambda _b: self._insurance_show_step(error.message), kind="error",
                screen_id=screen_ids.READ_ERROR,
            )
        elif error.kind in (FailureKind.CARD, FailureKind.OFFLINE, FailureKind.NETWORK, FailureKind.WRONG_TOKEN):
            self.dialog("エラー", error.message, kind="error", request_id=error.request_id, screen_id=screen_ids.READ_ERROR)
        else:
            self._insurance_failed(error)

    def _insurance_failed(self, error: Exception) -> None:
        if isinstance(error, CheckFailure) and error.code in ("device_retired", "device_deregistered", "unknown_device"):
            self._deregistered(error.message)
            return
        message = error.message if isinstance(error, CheckFailure | ApiFailure) else MSG_UNEXPECTED
        if isinstance(error, CheckFailure) and error.code.startswith("E-"):
            message = ERROR_CODE_TEXT.format(message=message, code=error.code)
        self.dialog(
            INSURANCE_TITLE, message, CLOSE, lambda _b: self._back_to_methods(), kind="error",
            request_id=getattr(error, "request_id", ""), screen_id=screen_ids.INSURANCE_ERROR,
        )

    # --- T08 --------------------------------------------------------------------------------------------------------
    def open_search(self) -> None:
        criteria = self.search.reset()
        self.go(self.search)
        self._search(criteria)

    def _search_failed(self, error: Exception) -> None:
        self.search.set_loading(False)
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
        self.search.set_loading(True)
        self.gateway.run(self.core.search_results, criteria, on_done=self.search.show_page, on_error=self._search_failed)

    def _search_page(self, which: str) -> None:
        self.search.set_loading(True)  # T08: no second press while this page loads
        self.gateway.run(self.core.search_page, which, on_done=self.search.show_page, on_error=self._search_failed)

    def _open_search_row(self, result_id: str) -> None:
        def done(document: dict) -> None:
            self.result_return = self.search
            self.result.show_document(document)
            self.go(self.result)

        self.gateway.run(self.core.result_document, result_id, on_done=done, on_error=self._search_failed)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.core.remove_status_listener(self.relay.status.emit)
        if self.reader_watch is not None:
            self.reader_watch.stop()
        self.gateway.wait_idle(5000)
        super().closeEvent(event)
