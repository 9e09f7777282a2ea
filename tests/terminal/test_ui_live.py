"""The real screens, driven with mouse and key clicks, against a live clinic server and its sandbox (T01–T03, T08,
T14, T15, T17, T21, T24, T29, S06): registration, passcode, a wrong then a right PIN on an in-process virtual card,
the result screen, sync to the server, and the search list."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from server.devices.models import Device
from server.results.models import CheckResult
from terminal_agent.core.app import TerminalCore
from terminal_agent.core.check_flow import Method
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.ui.app import build_main_window

INSTITUTION_CODE = "1311000010"
ACCOUNT_ID = "clinic-admin"
PASSWORD = "Demo#Pass1"
PASSCODE = "2580"


def open_security_settings(ui, window) -> None:
    """⚙ → セキュリティ設定, which asks for the passcode first (T06)."""
    window.methods.menu.findChild(QAction, "menu_security").trigger()
    ui.wait_screen(window, window.passcode_verify)
    ui.press(window.passcode_verify.keypad, "0000")
    ui.qtbot.waitUntil(lambda: window.passcode_verify.error.isVisible())
    ui.press(window.passcode_verify.keypad, PASSCODE)
    ui.wait_screen(window, window.security)


@pytest.mark.e2e
def test_registration_passcode_pin_check_result_and_search(qtbot, ui, clinic, tmp_path):
    assert cache.get("missing-key") is None  # Redis answers (the server's nonce cache)
    activation_code = clinic.activation_code()
    taro = clinic.cards["資格 太郎"]
    core = TerminalCore(
        clinic.url, data_dir=tmp_path / "terminal", readers=InProcessReaderProvider(clinic.virtual_card(taro.name)),
        use_keyring=False,
    )
    window = build_main_window(core)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)

    # T01 利用規約.
    assert window.current_screen() is window.terms
    assert window.terms.screen_id_label.text() == "画面番号: A-01-W"
    # T28: keyboard alone works: the focused 同意して利用開始 answers Enter.
    assert window.terms.accept_button.accessibleName() == "同意して利用開始"
    qtbot.waitUntil(window.terms.accept_button.isEnabled)  # the server's published 利用規約 is shown first
    window.terms.accept_button.setFocus()
    qtbot.keyClick(window.terms.accept_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.current_screen() is window.registration)

    # T02 初期登録: 必須 errors first, then a hyphenated code, then the right input.
    screen = window.registration
    assert screen.submit_button.text() == "登録する"
    ui.click(screen.submit_button)
    assert screen.errors["institution_code"].text() == "機関コードを入力してください。"
    assert screen.errors["activation_code"].text() == "アクティベーションコードを入力してください。"
    qtbot.keyClicks(screen.institution_code, INSTITUTION_CODE)
    qtbot.keyClicks(screen.account_id, ACCOUNT_ID)
    qtbot.keyClicks(screen.password.edit, PASSWORD)
    assert screen.password.edit.displayText() != PASSWORD  # masked
    ui.click(screen.password.reveal)
    assert screen.password.edit.displayText() == PASSWORD  # 👁 reveals
    qtbot.keyClicks(screen.activation_code, activation_code[:4] + "-" + activation_code[4:11])
    ui.click(screen.submit_button)
    assert "ハイフン" in screen.errors["activation_code"].text()
    screen.activation_code.clear()
    qtbot.keyClicks(screen.activation_code, activation_code)
    ui.click(screen.submit_button)
    assert ui.answer(window) == "初期登録が完了しました。"
    assert core.is_registered()
    assert core.registration.institution_name == "しかく整骨院"

    # T03 パスコード登録: twice on the keypad.
    qtbot.waitUntil(lambda: window.current_screen() is window.passcode_setup)
    ui.press(window.passcode_setup.keypad, PASSCODE)
    assert window.passcode_setup.title_label.text() == "パスコードの登録(確認用)"
    ui.press(window.passcode_setup.keypad, PASSCODE)
    assert ui.answer(window) == "パスコードを登録しました。"

    # T15 認証方法選択: 目視 is the default (T11); switch it off in the ⚙ menu to get 暗証番号.
    qtbot.waitUntil(lambda: window.current_screen() is window.methods)
    methods = window.methods
    assert methods.screen_id_label.text() == "画面番号: C-01-W"
    assert [b.text() for b in methods.method_buttons.values()] == ["マイナンバーカード (目視)", "iPhone", "Android"]
    open_security_settings(ui, window)
    assert window.security.visual_toggle.isChecked()
    qtbot.mouseClick(window.security.visual_toggle, Qt.MouseButton.LeftButton, pos=QPoint(8, 8))
    assert not core.visual_check_enabled
    ui.click(window.security.back_button)
    qtbot.waitUntil(lambda: window.current_screen() is window.methods)
    assert [b.text() for b in methods.method_buttons.values()] == ["マイナンバーカード (暗証番号)", "iPhone", "Android"]

    # Consent to 特定疾病療養受療証: the checkbox asks first.
    qtbot.mouseClick(methods.consent, Qt.MouseButton.LeftButton, pos=QPoint(8, methods.consent.height() // 2))
    assert not methods.consent.isChecked()
    ui.answer(window, "OK")
    assert methods.consent.isChecked()

    # T17: confirmation → PIN (a wrong one typed on a wired keypad) → 次へ → 読み取り開始.
    ui.click(methods.method_buttons[Method.PIN])
    ui.answer(window, "OK")
    qtbot.waitUntil(lambda: window.current_screen() is window.pin_entry)
    pin_screen = window.pin_entry
    assert not pin_screen.next_button.isEnabled()
    pin_screen.keypad.setFocus()
    qtbot.keyClicks(pin_screen.keypad, "9999")
    ui.click(pin_screen.next_button)
    qtbot.waitUntil(lambda: window.current_screen() is window.card_read)
    assert window.card_read.start_button.text() == "読み取り開始"
    ui.click(window.card_read.start_button)
    wrong = ui.answer(window)
    assert "暗証番号が正しくありません" in wrong and "2回" in wrong
    qtbot.waitUntil(lambda: window.current_screen() is window.pin_entry)
    assert "2回" in pin_screen.error.text()

    pin_screen.keypad.setFocus()
    qtbot.keyClicks(pin_screen.keypad, taro.pin[:2])
    ui.press(pin_screen.keypad, taro.pin[2:])
    qtbot.keyClick(pin_screen.keypad, Qt.Key.Key_Enter)  # the wired keypad's Enter is 次へ
    qtbot.waitUntil(lambda: window.current_screen() is window.card_read)
    ui.click(window.card_read.start_button)
    qtbot.waitUntil(lambda: window.card_read.next_button.isVisible(), timeout=30000)
    assert window.card_read.status.text() == "マイナンバーカードの読み取りが完了しました。"
    ui.click(window.card_read.next_button)

    # T21 資格確認結果 C-04-01-W.
    qtbot.waitUntil(lambda: window.current_screen() is window.result)
    result = window.result
    assert result.screen_id_label.text() == "画面番号: C-04-01-W"
    assert result.reference_label.text() == "1234567890000001"
    assert result.field_value("氏名") == "資格 太郎"
    assert result.field_value("フリガナ") == "シカク タロウ"
    assert result.field_value("生年月日") == "昭和27年01月01日"
    assert result.field_value("番号") == "12345678 枝番 02"
    assert result.field_value("負担割合") == "1割"
    assert [label.text() for label in result.message_labels] == []  # valid: no この資格は無効です
    ui.click(result.copy_button)  # T24
    assert result.copied_label.isVisible() and result.copied_label.text() == "コピーしました"
    assert "氏名\t資格 太郎" in QApplication.clipboard().text()

    # S06/T30: the result reached the server under the terminal-made id; the outbox is empty again.
    qtbot.waitUntil(lambda: core.pending_results() == 0, timeout=30000)
    stored = CheckResult.objects.get()
    assert isinstance(stored.id, uuid.UUID)
    assert stored.name == "資格 太郎" and stored.identity_verification == "pin"
    assert str(stored.device_id) == core.registration.device_id

    ui.click(result.close_button)
    qtbot.waitUntil(lambda: window.current_screen() is window.methods)
    assert not methods.consent.isChecked()  # asked again for the next patient

    # T08 資格確認結果検索 D-10-W: the row, then the full result, then back to the list.
    open_security_settings(ui, window)
    ui.click(window.security.items["search"])
    qtbot.waitUntil(lambda: window.current_screen() is window.search)
    search = window.search
    assert search.screen_id_label.text() == "画面番号: D-10-W"
    qtbot.waitUntil(lambda: search.table.rowCount() == 1, timeout=30000)
    assert search.table.item(0, 1).text() == "資格 太郎"
    assert search.table.item(0, 2).text() == "資格有効"
    assert search.table.item(0, 0).text().endswith("分")
    rect = search.table.visualItemRect(search.table.item(0, 1))
    qtbot.mouseClick(search.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.current_screen() is window.result, timeout=30000)
    assert result.field_value("氏名") == "資格 太郎"
    ui.click(result.close_button)
    qtbot.waitUntil(lambda: window.current_screen() is window.search)

    # T14: the next start asks for the passcode.
    again = TerminalCore(data_dir=tmp_path / "terminal", readers=InProcessReaderProvider(None), use_keyring=False)
    assert again.start_screen() == "login"
    assert not again.login("0000") and again.login(PASSCODE)
    again.close()

    # T12: デバイス登録解除 from セキュリティ設定; the server keeps the device as deregistered.
    ui.click(search.back_button)
    qtbot.waitUntil(lambda: window.current_screen() is window.security)
    ui.click(window.security.items["deregister"])
    ui.answer(window, "登録解除")
    assert ui.answer(window) == "デバイスの登録を解除しました。"
    qtbot.waitUntil(lambda: window.current_screen() is window.terms)
    assert not core.is_registered()
    assert Device.objects.get(id=stored.device_id).status == "deregistered"
    window.close()
    core.close()
