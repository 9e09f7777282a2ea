"""Scripted run of the real screens, for the demo: one 暗証番号 check, then a PNG of C-04-01-W.

Runs offscreen (``QT_QPA_PLATFORM=offscreen``)::

    core = TerminalCore(url, data_dir=..., readers=InProcessReaderProvider(VirtualCard(...)))
    run_scripted_pin_check(core, pin="1234", screenshot="result.png",
                           registration=RegistrationForm("1311000010", "clinic-admin", "Demo#Pass1", code))

It clicks the same buttons a person would (QTest), so the demo shows what the UI really does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QWidget

from terminal_agent.core.app import TerminalCore
from terminal_agent.core.check_flow import Method
from terminal_agent.core.registration import RegistrationForm
from terminal_agent.ui.app import build_main_window
from terminal_agent.ui.main_window import MainWindow


class ScriptError(RuntimeError):
    pass


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Run the event loop until ``condition()`` is true; returns its value.

    A ``QEventLoop`` waits with the GIL released. ``QTest.qWait`` and ``processEvents(flags, maxtime)`` sleep holding
    it, so the gateway's worker thread only ran between two of those sleeps: a 20 ms poll made the scripted demo's
    card read 25–35 times slower than the same core call made directly (issue 12).
    """
    value = condition()
    if value:
        return value
    deadline = time.monotonic() + timeout
    found: list[Any] = []
    loop = QEventLoop()

    def check() -> None:
        current = condition()
        if current:
            found.append(current)
            loop.quit()
        elif time.monotonic() > deadline:
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(10)
    loop.exec()
    timer.stop()
    if not found:
        raise ScriptError(f"timed out waiting for {what}")
    return found[0]


def settle(msecs: int) -> None:
    """Let ``msecs`` of events run (layouts, paints) without holding the GIL (see ``wait_until``)."""
    loop = QEventLoop()
    QTimer.singleShot(msecs, loop.quit)
    loop.exec()


def click(widget: QWidget) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def answer_dialog(window: MainWindow, label: str = "OK", timeout: float = 30.0) -> str:
    """Click ``label`` on the open dialog; returns the dialog text (so a script can report errors)."""
    box: QMessageBox = wait_until(
        lambda: window.active_dialog if window.active_dialog is not None and window.active_dialog.isVisible() else None,
        timeout,
        "a dialog",
    )
    text = box.text()
    target = next((b for b in box.buttons() if b.text() == label), None)
    if target is None:
        raise ScriptError(f"dialog without {label!r}: {text}")
    window.active_dialog = None
    click(target)
    return text


def press_digits(keypad: Any, digits: str) -> None:
    for digit in digits:
        click(keypad.digit_buttons[digit])


def pass_startup_screens(window: MainWindow, timeout: float) -> None:
    """After login the start checks may show バージョン更新 and the unread お知らせ (T14, T04): close them as staff would."""
    startup_screens = (window.version_update, window.notice_list)
    while True:
        screen = wait_until(
            lambda: window.current_screen() in (window.methods, *startup_screens) and window.current_screen(),
            timeout, "認証方法選択",
        )
        if screen is window.methods:
            return
        if not screen.close_button.isVisibleTo(screen):
            raise ScriptError("this app version is no longer supported: update it first (バージョン更新)")
        click(screen.close_button)
        wait_until(lambda: window.current_screen() is not screen, timeout, "the next start-up screen")  # noqa: B023


def run_scripted_pin_check(
    core: TerminalCore,
    *,
    pin: str,
    screenshot: str | Path,
    registration: RegistrationForm | None = None,
    passcode: str = "1111",
    timeout: float = 60.0,
    window: MainWindow | None = None,
) -> dict[str, Any]:
    """Drive registration (when needed), passcode, a 暗証番号 check, and save the result screen as PNG."""
    window = window or build_main_window(core)
    window.show()
    if window.current_screen() is window.terms:
        wait_until(window.terms.accept_button.isEnabled, timeout, "利用規約")  # the server's text is shown first
        click(window.terms.accept_button)
        wait_until(lambda: window.current_screen() is window.registration, timeout, "初期登録")
    if window.current_screen() is window.registration:
        if registration is None:
            raise ScriptError("this terminal is not registered and no registration form was given")
        screen = window.registration
        QTest.keyClicks(screen.institution_code, registration.institution_code)
        QTest.keyClicks(screen.account_id, registration.account_id)
        QTest.keyClicks(screen.password.edit, registration.password)
        QTest.keyClicks(screen.activation_code, registration.activation_code)
        click(screen.submit_button)
        text = answer_dialog(window, "OK", timeout)
        if window.current_screen() is window.registration:
            raise ScriptError(f"registration failed: {text}")
    if window.current_screen() is window.passcode_setup:
        press_digits(window.passcode_setup.keypad, passcode)
        press_digits(window.passcode_setup.keypad, passcode)
        answer_dialog(window, "OK", timeout)
    if window.current_screen() is window.login:
        press_digits(window.login.keypad, passcode)
    pass_startup_screens(window, timeout)

    if Method.PIN not in window.methods.method_buttons:
        core.set_visual_check(False)  # T11: the 暗証番号 button replaces 目視
        window.methods.set_methods(core.method_choices())
    click(window.methods.method_buttons[Method.PIN])
    answer_dialog(window, "OK", timeout)
    wait_until(lambda: window.current_screen() is window.pin_entry, timeout, "暗証番号の入力")
    press_digits(window.pin_entry.keypad, pin)
    click(window.pin_entry.next_button)
    wait_until(lambda: window.current_screen() is window.card_read, timeout, "読み取り")
    click(window.card_read.start_button)
    wait_until(
        lambda: window.card_read.next_button.isVisible()
        or (window.active_dialog is not None and window.active_dialog.isVisible()),
        timeout,
        "読み取り完了",
    )
    if not window.card_read.next_button.isVisible():
        raise ScriptError(f"the check failed: {answer_dialog(window, window.active_dialog.buttons()[0].text())}")
    click(window.card_read.next_button)
    wait_until(lambda: window.current_screen() is window.result, timeout, "資格確認結果")
    settle(100)  # let the layout settle before the grab
    path = Path(screenshot)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise ScriptError(f"could not write {path}")
    document = window.result.document or {}
    return {"screenshot": str(path), "result": document, "pending_results": core.pending_results()}
