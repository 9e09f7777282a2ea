"""The real screens against the stub core (issue 13 point 7): the main window takes any core offering ``CoreCalls``,
so the flows, their dialogs and the search list are driven here in milliseconds, without a server or a card."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from terminal_agent.core.app import TerminalCore
from terminal_agent.core.check_flow import MSG_PIN_LOCKED, MSG_PIN_WRONG, CheckFailure, FailureKind, Method
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.core.search import SearchPage
from terminal_agent.ui.gateway import CoreCalls
from tests.terminal.sample_documents import BASIC, variant
from tests.terminal.stub_core import PASSCODE, search_row

UNREGISTERED = CheckFailure(
    FailureKind.INSURANCE_UNREGISTERED,
    "マイナンバーカードを保険証として利用するための登録が必要です。",
    "E-C-04-02-A-6002",
    "保険証未登録",
)


def start_pin_check(ui, window, pin: str = "1234") -> None:
    """認証方法選択 → 暗証番号 → OK → the PIN on the keypad → 次へ → 読み取り開始."""
    ui.click(window.methods.method_buttons[Method.PIN])
    ui.answer(window, "OK")
    ui.wait_screen(window, window.pin_entry)
    ui.press(window.pin_entry.keypad, pin)
    ui.click(window.pin_entry.next_button)
    ui.wait_screen(window, window.card_read)
    ui.click(window.card_read.start_button)


def test_the_live_core_offers_every_call_the_screens_make(tmp_path):
    core = TerminalCore("http://127.0.0.1:9", data_dir=tmp_path, readers=InProcessReaderProvider(None), use_keyring=False)
    missing = [name for name in vars(CoreCalls) if not name.startswith("_") and not hasattr(core, name)]
    assert missing == []
    core.close()


def test_login_and_a_pin_check_to_the_result(stub_window, ui, qtbot):
    window, core = stub_window(start="login", outcomes=[BASIC])
    assert window.current_screen() is window.login
    ui.press(window.login.keypad, "0000")
    qtbot.waitUntil(lambda: window.login.error.isVisible())
    ui.press(window.login.keypad, PASSCODE)
    ui.wait_screen(window, window.methods)

    start_pin_check(ui, window)
    qtbot.waitUntil(lambda: window.card_read.next_button.isVisible())
    assert core.service.performed == [(Method.PIN, "1234", False)]
    ui.click(window.card_read.next_button)
    ui.wait_screen(window, window.result)
    assert window.result.field_value("氏名") == "資格 太郎"
    ui.click(window.result.close_button)
    ui.wait_screen(window, window.methods)
    assert window.result.document is None  # T25: nothing of the patient is kept on screen


def test_each_failure_opens_its_dialog(stub_window, ui, qtbot):
    wrong = CheckFailure(FailureKind.PIN_WRONG, MSG_PIN_WRONG.format(tries=2), "wrong_pin", tries_left=2)
    locked = CheckFailure(FailureKind.PIN_LOCKED, MSG_PIN_LOCKED, "pin_locked", tries_left=0)
    revoked = CheckFailure(FailureKind.SERVICE, "マイナンバーカードの電子証明書が失効しています。", "E-C-04-02-A-6103")
    window, core = stub_window(start="login", outcomes=[wrong, UNREGISTERED, locked, revoked])
    ui.press(window.login.keypad, PASSCODE)
    ui.wait_screen(window, window.methods)

    start_pin_check(ui, window)  # a wrong PIN: back to the keypad with the tries left
    qtbot.waitUntil(lambda: window.active_dialog is not None and window.active_dialog.isVisible())
    assert window.active_dialog.icon() is QMessageBox.Icon.Critical
    assert "残り回数は2回" in ui.answer(window, "OK")
    ui.wait_screen(window, window.pin_entry)
    assert "残り回数は2回" in window.pin_entry.error.text()
    ui.click(window.pin_entry.back_button)
    ui.wait_screen(window, window.methods)

    start_pin_check(ui, window)  # 保険証未登録: its title and error code, then back to 認証方法選択
    qtbot.waitUntil(lambda: window.active_dialog is not None and window.active_dialog.isVisible())
    assert window.active_dialog.windowTitle() == "保険証未登録"
    assert "E-C-04-02-A-6002" in ui.answer(window, "閉じる")
    ui.wait_screen(window, window.methods)

    start_pin_check(ui, window)  # locked
    qtbot.waitUntil(lambda: window.active_dialog is not None and window.active_dialog.isVisible())
    assert window.active_dialog.windowTitle() == "暗証番号ロック"
    assert "住民票のある市町村窓口" in ui.answer(window, "OK")
    ui.wait_screen(window, window.methods)

    start_pin_check(ui, window)  # another coded answer of the query: its code, C-04-02-A, back to 認証方法選択
    qtbot.waitUntil(lambda: window.active_dialog is not None and window.active_dialog.isVisible())
    assert window.active_dialog.property("screen_id") == "C-04-02-A"
    assert window.active_dialog.icon() is QMessageBox.Icon.Critical
    assert "エラーコード:\nE-C-04-02-A-6103" in ui.answer(window, "閉じる")
    ui.wait_screen(window, window.methods)
    assert [call for call in core.calls if call.startswith("start_check")] == ["start_check:pin"] * 4


def test_the_search_list_and_a_row_opened(stub_window, ui, qtbot):
    invalid = variant(qualification_validity="2", qualification={"name": "資格 無効子", "name_kana": "シカク ムコウコ"})
    rows = [search_row(0, BASIC), search_row(1, invalid, valid=False)]
    window, core = stub_window(start="login", pages=[SearchPage(rows)], documents={rows[1].id: invalid})
    ui.press(window.login.keypad, PASSCODE)
    ui.wait_screen(window, window.methods)
    window.open_search()
    ui.wait_screen(window, window.search)
    qtbot.waitUntil(lambda: window.search.table.rowCount() == 2)
    assert [window.search.table.item(r, 1).text() for r in range(2)] == ["資格 太郎", "資格 無効子"]
    rect = window.search.table.visualItemRect(window.search.table.item(1, 1))
    qtbot.mouseClick(window.search.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    ui.wait_screen(window, window.result)
    assert window.result.field_value("氏名") == "資格 無効子"
    assert f"result_document:{rows[1].id}" in core.calls
    ui.click(window.result.close_button)
    ui.wait_screen(window, window.search)
