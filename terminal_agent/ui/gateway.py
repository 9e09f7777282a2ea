"""The one gateway between screens and the headless core (like Anki's TaskManager/QueryOp).

Core calls may block on the network or the card reader, so they run on two daemon worker threads kept for the
window's life (a card that never answers cannot hold the program open at exit); a call's result or exception waits in
a dict, and only its ticket travels to the UI thread, through a queued signal, where the screen's callback gets it.

Plain Python threads and an int in the signal, no QRunnable and no Python object crossing threads through Qt: fewer
binding paths to trust. PySide6 6.12.0 broke on exactly those (one reference too many dropped per ``emit``, per Python
``QRunnable.run`` and per queued ``Signal(object)``: on Python 3.11 True and None ran down until the interpreter
aborted with "bool_dealloc"); pyproject.toml keeps PySide6 below 6.12 and ``tests/terminal/test_startup.py`` counts
the references of True, False and None across many calls.

``CoreCalls`` is what the screens may ask of the core. ``terminal_agent.core.app.TerminalCore`` is the live one; a
test can hand the window a stub with the same calls (``tests/terminal/stub_core.py``).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from terminal_agent.core.account import SignedIn
    from terminal_agent.core.app import Registration, StartupPlan, TerminalStatus, Versions
    from terminal_agent.core.check_flow import CheckFlow, Method
    from terminal_agent.core.documents import Document
    from terminal_agent.core.insurance import InsuranceRegistration
    from terminal_agent.core.notices import NoticeList
    from terminal_agent.core.readers import ReaderWatch
    from terminal_agent.core.registration import RegistrationForm
    from terminal_agent.core.search import SearchCriteria, SearchPage

log = logging.getLogger(__name__)

WORKERS = 2  # core calls at once: a card read and, say, the search may overlap; more only queue


class CoreCalls(Protocol):
    """The core calls the screens and the main window make. Blocking ones go through ``CoreGateway.run``."""

    # start, T01–T03, T14
    def start_screen(self) -> str: ...  # "terms" | "passcode_setup" | "system_login" | "login"
    def is_registered(self) -> bool: ...
    def document(self, kind: str) -> Document: ...  # T01, T06; DocumentUnavailable
    def accept_terms(self, version: str | None = None) -> None: ...
    def startup(self) -> StartupPlan: ...  # T14: 利用規約 again, バージョン更新, unread お知らせ
    def all_notices(self) -> NoticeList: ...  # T04 from ⚙
    def mark_notice_read(self, notice_id: int) -> None: ...
    def validate_registration(self, form: RegistrationForm) -> dict[str, list[str]]: ...
    def register(self, form: RegistrationForm) -> Registration: ...
    def set_passcode(self, first: str, confirmation: str) -> None: ...
    def login(self, code: str) -> bool: ...
    def verify_passcode(self, code: str) -> bool: ...
    def change_passcode(self, current: str, new: str, confirmation: str) -> None: ...  # T10; PasscodeError

    # the app account (T09, T13): AccountFailure
    @property
    def account_id(self) -> str: ...
    def change_account_password(self, current: str, new: str, confirmation: str, account_id: str = "") -> None: ...
    def logout(self) -> None: ...
    def system_login(self, account_id: str, password: str) -> SignedIn: ...

    # settings (T05, T11)
    @property
    def visual_check_enabled(self) -> bool: ...
    def set_visual_check(self, enabled: bool) -> None: ...
    def method_choices(self) -> list[Method]: ...
    def list_readers(self) -> list[str]: ...
    @property
    def selected_reader(self) -> str | None: ...
    def select_reader(self, name: str) -> None: ...
    def watch_readers(self, on_change: Callable[[list[str]], None]) -> ReaderWatch: ...  # T05, any thread

    # checks (T15–T19): the flow's read() is the blocking call
    def start_check(self, method: Method | str, *, consent_specific_diseases: bool = False) -> CheckFlow: ...
    def start_insurance_registration(self, method: Method | str) -> InsuranceRegistration: ...  # T27

    # search (T08), deregistration (T12), sync (T30)
    def search_results(self, criteria: SearchCriteria | None = None) -> SearchPage: ...
    def search_page(self, which: str) -> SearchPage: ...
    def result_document(self, result_id: str) -> dict[str, Any]: ...
    def deregister(self) -> None: ...
    def pending_results(self) -> int: ...
    def status(self) -> TerminalStatus: ...  # T30: the status strip
    def add_status_listener(self, listener: Callable[[TerminalStatus], None]) -> None: ...  # called on any thread
    def remove_status_listener(self, listener: Callable[[TerminalStatus], None]) -> None: ...
    def versions(self) -> Versions: ...  # ⚙ → ライセンス: this app's version and the server's ("" when unreachable)

    # the program's start-up (ui.app.open_main_window)
    def start_background(self, sync_interval: float = 30.0) -> None: ...
    def preload(self) -> None: ...


class _Relay(QObject):
    finished = Signal(int)  # the ticket; its outcome waits in CoreGateway._outcomes


class CoreGateway(QObject):
    """``gateway.run(core.register, form, on_done=..., on_error=...)``; ``busy`` tells screens to disable input."""

    busy = Signal(bool)

    def __init__(self, core: CoreCalls, parent: QObject | None = None):
        super().__init__(parent)
        self.core = core
        self._relay = _Relay(self)
        self._relay.finished.connect(self._deliver)
        self._tickets = itertools.count(1)
        self._pending: dict[int, tuple[Callable | None, Callable | None]] = {}
        self._outcomes: dict[int, tuple[Any, Exception | None]] = {}
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._running = 0
        self._idle = threading.Condition()
        for index in range(WORKERS):  # kept for the window's life: no thread start per call
            threading.Thread(target=self._serve, name=f"core-calls-{index}", daemon=True).start()

    def run(
        self,
        call: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        **kwargs: Any,
    ) -> int:
        ticket = next(self._tickets)
        self._pending[ticket] = (on_done, on_error)
        if len(self._pending) == 1:
            self.busy.emit(True)
        with self._idle:
            self._running += 1
        self._calls.put((ticket, call, args, kwargs))
        return ticket

    def _serve(self) -> None:
        while True:
            ticket, call, args, kwargs = self._calls.get()
            try:
                outcome: tuple[Any, Exception | None] = (call(*args, **kwargs), None)
            except Exception as exc:  # handed to the screen's on_error on the UI thread
                outcome = (None, exc)
            self._outcomes[ticket] = outcome  # one dict store: atomic under the GIL
            del call, args, kwargs, outcome  # nothing of this call stays referenced by the idle worker
            with self._idle:
                self._running -= 1
                self._idle.notify_all()
            self._relay.finished.emit(ticket)  # queued to the UI thread
    def _deliver(self, ticket: int) -> None:
        result, error = self._outcomes.pop(ticket)
        on_done, on_error = self._pending.pop(ticket, (None, None))
        if not self._pending:
            self.busy.emit(False)
        if error is not None:
            if on_error is None:
                log.error("core call failed without a handler: %s", type(error).__name__)
            else:
                on_error(error)
        elif on_done is not None:
            on_done(result)

    def wait_idle(self, msecs: int = 30000) -> bool:
        """Wait up to ``msecs`` for the calls under way (closing the window); True when none is left."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, msecs / 1000)
